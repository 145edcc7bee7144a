// #/targets: the monitored targets; a batch add (one selector a line, as `vigil targets add -f` reads
// them) and removal of the checked ones. A batch is applied whole or not at all by the daemon.
import type { TargetSpec } from '../../../../proto/gen/vigil/v1/TargetSpec.js';
import { api } from '../api.js';
import { errorBox, h, replace } from '../dom.js';
import { dateTime, toMs } from '../format.js';
import type { Page } from '../page.js';

/**
 * "name:web-* metrics=a,b rules=x,y" per line; blank lines and # comments are skipped. Rule names
 * with spaces are written with %20 or in quotes: rules="Read of shadow file in container".
 */
export function parseBatch(text: string): TargetSpec[] {
  const specs: TargetSpec[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const tokens = line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    const [selector, ...opts] = tokens;
    const spec: TargetSpec = { selector: selector! };
    for (const o of opts) {
      const m = /^(metrics|rules)=(.*)$/.exec(o);
      if (!m) throw new Error(`line ${i + 1}: "${o}" is not metrics=a,b or rules=x,y`);
      const values = m[2]!
        .replace(/^"|"$/g, '')
        .split(',')
        .map((v) => decodeURIComponent(v.trim()))
        .filter(Boolean);
      if (m[1] === 'metrics') spec.metrics = values;
      else spec.rules = values;
    }
    specs.push(spec);
  });
  return specs;
}

export function targetsPage(): Page {
  const err = h('div');
  const note = h('div', { class: 'muted', 'data-testid': 'targets-note' });
  const body = h('tbody');
  const textarea = h('textarea', {
    rows: 5,
    spellcheck: 'false',
    'data-testid': 'targets-input',
    'aria-label': 'selectors, one a line',
    placeholder: 'name:web-*\nlabel:app=db metrics=memory_working_set_bytes,pids_current\nimage:nginx*\nhost\nall',
  });
  const removeBtn = h('button', { type: 'button', 'data-testid': 'remove-selected', disabled: true }, 'Remove selected');
  const abort = new AbortController();

  const checked = (): string[] => [...body.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((c) => c.value);
  const updateRemove = (): void => {
    const n = checked().length;
    removeBtn.disabled = n === 0;
    removeBtn.textContent = n > 0 ? `Remove selected (${n})` : 'Remove selected';
  };

  const load = async (): Promise<void> => {
    try {
      const res = await api.targets(abort.signal);
      replace(
        body,
        res.targets.length === 0
          ? h('tr', null, h('td', { colspan: 5, class: 'empty' }, 'no targets: nothing is sampled'))
          : res.targets.map((t) =>
              h(
                'tr',
                { 'data-testid': 'target-row', 'data-id': t.id },
                h('td', null, h('input', { type: 'checkbox', value: t.id, 'aria-label': `select ${t.id}`, onchange: updateRemove })),
                h('td', { class: 'mono' }, t.selector),
                h('td', null, t.metrics.length > 0 ? t.metrics.join(', ') : h('span', { class: 'muted' }, 'all')),
                h('td', null, t.rules.length > 0 ? t.rules.join(', ') : h('span', { class: 'muted' }, 'all')),
                h('td', null, t.added_at ? dateTime(toMs(t.added_at)) : ''),
              ),
            ),
      );
      updateRemove();
    } catch (e) {
      if ((e as Error).name !== 'AbortError') replace(err, errorBox((e as Error).message));
    }
  };

  const add = async (): Promise<void> => {
    replace(err);
    note.textContent = '';
    let specs: TargetSpec[];
    try {
      specs = parseBatch(textarea.value);
    } catch (e) {
      replace(err, errorBox((e as Error).message));
      return;
    }
    if (specs.length === 0) {
      replace(err, errorBox('enter at least one selector'));
      return;
    }
    try {
      const res = await api.addTargets({ targets: specs });
      textarea.value = '';
      note.textContent = `added ${res.targets.map((t) => t.id).join(', ')}`;
      await load();
    } catch (e) {
      // The daemon rejects the whole batch and names the bad selector; the text stays for fixing.
      replace(err, errorBox((e as Error).message));
    }
  };

  const remove = async (): Promise<void> => {
    const ids = checked();
    if (ids.length === 0) return;
    replace(err);
    try {
      const res = await api.removeTargets({ ids });
      note.textContent = `removed ${res.removed} target${res.removed === 1 ? '' : 's'}`;
      await load();
    } catch (e) {
      replace(err, errorBox((e as Error).message));
    }
  };
  removeBtn.addEventListener('click', () => void remove());

  const el = h(
    'div',
    { class: 'page', 'data-testid': 'targets-page' },
    h('div', { class: 'page-head' }, h('h2', null, 'Targets'), h('span', { class: 'muted' }, 'containers whose metrics are sampled and rules applied')),
    err,
    note,
    h(
      'table',
      { class: 'grid targets' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['', 'Selector', 'Metrics', 'Rules', 'Added'].map((t) => h('th', null, t)),
        ),
      ),
      body,
    ),
    h('div', { class: 'actions' }, removeBtn),
    h(
      'form',
      {
        class: 'batch',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          void add();
        },
      },
      h('h3', null, 'Add targets'),
      h(
        'p',
        { class: 'muted small' },
        'One selector a line: id:, name:, image:, label:k=v, cgroup:, host, all; optional metrics=a,b and rules=x,y. The batch is added whole or not at all.',
      ),
      textarea,
      h('div', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': 'add-targets' }, 'Add')),
    ),
  );
  void load();
  return { el, stop: () => abort.abort() };
}
