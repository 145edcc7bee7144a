import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SinkError } from './core/errors.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import type { ForwardRecord } from './core/record.js';
import { alertItem, makeEvent, RecordingSink } from '../../test/forwarder-fakes.js';

const log = pino({ level: 'silent' });

function pipeline(sink: RecordingSink, over: Partial<PipelineOptions> = {}): { p: Pipeline; cursors: number[]; resyncs: number[] } {
  const cursors: number[] = [];
  const resyncs: number[] = [];
  const p = new Pipeline({
    name: 't',
    sink,
    filter: () => true,
    alerts: true,
    events: true,
    batch: { maxItems: 10, maxWaitMs: 5 },
    queueMax: 100,
    retry: { initialMs: 1, maxMs: 4 },
    cursor: 0,
    onCursor: (s) => cursors.push(s),
    onResync: () => resyncs.push(p.accepted),
    log,
    ...over,
  });
  return { p, cursors, resyncs };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('pipeline', () => {
  it('batches by count and by wait, in order, and moves the cursor after each ack', async () => {
    const sink = new RecordingSink();
    const { p, cursors } = pipeline(sink);
    for (let s = 1; s <= 25; s++) p.offer(alertItem(s));
    await until(() => sink.seqs.length === 25);
    assert.deepEqual(
      sink.batches.map((b) => b.length),
      [10, 10, 5],
    );
    assert.deepEqual(
      sink.seqs,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    assert.equal(cursors.at(-1), 25);
    assert.equal(p.acked, 25);
  });

  it('retries a failing sink with backoff until it takes the batch; the cursor waits for the ack', async () => {
    const sink = new RecordingSink();
    sink.down = true;
    const { p } = pipeline(sink);
    p.offer(alertItem(1));
    await until(() => sink.attempts >= 3);
    assert.equal(p.acked, 0);
    sink.down = false;
    await until(() => p.acked === 1);
    assert.ok(p.stats.retries >= 2);
    assert.deepEqual(sink.seqs, [1]);
  });

  it('moves the cursor over filtered alerts when nothing is pending, and skips replayed ones', async () => {
    const sink = new RecordingSink();
    const { p, cursors } = pipeline(sink, { filter: (r) => r.type !== 'alert' || r.seq % 2 === 0 });
    p.offer(alertItem(1));
    assert.deepEqual(cursors, [1]);
    p.offer(alertItem(2));
    p.offer(alertItem(3));
    await until(() => p.acked === 3);
    p.offer(alertItem(2));
    p.offer(alertItem(3));
    assert.equal(p.stats.duplicatesSkipped, 2);
    assert.deepEqual(sink.seqs, [2]);
    assert.equal(p.stats.filtered, 2);
  });

  it('events go through without moving the cursor, and only to sinks that want them', async () => {
    const sink = new RecordingSink();
    const { p } = pipeline(sink);
    p.offer({ type: 'event', event: makeEvent() });
    await until(() => sink.batches.length === 1);
    assert.equal(p.acked, 0);
    const none = new RecordingSink();
    const { p: alertsOnly } = pipeline(none, { events: false });
    alertsOnly.offer({ type: 'event', event: makeEvent() });
    assert.equal(alertsOnly.queued, 0);
  });

  it('drops records the sink refuses for good, splits on "too large", resends only what a partial failure left', async () => {
    const sink = new RecordingSink();
    const { p } = pipeline(sink);
    sink.nextError = new SinkError('reject', 'bad data');
    p.offer(alertItem(1));
    await until(() => p.acked === 1);
    assert.equal(p.stats.rejected, 1);
    assert.deepEqual(sink.seqs, []);

    const big = new RecordingSink();
    const sends: number[] = [];
    big.send = async (batch: readonly ForwardRecord[]) => {
      sends.push(batch.length);
      if (batch.length > 2) throw new SinkError('split', 'too large');
      big.batches.push([...batch]);
    };
    // The eighth offer fills the batch: with a short maxWaitMs a clock tick during the first offer
    // sent a batch of one (seen under CPU load), so the wait is long and the size decides.
    const { p: q } = pipeline(big, { batch: { maxItems: 8, maxWaitMs: 60_000 } });
    for (let s = 1; s <= 8; s++) q.offer(alertItem(s));
    await until(() => q.acked === 8);
    assert.deepEqual(big.seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(sends, [8, 4, 2, 2, 4, 2, 2]);

    const partial = new RecordingSink();
    let first = true;
    partial.send = async (batch: readonly ForwardRecord[]) => {
      if (first) {
        first = false;
        partial.batches.push([batch[0]!, batch[2]!]);
        throw new SinkError('retry', 'two of four', { remaining: [1, 3] });
      }
      partial.batches.push([...batch]);
    };
    const { p: r } = pipeline(partial, { batch: { maxItems: 4, maxWaitMs: 50 } });
    for (let s = 1; s <= 4; s++) r.offer(alertItem(s));
    await until(() => r.acked === 4);
    assert.deepEqual(partial.seqs, [1, 3, 2, 4]);
    assert.equal(r.stats.delivered, 4);
  });

  it('a full queue stops taking alerts (deferred, not lost) and asks for a replay once drained', async () => {
    const sink = new RecordingSink();
    sink.down = true;
    // The batch wait must outlast the offers below: with a 1 ms wait a loaded machine let the
    // batcher take the first record mid-loop, and one fewer was deferred.
    const { p, resyncs } = pipeline(sink, { queueMax: 5, batch: { maxItems: 5, maxWaitMs: 50 } });
    for (let s = 1; s <= 12; s++) p.offer(alertItem(s));
    assert.equal(p.lagging, true);
    assert.equal(p.stats.deferred, 7);
    assert.equal(p.accepted, 5);
    sink.down = false;
    await until(() => resyncs.length === 1);
    assert.deepEqual(resyncs, [5]);
    assert.equal(p.acked, 5);
    p.resumed();
    for (let s = 6; s <= 10; s++) p.offer(alertItem(s));
    await until(() => p.acked === 10);
    for (let s = 11; s <= 12; s++) p.offer(alertItem(s));
    await until(() => p.acked === 12);
    assert.deepEqual(
      sink.seqs,
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it('stop delivers what is queued without waiting for the batch timer', async () => {
    const sink = new RecordingSink();
    const { p } = pipeline(sink, { batch: { maxItems: 100, maxWaitMs: 60_000 } });
    for (let s = 1; s <= 3; s++) p.offer(alertItem(s));
    assert.equal(await p.stop(1000), true);
    assert.deepEqual(sink.seqs, [1, 2, 3]);
    assert.equal(p.acked, 3);
  });

  it('stop gives up on a sink that stays down; the cursor stays behind what was not delivered', async () => {
    const sink = new RecordingSink();
    sink.down = true;
    const { p } = pipeline(sink);
    p.offer(alertItem(1));
    const t0 = Date.now();
    assert.equal(await p.stop(50), false);
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(p.acked, 0);
  });
});
