// #/ : every container (and the host) with its posture, resource use against its limits and open
// alerts; the ones with alerts first, then the largest memory users. Refreshed every 5 s.
import type { ContainerSummary__Output } from '../../../../proto/gen/vigil/v1/ContainerSummary.js';
import { api } from '../api.js';
import { errorBox, h, replace } from '../dom.js';
import { bytes, clock, cores, count, relative, shortId, toMs } from '../format.js';
import { every, type Page } from '../page.js';
import { severityClass, severityName } from '../severity.js';
import { badge, postureBadges, usageBar } from '../widgets.js';

const REFRESH_MS = 5000;

function byUrgency(a: ContainerSummary__Output, b: ContainerSummary__Output): number {
  return b.open_alerts - a.open_alerts || (b.latest['memory_working_set_bytes'] ?? 0) - (a.latest['memory_working_set_bytes'] ?? 0);
}

function row(c: ContainerSummary__Output, isHost: boolean): HTMLTableRowElement {
  const info = c.info;
  const ref = info?.ref;
  const id = ref?.id ?? '';
  const l = c.latest;
  const href = `#/containers/${encodeURIComponent(id)}`;
  const alerts =
    c.open_alerts > 0
      ? h(
          'a',
          {
            href,
            class: `badge sev ${severityClass(c.worst_open_severity)}`,
            title: `worst open: ${severityName(c.worst_open_severity)}`,
            'data-testid': 'open-alerts',
          },
          String(c.open_alerts),
        )
      : h('span', { class: 'muted', 'data-testid': 'open-alerts' }, '0');
  return h(
    'tr',
    { class: `${isHost ? 'host' : ''} ${c.running ? '' : 'stopped'}`.trim(), 'data-testid': 'container-row', 'data-id': id, 'data-name': ref?.name ?? '' },
    h('td', null, h('span', { class: `dot ${c.running ? 'up' : 'down'}`, title: c.running ? 'running' : `stopped ${info?.stopped_at ?? ''}` })),
    h(
      'td',
      { class: 'name' },
      h('a', { href }, isHost ? 'host' : ref?.name || shortId(id)),
      c.monitored ? null : badge('not monitored', 'muted', 'no target selects it: its metrics are not sampled'),
    ),
    h('td', { class: 'mono', title: id }, shortId(id)),
    h('td', { class: 'image', title: ref?.image ?? '' }, ref?.image ?? ''),
    h('td', null, ref?.runtime ?? '', ref?.pod ? h('div', { class: 'muted small' }, `${ref.namespace ?? ''}/${ref.pod}`) : null),
    h('td', { class: 'posture' }, postureBadges(info?.posture)),
    h('td', { class: 'mem' }, usageBar(l['memory_working_set_bytes'], l['memory_limit_bytes'], bytes)),
    h('td', { class: 'cpu' }, usageBar(l['cpu_usage_cores'], l['cpu_quota_cores'], cores)),
    h('td', { class: 'pids' }, usageBar(l['pids_current'], l['pids_max'], count)),
    h('td', { class: 'num' }, alerts),
  );
}

export function overviewPage(): Page {
  const status = h('span', { class: 'muted', 'data-testid': 'updated' });
  const stopped = h('input', { type: 'checkbox', id: 'include-stopped' });
  const err = h('div');
  const body = h('tbody');
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'overview' },
    h('div', { class: 'page-head' }, h('h2', null, 'Containers'), h('label', null, stopped, ' show stopped'), status),
    err,
    h(
      'table',
      { class: 'grid containers' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['', 'Name', 'ID', 'Image', 'Runtime', 'Posture', 'Memory (working set)', 'CPU (cores)', 'PIDs', 'Open alerts'].map((t) => h('th', null, t)),
        ),
      ),
      body,
    ),
  );
  const abort = new AbortController();
  const load = async (): Promise<void> => {
    try {
      const res = await api.containers(stopped.checked, abort.signal);
      const rows = [...res.containers].sort(byUrgency).map((c) => row(c, false));
      if (res.host?.info) rows.unshift(row(res.host, true));
      if (rows.length === 0) rows.push(h('tr', null, h('td', { colspan: 10, class: 'empty' }, 'no containers')));
      replace(body, rows);
      replace(err);
      const sampled = Math.max(0, ...res.containers.map((c) => toMs(c.sampled_at_ms)).filter(Number.isFinite), res.host ? toMs(res.host.sampled_at_ms) : 0);
      status.textContent = `updated ${clock(Date.now())}${sampled > 0 ? `, samples from ${relative(sampled)}` : ''}`;
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      replace(err, errorBox((e as Error).message));
    }
  };
  stopped.addEventListener('change', () => void load());
  const stop = every(REFRESH_MS, load);
  return {
    el,
    stop: () => {
      stop();
      abort.abort();
    },
  };
}
