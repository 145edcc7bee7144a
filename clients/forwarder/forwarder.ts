// The forwarder: one subscription to the daemon's stream, fanned out to one pipeline per sink.
// On start (and on every reconnect) it subscribes with since_seq = the lowest cursor among the sinks,
// so the daemon replays from its store what some sink has not delivered; each pipeline skips what it
// already has. Delivery is at least once: after a crash a sink may see a batch again, never a hole.
import type { Logger } from 'pino';
import type { Filter } from '../../proto/gen/vigil/v1/Filter.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import type { Pipeline } from './pipeline.js';
import type { StreamItem } from './record.js';
import type { CursorStore } from './state.js';

export interface SubscribeOptions {
  /** Alerts with a seq above this are replayed first; 0: live only. */
  sinceSeq: number;
  includeAlerts: boolean;
  includeEvents: boolean;
  allow: Filter[];
  deny: Filter[];
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
}

export interface ForwarderStats {
  subscriptions: number;
  gaps: number;
  lostAlerts: number;
  lostEvents: number;
  lastHeartbeat: string | undefined;
}

export class Forwarder {
  readonly stats: ForwarderStats = { subscriptions: 0, gaps: 0, lostAlerts: 0, lostEvents: 0, lastHeartbeat: undefined };
  private readonly o: ForwarderOptions;
  private readonly stopping = new AbortController();
  private current: AbortController | undefined;
  private resyncWanted = false;
  private running: Promise<void> | undefined;

  constructor(o: ForwarderOptions) {
    this.o = o;
  }

  /** The since_seq of the next subscription: the lowest position among the sinks that have one. */
  resumeSeq(): number {
    const positions = this.o.pipelines.map((p) => p.accepted).filter((s) => s > 0);
    return positions.length > 0 ? Math.min(...positions) : 0;
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
      const sinceSeq = this.resumeSeq();
      const ac = new AbortController();
      this.current = ac;
      this.resyncWanted = false;
      for (const p of this.o.pipelines) p.resumed();
      this.stats.subscriptions++;
      this.o.log.info({ since_seq: sinceSeq }, 'subscribing');
      try {
        const stream = this.o.source.subscribe(
          { sinceSeq, includeAlerts, includeEvents, allow: this.o.allow ?? [], deny: [] }, ac.signal);
        for await (const item of stream) {
          attempt = 0;
          this.dispatch(item);
          if (this.resyncWanted || this.stopping.signal.aborted) break;
        }
        if (!this.resyncWanted && !this.stopping.signal.aborted) this.o.log.warn('the daemon ended the stream');
      } catch (err) {
        if (!this.resyncWanted && !this.stopping.signal.aborted) {
          this.o.log.warn({ err: (err as Error).message, attempt: attempt + 1 }, 'stream failed');
        }
      } finally {
        ac.abort();
        this.current = undefined;
      }
      if (this.resyncWanted || this.stopping.signal.aborted) continue;
      await sleep(backoffDelay(attempt++, reconnect), this.stopping.signal);
    }
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
        this.o.log.warn({ lost: item.lost, lost_alerts: item.lostAlerts, reason: item.reason, last_seq: item.lastSeq },
          'the daemon dropped messages for this stream');
        if (item.lostAlerts > 0) this.requestResync();
        break;
      case 'heartbeat':
        this.stats.lastHeartbeat = new Date().toISOString();
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
