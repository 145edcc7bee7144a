// #/alerts/<id>: everything about one alert (rule, severity, message, tags, container, lineage,
// triggering events, metric values, response actions, history) and its acknowledge/resolve buttons.
import type { Alert__Output } from '../../../../proto/gen/vigil/v1/Alert.js';
import { api } from '../api.js';
import { dl, errorBox, h, replace } from '../dom.js';
import { dateTime, duration, metricValue, relative, shortId, toMs } from '../format.js';
import { eventFields, kindName, quoteArgs } from '../events.js';
import type { Page } from '../page.js';
import { severityBadge, stateBadge, badge } from '../widgets.js';

function section(title: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', { class: 'block' }, h('h3', null, title), ...body);
}

function table(head: string[], rows: Array<Array<Node | string>>, attrs: Record<string, string> = {}): HTMLTableElement {
  return h(
    'table',
    { class: 'grid', ...attrs },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((t) => h('th', null, t)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          null,
          r.map((c) => h('td', null, c)),
        ),
      ),
    ),
  );
}

const LONG = 300;

/** Text cut at LONG characters with a button that shows the rest (attackers make argument lists long). */
function longText(text: string): HTMLElement {
  const el = h('span', { class: 'mono args' }, text.length > LONG ? text.slice(0, LONG) : text);
  if (text.length > LONG) {
    const more = h('button', { type: 'button', class: 'more' }, `… ${text.length - LONG} more characters`);
    more.addEventListener('click', () => {
      el.textContent = text;
    });
    el.append(' ', more);
  }
  return el;
}

/** The forecast an early warning was raised on: model, crossing with its interval, peak ratio. */
function forecastSection(f: NonNullable<Alert__Output['forecast']>): HTMLElement {
  const x = f.exhaustion;
  const at = x?.at_ms ? toMs(x.at_ms) : 0;
  const computed = toMs(f.computed_at_ms);
  const el = section(
    'Forecast',
    dl([
      ['Series', `${f.target} · ${f.metric}`],
      [
        'Model',
        `${f.model.replace(/^FORECAST_MODEL_/, '').toLowerCase()}${f.mase !== undefined && f.mase !== null ? ` (backtest MASE ${f.mase.toFixed(2)})` : ''}`,
      ],
      ['Computed', computed ? `${dateTime(computed)} (${relative(computed)})` : ''],
      ['Limit', x ? `${x.limit_metric} = ${metricValue(f.metric, x.limit)}` : ''],
      ['Predicted crossing', at ? `${dateTime(at)}: ${duration(Math.max(0, at - computed))} after the forecast` : 'not within the horizon'],
      ['Interval', x?.earliest_ms && x.latest_ms ? `${Math.round(f.level * 100)}%: ${dateTime(toMs(x.earliest_ms))} to ${dateTime(toMs(x.latest_ms))}` : ''],
      ['Peak ratio', x?.peak_ratio !== undefined && x.peak_ratio > 1 ? `peaks run ${x.peak_ratio.toFixed(2)}x the trend` : ''],
    ]),
  );
  el.dataset['testid'] = 'forecast';
  return el;
}

function render(a: Alert__Output, onAction: (kind: 'acknowledge' | 'resolve', comment: string) => Promise<void>): HTMLElement {
  const t = toMs(a.time);
  const last = toMs(a.last_seen);
  const c = a.container;
  const comment = h('input', {
    type: 'text',
    name: 'comment',
    placeholder: 'comment (optional)',
    'aria-label': 'comment',
    'data-testid': 'comment',
    maxlength: 1000,
  });
  const ackBtn = h('button', { type: 'button', 'data-testid': 'acknowledge', disabled: a.state !== 'ALERT_STATE_OPEN' }, 'Acknowledge');
  const resBtn = h('button', { type: 'button', 'data-testid': 'resolve', disabled: a.state === 'ALERT_STATE_RESOLVED' }, 'Resolve');
  const act = (kind: 'acknowledge' | 'resolve') => async (): Promise<void> => {
    ackBtn.disabled = true;
    resBtn.disabled = true;
    await onAction(kind, comment.value.trim());
  };
  ackBtn.addEventListener('click', () => void act('acknowledge')());
  resBtn.addEventListener('click', () => void act('resolve')());

  const m = a.metric;
  return h(
    'div',
    { class: 'alert-detail', 'data-testid': 'alert-detail', 'data-id': a.id, 'data-state': a.state },
    h('div', { class: 'page-head' }, severityBadge(a.severity), h('h2', { 'data-testid': 'alert-rule' }, a.rule), stateBadge(a.state, 'alert-state')),
    h('p', { class: 'message', 'data-testid': 'alert-message' }, a.message),
    h('div', { class: 'actions' }, comment, ackBtn, resBtn),
    dl([
      ['ID', h('span', { class: 'mono' }, a.id)],
      ['First seen', `${dateTime(t)} (${relative(t)})`],
      ['Last seen', a.count !== '1' ? `${dateTime(last)} (${relative(last)})` : ''],
      ['Matches', a.count !== '1' ? a.count : ''],
      ['Suppressed', a.suppressed !== '0' ? `${a.suppressed} by the rule's rate limit` : ''],
      ['Tags', a.tags.map((tag) => badge(tag, /^T\d{4}/.test(tag) ? 'mitre' : 'tag', /^T\d{4}/.test(tag) ? 'MITRE ATT&CK technique' : undefined))],
      [
        'Container',
        c
          ? c.id === 'host'
            ? h('a', { href: '#/containers/host' }, 'host')
            : h(
                'span',
                null,
                h('a', { href: `#/containers/${encodeURIComponent(c.id)}`, 'data-testid': 'alert-container' }, c.name || shortId(c.id)),
                h('span', { class: 'mono muted' }, ` ${shortId(c.id)}`),
                ` ${c.runtime}`,
                c.image ? ` · ${c.image}` : '',
                c.pod ? ` · ${c.namespace ?? ''}/${c.pod}` : '',
              )
          : '',
      ],
      ['Not stored', a.unpersisted ? 'this version could not be written to the store' : ''],
    ]),
    a.lineage.length > 0
      ? section(
          'Process lineage',
          table(
            ['', 'pid', 'exe', 'args', 'uid'],
            a.lineage.map((p, i) => [
              i === 0 ? 'offending' : `↑ ${i}`,
              String(p.pid),
              h('span', { class: 'mono' }, p.exe || `(${p.comm})`),
              longText(quoteArgs(p.args)),
              p.uid !== undefined ? String(p.uid) : '',
            ]),
            { 'data-testid': 'lineage' },
          ),
        )
      : null,
    a.events.length > 0
      ? section(
          `Triggering events (${a.events.length})`,
          table(
            ['kind', 'time', 'fields'],
            a.events.map((e) => [
              kindName(e.kind),
              dateTime(toMs(e.time)),
              h(
                'div',
                { class: 'fields' },
                eventFields(e).map(([k, v]) => h('span', { class: 'field' }, h('span', { class: 'k' }, k), ' ', h('span', { class: 'v mono' }, v))),
              ),
            ]),
            { 'data-testid': 'events' },
          ),
        )
      : null,
    m && Object.keys(m.values).length > 0
      ? section(
          'Metric values',
          dl([
            ['Target', m.target],
            ...Object.entries(m.values).map(([k, v]): [string, string] => [k, metricValue(k, v)]),
            ['Held for', Number(m.held_ms) > 0 ? duration(Number(m.held_ms)) : ''],
          ]),
        )
      : null,
    a.forecast ? forecastSection(a.forecast) : null,
    a.actions.length > 0
      ? section(
          'Response actions',
          table(
            ['action', 'result', 'detail', 'at'],
            a.actions.map((x) => [x.action.replace(/^ACTION_/, '').toLowerCase(), x.ok ? 'ok' : 'failed', x.detail, dateTime(toMs(x.at))]),
            { 'data-testid': 'actions' },
          ),
        )
      : null,
    section(
      'History',
      table(
        ['state', 'at', 'by', 'comment'],
        a.history.map((x) => [stateBadge(x.state), dateTime(toMs(x.at)), x.by, x.comment ?? '']),
        { 'data-testid': 'history' },
      ),
    ),
  );
}

export function alertPage(id: string): Page {
  const err = h('div');
  const body = h('div', null, h('p', { class: 'muted' }, 'loading…'));
  const el = h('div', { class: 'page', 'data-testid': 'alert-page' }, h('p', null, h('a', { href: '#/alerts' }, '← alerts')), err, body);
  const abort = new AbortController();
  const show = (a: Alert__Output): void => {
    replace(body, render(a, onAction));
  };
  const onAction = async (kind: 'acknowledge' | 'resolve', comment: string): Promise<void> => {
    try {
      // The answer is the alert as stored after the change: render from it, not from a guess.
      const updated = await api[kind](id, comment ? { comment } : {});
      replace(err);
      show(updated);
    } catch (e) {
      replace(err, errorBox((e as Error).message));
      const again = await api.alert(id).catch(() => null);
      if (again) show(again);
    }
  };
  api
    .alert(id, abort.signal)
    .then(show)
    .catch((e: Error) => {
      if (e.name !== 'AbortError') replace(body, errorBox(e.message));
    });
  return { el, stop: () => abort.abort() };
}
