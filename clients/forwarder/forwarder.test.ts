import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { assemble } from './assemble.js';
import { parseConfig } from './config.js';
import { readState } from './state.js';
import { FakeSource, RecordingSink } from '../../test/forwarder-fakes.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vigil-fwd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

let n = 0;
function setup(sinkYaml = '', names = ['a', 'b']) {
  const state = join(dir, `state-${n++}.json`);
  const cfg = parseConfig(
    `state_file: ${state}\nsinks:\n${names
      .map(
        (name) => `  - {name: ${name}, type: webhook, url: "http://x", batch: {max_items: 10, max_wait_ms: 1}, retry: {initial_ms: 1, max_ms: 5}${sinkYaml}}`,
      )
      .join('\n')}`,
    'test.yaml',
  );
  const sinks = new Map<string, RecordingSink>();
  const source = new FakeSource();
  const make = () =>
    assemble(cfg, source, log, '0', (s) => {
      const sink = sinks.get(s.name) ?? new RecordingSink();
      sinks.set(s.name, sink);
      return sink;
    });
  return { cfg, state, source, sinks, make };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const unique = (xs: number[]): number[] => [...new Set(xs)].sort((x, y) => x - y);

describe('forwarder', () => {
  it('subscribes live when no sink has a cursor, delivers to every sink and persists the cursors', async () => {
    const { source, sinks, make, state } = setup();
    const { forwarder } = make();
    void forwarder.start();
    await until(() => source.subscriptions.length === 1);
    assert.equal(source.subscriptions[0]!.sinceSeq, 0);
    assert.equal(source.subscriptions[0]!.includeEvents, false);
    for (let i = 0; i < 30; i++) source.raise();
    await until(() => sinks.get('a')!.seqs.length === 30 && sinks.get('b')!.seqs.length === 30);
    await forwarder.stop(1000);
    assert.deepEqual(Object.fromEntries(readState(state)), { a: { seq: 30, epoch: source.epoch }, b: { seq: 30, epoch: source.epoch } });
    assert.equal(source.closed, true);
  });

  it('resumes from the lowest cursor; each sink skips what it already delivered', async () => {
    const { source, sinks, make } = setup();
    const first = make();
    void first.forwarder.start();
    await until(() => source.subscriptions.length === 1);
    for (let i = 0; i < 10; i++) source.raise();
    await until(() => sinks.get('a')!.seqs.length === 10 && sinks.get('b')!.seqs.length === 10);
    sinks.get('b')!.down = true;
    for (let i = 0; i < 5; i++) source.raise();
    await until(() => sinks.get('a')!.seqs.length === 15);
    await first.forwarder.stop(30);
    assert.equal(first.store.get('a'), 15);
    assert.equal(first.store.get('b'), 10);

    for (let i = 0; i < 5; i++) source.raise();
    sinks.get('b')!.down = false;
    const second = make();
    void second.forwarder.start();
    await until(() => source.subscriptions.length === 2);
    assert.equal(source.subscriptions[1]!.sinceSeq, 10);
    await until(() => second.store.get('a') === 20 && second.store.get('b') === 20);
    await second.forwarder.stop(1000);
    assert.deepEqual(sinks.get('a')!.seqs, range(1, 20));
    assert.deepEqual(unique(sinks.get('b')!.seqs), range(1, 20));
  });

  it('a sink that is down holds back no other, and gets everything once it is back', async () => {
    const { source, sinks, make } = setup(', queue: {max_items: 5}');
    const { forwarder, pipelines } = make();
    sinks.get('b')!.down = true;
    void forwarder.start();
    await until(() => source.subscriptions.length === 1);
    for (let i = 0; i < 200; i++) source.raise();
    await until(() => sinks.get('a')!.seqs.length === 200);
    assert.ok(pipelines[1]!.lagging);
    assert.ok(pipelines[1]!.stats.deferred > 0);
    sinks.get('b')!.down = false;
    await until(() => pipelines[1]!.acked === 200);
    assert.deepEqual(unique(sinks.get('b')!.seqs), range(1, 200));
    assert.deepEqual(sinks.get('a')!.seqs, range(1, 200), 'the healthy sink saw no duplicates from the replays');
    assert.ok(source.subscriptions.length > 1);
    await forwarder.stop(1000);
  });

  it('reconnects after the stream fails and after a gap with lost alerts, without holes', async () => {
    const { source, sinks, make } = setup('', ['a']);
    const { forwarder } = make();
    void forwarder.start();
    await until(() => source.subscriptions.length === 1);
    for (let i = 0; i < 5; i++) source.raise();
    await until(() => sinks.get('a')!.seqs.length === 5);
    source.fail();
    for (let i = 0; i < 5; i++) source.stored.push({ ...source.stored[0]!, seq: String(source.stored.length + 1) });
    await until(() => source.subscriptions.length === 2);
    assert.equal(source.subscriptions[1]!.sinceSeq, 5);
    await until(() => sinks.get('a')!.seqs.length === 10);
    // The daemon dropped alerts 11..12 for this stream: a gap, then a replay from the cursor.
    source.stored.push({ ...source.stored[0]!, seq: '11' }, { ...source.stored[0]!, seq: '12' });
    source.publish({ type: 'gap', lost: 2, lostAlerts: 2, lastSeq: 10, reason: 'queue_full' });
    await until(() => source.subscriptions.length === 3);
    await until(() => sinks.get('a')!.seqs.length === 12);
    assert.deepEqual(sinks.get('a')!.seqs, range(1, 12));
    assert.equal(forwarder.stats.lostAlerts, 2);
    await forwarder.stop(1000);
  });

  it('a first-run sink has its cursor (with the epoch) written before any delivery: a kill loses nothing', async () => {
    const { source, sinks, make, state } = setup('', ['a']);
    for (let i = 0; i < 4; i++) source.raise();
    const first = make();
    sinks.get('a')!.down = true;
    void first.forwarder.start();
    await until(() => source.subscriptions.length === 1);
    await until(() => readState(state).get('a')?.seq === 4);
    assert.equal(readState(state).get('a')!.epoch, source.epoch);
    for (let i = 0; i < 6; i++) source.raise();
    await until(() => sinks.get('a')!.attempts > 0);
    // As after a kill -9: nothing more is written; a new forwarder starts from the state file.
    const cursor = readState(state).get('a')!;
    assert.equal(cursor.seq, 4, 'no alert of this run was delivered');
    sinks.get('a')!.down = false;
    const second = make();
    void second.forwarder.start();
    await until(() => source.subscriptions.length >= 2);
    assert.deepEqual([source.subscriptions.at(-1)!.sinceSeq, source.subscriptions.at(-1)!.epoch], [4, source.epoch]);
    await until(() => second.store.get('a') === 10);
    assert.deepEqual(unique(sinks.get('a')!.seqs), range(5, 10));
    await second.forwarder.stop(1000);
    await first.forwarder.stop(10);
  });

  for (const policy of ['oldest', 'now'] as const) {
    it(`a new epoch of the daemon is noticed and logged; on_epoch_change: ${policy}`, async () => {
      const lines: string[] = [];
      const loud = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const state = join(dir, `state-${n++}.json`);
      const cfg = parseConfig(
        `state_file: ${state}\non_epoch_change: ${policy}\nsinks:\n  - {name: a, type: webhook, url: "http://x", batch: {max_items: 10, max_wait_ms: 1}, retry: {initial_ms: 1, max_ms: 5}}`,
        'test.yaml',
      );
      const sink = new RecordingSink();
      const source = new FakeSource();
      const make = () => assemble(cfg, source, loud, '0', () => sink);
      const first = make();
      void first.forwarder.start();
      await until(() => source.subscriptions.length === 1);
      for (let i = 0; i < 10; i++) source.raise();
      await until(() => first.store.get('a') === 10);
      await first.forwarder.stop(1000);
      // The daemon lost alerts 6..10 (a torn log): a new epoch; seqs go on above 10.
      source.newHistory(5, 'fedcba9876543210');
      for (let i = 0; i < 3; i++) source.raise();
      const second = make();
      void second.forwarder.start();
      await until(() => source.subscriptions.length === 3);
      assert.equal(source.subscriptions[1]!.epoch, '0123456789abcdef');
      await until(() => second.forwarder.stats.epochChanges === 1 && second.store.epoch('a') === 'fedcba9876543210');
      const want = policy === 'oldest' ? [1, 2, 3, 4, 5, 11, 12, 13] : [];
      if (policy === 'oldest') await until(() => second.store.get('a') === 13);
      source.raise();
      await until(() => second.store.get('a') === 14);
      await second.forwarder.stop(1000);
      assert.deepEqual(sink.seqs.slice(10), [...want, 14]);
      assert.deepEqual(readState(state).get('a'), { seq: 14, epoch: 'fedcba9876543210' });
      const loudLines = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50 && /ALERT HISTORY CHANGED/.test(l.msg));
      assert.equal(loudLines.length, 1, 'said once, as an error');
    });
  }

  it('a cursor ahead of the daemon (an old state file against a reset daemon) is refused, said loudly, and replayed from the oldest', async () => {
    const lines: string[] = [];
    const loud = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const state = join(dir, `state-${n++}.json`);
    writeFileSync(state, JSON.stringify({ version: 1, sinks: { a: { seq: 50, updated: 'x' } } }));
    const cfg = parseConfig(
      `state_file: ${state}\nsinks:\n  - {name: a, type: webhook, url: "http://x", batch: {max_items: 10, max_wait_ms: 1}, retry: {initial_ms: 1, max_ms: 5}}`,
      'test.yaml',
    );
    const sink = new RecordingSink();
    const source = new FakeSource();
    for (let i = 0; i < 5; i++) source.raise();
    const { forwarder, store } = assemble(cfg, source, loud, '0', () => sink);
    void forwarder.start();
    await until(() => store.get('a') === 5);
    assert.deepEqual([source.subscriptions[0]!.sinceSeq, source.subscriptions[0]!.epoch], [50, undefined], 'a version 1 cursor has no epoch');
    assert.equal(source.subscriptions[1]!.fromOldest, true);
    assert.deepEqual(unique(sink.seqs), range(1, 5), 'nothing skipped');
    await forwarder.stop(1000);
    assert.deepEqual(readState(state).get('a'), { seq: 5, epoch: source.epoch });
    assert.equal(lines.filter((l) => /BEYOND THE DAEMON'S LAST SEQ/.test(l)).length, 1);
  });

  it('asks for events only when a sink wants them', async () => {
    const { source, make } = setup(', events: true', ['a']);
    const { forwarder } = make();
    void forwarder.start();
    await until(() => source.subscriptions.length === 1);
    assert.equal(source.subscriptions[0]!.includeEvents, true);
    await forwarder.stop(100);
  });
});
