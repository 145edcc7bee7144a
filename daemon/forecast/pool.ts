// The forecast worker as the main thread sees it: one worker thread, one request in flight, a queue
// behind it, and a watchdog. A request that outlives its deadline (a stuck fit), or a worker that
// crashes, gets the worker terminated and a fresh one started; the request is retried once on the new
// worker, and a second failure rejects it with ForecastWorkerError (the caller reports it and moves on).
import { Worker } from 'node:worker_threads';

import { silentLogger, type Logger } from '../core/log.js';
import { ForecastWorkerError } from './errors.js';
import type { SeriesInput, SeriesResult } from './series-fit.js';

/**
 * The worker's V8 heap. A fit allocates short-lived arrays of at most MAX_FIT_POINTS numbers, so a
 * young generation of 4 MB (V8 would grow it to that of the main thread, 3 x --max-semi-space-size)
 * costs no fit time and keeps the idle daemon smaller (docs/tuning.md, Memory).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 };

export interface WorkerRequest {
  id: number;
  input: SeriesInput;
  now: number;
  /** Test-only fault injection; honoured only by a worker started with `faults: true`. */
  fault?: 'crash' | 'hang' | 'throw';
}

export type WorkerReply = { id: number; result: SeriesResult; error?: undefined } | { id: number; error: string; result?: undefined };

export interface ForecastWorkerOptions {
  logger?: Logger;
  /** The deadline of a request: its budget times this, plus graceMs (defaults 2 and 2,000 ms). */
  deadlineFactor?: number;
  graceMs?: number;
  /** Most requests waiting (default 5,000); beyond it run() rejects at once. */
  maxQueue?: number;
  /** Allow fault injection (tests). */
  faults?: boolean;
}

export interface ForecastWorkerStats {
  requests: number;
  completed: number;
  /** Workers started after the first: crashes and watchdog terminations. */
  restarts: number;
  timeouts: number;
  crashes: number;
  retried: number;
  /** Requests that failed on the retry too. */
  failed: number;
  queued: number;
}

interface Job {
  req: WorkerRequest;
  attempts: number;
  resolve: (r: SeriesResult) => void;
  reject: (e: Error) => void;
  /** Test faults: the fault and how many attempts it applies to (from the first). */
  fault?: WorkerRequest['fault'];
  faultAttempts: number;
}

export class ForecastWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;
  private readonly factor: number;
  private readonly grace: number;
  private readonly maxQueue: number;
  private readonly faults: boolean;
  private readonly counters = { requests: 0, completed: 0, restarts: 0, timeouts: 0, crashes: 0, retried: 0, failed: 0 };
  private started = 0;

  constructor(options: ForecastWorkerOptions = {}) {
    this.log = options.logger ?? silentLogger();
    this.factor = options.deadlineFactor ?? 2;
    this.grace = options.graceMs ?? 2000;
    this.maxQueue = options.maxQueue ?? 5000;
    this.faults = options.faults ?? false;
  }

  stats(): ForecastWorkerStats {
    return { ...this.counters, queued: this.queue.length + (this.current ? 1 : 0) };
  }

  /** Forecasts one series on the worker. `fault` (tests, with `faults: true`) fails the first `faultAttempts` attempts. */
  run(input: SeriesInput, now = Date.now(), fault?: WorkerRequest['fault'], faultAttempts = 1): Promise<SeriesResult> {
    if (this.closed) return Promise.reject(new ForecastWorkerError('forecast worker closed'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new ForecastWorkerError(`forecast queue full (${this.maxQueue})`));
    this.counters.requests++;
    return new Promise((resolve, reject) => {
      const job: Job = { req: { id: this.nextId++, input, now }, attempts: 0, resolve, reject, faultAttempts };
      if (fault) job.fault = fault;
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminates the worker; queued and running requests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const err = new ForecastWorkerError('forecast worker closed');
    for (const j of this.queue.splice(0)) j.reject(err);
    if (this.current) {
      this.current.reject(err);
      this.current = undefined;
    }
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate();
  }

  private spawn(): Promise<void> {
    if (this.started++ > 0) this.counters.restarts++;
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { faults: this.faults }, resourceLimits: WORKER_LIMITS });
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        if ((m as { ready?: boolean }).ready) {
          w.off('error', onError);
          resolve();
        }
      };
      const onError = (err: Error): void => reject(err);
      w.once('message', onMessage);
      w.once('error', onError);
    });
    w.on('message', (m: WorkerReply | { ready: true }) => {
      if ('id' in m) this.onReply(w, m);
    });
    w.on('error', (err) => this.onFailure(w, 'crash', err));
    w.on('exit', (code) => this.onFailure(w, 'crash', new Error(`worker exited with code ${code}`)));
    return this.ready;
  }

  private pump(): void {
    if (this.closed || this.current) return;
    // An idle worker never keeps the process alive; a busy one does (someone awaits its answer).
    if (this.queue.length === 0) {
      this.worker?.unref();
      return;
    }
    const job = this.queue.shift()!;
    this.current = job;
    const go = (): void => {
      if (this.current !== job || this.closed) return;
      const w = this.worker!;
      job.attempts++;
      const req: WorkerRequest = { ...job.req };
      if (job.fault && job.attempts <= job.faultAttempts) req.fault = job.fault;
      const deadline = job.req.input.budgetMs * this.factor + this.grace;
      this.clearTimer();
      this.timer = setTimeout(() => this.onFailure(w, 'timeout', new Error(`no answer within ${deadline} ms`)), deadline);
      this.timer.unref();
      w.postMessage(req);
    };
    if (!this.worker) this.spawn().catch(() => undefined);
    this.worker!.ref();
    this.ready!.then(go, (err: unknown) => this.onFailure(this.worker!, 'crash', err instanceof Error ? err : new Error(String(err))));
  }

  private onReply(w: Worker, m: WorkerReply): void {
    if (w !== this.worker) return;
    const job = this.current;
    if (!job || job.req.id !== m.id) return;
    this.clearTimer();
    this.current = undefined;
    if (m.result) {
      this.counters.completed++;
      job.resolve(m.result);
    } else {
      this.counters.failed++;
      job.reject(new ForecastWorkerError(`forecast of ${job.req.input.target}/${job.req.input.metric} failed: ${m.error}`));
    }
    this.pump();
  }

  /** A crash or a missed deadline: replace the worker, retry the request in flight once. */
  private onFailure(w: Worker, kind: 'crash' | 'timeout', err: Error): void {
    if (w !== this.worker || this.closed) return;
    this.clearTimer();
    this.counters[kind === 'crash' ? 'crashes' : 'timeouts']++;
    this.worker = undefined;
    this.ready = undefined;
    w.removeAllListeners('exit');
    w.removeAllListeners('error');
    w.on('error', () => undefined);
    void w.terminate();
    const job = this.current;
    this.current = undefined;
    if (job) {
      if (job.attempts < 2) {
        this.counters.retried++;
        this.log.warn({ err, target: job.req.input.target, metric: job.req.input.metric, kind }, 'forecast worker failed; restarted, retrying the request');
        this.queue.unshift(job);
      } else {
        this.counters.failed++;
        this.log.error(
          { err, target: job.req.input.target, metric: job.req.input.metric, kind },
          'forecast worker failed twice on one series; it is skipped this round',
        );
        job.reject(new ForecastWorkerError(`forecast of ${job.req.input.target}/${job.req.input.metric}: worker ${kind} twice`, { cause: err }));
      }
    } else {
      this.log.warn({ err, kind }, 'forecast worker failed while idle; restarted');
    }
    this.pump();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
