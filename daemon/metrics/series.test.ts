import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { sealRecord } from '../store/record.js';
import { encodeRaw } from './series-chunk.js';
import { SeriesStore, type RawPoint, type RollupPoint, type SeriesStoreOptions } from './series.js';
import type { MetricName, Sample } from '../core/metric-names.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// A round hour, so minute and hour buckets line up with the test's arithmetic.
const NOW = Math.floor(Date.UTC(2026, 10, 28, 12) / HOUR) * HOUR;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-series-'));
}

async function withSeries(
  fn: (ctx: { dir: string; store: Store; series: SeriesStore; clock: { now: number } }) => Promise<void>,
  options: SeriesStoreOptions = {},
): Promise<void> {
  const dir = tempDir();
  const clock = { now: NOW };
  const store = await Store.open({ dir });
  const series = await SeriesStore.open(store, { flushIntervalMs: 0, sweepIntervalMs: 0, now: () => clock.now, ...options });
  try {
    await fn({ dir, store, series, clock });
  } finally {
    await series.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function samples(target: string, metric: MetricName, from: number, count: number, everyMs: number, value: (i: number) => number): Sample[] {
  return Array.from({ length: count }, (_, i) => ({ target, metric, time: from + i * everyMs, value: value(i) }));
}

test('raw points read back before and after a flush, across chunks', async () => {
  await withSeries(
    async ({ series }) => {
      const start = NOW - 2 * HOUR;
      const input = samples('c1', 'cpu_usage_cores', start, 1000, 5000, (i) => Math.sin(i / 10));
      await series.write(input);
      const before = await series.query('c1', 'cpu_usage_cores', start, NOW);
      assert.equal(before.resolution, 'raw');
      assert.deepEqual(
        before.points,
        input.map((s) => ({ time: s.time, value: s.value })),
      );
      await series.flush();
      const after = await series.query('c1', 'cpu_usage_cores', start + 5000 * 10, start + 5000 * 19);
      assert.deepEqual(
        after.points.map((p) => (p as RawPoint).time),
        input.slice(10, 20).map((s) => s.time),
      );
      assert.equal((await series.query('c2', 'cpu_usage_cores', start, NOW)).points.length, 0);
    },
    { rawChunkPoints: 64 },
  );
});

test('rollups keep min, max, avg and last per minute and per hour; queries merge them to the step', async () => {
  await withSeries(async ({ series }) => {
    const start = NOW - 3 * HOUR;
    // 3 hours at 5 s: value i % 12 within each minute (0..11), so min 0, max 11, avg 5.5, last 11.
    await series.write(samples('c1', 'memory_usage_bytes', start, 3 * 720, 5000, (i) => i % 12));
    await series.flush();
    const m = await series.query('c1', 'memory_usage_bytes', start, start + 10 * MIN - 1, 60_000);
    assert.equal(m.resolution, '1m');
    assert.equal(m.points.length, 10);
    for (const [i, p] of (m.points as RollupPoint[]).entries()) assert.deepEqual(p, { time: start + i * MIN, min: 0, max: 11, avg: 5.5, last: 11, count: 12 });

    const five = await series.query('c1', 'memory_usage_bytes', start, start + HOUR - 1, 5 * MIN);
    assert.equal(five.resolution, '1m');
    assert.equal(five.step, 5 * MIN);
    assert.equal(five.points.length, 12);
    assert.deepEqual((five.points as RollupPoint[])[0], { time: start, min: 0, max: 11, avg: 5.5, last: 11, count: 60 });

    const h = await series.query('c1', 'memory_usage_bytes', start, NOW, HOUR);
    assert.equal(h.resolution, '1h');
    assert.deepEqual(
      h.points,
      [0, 1, 2].map((i) => ({ time: start + i * HOUR, min: 0, max: 11, avg: 5.5, last: 11, count: 720 })),
    );

    // Step under a minute: raw, thinned to the last point per step.
    const raw = await series.query('c1', 'memory_usage_bytes', start, start + MIN - 1, 20_000);
    assert.equal(raw.resolution, 'raw');
    assert.deepEqual(raw.points, [
      { time: start + 15_000, value: 3 },
      { time: start + 35_000, value: 7 },
      { time: start + 55_000, value: 11 },
    ]);
  });
});

test('the resolution is the coarsest that fits the step and whose retention covers the range', async () => {
  await withSeries(async ({ series }) => {
    const cases: Array<[number, number, string]> = [
      [NOW - HOUR, 5000, 'raw'],
      [NOW - HOUR, 60_000, '1m'],
      [NOW - HOUR, 30 * MIN, '1m'],
      [NOW - HOUR, HOUR, '1h'],
      [NOW - 2 * DAY, 5000, '1m'], // raw is kept 24 h
      [NOW - 8 * DAY, 60_000, '1h'], // 1 min is kept 7 days
      [NOW - 200 * DAY, 5000, '1h'],
    ];
    for (const [from, step, want] of cases)
      assert.equal((await series.query('c1', 'pids_current', from, NOW, step)).resolution, want, `from now-${(NOW - from) / HOUR} h, step ${step}`);
  });
});

test('retention: each resolution keeps its window, older chunks are deleted by the sweep', async () => {
  await withSeries(async ({ series, store }) => {
    // 100 days, one point every 2 minutes.
    const start = NOW - 100 * DAY;
    const every = 2 * MIN;
    const count = (100 * DAY) / every;
    for (let i = 0; i < count; i += 5000) await series.write(samples('c1', 'pids_current', start + i * every, Math.min(5000, count - i), every, (k) => i + k));
    await series.flush();
    const sizeBefore = await countKeys(store);
    await series.sweep();
    const sizeAfter = await countKeys(store);
    assert.ok(sizeAfter < sizeBefore / 3, `${sizeBefore} -> ${sizeAfter} chunks`);
    const oldest = async (res: 'raw' | '1m' | '1h'): Promise<number> => {
      const r = await series.query('c1', 'pids_current', 0, NOW, 0, res);
      return r.points[0]!.time;
    };
    const rawOldest = await oldest('raw');
    assert.ok(rawOldest <= NOW - DAY && rawOldest >= NOW - DAY - 2 * HOUR, `raw from now-${(NOW - rawOldest) / HOUR} h`);
    const minOldest = await oldest('1m');
    assert.ok(minOldest <= NOW - 7 * DAY && minOldest >= NOW - 7 * DAY - 5 * HOUR, `1m from now-${(NOW - minOldest) / HOUR} h`);
    const hourOldest = await oldest('1h');
    assert.ok(hourOldest <= NOW - 90 * DAY && hourOldest >= NOW - 97 * DAY - HOUR, `1h from now-${(NOW - hourOldest) / DAY} d`);
    // Inside the windows everything is still there.
    const lastDay = await series.query('c1', 'pids_current', NOW - DAY, NOW, 0, 'raw');
    assert.equal(lastDay.points.length, DAY / every);
    const week = await series.query('c1', 'pids_current', NOW - 7 * DAY, NOW, MIN, '1m');
    assert.equal(week.points.length, (7 * DAY) / MIN / 2);
  });
});

async function countKeys(store: Store): Promise<number> {
  let n = 0;
  for await (const _ of store.keyspace('ts').entries()) n++;
  return n;
}

test('out-of-order and invalid samples are counted and dropped', async () => {
  await withSeries(async ({ series }) => {
    const t = NOW - HOUR;
    await series.write([
      { target: 'c1', metric: 'pids_current', time: t, value: 1 },
      { target: 'c1', metric: 'pids_current', time: t, value: 2 }, // same time
      { target: 'c1', metric: 'pids_current', time: t - 1, value: 3 }, // earlier
      { target: 'c1', metric: 'pids_current', time: t + 1, value: NaN },
      { target: 'c1', metric: 'pids_current', time: -5, value: 1 },
      { target: '', metric: 'pids_current', time: t + 2, value: 1 },
      { target: 'a\u0000b', metric: 'pids_current', time: t + 2, value: 1 },
      { target: 'c1', metric: 'pids_current', time: t + 3, value: 4 },
    ]);
    assert.equal(series.stats.samplesWritten, 2);
    assert.equal(series.stats.outOfOrder, 2);
    assert.equal(series.stats.invalid, 4);
    assert.deepEqual((await series.query('c1', 'pids_current', NOW - 2 * HOUR, NOW)).points, [
      { time: t, value: 1 },
      { time: t + 3, value: 4 },
    ]);
  });
});

test('list() names every series, stored or only in memory', async () => {
  await withSeries(async ({ series }) => {
    await series.write([
      { target: 'host', metric: 'cpu_usage_cores', time: NOW - 1000, value: 1 },
      { target: 'abc', metric: 'pids_current', time: NOW - 1000, value: 1 },
      { target: 'abc', metric: 'cpu_usage_cores', time: NOW - 1000, value: 1 },
    ]);
    await series.flush();
    await series.write([{ target: 'zzz', metric: 'fds_open', time: NOW - 1000, value: 1 }]);
    assert.deepEqual(await series.list(), [
      { target: 'abc', metric: 'cpu_usage_cores' },
      { target: 'abc', metric: 'pids_current' },
      { target: 'host', metric: 'cpu_usage_cores' },
      { target: 'zzz', metric: 'fds_open' },
    ]);
  });
});

test('a restart resumes the head chunks: no gap, no duplicated bucket', async () => {
  const dir = tempDir();
  try {
    const start = NOW - 2 * HOUR;
    const opts = { flushIntervalMs: 0, sweepIntervalMs: 0, now: () => NOW };
    for (let run = 0; run < 3; run++) {
      const store = await Store.open({ dir });
      const series = await SeriesStore.open(store, opts);
      // Each run writes 250 s (50 points), so minute buckets straddle the restarts.
      await series.write(samples('c1', 'cpu_usage_cores', start + run * 250_000, 50, 5000, () => run + 1));
      await series.close();
      await store.close();
    }
    const store = await Store.open({ dir });
    const series = await SeriesStore.open(store, opts);
    const raw = await series.query('c1', 'cpu_usage_cores', start, NOW, 0, 'raw');
    assert.equal(raw.points.length, 150);
    const m = (await series.query('c1', 'cpu_usage_cores', start, NOW, MIN)).points as RollupPoint[];
    assert.deepEqual(
      m.map((p) => p.count),
      [12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 6],
    );
    assert.deepEqual(m[4], { time: start + 4 * MIN, min: 1, max: 2, avg: (2 * 1 + 10 * 2) / 12, last: 2, count: 12 });
    const h = (await series.query('c1', 'cpu_usage_cores', start, NOW, HOUR)).points as RollupPoint[];
    assert.deepEqual(h, [{ time: start, min: 1, max: 3, avg: 2, last: 3, count: 150 }]);
    await series.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last chunk is detected at open and dropped; the other chunks are kept', async () => {
  const dir = tempDir();
  try {
    const start = NOW - 2 * HOUR;
    const opts = { flushIntervalMs: 0, sweepIntervalMs: 0, rawChunkPoints: 100, now: () => NOW };
    let store = await Store.open({ dir });
    let series = await SeriesStore.open(store, opts);
    await series.write(samples('c1', 'cpu_usage_cores', start, 350, 5000, (i) => i));
    await series.close();
    // Tear the last raw chunk (starts at point 300), as a write cut short would.
    const ts = store.keyspace('ts');
    let lastKey: Buffer | undefined;
    for await (const [k] of ts.entries({ lt: Buffer.from([1]) })) lastKey = k;
    assert.ok(lastKey);
    const times = Array.from({ length: 50 }, (_, i) => start + (300 + i) * 5000);
    await ts.put(
      lastKey,
      sealRecord(
        encodeRaw(
          times,
          times.map((_, i) => 300 + i),
        ),
      ).subarray(0, 40),
    );
    await store.close();

    store = await Store.open({ dir });
    series = await SeriesStore.open(store, opts);
    assert.equal(series.stats.tornChunksDropped, 1);
    const raw = await series.query('c1', 'cpu_usage_cores', start, NOW, 0, 'raw');
    assert.equal(raw.points.length, 300);
    assert.deepEqual(raw.points[299], { time: start + 299 * 5000, value: 299 });
    // Writing goes on after the kept data.
    await series.write(samples('c1', 'cpu_usage_cores', start + 400 * 5000, 10, 5000, () => 1));
    assert.equal((await series.query('c1', 'cpu_usage_cores', start, NOW, 0, 'raw')).points.length, 310);
    assert.equal(series.stats.corruptChunks, 1);
    await series.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of a writing process: the store reopens with every point flushed before the kill', async () => {
  const dir = tempDir();
  try {
    const start = Date.now() - 6 * HOUR;
    const storeUrl = new URL('../store/store.js', import.meta.url).href;
    const seriesUrl = new URL('./series.js', import.meta.url).href;
    // The child writes 4 series at 5 s steps as fast as it can, flushing every 200 points, and reports
    // the last time each flush made durable. Small chunks, so many are sealed before the kill.
    const child = `
      const { Store } = await import(${JSON.stringify(storeUrl)});
      const { SeriesStore } = await import(${JSON.stringify(seriesUrl)});
      const store = await Store.open({ dir: ${JSON.stringify(dir)} });
      const series = await SeriesStore.open(store, { flushIntervalMs: 0, sweepIntervalMs: 0, rawChunkPoints: 60 });
      let t = ${start};
      for (;;) {
        const batch = [];
        for (let i = 0; i < 200; i++, t += 5000)
          for (const target of ['a', 'b', 'c', 'd']) batch.push({ target, metric: 'cpu_usage_cores', time: t, value: (t / 5000) % 1000 });
        await series.write(batch);
        await series.flush();
        process.stdout.write('flushed ' + (t - 5000) + '\\n');
      }`;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastFlushed = -1;
    let lines = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    for await (const line of createInterface({ input: proc.stdout })) {
      const m = /^flushed (\d+)$/.exec(line);
      if (m) lastFlushed = Number(m[1]);
      if (++lines === 40) {
        proc.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL');
    assert.ok(lastFlushed > start);

    const store = await Store.open({ dir });
    const series = await SeriesStore.open(store, { flushIntervalMs: 0, sweepIntervalMs: 0 });
    for (const target of ['a', 'b', 'c', 'd']) {
      const raw = (await series.query(target, 'cpu_usage_cores', start, start + 365 * DAY, 0, 'raw')).points as RawPoint[];
      const want = (lastFlushed - start) / 5000 + 1;
      assert.ok(raw.length >= want, `${target}: ${raw.length} points, ${want} flushed before the kill`);
      for (let i = 0; i < raw.length; i++) {
        const t = start + i * 5000;
        assert.deepEqual(raw[i], { time: t, value: (t / 5000) % 1000 }, `${target} point ${i}`);
      }
      const mins = (await series.query(target, 'cpu_usage_cores', start, lastFlushed, MIN, '1m')).points as RollupPoint[];
      const pointsInMinutes = mins.reduce((n, p) => n + p.count, 0);
      assert.ok(pointsInMinutes >= want, `${target}: minute rollups count ${pointsInMinutes} of ${want}`);
    }
    assert.equal(series.stats.corruptChunks, 0);
    assert.equal(series.stats.tornChunksDropped, 0);
    await series.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('frequent flushes write partial chunks that a seal replaces; reads and a reopen see each point once', async () => {
  const dir = tempDir();
  try {
    const start = NOW - 3 * HOUR;
    const opts = { flushIntervalMs: 0, sweepIntervalMs: 0, rawChunkPoints: 60, now: () => NOW };
    let store = await Store.open({ dir });
    let series = await SeriesStore.open(store, opts);
    const input = samples('c1', 'fds_open', start, 1000, 5000, (i) => i);
    for (let i = 0; i < input.length; i += 7) {
      await series.write(input.slice(i, i + 7));
      await series.flush();
    }
    const check = async (s: SeriesStore): Promise<void> => {
      const raw = (await s.query('c1', 'fds_open', start, NOW, 0, 'raw')).points as RawPoint[];
      assert.deepEqual(
        raw,
        input.map((x) => ({ time: x.time, value: x.value })),
      );
      const m = (await s.query('c1', 'fds_open', start, NOW, MIN)).points as RollupPoint[];
      assert.equal(m.length, Math.ceil(1000 / 12));
      assert.deepEqual(m[1], { time: start + MIN, min: 12, max: 23, avg: 17.5, last: 23, count: 12 });
      const h = (await s.query('c1', 'fds_open', start, NOW, HOUR)).points as RollupPoint[];
      assert.deepEqual(
        h.map((p) => p.count),
        [720, 280],
      );
    };
    await check(series);
    // Sealed raw chunks replaced their partials: 16 sealed + the head's few partials.
    let rawKeys = 0;
    for await (const _ of store.keyspace('ts').entries({ lt: Buffer.from([1]) })) rawKeys++;
    assert.ok(rawKeys <= 16 + 60 / 7 + 1, `${rawKeys} raw chunk keys`);
    await series.close();
    await store.close();
    store = await Store.open({ dir });
    series = await SeriesStore.open(store, opts);
    await check(series);
    // And the resumed heads go on.
    await series.write(samples('c1', 'fds_open', start + 1000 * 5000, 20, 5000, (i) => 1000 + i));
    await series.flush();
    assert.equal((await series.query('c1', 'fds_open', start, NOW, 0, 'raw')).points.length, 1020);
    await series.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
