// #/containers/<id>: the container's identity and posture, its metric charts over a chosen range (limits
// as lines, the forecast with its interval band, its alerts as markers), and its alerts below.
import type { Alert__Output } from '../../../../proto/gen/vigil/v1/Alert.js';
import type { ContainerSummary__Output } from '../../../../proto/gen/vigil/v1/ContainerSummary.js';
import type { Forecast__Output } from '../../../../proto/gen/vigil/v1/Forecast.js';
import type { QueryMetricsResponse__Output } from '../../../../proto/gen/vigil/v1/QueryMetricsResponse.js';
import { api, ApiError } from '../api.js';
import { chart, type ChartForecast, type ChartHandle, type Line } from '../chart.js';
import { dl, errorBox, h, replace } from '../dom.js';
import { bytes, bytesPerSecond, clock, cores, count, dateTime, duration, toMs } from '../format.js';
import { every, hashOf, type Page } from '../page.js';
import { alertItem, badge, postureBadges } from '../widgets.js';

export const RANGES: Array<{ key: string; ms: number }> = [
  { key: '15m', ms: 15 * 60_000 },
  { key: '1h', ms: 3600_000 },
  { key: '6h', ms: 6 * 3600_000 },
  { key: '24h', ms: 24 * 3600_000 },
  { key: '7d', ms: 7 * 24 * 3600_000 },
];
/** About this many points per chart: smooth enough to read, few enough to draw at once. */
const POINTS = 600;

interface ChartDef {
  key: string;
  title: string;
  format: (v: number) => string;
  lines: Array<{ metric: string; label: string; colour: string; counter?: boolean }>;
  limit?: { metric: string; label: string };
  /** The forecast engine's series (only resources with a limit are forecast). */
  forecast?: string;
}

const CHARTS: ChartDef[] = [
  {
    key: 'memory_working_set_bytes',
    title: 'Memory working set',
    format: bytes,
    lines: [{ metric: 'memory_working_set_bytes', label: 'working set', colour: '#1565c0' }],
    limit: { metric: 'memory_limit_bytes', label: 'limit' },
    forecast: 'memory_working_set_bytes',
  },
  {
    key: 'cpu_usage_cores',
    title: 'CPU',
    format: (v) => `${cores(v)}`,
    lines: [{ metric: 'cpu_usage_cores', label: 'cores used', colour: '#2e7d32' }],
    limit: { metric: 'cpu_quota_cores', label: 'quota' },
    forecast: 'cpu_usage_cores',
  },
  {
    key: 'pids_current',
    title: 'Processes and threads',
    format: count,
    lines: [{ metric: 'pids_current', label: 'pids', colour: '#00838f' }],
    limit: { metric: 'pids_max', label: 'pids.max' },
    forecast: 'pids_current',
  },
  { key: 'fds_open', title: 'Open file descriptors', format: count, lines: [{ metric: 'fds_open', label: 'fds', colour: '#6d4c41' }] },
  {
    key: 'net_bytes',
    title: 'Network',
    format: bytesPerSecond,
    lines: [
      { metric: 'net_rx_bytes_total', label: 'rx', colour: '#1565c0', counter: true },
      { metric: 'net_tx_bytes_total', label: 'tx', colour: '#ef6c00', counter: true },
    ],
  },
];

/** Values of a query as a line; counters become per-second rates (a reset gives a gap, not a dip). */
function toLine(res: QueryMetricsResponse__Output, label: string, colour: string, counter: boolean): Line {
  const raw = res.resolution === 'raw';
  const pts = res.points.map((p) => ({ t: toMs(p.time_ms), v: raw ? p.value : counter ? p.last : p.value }));
  if (!counter) return { label, colour, t: pts.map((p) => p.t), v: pts.map((p) => p.v) };
  const t: number[] = [];
  const v: Array<number | null> = [];
  for (let i = 1; i < pts.length; i++) {
    const dt = (pts[i]!.t - pts[i - 1]!.t) / 1000;
    const dv = pts[i]!.v - pts[i - 1]!.v;
    t.push(pts[i]!.t);
    v.push(dt > 0 && dv >= 0 ? dv / dt : null);
  }
  return { label, colour, t, v };
}

function forecastOf(f: Forecast__Output | null): ChartForecast | undefined {
  if (!f || f.points.length === 0) return undefined;
  const ex = f.exhaustion;
  const at = ex?.at_ms !== undefined ? toMs(ex.at_ms) : NaN;
  return {
    points: f.points,
    label: `${f.model.replace(/^FORECAST_MODEL_/, '').toLowerCase()}, ${Math.round(f.level * 100)}% interval, computed ${clock(toMs(f.computed_at_ms))}`,
    exhaustion:
      ex && Number.isFinite(at)
        ? {
            at,
            limit: ex.limit,
            ...(ex.earliest_ms !== undefined ? { earliest: toMs(ex.earliest_ms) } : {}),
            ...(ex.latest_ms !== undefined ? { latest: toMs(ex.latest_ms) } : {}),
          }
        : undefined,
  };
}

function infoBlock(c: ContainerSummary__Output): HTMLElement {
  const info = c.info;
  const ref = info?.ref;
  const labels = Object.entries(info?.labels ?? {}).map(([k, v]) => badge(`${k}=${v}`, 'label'));
  const posture = postureBadges(info?.posture);
  return h(
    'section',
    { class: 'info' },
    dl([
      ['ID', h('span', { class: 'mono', 'data-testid': 'container-id' }, ref?.id ?? '')],
      [
        'State',
        h(
          'span',
          null,
          c.running ? 'running' : `stopped ${info?.stopped_at ? dateTime(toMs(info.stopped_at)) : ''}`,
          c.monitored ? '' : ' (not monitored: no target selects it)',
        ),
      ],
      ['Image', ref?.image ?? ''],
      ['Runtime', ref?.runtime ?? ''],
      ['Pod', ref?.pod ? `${ref.namespace ?? ''}/${ref.pod}` : ''],
      ['Started', info?.started_at ? dateTime(toMs(info.started_at)) : ''],
      ['Init pid', info?.init_pid !== undefined ? String(info.init_pid) : ''],
      ['cgroup', h('span', { class: 'mono' }, info?.cgroup_path ?? '')],
      ['Labels', labels],
    ]),
    h(
      'div',
      { class: 'posture-block' },
      h('h3', null, 'Posture'),
      posture.length > 0
        ? h('div', { class: 'badges', 'data-testid': 'posture' }, posture)
        : h('div', { class: 'muted', 'data-testid': 'posture' }, 'confined: no host namespaces, not privileged, no sensitive mounts'),
      info?.posture
        ? dl([
            ['Capabilities', h('span', { class: 'mono' }, info.posture.cap_effective)],
            ['uid map', h('span', { class: 'mono' }, info.posture.uid_map)],
            ['Read from', info.posture.sources.join(', ')],
            [
              'Mismatches',
              info.posture.mismatches.length > 0
                ? h(
                    'ul',
                    { class: 'mono', 'data-testid': 'posture-mismatches' },
                    info.posture.mismatches.map((m) => h('li', null, m)),
                  )
                : '',
            ],
          ])
        : null,
    ),
  );
}

export function containerPage(id: string, query: URLSearchParams): Page {
  let range = RANGES.find((r) => r.key === query.get('range')) ?? RANGES[1]!;
  const head = h('div', { class: 'page-head' }, h('h2', null, id === 'host' ? 'host' : id.slice(0, 12)));
  const infoEl = h('div');
  const err = h('div');
  const status = h('span', { class: 'muted', 'data-testid': 'updated' });
  const rangeBar = h('div', { class: 'ranges', role: 'group', 'aria-label': 'range' });
  const chartsEl = h('div', { class: 'charts', 'data-testid': 'charts' });
  const alertsEl = h('ul', { class: 'alert-list', 'data-testid': 'container-alerts' });
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'container-page', 'data-id': id },
    head,
    err,
    infoEl,
    h('div', { class: 'page-head' }, h('h2', null, 'Resources'), rangeBar, status),
    chartsEl,
    h('h2', null, 'Alerts'),
    alertsEl,
  );
  let handles: ChartHandle[] = [];
  let abort = new AbortController();

  const renderRanges = (): void => {
    replace(
      rangeBar,
      RANGES.map((r) =>
        h(
          'button',
          {
            type: 'button',
            class: r === range ? 'on' : '',
            'aria-pressed': r === range ? 'true' : 'false',
            'data-range': r.key,
            onclick: () => {
              range = r;
              // Keep the range in the URL (shareable, survives a reload) without a new history entry.
              const q = new URLSearchParams(query);
              q.set('range', r.key);
              history.replaceState(null, '', hashOf(['containers', id], q));
              renderRanges();
              restart();
            },
          },
          r.key,
        ),
      ),
    );
  };

  const load = async (): Promise<void> => {
    const signal = abort.signal;
    const to = Date.now();
    const from = to - range.ms;
    const q = { start_ms: from, end_ms: to, step_ms: Math.max(1000, Math.floor(range.ms / POINTS)) };
    try {
      const summaryP = api.container(id, signal);
      const alertsP = api.alerts({ container: id, limit: 200 }, signal);
      const metric = (m: string): Promise<QueryMetricsResponse__Output | null> =>
        api.metrics(id, m, q, signal).catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return null;
          throw e;
        });
      const chartsData = CHARTS.map(async (def) => {
        const [lines, limit, fc] = await Promise.all([
          Promise.all(def.lines.map(async (l) => [l, await metric(l.metric)] as const)),
          def.limit ? metric(def.limit.metric) : Promise.resolve(null),
          // A forecast that fails leaves its chart standing, with the reason as a note.
          def.forecast ? api.forecast(id, def.forecast, signal).catch((e: Error) => (e.name === 'AbortError' ? Promise.reject(e) : e)) : Promise.resolve(null),
        ]);
        return { def, lines, limit, fc };
      });
      const [summary, alerts, data] = await Promise.all([summaryP, alertsP, Promise.all(chartsData)]);
      if (signal.aborted) return;

      replace(
        head,
        h('h2', null, id === 'host' ? 'host' : summary.info?.ref?.name || id.slice(0, 12)),
        h('span', { class: 'muted' }, summary.info?.ref?.image ?? ''),
        summary.open_alerts > 0 ? badge(`${summary.open_alerts} open`, 'sev-warn') : null,
      );
      replace(infoEl, infoBlock(summary));

      const markers = alerts.alerts.map((a: Alert__Output) => ({ t: toMs(a.time), severity: a.severity, label: a.rule }));
      const width = Math.max(320, chartsEl.clientWidth > 0 ? Math.floor((chartsEl.clientWidth - 16) / (chartsEl.clientWidth > 1100 ? 2 : 1)) - 24 : 600);
      const next: ChartHandle[] = data.map(({ def, lines, limit, fc }) =>
        chart(
          {
            key: def.key,
            title: def.title,
            format: def.format,
            lines: lines.map(([l, res]) => (res ? toLine(res, l.label, l.colour, l.counter === true) : { label: l.label, colour: l.colour, t: [], v: [] })),
            limit: def.limit && limit && limit.points.length > 0 ? toLine(limit, def.limit.label, '', false) : undefined,
            forecast: fc instanceof Error ? undefined : forecastOf(fc),
            markers,
            from,
            to,
            note: fc instanceof Error ? `forecast unavailable: ${fc.message}` : def.forecast && !fc ? 'no forecast yet' : undefined,
          },
          width,
        ),
      );
      for (const old of handles) old.destroy();
      handles = next;
      replace(
        chartsEl,
        next.map((c) => c.el),
      );

      replace(alertsEl, alerts.alerts.length > 0 ? alerts.alerts.map((a) => alertItem(a)) : h('li', { class: 'empty' }, 'no alerts for this container'));
      replace(err);
      status.textContent = `${duration(range.ms)} to ${clock(to)}`;
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      replace(err, errorBox((e as Error).message));
    }
  };

  let stopTimer: () => void = () => undefined;
  const restart = (): void => {
    stopTimer();
    abort.abort();
    abort = new AbortController();
    // Short ranges move visibly; long ones are rollups that change once a minute.
    stopTimer = every(range.ms <= 3600_000 ? 10_000 : 60_000, load);
  };
  renderRanges();
  restart();
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  const onResize = (): void => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => void load(), 300);
  };
  window.addEventListener('resize', onResize);
  return {
    el,
    stop: () => {
      stopTimer();
      abort.abort();
      clearTimeout(resizeTimer);
      window.removeEventListener('resize', onResize);
      for (const c of handles) c.destroy();
    },
  };
}
