// The metrics collector: every interval (5 s by default) one sweep samples the host and every
// monitored target through the Sampler, a bounded number of targets at a time, and hands the sweep's
// Samples to the sink with the sweep's stats. Sweeps never overlap: one that would start while the
// previous still runs is skipped and counted. Every read is asynchronous (fs/promises): the event
// loop only parses.
//
// A target whose cgroup vanished (its container stopped mid-sweep) is counted in `vanished` and left
// out of the sweep, logged at debug; other failures count in `errors` and are logged at warn, at most
// once a minute per target. Targets no longer listed are forgotten (their handles closed).
import { performance } from 'node:perf_hooks';

import { HOST_CONTAINER } from '../core/container.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { MetricsTarget, Sampler, TargetResult } from './sampler.js';
import type { Sample } from '../core/metric-names.js';

export const DEFAULT_INTERVAL_MS = 5000;
export const DEFAULT_CONCURRENCY = 8;
const WARN_EVERY_MS = 60_000;

export interface SweepStats {
  /** Unix ms at the sweep's start (the time of its Samples). */
  startedAt: number;
  durationMs: number;
  /** CPU time of this process during the sweep (user + system), ms; other work of the process counts too. */
  cpuMs: number;
  /** Targets asked for (host included). */
  targets: number;
  /** Targets that produced samples. */
  sampled: number;
  /** Targets whose cgroup was gone. */
  vanished: number;
  /** Failed reads or parses (a target may have several). */
  errors: number;
  samples: number;
}

export interface CollectorTotals {
  sweeps: number;
  /** Sweeps not started because the previous one still ran. */
  overruns: number;
  vanished: number;
  errors: number;
  samples: number;
}

export interface CollectorOptions {
  sampler: Pick<Sampler, 'sample' | 'forget' | 'keys'>;
  /** The monitored targets, asked at each sweep. */
  targets: () => Iterable<MetricsTarget>;
  /** Receives each sweep's samples (and its stats); a throwing sink is logged, the collector goes on. */
  sink: (samples: Sample[], stats: SweepStats) => void;
  intervalMs?: number;
  /** Targets sampled at once (default 8). */
  concurrency?: number;
  /** Sample the host (key 'host', the root cgroup) in each sweep (default true). */
  host?: boolean;
  logger?: Logger;
}

export class MetricsCollector {
  readonly intervalMs: number;
  private readonly sampler: CollectorOptions['sampler'];
  private readonly targets: CollectorOptions['targets'];
  private readonly sink: CollectorOptions['sink'];
  private readonly concurrency: number;
  private readonly host: boolean;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepStats> | undefined;
  private lastWarn = new Map<string, number>();
  private _last: SweepStats | undefined;
  private readonly _totals: CollectorTotals = { sweeps: 0, overruns: 0, vanished: 0, errors: 0, samples: 0 };

  constructor(options: CollectorOptions) {
    this.sampler = options.sampler;
    this.targets = options.targets;
    this.sink = options.sink;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.host = options.host ?? true;
    this.log = options.logger ?? silentLogger();
    if (!(this.intervalMs > 0)) throw new RangeError(`metrics interval must be positive, got ${this.intervalMs}`);
  }

  get lastSweep(): SweepStats | undefined {
    return this._last;
  }

  get totals(): CollectorTotals {
    return { ...this._totals };
  }

  get started(): boolean {
    return this.timer !== undefined;
  }

  /** Sweeps now, then every interval. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  /** Stops the timer and waits for a running sweep to finish. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private tick(): void {
    if (this.running !== undefined) {
      this._totals.overruns++;
      this.log.warn({ intervalMs: this.intervalMs }, 'metrics sweep still running at the next interval; skipped one');
      return;
    }
    this.sweep().catch((err: unknown) => this.log.error({ err }, 'metrics sweep failed'));
  }

  /** One sweep (also usable without start()); resolves after the sink was called. */
  sweep(): Promise<SweepStats> {
    if (this.running !== undefined) return this.running;
    const p = this.runSweep().finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async runSweep(): Promise<SweepStats> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const list: MetricsTarget[] = [];
    if (this.host) list.push({ key: HOST_CONTAINER.id, cgroupPath: '' });
    for (const t of this.targets()) list.push(t);

    const results: (TargetResult | Error)[] = new Array(list.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < list.length; i = next++) {
        try {
          results[i] = await this.sampler.sample(list[i]!, startedAt);
        } catch (err) {
          results[i] = err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, list.length) }, worker));

    const samples: Sample[] = [];
    let sampled = 0;
    let vanished = 0;
    let errors = 0;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      const r = results[i]!;
      if (r instanceof Error) {
        errors++;
        this.warn(t, [r]);
        continue;
      }
      if (r.vanished) {
        vanished++;
        this.log.debug({ target: t.key, cgroup: t.cgroupPath }, 'cgroup gone; target left out of this sweep');
        continue;
      }
      sampled++;
      errors += r.errors.length;
      if (r.errors.length > 0) this.warn(t, r.errors);
      for (const s of r.samples) samples.push(s);
    }
    // Forget what is no longer monitored, so its handles close.
    const keys = new Set(list.map((t) => t.key));
    for (const k of this.sampler.keys()) if (!keys.has(k)) this.sampler.forget(k);
    for (const k of this.lastWarn.keys()) if (!keys.has(k)) this.lastWarn.delete(k);

    const cpu = process.cpuUsage(cpu0);
    const stats: SweepStats = {
      startedAt,
      durationMs: performance.now() - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      targets: list.length,
      sampled,
      vanished,
      errors,
      samples: samples.length,
    };
    this._last = stats;
    this._totals.sweeps++;
    this._totals.vanished += vanished;
    this._totals.errors += errors;
    this._totals.samples += samples.length;
    try {
      this.sink(samples, stats);
    } catch (err) {
      this.log.error({ err }, 'metrics sink threw');
    }
    return stats;
  }

  private warn(t: MetricsTarget, errs: Error[]): void {
    const now = Date.now();
    const last = this.lastWarn.get(t.key);
    if (last !== undefined && now - last < WARN_EVERY_MS) return;
    this.lastWarn.set(t.key, now);
    this.log.warn({ target: t.key, cgroup: t.cgroupPath, errors: errs.map((e) => e.message) }, 'metrics: reads failed for a target');
  }
}
