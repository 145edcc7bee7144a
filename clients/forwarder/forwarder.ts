// The forwarder: one subscription to the daemon's stream, fanned out to one pipeline per sink.
// On start (and on every reconnect) it subscribes with since_seq = the lowest cursor among the sinks
// (and their epoch), so the daemon replays from its store what some sink has not delivered; each
// pipeline skips what it already has. Delivery is at least once: after a crash a sink may see a batch
// again, never a hole.
//
// First run: a sink with no cursor gets one from the heartbeat that opens every stream (the daemon's
// epoch and the last seq published before the stream started), written to the state file before any
// delivery is tried, so a forwarder killed with alerts queued for it replays them on restart.
//
// A new history: when the daemon refuses the cursors (another epoch: its store lost history or was
// replaced; or a seq beyond its last one), the forwarder logs it as an error and, by
// `on_epoch_change`, moves every sink's cursor to the oldest stored alert (`oldest`, the default: at
// least once) or to the daemon's last seq (`now`), writes the cursors, and subscribes again.
import type { Logger } from 'pino';
import type { Filter } from '../../proto/gen/vigil/v1/Filter.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { CursorRejectedError } from './core/errors.js';
import type { Pipeline } from './pipeline.js';
import type { StreamItem } from './core/record.js';
import type { CursorStore } from './state.js';

export interface SubscribeOptions {
  /** Alerts with a seq above this are replayed first; 0: live only. */
  sinceSeq: number;
  includeAlerts: boolean;
  includeEvents: boolean;
  allow: Filter[];
  deny: Filter[];
  /** The epoch the cursor belongs to: the daemon refuses a cursor of another one. */
  epoch?: string;
  /** Replay every stored alert (a cursor at the very start of an epoch); sinceSeq is then 0. */
  fromOldest?: boolean;
}

/** Where alerts come from: the daemon's Events.Subscribe (grpc.ts), or a fake in tests. */
export interface AlertSource {
  /** A stream that ends (or throws) when the connection does; `signal` cancels it. */
  subscribe(o: SubscribeOptions, signal: AbortSignal): AsyncIterable<StreamItem>;
  close(): void;
}

export interface ForwarderOptions {
  source: AlertSource;
  pipelines: Pipeline[];
  store: CursorStore;
  log: Logger;
  /** The server-side filter (the union of the sinks' filters; empty: everything). */
  allow?: Filter[];
  /** Delays between reconnects to the daemon. */
  reconnect?: BackoffOptions;
  /** After a new history of the daemon: replay from its oldest stored alert (default) or from now. */
  onEpochChange?: 'oldest' | 'now';
}

export interface ForwarderStats {
  subscriptions: number;
  gaps: number;
  lostAlerts: number;
  lostEvents: number;
  lastHeartbeat: string | undefined;
  /** The daemon's epoch (from its heartbeats), and how often the cursors were moved to a new history. */
  epoch: string;
  epochChanges: number;
}

export class Forwarder {
  readonly stats: ForwarderStats = { subscriptions: 0, gaps: 0, lostAlerts: 0, lostEvents: 0, lastHeartbeat: undefined, epoch: '', epochChanges: 0 };
  private readonly o: ForwarderOptions;
  private readonly stopping = new AbortController();
  private current: AbortController | undefined;
  private resyncWanted = false;
  private running: Promise<void> | undefined;

  constructor(o: ForwarderOptions) {
    this.o = o;
  }

  /** Where the next subscription starts: the lowest position among the sinks that have a cursor. */
  resume(): { sinceSeq: number; fromOldest: boolean; epoch?: string } {
    const known = this.o.pipelines.filter((p) => this.o.store.has(p.name) || p.accepted > 0);
    if (known.length === 0) return { sinceSeq: 0, fromOldest: false };
    const min = Math.min(...known.map((p) => p.accepted));
    const epochs = new Set(known.map((p) => this.o.store.epoch(p.name)).filter((e) => e !== ''));
    const epoch = epochs.size === 1 ? [...epochs][0]! : undefined;
    return { sinceSeq: min, fromOldest: min === 0, ...(epoch ? { epoch } : {}) };
  }

  /** The since_seq of the next subscription. */
  resumeSeq(): number {
    return this.resume().sinceSeq;
  }

  /** Replay from the lowest cursor (a pipeline drained after dropping, or the daemon reported a gap). */
  requestResync(): void {
    this.resyncWanted = true;
    this.current?.abort();
  }

  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    const reconnect = this.o.reconnect ?? { initialMs: 250, maxMs: 10_000 };
    const includeEvents = this.o.pipelines.some((p) => p.wantsEvents);
    const includeAlerts = this.o.pipelines.some((p) => p.wantsAlerts);
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      const r = this.resume();
      const ac = new AbortController();
      this.current = ac;
      this.resyncWanted = false;
      let again = false;
      for (const p of this.o.pipelines) p.resumed();
      this.stats.subscriptions++;
      this.o.log.info({ since_seq: r.sinceSeq, from_oldest: r.fromOldest, epoch: r.epoch }, 'subscribing');
      try {
        const stream = this.o.source.subscribe(
          {
            sinceSeq: r.sinceSeq,
            includeAlerts,
            includeEvents,
            allow: this.o.allow ?? [],
            deny: [],
            ...(r.epoch ? { epoch: r.epoch } : {}),
            ...(r.fromOldest ? { fromOldest: true } : {}),
          },
          ac.signal,
        );
        let first = true;
        for await (const item of stream) {
          attempt = 0;
          if (first && item.type === 'heartbeat') {
            first = false;
            await this.hello(item);
            if (this.resyncWanted || this.stopping.signal.aborted) break;
            continue;
          }
          first = false;
          this.dispatch(item);
          if (this.resyncWanted || this.stopping.signal.aborted) break;
        }
        if (!this.resyncWanted && !this.stopping.signal.aborted) this.o.log.warn('the daemon ended the stream');
      } catch (err) {
        if (err instanceof CursorRejectedError && !this.stopping.signal.aborted) {
          try {
            await this.newHistory(err, r);
            again = true;
          } catch (e) {
            this.o.log.error({ err: (e as Error).message }, 'the new cursors could not be written; retrying');
          }
        } else if (!this.resyncWanted && !this.stopping.signal.aborted) {
          this.o.log.warn({ err: (err as Error).message, attempt: attempt + 1 }, 'stream failed');
        }
      } finally {
        ac.abort();
        this.current = undefined;
      }
      if (again || this.resyncWanted || this.stopping.signal.aborted) continue;
      await sleep(backoffDelay(attempt++, reconnect), this.stopping.signal);
    }
  }

  /**
   * The heartbeat that opens a stream: a sink without a cursor gets one at the last seq published (and
   * it is written before anything is delivered); cursors without an epoch (an old state file) take it.
   */
  private async hello(h: Extract<StreamItem, { type: 'heartbeat' }>): Promise<void> {
    this.stats.lastHeartbeat = new Date().toISOString();
    if (h.epoch === '') return; // an older daemon: no epochs, no first cursor from it
    this.stats.epoch = h.epoch;
    let changed = false;
    for (const p of this.o.pipelines) {
      const epoch = this.o.store.epoch(p.name);
      if (!this.o.store.has(p.name)) {
        p.reset(h.lastSeq);
        this.o.store.reset(p.name, h.lastSeq, h.epoch);
        changed = true;
        this.o.log.info(
          { sink: p.name, seq: h.lastSeq, epoch: h.epoch },
          'first run of this sink: its cursor starts at the last seq the daemon published (written before any delivery)',
        );
      } else if (epoch === '') {
        this.o.store.reset(p.name, this.o.store.get(p.name), h.epoch);
        changed = true;
      } else if (epoch !== h.epoch) {
        // Sinks of different epochs (the subscription named none): this one follows the policy alone.
        const seq = (this.o.onEpochChange ?? 'oldest') === 'oldest' ? 0 : h.lastSeq;
        this.o.log.error(
          { sink: p.name, cursor_epoch: epoch, daemon_epoch: h.epoch, seq },
          `THE DAEMON'S ALERT HISTORY CHANGED for sink ${p.name} (epoch ${epoch} -> ${h.epoch}): its cursor is moved to ${seq === 0 ? 'the oldest stored alert' : 'now'}`,
        );
        p.reset(seq);
        this.o.store.reset(p.name, seq, h.epoch);
        changed = true;
        this.stats.epochChanges++;
        if (seq === 0) this.requestResync();
      }
    }
    if (changed) await this.o.store.flush();
  }

  /** The daemon refused the cursors: log it loudly, move every cursor by the policy, write them. */
  private async newHistory(err: CursorRejectedError, r: { sinceSeq: number; epoch?: string }): Promise<void> {
    const policy = this.o.onEpochChange ?? 'oldest';
    const seq = policy === 'oldest' ? 0 : err.lastSeq;
    this.stats.epochChanges++;
    this.stats.epoch = err.epoch;
    const what =
      err.reason === 'epoch'
        ? `THE DAEMON'S ALERT HISTORY CHANGED (epoch ${r.epoch ?? '?'} -> ${err.epoch}): the sinks' cursors name alerts of another history`
        : `THE SINKS' CURSOR (seq ${r.sinceSeq}) IS BEYOND THE DAEMON'S LAST SEQ ${err.lastSeq} (epoch ${err.epoch}): its history was reset or replaced`;
    this.o.log.error(
      {
        reason: err.reason,
        cursor_epoch: r.epoch ?? '',
        since_seq: r.sinceSeq,
        daemon_epoch: err.epoch,
        first_seq: err.firstSeq,
        last_seq: err.lastSeq,
        on_epoch_change: policy,
      },
      `${what}; on_epoch_change: ${policy}: ${policy === 'oldest' ? `replaying from the oldest stored alert (seq ${err.firstSeq})` : `continuing after seq ${err.lastSeq}`}`,
    );
    for (const p of this.o.pipelines) {
      p.reset(seq);
      this.o.store.reset(p.name, seq, err.epoch);
    }
    await this.o.store.flush();
  }

  private dispatch(item: StreamItem): void {
    switch (item.type) {
      case 'alert':
      case 'event':
        for (const p of this.o.pipelines) p.offer(item);
        break;
      case 'gap':
        this.stats.gaps++;
        this.stats.lostAlerts += item.lostAlerts;
        this.stats.lostEvents += item.lost - item.lostAlerts;
        this.o.log.warn(
          { lost: item.lost, lost_alerts: item.lostAlerts, reason: item.reason, last_seq: item.lastSeq },
          'the daemon dropped messages for this stream',
        );
        if (item.lostAlerts > 0) this.requestResync();
        break;
      case 'heartbeat':
        this.stats.lastHeartbeat = new Date().toISOString();
        if (item.epoch) this.stats.epoch = item.epoch;
        break;
    }
  }

  /**
   * Stop: end the subscription, let every pipeline deliver what it holds (each gives up after
   * `deadlineMs`), write the cursors, close the sinks and the source.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping.abort();
    this.current?.abort();
    await this.running;
    const flushed = await Promise.all(this.o.pipelines.map((p) => p.stop(deadlineMs)));
    flushed.forEach((ok, i) => {
      const p = this.o.pipelines[i]!;
      if (!ok) this.o.log.warn({ sink: p.name, queued: p.queued, cursor: p.acked }, 'sink not flushed in time: resent on next start');
    });
    try {
      await this.o.store.flush();
    } finally {
      await Promise.all(this.o.pipelines.map((p) => p.sink.close().catch(() => undefined)));
      this.o.source.close();
    }
  }
}
