// One sink's pipeline: a bounded queue, a batcher, delivery with retries (exponential backoff with
// jitter) and the sink's own cursor. Pipelines never wait for each other: the stream offers every
// record to every pipeline and offer() never blocks. A pipeline whose queue is full (its sink is down
// or slow) stops taking alerts and asks, once its queue has drained, for the stream to be replayed
// from its cursor; the others skip what they already have. So a sink that is down costs the others
// nothing, and loses nothing: alerts come back from the daemon's store.
//
// Cursor rule: `acked` is a seq such that every alert up to it was taken by the sink or did not pass
// its filter. It moves after each acknowledged batch (and over filtered alerts when nothing is
// pending), and is what the state file keeps. Events have no seq: they are shipped at most once.
import type { Logger } from 'pino';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { SinkError } from './core/errors.js';
import type { ForwardRecord } from './core/record.js';
import type { Sink } from './core/sink.js';

export interface BatchOptions {
  /** Records per batch. */
  maxItems: number;
  /** How long the first record of a batch may wait for others (ms). */
  maxWaitMs: number;
}

export interface PipelineOptions {
  name: string;
  sink: Sink;
  /** The sink's filter (after the alerts/events switches). */
  filter: (r: ForwardRecord) => boolean;
  alerts: boolean;
  events: boolean;
  batch: BatchOptions;
  /** Records the queue holds at most. */
  queueMax: number;
  retry: BackoffOptions;
  /** The persisted cursor: alerts up to it were delivered before. */
  cursor: number;
  /** Called with each new cursor (the forwarder persists it). */
  onCursor: (seq: number) => void;
  /** Called when the pipeline dropped alerts (queue full) and has drained: replay from its cursor. */
  onResync: () => void;
  log: Logger;
  random?: () => number;
}

export interface PipelineStats {
  /** Records the sink acknowledged. */
  delivered: number;
  /** Records the sink refused for good (dropped). */
  rejected: number;
  /** Alerts left out by the filter. */
  filtered: number;
  /** Alerts dropped from a full queue (replayed later). */
  deferred: number;
  /** Events dropped from a full queue (lost: events are not replayed). */
  eventsDropped: number;
  /** Alerts seen again after a replay and skipped. */
  duplicatesSkipped: number;
  batches: number;
  retries: number;
}

export class Pipeline {
  readonly name: string;
  readonly sink: Sink;
  readonly wantsEvents: boolean;
  readonly wantsAlerts: boolean;
  /** Everything up to this seq was delivered or filtered out. */
  acked: number;
  /** The highest seq taken into the pipeline (queued or filtered out): replays skip up to here. */
  accepted: number;
  /** The queue overflowed; alerts are not taken until the stream is replayed from `accepted`. */
  lagging = false;
  readonly stats: PipelineStats = {
    delivered: 0,
    rejected: 0,
    filtered: 0,
    deferred: 0,
    eventsDropped: 0,
    duplicatesSkipped: 0,
    batches: 0,
    retries: 0,
  };

  private readonly o: PipelineOptions;
  private readonly queue: ForwardRecord[] = [];
  private firstAt = 0;
  private running: Promise<void> | undefined;
  private inflight = false;
  private flushing = false;
  private resyncAsked = false;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private failing = false;
  /** Bumped by reset(): a batch sent before it does not move the cursor of the new history. */
  private generation = 0;

  constructor(o: PipelineOptions) {
    this.o = o;
    this.name = o.name;
    this.sink = o.sink;
    this.wantsEvents = o.events;
    this.wantsAlerts = o.alerts;
    this.acked = o.cursor;
    this.accepted = o.cursor;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Offer one record from the stream; never blocks. */
  offer(r: ForwardRecord): void {
    if (this.flushing) return;
    if (r.type === 'alert') {
      if (r.seq <= this.accepted) {
        this.stats.duplicatesSkipped++;
        return;
      }
      if (this.lagging) {
        this.stats.deferred++;
        return;
      }
      if (!this.wantsAlerts || !this.o.filter(r)) {
        this.stats.filtered++;
        this.accepted = r.seq;
        if (this.queue.length === 0 && !this.inflight) this.moveCursor(r.seq);
        return;
      }
      if (this.queue.length >= this.o.queueMax) {
        this.lagging = true;
        this.stats.deferred++;
        this.o.log.warn(
          { sink: this.name, queued: this.queue.length, from_seq: r.seq },
          'sink queue full: alerts will be replayed from the store once it drains',
        );
        return;
      }
      this.accepted = r.seq;
    } else {
      if (!this.wantsEvents || !this.o.filter(r)) return;
      if (this.queue.length >= this.o.queueMax || this.lagging) {
        this.stats.eventsDropped++;
        return;
      }
    }
    if (this.queue.length === 0) this.firstAt = Date.now();
    this.queue.push(r);
    if (this.queue.length >= this.o.batch.maxItems) this.wake?.();
    if (!this.running) this.running = this.loop();
  }

  /**
   * The cursor jumps to `seq` (backwards too): a first cursor, or a new history of the daemon (epoch
   * change). Alerts queued from the old history are dropped (counted as deferred: the policy replays
   * what the store keeps); a batch in flight no longer moves the cursor.
   */
  reset(seq: number): void {
    let dropped = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.type === 'alert') {
        this.queue.splice(i, 1);
        dropped++;
      }
    }
    this.stats.deferred += dropped;
    this.generation++;
    this.acked = seq;
    this.accepted = seq;
    this.lagging = false;
    this.resyncAsked = false;
  }

  /** The stream was replayed from `accepted`: take alerts again. */
  resumed(): void {
    this.lagging = false;
    this.resyncAsked = false;
  }

  /**
   * Stop taking records, deliver what is queued, and resolve. After `deadlineMs` the pipeline gives
   * up (aborting the attempt in flight); what was not acknowledged stays behind the cursor and is
   * sent again on the next start.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.flushing = true;
    this.wake?.();
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.running.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    if (!done) {
      this.abort.abort();
      await this.running;
    }
    return done;
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.abort.signal.aborted) {
        if (this.queue.length < this.o.batch.maxItems && !this.flushing) {
          const wait = this.firstAt + this.o.batch.maxWaitMs - Date.now();
          if (wait > 0) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                this.wake = undefined;
                resolve();
              }, wait);
              this.wake = () => {
                clearTimeout(timer);
                this.wake = undefined;
                resolve();
              };
            });
            continue;
          }
        }
        const batch = this.queue.splice(0, this.o.batch.maxItems);
        this.inflight = true;
        const generation = this.generation;
        const ok = await this.deliver(batch);
        this.inflight = false;
        if (!ok) break;
        if (generation === this.generation) this.ack(batch);
        // What queued up during the send has waited long enough: no extra wait for it.
        this.firstAt = Date.now() - this.o.batch.maxWaitMs;
      }
    } finally {
      this.inflight = false;
      this.running = undefined;
    }
  }

  private ack(batch: readonly ForwardRecord[]): void {
    if (this.queue.length === 0) {
      this.moveCursor(this.accepted);
      if (this.lagging && !this.resyncAsked && !this.flushing) {
        this.resyncAsked = true;
        this.o.log.info({ sink: this.name, from_seq: this.accepted }, 'sink caught up: replaying its missed alerts');
        this.o.onResync();
      }
      return;
    }
    let last = 0;
    for (const r of batch) if (r.type === 'alert' && r.seq > last) last = r.seq;
    if (last > 0) this.moveCursor(last);
  }

  private moveCursor(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = seq;
    this.o.onCursor(seq);
  }

  /** Send until the sink takes the batch (or refuses it for good); false when given up at shutdown. */
  private async deliver(batch: ForwardRecord[]): Promise<boolean> {
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.sink.send(pending, this.abort.signal);
        this.stats.delivered += pending.length;
        this.stats.batches++;
        if (this.failing) {
          this.failing = false;
          this.o.log.info({ sink: this.name, retries: attempt }, 'sink delivers again');
        }
        return true;
      } catch (err) {
        if (this.abort.signal.aborted) return false;
        const e = err instanceof SinkError ? err : undefined;
        if (e?.failure === 'reject' || (e?.failure === 'split' && pending.length === 1)) {
          this.stats.rejected += pending.length;
          this.o.log.error({ sink: this.name, records: pending.length, err: e.message }, 'sink refused records for good: dropped');
          return true;
        }
        if (e?.failure === 'split') {
          const half = Math.ceil(pending.length / 2);
          return (await this.deliver(pending.slice(0, half))) && this.deliver(pending.slice(half));
        }
        if (e?.remaining) {
          const rest = e.remaining.map((i) => pending[i]!).filter((r) => r !== undefined);
          this.stats.delivered += pending.length - rest.length;
          pending = rest;
          if (pending.length === 0) return true;
        }
        const delay = backoffDelay(attempt, this.o.retry, this.o.random);
        this.stats.retries++;
        if (!this.failing || attempt % 10 === 0) {
          this.o.log.warn({ sink: this.name, attempt: attempt + 1, retry_in_ms: delay, err: (err as Error).message }, 'sink delivery failed');
        }
        this.failing = true;
        await sleep(delay, this.abort.signal);
        if (this.abort.signal.aborted) return false;
      }
    }
  }
}
