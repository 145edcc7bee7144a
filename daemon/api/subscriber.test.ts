// The streams' shared queue budget: a stream queues up to its own bound, past the budget only up to
// its share, and what it takes is given back as it writes and when it closes. Fake calls that never
// drain stand in for stalled clients; test/integration/api.test.ts has a stalled subscriber on a real
// socket.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';

import type { Alert } from '../alerts/alert.js';
import type { CompiledSubscription } from './filter.js';
import { QueueBudget, Shared, StreamSubscriber } from './subscriber.js';

/** A call whose client reads nothing: every write after the first `accept` says "wait for drain". */
class StalledCall extends EventEmitter {
  written = 0;
  constructor(private accept = 0) {
    super();
  }
  write(): boolean {
    this.written++;
    return this.written <= this.accept;
  }
  /** The client read everything: the next `n` writes go through. */
  drain(n: number): void {
    this.accept = this.written + n;
    this.emit('drain');
  }
}

const SPEC: CompiledSubscription = { matches: () => true, clientName: '', events: false, alerts: true, sinceSeq: 0, fromOldest: false };
const encode = (): Buffer => Buffer.alloc(1);
let seq = 0;
/** An alert whose bytes are given: what is queued and written matters here, not the conversion. */
class Encoded extends Shared {
  override encoded(): Buffer {
    return Buffer.alloc(1);
  }
}
const alert = (): Shared => new Encoded({ type: 'alert', alert: { seq: ++seq } as Alert, change: 'opened' as never }, encode);

function stream(budget: QueueBudget, capacity = 1000, call = new StalledCall()): { sub: StreamSubscriber; call: StalledCall } {
  return { sub: new StreamSubscriber(0, 'test', call as never, SPEC, capacity, encode, 'test', undefined, budget), call };
}

test('queue budget: a stream may always queue up to its share, past it only while the total is under the budget', () => {
  const b = new QueueBudget(8);
  b.streams = 2;
  assert.equal(b.mayQueue(3), true, 'under its share (4)');
  b.queued = 8;
  assert.equal(b.mayQueue(3), true, 'under its share, the budget spent');
  assert.equal(b.mayQueue(4), false, 'at its share, the budget spent');
  b.queued = 7;
  assert.equal(b.mayQueue(6), true, 'past its share, the budget not spent');
});

test('stalled streams: the first takes the free budget, the second its share, the rest is lost and counted; writing and closing give it back', () => {
  const budget = new QueueBudget(8);
  const a = stream(budget);
  const c = stream(budget);
  // Each stream writes its first message (the transport takes it), then queues.
  for (let i = 0; i < 20; i++) a.sub.push(alert());
  assert.equal(a.sub.info().queued, 8, 'a takes the whole free budget');
  assert.equal(a.sub.lost, 20 - 1 - 8);
  for (let i = 0; i < 20; i++) c.sub.push(alert());
  assert.equal(c.sub.info().queued, 4, 'c still gets its share (8 over 2 streams)');
  assert.equal(c.sub.lost, 20 - 1 - 4);
  assert.equal(budget.queued, 12, 'never more than the budget and a share');
  // a's client reads: its queue is written (with the gap), and gives its room back.
  a.call.drain(100);
  assert.equal(a.sub.info().queued, 0);
  assert.equal(budget.queued, 4);
  // c may now take what is free again.
  for (let i = 0; i < 10; i++) c.sub.push(alert());
  assert.equal(c.sub.info().queued, 8);
  // A stream that closes gives back what it held and its share.
  c.sub.close();
  c.sub.close();
  assert.deepEqual([budget.queued, budget.streams], [0, 1]);
});

test("a stream's own bound still holds under the budget", () => {
  const budget = new QueueBudget(1 << 20);
  const a = stream(budget, 16);
  for (let i = 0; i < 100; i++) a.sub.push(alert());
  assert.equal(a.sub.info().queued, 16);
  assert.equal(a.sub.lost, 100 - 1 - 16);
  assert.equal(budget.queued, 16);
});
