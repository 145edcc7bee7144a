// One Events.Subscribe stream: its own bounded queue between the daemon and the socket. Pushing never
// blocks and never grows past the bound; what does not fit is counted and told to the subscriber in
// a Gap, at the place in the stream where it was lost. Writing respects gRPC's backpressure: when
// write() returns false nothing more is written until 'drain'.
import type * as grpc from '@grpc/grpc-js';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { Alert, AlertChange } from '../alerts/alert.js';
import type { Subscription } from '../sensor/sensor.js';
import { BoundedQueue, mayTakeMore } from '../core/queue.js';
import { applyMask, toApiAlert, toApiChange, toApiEvent, type StreamEvent } from './convert.js';
import type { CompiledSubscription } from './filter.js';

/** A message shared by every subscriber it goes to: converted and encoded at most once. */
export class Shared {
  private api: unknown;
  private bytes: Buffer | undefined;
  constructor(
    readonly item: { type: 'event'; ev: StreamEvent } | { type: 'alert'; alert: Alert; change: AlertChange },
    private readonly encode: (msg: SubscribeResponse) => Buffer,
  ) {}
  get seq(): number {
    return this.item.type === 'alert' ? this.item.alert.seq : 0;
  }
  message(): SubscribeResponse {
    if (this.item.type === 'event') return { event: (this.api ??= toApiEvent(this.item.ev)) as SubscribeResponse['event'] };
    return {
      alert: (this.api ??= toApiAlert(this.item.alert)) as SubscribeResponse['alert'],
      alert_change: toApiChange(this.item.change) as SubscribeResponse['alert_change'],
    };
  }
  encoded(): Buffer {
    return (this.bytes ??= this.encode(this.message()));
  }
}

interface GapMark {
  /** Written before the item with a number greater than this. */
  after: number;
  lost: number;
  lostAlerts: number;
  reason: string;
}

export interface SubscriberInfo {
  id: number;
  peer: string;
  name: string;
  since: string;
  events: boolean;
  alerts: boolean;
  sent: number;
  lost: number;
  queued: number;
}

/**
 * The messages queued for all streams together. Each stream's queue is bounded, but 128 streams that
 * each asked for 65,536 would hold millions of events, and a flood fills every slow stream's queue at
 * once: the daemon's memory would follow the number of subscribers. The streams share the budget
 * (mayTakeMore), so one slow stream cannot take the others' room.
 */
export class QueueBudget {
  queued = 0;
  streams = 0;
  constructor(readonly limit: number) {}
  /** Whether a stream that holds `own` messages may queue one more. */
  mayQueue(own: number): boolean {
    return mayTakeMore(own, this.queued, this.limit, this.streams);
  }
}

export class StreamSubscriber {
  private readonly queue: BoundedQueue<{ n: number; m: Shared }>;
  private pushed = 0;
  private written = 0;
  private readonly gaps: GapMark[] = [];
  private paused = false;
  private replaying: boolean;
  /** Alerts at or below this seq were replayed from the store: their live copies are duplicates. */
  private replayedSeq = 0;
  private lastSeq = 0;
  private sensorDropsSeen = 0;
  sent = 0;
  lost = 0;
  closed = false;
  eventSub: Subscription | undefined;
  readonly since = new Date().toISOString();

  constructor(
    readonly id: number,
    readonly peer: string,
    private readonly call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>,
    readonly spec: CompiledSubscription,
    capacity: number,
    private readonly encode: (msg: SubscribeResponse) => Buffer,
    /** What its losses count under (daemon/api/drops.ts). */
    readonly name = '',
    /** Told of every loss, for the daemon's totals (Status, /metrics). */
    private readonly onLost?: (n: number) => void,
    /** Shared by every stream of the server (absent: this stream's own bound only). */
    private readonly budget?: QueueBudget,
  ) {
    this.queue = new BoundedQueue(capacity);
    if (budget) budget.streams++;
    this.replaying = spec.sinceSeq > 0 || spec.fromOldest;
    call.on('drain', () => {
      this.paused = false;
      this.flush();
    });
  }

  info(): SubscriberInfo {
    return {
      id: this.id,
      peer: this.peer,
      name: this.name,
      since: this.since,
      events: this.spec.events,
      alerts: this.spec.alerts,
      sent: this.sent,
      lost: this.lost,
      queued: this.queue.length,
    };
  }

  /** From the daemon (sensor drain, alert publish): never blocks. */
  push(m: Shared): void {
    if (this.closed) return;
    if ((this.budget && !this.budget.mayQueue(this.queue.length)) || !this.queue.push({ n: this.pushed + 1, m })) {
      this.noteLost(1, m.item.type === 'alert' ? 1 : 0, 'queue_full');
      return;
    }
    if (this.budget) this.budget.queued++;
    this.pushed++;
    if (!this.replaying) this.flush();
  }

  private noteLost(n: number, alerts: number, reason: string): void {
    this.lost += n;
    this.onLost?.(n);
    const last = this.gaps[this.gaps.length - 1];
    if (last && last.after === this.pushed && last.reason === reason) {
      last.lost += n;
      last.lostAlerts += alerts;
    } else this.gaps.push({ after: this.pushed, lost: n, lostAlerts: alerts, reason });
  }

  /** Writes one message now; false when the stream asks us to wait for 'drain'. */
  private write(msg: SubscribeResponse | Buffer): boolean {
    if (this.closed) return false;
    this.sent++;
    const ok = this.call.write(msg as SubscribeResponse);
    if (!ok) this.paused = true;
    return ok;
  }

  private payload(m: Shared): SubscribeResponse | Buffer {
    if (m.item.type === 'event')
      return this.spec.eventMask ? { event: applyMask(m.message().event, this.spec.eventMask) as SubscribeResponse['event'] } : m.encoded();
    if (this.spec.alertMask) {
      const msg = m.message();
      return { alert: applyMask(msg.alert, this.spec.alertMask) as SubscribeResponse['alert'], alert_change: msg.alert_change! };
    }
    return m.encoded();
  }

  private writeGap(g: GapMark): boolean {
    return this.write(this.encode({ gap: { lost: g.lost, reason: g.reason, lost_alerts: g.lostAlerts, last_seq: this.lastSeq } }));
  }

  private checkSensorDrops(): void {
    const d = this.eventSub?.dropped ?? 0;
    if (d > this.sensorDropsSeen) {
      this.noteLost(d - this.sensorDropsSeen, 0, 'sensor_queue_full');
      this.sensorDropsSeen = d;
    }
  }

  /** Writes what is queued, in order, with each gap where its loss happened, until backpressure. */
  flush(): void {
    if (this.replaying) return;
    this.checkSensorDrops();
    while (!this.paused && !this.closed) {
      const gap = this.gaps[0];
      if (gap && gap.after <= this.written) {
        this.gaps.shift();
        if (!this.writeGap(gap)) return;
        continue;
      }
      const next = this.queue.shift();
      if (!next) return;
      if (this.budget) this.budget.queued--;
      this.written = next.n;
      const seq = next.m.seq;
      if (seq > 0 && seq <= this.replayedSeq) continue;
      if (seq > 0) this.lastSeq = seq;
      if (!this.write(this.payload(next.m))) return;
    }
  }

  /** Resume: writes the store's versions after since_seq (filtered), then what queued meanwhile. */
  async replay(pages: (after: number) => Promise<Alert[]>, accept: (a: Alert) => boolean, toShared: (a: Alert) => Shared): Promise<void> {
    let after = this.spec.sinceSeq;
    for (;;) {
      const page = await pages(after);
      for (const a of page) {
        if (this.closed) return;
        after = a.seq;
        this.replayedSeq = a.seq;
        if (!accept(a)) continue;
        this.lastSeq = a.seq;
        // Replayed versions get the same field mask as live ones.
        if (!this.write(this.payload(toShared(a)))) await this.drained();
      }
      if (page.length === 0) break;
    }
    this.replaying = false;
    this.flush();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.call.off('close', done);
        this.call.off('cancelled', done);
        this.paused = false;
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('close', done);
      this.call.on('cancelled', done);
    });
  }

  /** The heartbeat that opens the stream, written before anything else (replayed or live). */
  hello(lastSeq: number, epoch: string): void {
    this.write(this.encode({ heartbeat: { time: new Date().toISOString(), last_seq: lastSeq, epoch } }));
  }

  heartbeat(lastSeq: number, epoch = ''): void {
    if (this.paused || this.replaying || this.closed) return;
    this.flush();
    if (!this.paused) this.write(this.encode({ heartbeat: { time: new Date().toISOString(), last_seq: lastSeq, epoch } }));
  }

  close(): void {
    if (!this.closed && this.budget) {
      this.budget.queued -= this.queue.length;
      this.budget.streams--;
    }
    this.closed = true;
    this.eventSub?.unsubscribe();
    this.eventSub = undefined;
  }
}
