// vigil's own /metrics families, declared once: the daemon serves them (daemon.ts hands in its live
// state as MetricSources) and docs/metrics.md is generated from them (an empty MetricSources). Each
// family reads existing counters at scrape time; nothing here runs per event.
import type { ContainerInfo } from '../containers/container-info.js';
import type { Forecast } from '../core/forecast.js';
import type { SweepStats } from '../metrics/collector.js';
import { METRICS, type MetricName, type Sample as MetricSample } from '../core/metric-names.js';
import type { DetectorStats } from '../detect/detector.js';
import type { ForecastEngineStats } from '../forecast/engine.js';
import type { SensorStats } from '../sensor/sensor.js';
import { KIND_NAMES } from '../sensor/layout.js';
import { metricsMarkdown, type FamilySpec, type Sample } from './prometheus.js';
import type { StoreState } from './services.js';

/** One sample for each entry of a record, its key the value of one label; none without the record. */
function byLabel(label: string, counts: Readonly<Record<string, number>> | undefined): Sample[] {
  return counts ? Object.entries(counts).map(([key, value]) => ({ labels: { [label]: key }, value })) : [];
}

/** A kernel counter by kind name, one sample for every kind the probes send (0 where none came); none without a live sensor. */
function byKind(counts: Partial<Record<string, number>> | undefined, labels: Readonly<Record<string, string>> = {}): Sample[] {
  if (!counts) return [];
  return KIND_NAMES.filter((k) => k).map((kind) => ({ labels: { kind, ...labels }, value: counts[kind] ?? 0 }));
}

/** What the families read, each at scrape time; a stage that is not running yet answers undefined. */
export interface MetricSources {
  /** The latest sample of each (target, metric): target is a container id or 'host'. */
  latest(): ReadonlyMap<string, ReadonlyMap<MetricName, number>>;
  containers(): readonly ContainerInfo[];
  sensor(): SensorStats | undefined;
  lastSweep(): SweepStats | undefined;
  /** Alerts opened since start, by rule and severity. */
  alertsOpened(): Iterable<{ rule: string; severity: string; count: number }>;
  /** Rule matches lost because the alert intake was full. */
  alertIntakeDropped(): number | undefined;
  alertIntakeFolded(): number | undefined;
  /** Messages lost by each Events.Subscribe subscriber name (bounded set of names). */
  subscriberDrops(): Iterable<readonly [string, number]>;
  detectorQueueDropped(): number | undefined;
  detector(): DetectorStats | undefined;
  /** The rules in force, with their severity. */
  rules(): Iterable<{ name: string; severity: string }>;
  matchesOutOfScope(): number;
  seriesWriteErrors(): number;
  /** The store: its write failures and reopens since start, and its state now (undefined: no store yet). */
  store(): { writeErrors: number; reopens: number; state: StoreState } | undefined;
  forecasts(): Iterable<{ forecast: Forecast; warning: boolean }>;
  /** The forecast engine's rounds and its worker's counters (undefined: no engine yet). */
  forecastEngine(): ForecastEngineStats | undefined;
  build: { version: string; commit: string; api: string };
  now(): number;
}

/**
 * What vigil keeps only to report it (here and in the API's container views): alerts opened by rule
 * and severity, matches that targets kept from alerting, failed series writes, and the last sweep
 * with its latest value of each (target, metric). The daemon's wiring feeds it; scrapes read it.
 */
export class SelfMetrics {
  private readonly opened = new Map<string, { rule: string; severity: string; count: number }>();
  /** The latest sample of each (target, metric) of the last sweep. */
  readonly latest = new Map<string, Map<MetricName, number>>();
  lastSweep: SweepStats | undefined;
  matchesOutOfScope = 0;
  seriesWriteErrors = 0;

  alertOpened(rule: string, severity: string): void {
    const key = `${rule}\u0000${severity}`;
    const c = this.opened.get(key);
    if (c) c.count++;
    else this.opened.set(key, { rule, severity, count: 1 });
  }

  alertsOpened(): Iterable<{ rule: string; severity: string; count: number }> {
    return this.opened.values();
  }

  /** A sweep's samples (after target scoping) replace the previous sweep's latest values. */
  sweep(samples: readonly MetricSample[], stats: SweepStats): void {
    this.lastSweep = stats;
    this.latest.clear();
    for (const s of samples) {
      let m = this.latest.get(s.target);
      if (!m) this.latest.set(s.target, (m = new Map()));
      m.set(s.metric, s.value);
    }
  }
}

/** Sources with nothing running: the families' declarations only (docs, tests). */
export const NO_SOURCES: MetricSources = {
  latest: () => new Map(),
  containers: () => [],
  sensor: () => undefined,
  lastSweep: () => undefined,
  alertsOpened: () => [],
  alertIntakeDropped: () => undefined,
  alertIntakeFolded: () => undefined,
  subscriberDrops: () => [],
  detectorQueueDropped: () => undefined,
  detector: () => undefined,
  rules: () => [],
  matchesOutOfScope: () => 0,
  seriesWriteErrors: () => 0,
  store: () => undefined,
  forecasts: () => [],
  forecastEngine: () => undefined,
  build: { version: 'unknown', commit: 'unknown', api: 'unknown' },
  now: Date.now,
};

/**
 * The identity labels of a container series. Prefixed: the Prometheus operator gives every target
 * `namespace`, `pod`, `container` and `service` labels, and with the ServiceMonitor's default
 * honorLabels: false a series' own `namespace` would be renamed `exported_namespace` (docs/metrics.md).
 */
export const CONTAINER_LABELS = ['container_id', 'container_name', 'container_image', 'container_runtime', 'container_pod', 'container_namespace'] as const;

function containerLabels(id: string, info: ContainerInfo | undefined): Record<(typeof CONTAINER_LABELS)[number], string> {
  return {
    container_id: id,
    container_name: info?.name ?? '',
    container_image: info?.image ?? '',
    container_runtime: info?.runtime ?? '',
    container_pod: info?.pod ?? '',
    container_namespace: info?.namespace ?? '',
  };
}

/**
 * How a sampled metric is exported, where its stored name is not the Prometheus one. PSI is kept as
 * the kernel's percent (rules and the API use it so), but Prometheus' convention is a 0..1 ratio.
 */
const EXPORTED: Partial<Record<MetricName, { name: string; scale: number; help: string }>> = {};
for (const res of ['cpu', 'memory', 'io'] as const)
  for (const scope of ['some', 'full'] as const) {
    const what = res === 'io' ? 'I/O' : res === 'cpu' ? 'CPU' : 'memory';
    EXPORTED[`psi_${res}_${scope}_avg10`] = {
      name: `psi_${res}_${scope}_ratio`,
      scale: 0.01,
      help: `share of time ${scope === 'some' ? 'some' : 'all'} tasks stalled on ${what} over the last 10 s, 0..1 (PSI ${scope} avg10 / 100)`,
    };
  }

/** The forecast resources, named by the limit they head for. */
function resourceOf(f: Forecast): string | undefined {
  const limit = f.exhaustion?.limitMetric;
  return limit === 'memory_limit_bytes' ? 'memory' : limit === 'pids_max' ? 'pids' : limit === 'cpu_quota_cores' ? 'cpu' : undefined;
}

function* forecastSamples(src: MetricSources, host: boolean): Iterable<Sample> {
  const now = src.now();
  const byId = new Map(src.containers().map((c) => [c.id, c]));
  for (const { forecast: f } of src.forecasts()) {
    const resource = resourceOf(f);
    // Only series with a known limit have a time to exhaustion.
    if (!resource || (f.target === 'host') !== host) continue;
    const at = f.exhaustion?.at;
    const value = at === undefined ? Infinity : Math.max(0, (at - now) / 1000);
    yield { labels: host ? { resource } : { ...containerLabels(f.target, byId.get(f.target)), resource }, value };
  }
}

export function vigilFamilies(src: MetricSources): FamilySpec[] {
  const families: FamilySpec[] = [];
  const add = (name: string, type: FamilySpec['type'], help: string, labels: readonly string[], collect: () => Iterable<Sample>): void => {
    families.push({ name, type, help, labels, collect });
  };

  add('vigil_build_info', 'gauge', 'always 1: the version, build commit and API of this vigild', ['version', 'commit', 'api'], () => [
    { labels: { ...src.build }, value: 1 },
  ]);

  // Sampled container and host metrics (daemon/core/metric-names.ts), the latest sweep's values.
  for (const metric of Object.keys(METRICS) as MetricName[]) {
    const exp = EXPORTED[metric];
    const name = exp?.name ?? metric;
    const scale = exp?.scale ?? 1;
    const help = exp?.help ?? METRICS[metric];
    const type = metric.endsWith('_total') ? 'counter' : 'gauge';
    add(`vigil_container_${name}`, type, help, CONTAINER_LABELS, function* () {
      const byId = new Map(src.containers().map((c) => [c.id, c]));
      for (const [target, values] of src.latest()) {
        const v = values.get(metric);
        if (target !== 'host' && v !== undefined) yield { labels: containerLabels(target, byId.get(target)), value: v * scale };
      }
    });
    add(`vigil_host_${name}`, type, `${help} (the host)`, [], function* () {
      const v = src.latest().get('host')?.get(metric);
      if (v !== undefined) yield { value: v * scale };
    });
  }

  add(
    'vigil_container_forecast_exhaustion_seconds',
    'gauge',
    "seconds until the container's forecast crosses its limit (resource: memory, pids or cpu); +Inf when it does not within the forecast horizon (30 min); only series with a limit",
    [...CONTAINER_LABELS, 'resource'],
    () => forecastSamples(src, false),
  );
  add(
    'vigil_host_forecast_exhaustion_seconds',
    'gauge',
    "seconds until the host's forecast crosses its limit (physical memory, the kernel's task limit); +Inf when it does not within the horizon",
    ['resource'],
    () => forecastSamples(src, true),
  );
  add(
    'vigil_forecast_warnings_open',
    'gauge',
    'early warnings of resource exhaustion open now (forecast series that cross their limit soon, trend confirmed)',
    [],
    () => {
      let n = 0;
      for (const f of src.forecasts()) if (f.warning) n++;
      return [{ value: n }];
    },
  );
  // The forecast engine: whether its rounds keep up and its worker stays up.
  add('vigil_forecast_series', 'gauge', 'series the forecast engine follows (target and resource)', [], () => {
    const e = src.forecastEngine();
    return e ? [{ value: e.series }] : [];
  });
  add('vigil_forecast_rounds_total', 'counter', 'forecast refresh rounds run', [], () => {
    const e = src.forecastEngine();
    return e ? [{ value: e.rounds }] : [];
  });
  add(
    'vigil_forecast_last_round_series',
    'gauge',
    "series of the last round by outcome: refreshed, deferred (the round's budget spent: first in the next round), failed (the worker), too_short (too few points yet)",
    ['outcome'],
    () => {
      const r = src.forecastEngine()?.lastRound;
      return byLabel('outcome', r && { refreshed: r.refreshed, deferred: r.deferred, failed: r.failed, too_short: r.tooShort });
    },
  );
  add('vigil_forecast_last_round_duration_seconds', 'gauge', 'how long the last forecast round took', [], () => {
    const r = src.forecastEngine()?.lastRound;
    return r ? [{ value: r.durationMs / 1000 }] : [];
  });
  add('vigil_forecast_fits_total', 'counter', 'forecasts computed, by the model chosen', ['model'], () => byLabel('model', src.forecastEngine()?.fits));
  add(
    'vigil_forecast_worker_events_total',
    'counter',
    "the forecast worker's troubles: restart (a new worker after a crash or the watchdog), timeout (a fit past the watchdog), crash, retry (a request sent again), failed (a request that failed on its retry too)",
    ['event'],
    () => {
      const w = src.forecastEngine()?.worker;
      return byLabel('event', w && { restart: w.restarts, timeout: w.timeouts, crash: w.crashes, retry: w.retried, failed: w.failed });
    },
  );
  add('vigil_forecast_store_errors_total', 'counter', 'forecasts that could not be written to the store (a full disk)', [], () => {
    const e = src.forecastEngine();
    return e ? [{ value: e.storeErrors }] : [];
  });

  // The sensor.
  add('vigil_events_total', 'counter', 'events decoded, by kind', ['kind'], () =>
    Object.entries(src.sensor()?.decoded ?? {}).map(([kind, value]) => ({ labels: { kind }, value })),
  );
  add(
    'vigil_events_dropped_total',
    'counter',
    'events lost: in the kernel (stage kernel: ring buffer full, by kind) or in user space (stage queue: subscriber queues full)',
    ['kind', 'stage'],
    function* () {
      const s = src.sensor();
      if (!s) return;
      yield* byKind(s.native?.dropped ?? {}, { stage: 'kernel' });
      yield { labels: { kind: 'all', stage: 'queue' }, value: s.queueDrops };
    },
  );
  add(
    'vigil_events_shed_total',
    'counter',
    'kernel records the probes shed on purpose, by kind: past a kind\'s share of the ring, or over the sending cgroup\'s budget while the reader is behind (part of vigil_events_dropped_total{stage="kernel"})',
    ['kind'],
    () => byKind(src.sensor()?.native?.shed),
  );
  add(
    'vigil_events_coalesced_total',
    'counter',
    'kernel records not sent because they repeated one sent within the last second (the same open by the same process), by kind; the next record sent for that open carries the count',
    ['kind'],
    () => byKind(src.sensor()?.native?.coalesced),
  );
  add('vigil_records_corrupt_total', 'counter', 'records skipped as corrupt, by reason', ['reason'], () =>
    Object.entries(src.sensor()?.corrupt ?? {}).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  add('vigil_ringbuf_used_bytes', 'gauge', 'bytes in the ring buffer not yet read', [], () => {
    const n = src.sensor()?.native;
    return n ? [{ value: n.ringUsedBytes }] : [];
  });
  add('vigil_ringbuf_size_bytes', 'gauge', 'ring buffer size', [], () => {
    const n = src.sensor()?.native;
    return n ? [{ value: n.ringSizeBytes }] : [];
  });
  const enricher = (stage: string, key: string): Sample[] => {
    const s = src.sensor();
    return s ? [{ value: s.enrichers[stage]?.[key] ?? 0 }] : [];
  };
  add('vigil_process_cache_entries', 'gauge', 'processes in the process table', [], () => enricher('process', 'entries'));
  add('vigil_process_cache_misses_total', 'counter', 'events whose process was not in the table', [], () => enricher('process', 'misses'));
  add(
    'vigil_process_cache_evictions_total',
    'counter',
    'entries taken out of the process table, by reason: exited (after the grace period), exited_early (to make room, before it ended), lru (a live process, the table full of live ones)',
    ['reason'],
    () => {
      const p = src.sensor()?.enrichers['process'];
      return byLabel('reason', p && { exited: p['evictedExited'] ?? 0, exited_early: p['evictedExitedEarly'] ?? 0, lru: p['evictedLru'] ?? 0 });
    },
  );
  add('vigil_containers', 'gauge', 'containers known, and running', ['state'], () => {
    const s = src.sensor();
    if (!s) return [];
    const c = s.enrichers['containers'] ?? {};
    return [
      { labels: { state: 'known' }, value: c['containers'] ?? 0 },
      { labels: { state: 'running' }, value: c['running'] ?? 0 },
    ];
  });
  add('vigil_container_cache_misses_total', 'counter', 'events whose cgroup was not yet known', [], () => enricher('containers', 'misses'));

  // The metrics sampler.
  add('vigil_metrics_sweep_duration_seconds', 'gauge', 'duration of the last sampling sweep', [], () => {
    const s = src.lastSweep();
    return s ? [{ value: s.durationMs / 1000 }] : [];
  });
  add('vigil_metrics_sweep_targets', 'gauge', 'targets sampled by the last sweep', [], () => {
    const s = src.lastSweep();
    return s ? [{ value: s.targets }] : [];
  });

  // The store (LevelDB): alert batches, metric samples, recovery probes.
  const store = <T>(read: (s: NonNullable<ReturnType<MetricSources['store']>>) => T): Array<{ value: T }> => {
    const s = src.store();
    return s ? [{ value: read(s) }] : [];
  };
  add('vigil_store_write_errors_total', 'counter', 'writes to the store that failed (alert batches, metric samples, recovery probes)', [], () =>
    store((s) => s.writeErrors),
  );
  add('vigil_store_metric_write_errors_total', 'counter', 'metric sample writes that failed (of vigil_store_write_errors_total)', [], () => [
    { value: src.seriesWriteErrors() },
  ]);
  add('vigil_store_reopens_total', 'counter', 'database reopens by the store recovery loop', [], () => store((s) => s.reopens));
  add('vigil_store_healthy', 'gauge', '1 while store writes work, 0 while they fail (alerts wait in memory; /healthz says degraded)', [], () =>
    store((s) => (s.state.ok ? 1 : 0)),
  );
  add('vigil_alerts_waiting', 'gauge', 'alert versions waiting in memory for the store', [], () => store((s) => s.state.waiting));
  add('vigil_alerts_store_dropped_total', 'counter', 'alert versions dropped because the queue waiting for the store was full (alerts.max_waiting)', [], () =>
    store((s) => s.state.dropped),
  );

  // Detection and alerts.
  add(
    'vigil_rule_matches_total',
    'counter',
    'matches of each rule in force (counted before dedup, rate limits and target scopes)',
    ['rule', 'severity'],
    function* () {
      const byName = new Map((src.detector()?.rules ?? []).map((r) => [r.name, r.matches]));
      for (const r of src.rules()) yield { labels: { rule: r.name, severity: r.severity }, value: byName.get(r.name) ?? 0 };
    },
  );
  add('vigil_alerts_opened_total', 'counter', 'alerts opened, by rule and severity (forecast warnings included)', ['rule', 'severity'], () =>
    [...src.alertsOpened()].map((a) => ({ labels: { rule: a.rule, severity: a.severity }, value: a.count })),
  );
  add('vigil_alert_matches_dropped_total', 'counter', 'rule matches lost because the alert intake was full and their container past its share', [], () => {
    const v = src.alertIntakeDropped();
    return v === undefined ? [] : [{ value: v }];
  });
  add(
    'vigil_alert_matches_folded_total',
    'counter',
    'rule matches folded into a waiting match of the same rule, container and executable in the alert intake (counted on its alert)',
    [],
    () => {
      const v = src.alertIntakeFolded();
      return v === undefined ? [] : [{ value: v }];
    },
  );
  add('vigil_detector_queue_dropped_total', 'counter', 'events the detector lost to a full queue', [], () => {
    const v = src.detectorQueueDropped();
    return v === undefined ? [] : [{ value: v }];
  });
  add('vigil_detector_runtime_setup_skipped_total', 'counter', "events of a container runtime's bootstrap (runc init) that no rule evaluated", [], () => {
    const d = src.detector();
    return d ? [{ value: d.runtimeSetupSkipped }] : [];
  });
  add('vigil_matches_out_of_scope_total', 'counter', "rule matches not raised because the container's targets list other rules", [], () => [
    { value: src.matchesOutOfScope() },
  ]);

  // The API.
  add(
    'vigil_subscriber_dropped_total',
    'counter',
    'messages (events and alerts) lost by Events.Subscribe streams, by subscriber (its client_name, else its peer without the port; at most 32 names, the rest "other")',
    ['subscriber'],
    () => [...src.subscriberDrops()].map(([subscriber, value]) => ({ labels: { subscriber }, value })),
  );
  return families;
}

/** docs/metrics.md (`vigild metrics-doc`). */
export function metricsReference(): Promise<string> {
  return metricsMarkdown(vigilFamilies(NO_SOURCES), { text: '*container*', labels: CONTAINER_LABELS });
}
