// ForecastEngine: the forecast stage on the main thread. Each refresh round it gathers the monitored
// series (the collector's freshest samples, given to observe(), or the time-series store), orders them
// by how close they are to a limit, sends them one by one to the worker with a per-fit budget and stops
// when the round's time is spent (what is left goes first next round). Forecasts are kept in memory
// and in the 'forecasts' keyspace; early warnings and anomaly notices go out as RuleMatch objects (a
// warning carries its forecast, trimmed to the points up to the crossing: warningForecast()).
//
// Early warning: the point forecasts of the chosen model and of the baseline cross the limit within
// 30 min, the recent trend rises significantly (slope t >= 3, and t >= 2 in each half of the recent
// window), the last segment of a piecewise-linear fit rises too (t >= 3: a GC drop or a level step
// ends the rise), the series has been rising long enough to be trusted that far ahead
// (TREND_CONFIDENCE: the crossing at most half the rise's age ahead), the series has at least
// minPoints points, and this held for `consecutive` refreshes in a row. Severity by lead time
// (exhaustion.ts). It resolves (active false) after `consecutive` refreshes that no longer cross, or
// when the series stops (the container went). The crossing of a memory or process limit is that of
// the series' peaks (exhaustion.ts, peakRatio): the OOM killer and a failed fork act on an instant.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

import type { ContainerRef } from '../core/container.js';
import { HOST_CONTAINER } from '../core/container.js';
import type { RuleInfo, RuleMatch } from '../detect/rule-match.js';
import type { Severity } from '../core/severity.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { QueryResult, SeriesId } from '../metrics/series.js';
import type { MetricName, Sample } from '../core/metric-names.js';
import type { Keyspace } from '../store/store.js';
import { humanDuration, severityForLead } from './exhaustion.js';
import { MIN_POINTS, MAX_FIT_POINTS } from './models.js';
import { ForecastWorker, type ForecastWorkerOptions, type ForecastWorkerStats } from './pool.js';
import type { AnomalyFinding, SeriesInput, SeriesResult } from './series-fit.js';
import type { Forecast, ForecastModel } from '../core/forecast.js';

/** A forecast resource: the series, the limit it heads for, and what the warning says. */
export interface Resource {
  metric: MetricName;
  limit: MetricName;
  /** Share of the limit that counts as reaching it (CPU: saturation at 95% of the quota). */
  fraction: number;
  /**
   * The limit holds at every instant (memory: the OOM killer; pids: fork fails), so the series' peaks
   * reach it before its level does; CPU use is a rate over each sample's interval, peaks and all.
   */
  instant: boolean;
  rule: string;
  /** "memory", "process count", ... */
  noun: string;
  unit: 'bytes' | 'count' | 'cores';
}

export const RESOURCES: readonly Resource[] = [
  {
    metric: 'memory_working_set_bytes',
    limit: 'memory_limit_bytes',
    fraction: 1,
    instant: true,
    rule: 'Memory exhaustion forecast',
    noun: 'memory',
    unit: 'bytes',
  },
  { metric: 'pids_current', limit: 'pids_max', fraction: 1, instant: true, rule: 'Process count exhaustion forecast', noun: 'process count', unit: 'count' },
  {
    metric: 'cpu_usage_cores',
    limit: 'cpu_quota_cores',
    fraction: 0.95,
    instant: false,
    rule: 'CPU quota saturation forecast',
    noun: 'CPU use',
    unit: 'cores',
  },
];

export const FORECAST_TAGS = ['T1499', 'forecast', 'dos'];
/** Warnings are raised for crossings predicted this close at most. */
export const WARN_HORIZON_MS = 30 * 60_000;
/** The least t statistic of the recent slope for a warning (a flat noisy series near its limit stays quiet). */
export const MIN_SLOPE_T = 3;
/** The least t statistic of the slope of each half of the recent window. */
export const MIN_HALF_T = 2;
/**
 * How sure a warning must be that the rise goes on until the predicted crossing. A rise seen for T
 * (SeriesResult.trendAgeMs: since the series last dropped, fell or lay flat), with nothing else
 * known, goes on at least L more with probability T / (T + L) (Gott's delta-t argument: now is a
 * random moment of its life). A warning needs that at TREND_CONFIDENCE or more, so L <= T (1 - c) / c:
 * with 2/3 (twice as likely as not), a crossing at most half the rise's age ahead. A series seen from
 * the middle of a rise (the first minutes of a daily cycle, the first tooth of a GC sawtooth, a
 * container warming up) is young, so only a crossing close ahead warns; a leak seen for ten minutes
 * warns five minutes ahead. bench/forecast.ts measures what this costs in lead and saves in false
 * warnings.
 */
export const TREND_CONFIDENCE = 2 / 3;

/** The longest lead a trend of this age supports (see TREND_CONFIDENCE). */
export function maxLeadForAge(ageMs: number): number {
  return (ageMs * (1 - TREND_CONFIDENCE)) / TREND_CONFIDENCE;
}
/** Forecast points kept (stored and served); the exhaustion is computed on all of them first. */
export const STORED_POINTS = 90;
/** Forecast points an early warning carries at most: those up to just past the predicted crossing
 * (the alert manager bounds an alert's forecast to the same number). */
export const WARNING_POINTS = 120;
/** Refreshes between two model choices by backtest (the chosen model is refitted in between). */
export const RECHOOSE_EVERY = 10;

export interface SeriesSource {
  query(target: string, metric: string, from: number, to: number, step?: number): Promise<QueryResult>;
  list(): Promise<SeriesId[]>;
}

export interface ForecastEngineOptions {
  /** The time-series store (history at start-up, and every series when observe() is not fed). */
  series: SeriesSource;
  /** The store: forecasts go to its 'forecasts' keyspace. */
  store: { keyspace(name: 'forecasts'): Pick<Keyspace, 'putRecord' | 'getRecord'> };
  onMatch: (m: RuleMatch) => void;
  logger?: Logger;
  /** Time between refresh rounds, and the time a round may take at most (default 30 s). */
  intervalMs?: number;
  /** Round budget (default intervalMs). */
  roundBudgetMs?: number;
  /** Budget of one series' fits in the worker (default 250 ms; less when the round runs short). */
  fitBudgetMs?: number;
  horizonMs?: number;
  /** History given to the models (default 1 h). */
  historyMs?: number;
  level?: number;
  consecutive?: number;
  minPoints?: number;
  anomalies?: boolean;
  /** Names containers in messages and matches (host: HOST_CONTAINER). */
  resolveContainer?: (id: string) => ContainerRef | undefined;
  /** Host limits (the root cgroup has none): physical memory and the kernel's task limit by default. */
  hostLimits?: Partial<Record<MetricName, number>>;
  /** Which resources to forecast (default RESOURCES). */
  resources?: readonly Resource[];
  worker?: ForecastWorker;
  workerOptions?: ForecastWorkerOptions;
  now?: () => number;
  /** Called as each refresh round ends (the daemon trims memory after the worker's burst). */
  onRound?: (stats: RoundStats) => void;
}

export interface RoundStats {
  startedAt: number;
  durationMs: number;
  /** Series due, refreshed, left for the next round (budget spent), failed (worker), and too short. */
  due: number;
  refreshed: number;
  deferred: number;
  failed: number;
  tooShort: number;
}

export interface ForecastEngineStats {
  series: number;
  rounds: number;
  lastRound?: RoundStats;
  fits: Record<ForecastModel, number>;
  warningsOpen: number;
  warningsRaised: number;
  warningsResolved: number;
  anomalies: number;
  storeErrors: number;
  worker: ForecastWorkerStats;
}

interface SeriesState {
  target: string;
  resource: Resource;
  times: number[];
  values: number[];
  /** Latest limit value seen for the target (undefined: unlimited). */
  limit?: number;
  /** Fed by observe() (fresh); otherwise read from the series store each round. */
  observedAt?: number;
  model?: ForecastModel;
  sinceChoice: number;
  hits: number;
  clears: number;
  firstHit?: number;
  warning: boolean;
  lastRefresh: number;
  lastAnomaly: number;
  forecast?: Forecast;
}

function key(target: string, metric: string): string {
  return `${target}\u0000${metric}`;
}

function readNumber(path: string): number | undefined {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

function defaultHostLimits(): Partial<Record<MetricName, number>> {
  const pid = Math.min(readNumber('/proc/sys/kernel/pid_max') ?? Infinity, readNumber('/proc/sys/kernel/threads-max') ?? Infinity);
  return { memory_limit_bytes: totalmem(), ...(Number.isFinite(pid) ? { pids_max: pid } : {}) };
}

export function formatValue(v: number, unit: Resource['unit']): string {
  if (unit === 'bytes') return v >= 1 << 30 ? `${(v / (1 << 30)).toFixed(1)} GiB` : `${(v / (1 << 20)).toFixed(1)} MiB`;
  if (unit === 'cores') return `${v.toFixed(2)} cores`;
  return `${Math.round(v)}`;
}

/** Thins a forecast to at most `max` points, keeping the last. */
function thin(points: Forecast['points'], max: number): Forecast['points'] {
  if (points.length <= max) return points;
  const every = Math.ceil(points.length / max);
  return points.filter((_, i) => (points.length - 1 - i) % every === 0);
}

/**
 * The forecast an early warning carries: its points up to the first one at or past the latest crossing
 * (where the lower bound reaches the limit: beyond it every curve has crossed and nothing more bears
 * on the warning; all of them when the lower bound stays below), thinned to WARNING_POINTS.
 */
export function warningForecast(f: Forecast): Forecast {
  const end = f.exhaustion?.latest;
  let points = f.points;
  if (end !== undefined) {
    const k = points.findIndex((p) => p.time >= end);
    if (k >= 0) points = points.slice(0, k + 1);
  }
  return { ...f, points: thin(points, WARNING_POINTS) };
}

export class ForecastEngine {
  private readonly opt: Required<
    Pick<ForecastEngineOptions, 'intervalMs' | 'fitBudgetMs' | 'horizonMs' | 'historyMs' | 'level' | 'consecutive' | 'minPoints' | 'anomalies'>
  > & { roundBudgetMs: number };
  private readonly source: SeriesSource;
  private readonly ks: Pick<Keyspace, 'putRecord' | 'getRecord'>;
  private storeFailing = false;
  private readonly onMatch: (m: RuleMatch) => void;
  private readonly onRound: ((stats: RoundStats) => void) | undefined;
  private readonly log: Logger;
  private readonly resolveContainer: (id: string) => ContainerRef | undefined;
  private readonly hostLimits: Partial<Record<MetricName, number>>;
  private readonly resources: readonly Resource[];
  private readonly byMetric = new Map<MetricName, Resource>();
  private readonly limitMetrics = new Set<MetricName>();
  private readonly worker: ForecastWorker;
  private readonly ownsWorker: boolean;
  private readonly now: () => number;
  private readonly states = new Map<string, SeriesState>();
  /** Latest limit values by target, from observe(). */
  private readonly limits = new Map<string, Map<MetricName, number>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RoundStats> | undefined;
  private stopped = false;
  private observed = false;
  private readonly counters = { rounds: 0, warningsRaised: 0, warningsResolved: 0, anomalies: 0, storeErrors: 0 };
  private readonly fits: Record<ForecastModel, number> = { linear: 0, ets: 0, mstl: 0, prophet: 0 };
  private lastRound: RoundStats | undefined;

  constructor(options: ForecastEngineOptions) {
    const intervalMs = options.intervalMs ?? 30_000;
    this.opt = {
      intervalMs,
      roundBudgetMs: options.roundBudgetMs ?? intervalMs,
      fitBudgetMs: options.fitBudgetMs ?? 250,
      horizonMs: options.horizonMs ?? WARN_HORIZON_MS,
      historyMs: options.historyMs ?? 60 * 60_000,
      level: options.level ?? 0.95,
      consecutive: Math.max(1, options.consecutive ?? 2),
      minPoints: Math.max(MIN_POINTS, options.minPoints ?? MIN_POINTS),
      anomalies: options.anomalies ?? true,
    };
    if (!(intervalMs > 0)) throw new RangeError(`forecast interval must be positive, got ${intervalMs}`);
    this.source = options.series;
    this.ks = options.store.keyspace('forecasts');
    this.onMatch = options.onMatch;
    this.onRound = options.onRound;
    this.log = options.logger ?? silentLogger();
    this.resolveContainer = options.resolveContainer ?? (() => undefined);
    this.hostLimits = options.hostLimits ?? defaultHostLimits();
    this.resources = options.resources ?? RESOURCES;
    for (const r of this.resources) {
      this.byMetric.set(r.metric, r);
      this.limitMetrics.add(r.limit);
    }
    this.ownsWorker = options.worker === undefined;
    this.worker = options.worker ?? new ForecastWorker({ logger: this.log, ...options.workerOptions });
    this.now = options.now ?? Date.now;
  }

  /** Refreshes now, then every interval (a round never overlaps the previous one). */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      if (this.running || this.stopped) return;
      this.refresh()
        .catch((err: unknown) => this.log.error({ err }, 'forecast round failed'))
        .finally(() => undefined);
    };
    this.timer = setInterval(tick, this.opt.intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.ownsWorker) await this.worker.close();
    await this.running?.catch(() => undefined);
  }

  /**
   * The collector's samples, as they arrive (cheap: appends to bounded per-series buffers). When the
   * engine is fed this way it reads the series store only to fill a series' history the first time.
   */
  observe(samples: readonly Sample[]): void {
    this.observed = true;
    for (const s of samples) {
      if (this.limitMetrics.has(s.metric)) {
        let m = this.limits.get(s.target);
        if (!m) this.limits.set(s.target, (m = new Map()));
        m.set(s.metric, s.value);
      }
    }
    for (const s of samples) {
      const r = this.byMetric.get(s.metric);
      if (!r || !Number.isFinite(s.value)) continue;
      const st = this.state(s.target, r);
      const last = st.times[st.times.length - 1];
      if (last !== undefined && s.time <= last) continue;
      st.times.push(s.time);
      st.values.push(s.value);
      st.observedAt = s.time;
      st.limit = this.limitOf(s.target, r);
      if (st.times.length > MAX_FIT_POINTS + 60) {
        st.times.splice(0, 60);
        st.values.splice(0, 60);
      }
    }
  }

  /** The latest forecast of one series: from memory, else from the store. */
  async get(target: string, metric: MetricName): Promise<Forecast | undefined> {
    const st = this.states.get(key(target, metric));
    if (st?.forecast) return st.forecast;
    const raw = await this.ks.getRecord(Buffer.from(key(target, metric)));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw.toString('utf8')) as Forecast;
    } catch {
      return undefined;
    }
  }

  /**
   * The forecasts in memory (one per series refreshed at least once), with whether an early warning
   * is open on it: what /metrics exports, read at scrape time.
   */
  *current(): Iterable<{ forecast: Forecast; warning: boolean }> {
    for (const st of this.states.values()) if (st.forecast) yield { forecast: st.forecast, warning: st.warning };
  }

  stats(): ForecastEngineStats {
    let open = 0;
    for (const st of this.states.values()) if (st.warning) open++;
    const out: ForecastEngineStats = {
      series: this.states.size,
      rounds: this.counters.rounds,
      fits: { ...this.fits },
      warningsOpen: open,
      warningsRaised: this.counters.warningsRaised,
      warningsResolved: this.counters.warningsResolved,
      anomalies: this.counters.anomalies,
      storeErrors: this.counters.storeErrors,
      worker: this.worker.stats(),
    };
    if (this.lastRound) out.lastRound = { ...this.lastRound };
    return out;
  }

  /** One refresh round (the timer calls it; tests call it directly). */
  refresh(): Promise<RoundStats> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    const onRound = this.onRound;
    if (onRound) void this.running.then(onRound, () => undefined);
    return this.running;
  }

  private state(target: string, r: Resource): SeriesState {
    const k = key(target, r.metric);
    let st = this.states.get(k);
    if (!st) {
      st = { target, resource: r, times: [], values: [], sinceChoice: 0, hits: 0, clears: 0, warning: false, lastRefresh: 0, lastAnomaly: 0 };
      this.states.set(k, st);
    }
    return st;
  }

  private limitOf(target: string, r: Resource): number | undefined {
    const v = this.limits.get(target)?.get(r.limit) ?? (target === 'host' ? this.hostLimits[r.limit] : undefined);
    return v !== undefined && Number.isFinite(v) && v > 0 ? v * r.fraction : undefined;
  }

  /** Series from the store: every (target, resource metric) listed, with its history and limit. */
  private async loadFromStore(now: number): Promise<void> {
    const ids = await this.source.list();
    const targets = new Set(ids.map((i) => i.target));
    for (const target of targets) {
      for (const r of this.resources) {
        if (!ids.some((i) => i.target === target && i.metric === r.metric)) continue;
        const st = this.state(target, r);
        if (this.observed && st.observedAt !== undefined && st.times.length >= this.opt.minPoints) continue;
        const from = st.times.length > 0 ? st.times[st.times.length - 1]! + 1 : now - this.opt.historyMs;
        const q = await this.source.query(target, r.metric, from, now);
        if (q.resolution === 'raw') {
          for (const p of q.points) {
            const last = st.times[st.times.length - 1];
            if (last !== undefined && p.time <= last) continue;
            st.times.push(p.time);
            st.values.push(p.value);
          }
        }
        if (st.times.length > MAX_FIT_POINTS) {
          st.times.splice(0, st.times.length - MAX_FIT_POINTS);
          st.values.splice(0, st.values.length - MAX_FIT_POINTS);
        }
        if (!this.limits.get(target)?.has(r.limit)) {
          const lq = await this.source.query(target, r.limit, now - this.opt.historyMs, now);
          const lp = lq.resolution === 'raw' ? lq.points[lq.points.length - 1] : undefined;
          if (lp) {
            let m = this.limits.get(target);
            if (!m) this.limits.set(target, (m = new Map()));
            m.set(r.limit, lp.value);
          }
        }
        st.limit = this.limitOf(target, r);
      }
    }
  }

  /** Smaller is sooner: predicted lead (ms) when a forecast crosses, else headroom to the limit, unlimited last. */
  private priority(st: SeriesState, now: number): number {
    const ex = st.forecast?.exhaustion;
    const crossing = ex?.earliest ?? ex?.at;
    if (crossing !== undefined) return crossing - now;
    const last = st.values[st.values.length - 1] ?? 0;
    if (st.limit !== undefined) return WARN_HORIZON_MS + (1 - Math.min(1, last / st.limit)) * 1e9 - Math.min(now - st.lastRefresh, 1e8);
    return 1e12 - Math.min(now - st.lastRefresh, 1e11);
  }

  private async round(): Promise<RoundStats> {
    const startedAt = this.now();
    const t0 = performance.now();
    const deadline = t0 + this.opt.roundBudgetMs;
    const stats: RoundStats = { startedAt, durationMs: 0, due: 0, refreshed: 0, deferred: 0, failed: 0, tooShort: 0 };
    try {
      await this.loadFromStore(startedAt);
    } catch (err) {
      this.log.warn({ err }, 'forecast: reading series from the store failed; using what is in memory');
    }
    const due: SeriesState[] = [];
    for (const st of this.states.values()) {
      // A series that stopped (its container went away): its warning resolves, its state goes.
      const last = st.times[st.times.length - 1];
      if (last !== undefined && startedAt - last > Math.max(3 * this.opt.intervalMs, 60_000)) {
        if (st.warning) this.resolve(st, startedAt, 'the series stopped (container gone or no longer sampled)');
        this.states.delete(key(st.target, st.resource.metric));
        continue;
      }
      if (st.times.length < this.opt.minPoints) {
        stats.tooShort++;
        continue;
      }
      if (st.forecast && st.forecast.lastObserved === last) continue; // nothing new since the last fit
      due.push(st);
    }
    due.sort((a, b) => this.priority(a, startedAt) - this.priority(b, startedAt));
    stats.due = due.length;
    for (let i = 0; i < due.length; i++) {
      if (this.stopped) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        stats.deferred = due.length - i;
        break;
      }
      const st = due[i]!;
      const budgetMs = Math.max(5, Math.min(this.opt.fitBudgetMs, left / (due.length - i)));
      const input: SeriesInput = {
        target: st.target,
        metric: st.resource.metric,
        times: st.times.slice(-MAX_FIT_POINTS),
        values: st.values.slice(-MAX_FIT_POINTS),
        horizonMs: this.opt.horizonMs,
        level: this.opt.level,
        budgetMs,
        anomalies: this.opt.anomalies,
      };
      if (st.limit !== undefined) input.limit = { metric: st.resource.limit, value: st.limit, instant: st.resource.instant };
      if (st.model && st.sinceChoice < RECHOOSE_EVERY) input.model = st.model;
      let result: SeriesResult;
      try {
        result = await this.worker.run(input, this.now());
      } catch (err) {
        stats.failed++;
        this.log.warn({ err, target: st.target, metric: st.resource.metric }, 'forecast failed for this series this round');
        continue;
      }
      stats.refreshed++;
      this.apply(st, result);
    }
    stats.durationMs = performance.now() - t0;
    this.counters.rounds++;
    this.lastRound = stats;
    return stats;
  }

  private apply(st: SeriesState, r: SeriesResult): void {
    const now = this.now();
    st.lastRefresh = now;
    const f = r.forecast;
    if (!f) return;
    this.fits[f.model]++;
    if (r.backtest) {
      st.model = f.model;
      st.sinceChoice = 0;
    } else st.sinceChoice++;
    if (st.sinceChoice >= RECHOOSE_EVERY) st.model = undefined;
    const stored: Forecast = { ...f, points: thin(f.points, STORED_POINTS) };
    st.forecast = stored;
    this.ks.putRecord(Buffer.from(key(st.target, st.resource.metric)), Buffer.from(JSON.stringify(stored))).then(
      () => {
        this.storeFailing = false;
      },
      (err: unknown) => {
        this.counters.storeErrors++;
        // Once per change of state (a full disk fails every forecast until it has room again).
        if (!this.storeFailing) this.log.warn({ err }, 'storing a forecast failed (further failures are counted, not logged, until one works)');
        this.storeFailing = true;
      },
    );

    const ex = f.exhaustion;
    // The chosen model and the baseline both cross, the rise is persistent (both halves of the recent
    // window rise), the current segment rises and the rise is old enough for the lead: a seasonal
    // peak, a GC sawtooth, a single step or a series seen only for its first minutes of rise does
    // not warn.
    const crossing =
      ex?.at !== undefined &&
      ex.at - now <= WARN_HORIZON_MS &&
      ex.at - now <= maxLeadForAge(r.trendAgeMs) &&
      r.trendT >= MIN_SLOPE_T &&
      r.baselineAt !== undefined &&
      r.baselineAt - now <= WARN_HORIZON_MS &&
      r.slopeT >= MIN_SLOPE_T &&
      Math.min(...r.halvesT) >= MIN_HALF_T;
    if (crossing) {
      st.hits++;
      st.clears = 0;
      st.firstHit ??= now;
      if (st.hits >= this.opt.consecutive) this.warn(st, f, r, now);
    } else {
      st.hits = 0;
      st.firstHit = undefined;
      if (st.warning && ++st.clears >= this.opt.consecutive) this.resolve(st, now, 'the forecast no longer reaches the limit');
    }
    for (const a of r.anomalies) this.anomaly(st, a, now);
  }

  private container(target: string): ContainerRef {
    if (target === 'host') return HOST_CONTAINER;
    return this.resolveContainer(target) ?? { id: target, name: target, runtime: 'unknown', image: '' };
  }

  private ruleInfo(name: string, severity: Severity, desc: string): RuleInfo {
    return { name, desc, kind: 'metric', severity, tags: [...FORECAST_TAGS], enabled: true, actions: ['notify'], source: 'daemon/forecast' };
  }

  private values(st: SeriesState, f: Forecast, r?: SeriesResult): Record<string, number> {
    const ex = f.exhaustion;
    const v: Record<string, number> = { [st.resource.metric]: st.values[st.values.length - 1] ?? 0, forecast_computed_at_ms: f.computedAt };
    if (ex) {
      v[ex.limitMetric] = ex.limit;
      if (ex.at !== undefined) v['forecast_at_ms'] = ex.at;
      if (ex.earliest !== undefined) v['forecast_earliest_ms'] = ex.earliest;
      if (ex.latest !== undefined) v['forecast_latest_ms'] = ex.latest;
    }
    if (r) v['forecast_slope_per_s'] = r.slopePerSec;
    if (f.mase !== undefined) v['forecast_mase'] = f.mase;
    return v;
  }

  private warn(st: SeriesState, f: Forecast, r: SeriesResult, now: number): void {
    const ex = f.exhaustion!;
    const lead = Math.max(0, ex.at! - now);
    const severity = severityForLead(lead) ?? 'warning';
    const c = this.container(st.target);
    const who = st.target === 'host' ? 'the host' : `container ${c.name}`;
    const lo = ex.earliest !== undefined ? humanDuration(Math.max(0, ex.earliest - now)) : 'now';
    const hi = ex.latest !== undefined ? humanDuration(Math.max(0, ex.latest - now)) : `beyond ${humanDuration(this.opt.horizonMs)}`;
    const pct = Math.round(f.level * 100);
    const message =
      lead === 0
        ? `${st.resource.noun} of ${who} has reached its limit (${formatValue(ex.limit, st.resource.unit)}) by the forecast (${f.model})`
        : `${st.resource.noun} of ${who} will reach its limit in about ${humanDuration(lead)} (${pct}% interval ${lo} to ${hi}); now ${formatValue(st.values[st.values.length - 1] ?? 0, st.resource.unit)} of ${formatValue(ex.limit, st.resource.unit)}, model ${f.model}`;
    if (!st.warning) {
      st.warning = true;
      this.counters.warningsRaised++;
      this.log.info({ target: st.target, metric: st.resource.metric, leadMs: lead, model: f.model }, 'early warning');
    }
    this.onMatch({
      rule: this.ruleInfo(st.resource.rule, severity, `${st.resource.noun} forecast to reach its limit`),
      time: now,
      message,
      container: c,
      events: [],
      metric: { target: st.target, values: this.values(st, f, r), heldMs: now - (st.firstHit ?? now) },
      active: true,
      forecast: warningForecast(f),
    });
  }

  private resolve(st: SeriesState, now: number, why: string): void {
    st.warning = false;
    st.clears = 0;
    this.counters.warningsResolved++;
    const c = this.container(st.target);
    this.onMatch({
      rule: this.ruleInfo(st.resource.rule, 'informational', `${st.resource.noun} forecast to reach its limit`),
      time: now,
      message: `${st.resource.noun} of ${st.target === 'host' ? 'the host' : `container ${c.name}`}: ${why}`,
      container: c,
      events: [],
      metric: { target: st.target, values: st.forecast ? this.values(st, st.forecast) : {}, heldMs: 0 },
      active: false,
    });
  }

  private anomaly(st: SeriesState, a: AnomalyFinding, now: number): void {
    // One notice per change: a shift stays in the tail for a few refreshes.
    if (a.time <= st.lastAnomaly) return;
    st.lastAnomaly = st.times[st.times.length - 1] ?? a.time;
    this.counters.anomalies++;
    const c = this.container(st.target);
    const who = st.target === 'host' ? 'the host' : `container ${c.name}`;
    const u = st.resource.unit;
    const what = a.kind === 'level_shift' ? 'level shift' : 'outlier';
    const excerpt = a.excerpt.map((v) => formatValue(v, u)).join(', ');
    this.onMatch({
      rule: {
        name: a.kind === 'level_shift' ? 'Metric level shift' : 'Metric outlier',
        desc: `sudden ${what} in a resource metric`,
        kind: 'event',
        severity: 'notice',
        tags: ['forecast', 'anomaly'],
        enabled: true,
        actions: ['notify'],
        source: 'daemon/forecast',
      },
      time: now,
      message: `${what} in ${st.resource.metric} of ${who} at ${new Date(a.time).toISOString()}: ${formatValue(a.before, u)} -> ${formatValue(a.after, u)} (${a.score.toFixed(0)} noise widths); last ${a.excerpt.length} points: ${excerpt}`,
      container: c,
      events: [],
    });
  }
}
