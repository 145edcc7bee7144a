// Test helpers for the forwarder: alerts and events shaped as the generated proto types, a fake
// AlertSource (an alert store with since_seq replay, live pushes, gaps and failures), a recording sink.
import type { Alert, Event, ForwardRecord, StreamItem } from '../clients/forwarder/core/record.js';
import { CursorRejectedError } from '../clients/forwarder/core/errors.js';
import type { AlertSource, SubscribeOptions } from '../clients/forwarder/forwarder.js';
import type { Sink } from '../clients/forwarder/core/sink.js';

export function makeEvent(over: Partial<Event> = {}): Event {
  return {
    kind: 'EVENT_KIND_EXEC',
    time: '2026-11-28T12:00:00.123456789Z',
    ktime_ns: '1',
    pid: 42,
    tid: 42,
    ppid: 1,
    vpid: 1,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'cat',
    cgroup_id: '7',
    ns: null,
    proc: { exe: '/bin/cat', args: ['cat', '/etc/shadow'], ancestors: [] } as unknown as Event['proc'],
    container: { id: 'c0ffee123456', name: 'web-1', runtime: 'runc', image: 'busybox' },
    ...over,
  } as Event;
}

export function makeAlert(seq: number, over: Partial<Alert> = {}): Alert {
  return {
    id: `01J${String(seq).padStart(8, '0')}`,
    seq: String(seq),
    time: '2026-11-28T12:00:00.123456789Z',
    last_seen: '2026-11-28T12:00:00.123456789Z',
    rule: 'shadow-read',
    severity: 'SEVERITY_WARNING',
    tags: ['T1003'],
    message: `cat read /etc/shadow in web-1 (#${seq})`,
    container: { id: 'c0ffee123456', name: 'web-1', runtime: 'runc', image: 'busybox' },
    lineage: [{ pid: 42, exe: '/bin/cat', args: ['cat', '/etc/shadow'], comm: 'cat', uid: 0 }],
    events: [makeEvent()],
    metric: null,
    count: '1',
    state: 'ALERT_STATE_OPEN',
    history: [],
    actions: [],
    suppressed: '0',
    unpersisted: false,
    ...over,
  } as Alert;
}

export function alertItem(seq: number, over: Partial<Alert> = {}): Extract<ForwardRecord, { type: 'alert' }> {
  return { type: 'alert', seq, alert: makeAlert(seq, over), change: 'ALERT_CHANGE_OPENED' };
}

/**
 * An in-memory daemon: alerts are stored; every stream opens with a heartbeat (epoch, last seq), then
 * replays seq > since_seq (or everything for fromOldest), then follows live ones. A cursor of another
 * epoch or beyond the last seq is refused as the daemon does (CursorRejectedError).
 */
export class FakeSource implements AlertSource {
  readonly stored: Alert[] = [];
  readonly subscriptions: SubscribeOptions[] = [];
  private readonly listeners = new Set<(item: StreamItem | Error) => void>();
  closed = false;
  epoch = '0123456789abcdef';
  /** The last seq handed out (seqs are never reused, even by newHistory()). */
  lastSeq = 0;

  /** Store and publish an alert with the next seq. */
  raise(over: Partial<Alert> = {}): number {
    const seq = Math.max(this.lastSeq, this.stored.length) + 1;
    this.lastSeq = seq;
    const alert = makeAlert(seq, over);
    this.stored.push(alert);
    this.publish({ type: 'alert', seq, alert, change: 'ALERT_CHANGE_OPENED' });
    return seq;
  }

  /** The daemon lost history: only the first `keep` stored alerts remain, under a new epoch. */
  newHistory(keep: number, epoch: string): void {
    this.stored.splice(keep);
    this.epoch = epoch;
  }

  publish(item: StreamItem): void {
    for (const l of this.listeners) l(item);
  }

  /** Break every open stream with an error (the daemon went away). */
  fail(err = new Error('connection reset')): void {
    for (const l of this.listeners) l(err);
  }

  async *subscribe(o: SubscribeOptions, signal: AbortSignal): AsyncIterable<StreamItem> {
    this.subscriptions.push(o);
    const last = Math.max(this.lastSeq, this.stored.length);
    const range = { epoch: this.epoch, firstSeq: Number(this.stored[0]?.seq ?? 0), lastSeq: last };
    if (o.epoch && o.epoch !== this.epoch) throw new CursorRejectedError('epoch', `epoch ${o.epoch} is not ${this.epoch}`, range);
    if (o.sinceSeq > last) throw new CursorRejectedError('range', `since_seq ${o.sinceSeq} is beyond ${last}`, range);
    const pending: Array<StreamItem | Error> = [{ type: 'heartbeat', lastSeq: last, epoch: this.epoch }];
    let wake: (() => void) | undefined;
    const listener = (item: StreamItem | Error): void => {
      pending.push(item);
      wake?.();
    };
    // Replay and live hand-over without holes: register first, then replay what is stored.
    this.listeners.add(listener);
    const replay: StreamItem[] =
      o.sinceSeq > 0 || o.fromOldest
        ? this.stored
            .filter((a) => Number(a.seq) > o.sinceSeq)
            .map((alert) => ({ type: 'alert', seq: Number(alert.seq), alert, change: 'ALERT_CHANGE_UPDATED' }))
        : [];
    const head = last;
    pending.splice(1, pending.length - 1, ...replay, ...pending.slice(1).filter((p) => p instanceof Error || p.type !== 'alert' || p.seq > head));
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const next = pending.shift();
        if (next === undefined) {
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
          continue;
        }
        if (next instanceof Error) throw next;
        yield next;
      }
    } finally {
      this.listeners.delete(listener);
      signal.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.closed = true;
  }
}

/** A sink that records what it was sent; `down` makes it fail, `delayMs` slows it. */
export class RecordingSink implements Sink {
  readonly type = 'recording';
  readonly batches: ForwardRecord[][] = [];
  down = false;
  delayMs = 0;
  attempts = 0;
  /** Throw this on the next send (once). */
  nextError: Error | undefined;

  get seqs(): number[] {
    return this.batches.flat().flatMap((r) => (r.type === 'alert' ? [r.seq] : []));
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    this.attempts++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (signal.aborted) throw new Error('aborted');
    if (this.nextError) {
      const e = this.nextError;
      this.nextError = undefined;
      throw e;
    }
    if (this.down) throw new Error('sink down');
    this.batches.push([...batch]);
  }

  async close(): Promise<void> {}
}
