// AlertStore against a real Store in a temp dir: records and indexes, filters, paging cursors, seq
// resume across a reopen, retention removing index keys too, corrupt records skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { sealRecord } from '../store/record.js';
import type { Severity } from '../core/severity.js';
import { AlertError } from './errors.js';
import { AlertIdGenerator } from './ids.js';
import { AlertStore, SEQ_RESERVE, type AlertFilter } from './store.js';
import { MAX_ALERT_FORECAST_POINTS, type Alert, type AlertState } from './alert.js';
import type { Forecast } from '../core/forecast.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  const store = await Store.open({ dir });
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let clock = T0;
const ids = new AlertIdGenerator(() => clock);

function alert(over: { time: number; rule?: string; container?: string; state?: AlertState; severity?: Severity }): Alert {
  clock = over.time;
  const time = new Date(over.time).toISOString();
  return {
    id: ids.next(),
    seq: 0,
    time,
    lastSeen: time,
    rule: over.rule ?? 'shell in container',
    severity: over.severity ?? 'warning',
    tags: ['T1059'],
    message: 'a shell ran',
    container: { id: over.container ?? 'c1', name: over.container ?? 'c1', runtime: 'runc', image: 'busybox' },
    lineage: [{ pid: 10, exe: '/bin/sh', args: ['sh'], comm: 'sh', uid: 0 }],
    events: [],
    count: 1,
    state: over.state ?? 'open',
    history: [{ state: 'open', at: time, by: 'vigild' }],
    actions: [],
  };
}

/** Keys of the 'alerts' keyspace counted by their first byte (the index they belong to). */
async function keyCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const [k] of store.keyspace('alerts').entries()) {
    const tag = String.fromCharCode(k[0]!);
    out[tag] = (out[tag] ?? 0) + 1;
  }
  return out;
}

test('write assigns seqs; get returns the record; every index key is written in the same batch', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store);
    const a = alert({ time: T0 });
    const b = alert({ time: T0 + 1, rule: 'ptrace', container: 'c2' });
    await s.write([a, b]);
    assert.deepEqual([a.seq, b.seq], [1, 2]);
    assert.deepEqual(await s.get(a.id), a);
    assert.equal(await s.get('0000000000ZZZZZZZZZZ'), undefined);
    assert.equal(await s.get('not an id'), undefined);
    assert.deepEqual(await keyCounts(store), { r: 2, t: 2, c: 2, u: 2, s: 2, q: 2, m: 1 });
    assert.equal(store.stats.writes >= 2, true);
    assert.deepEqual({ count: s.stats().count, seq: s.stats().seq, written: s.stats().written }, { count: 2, seq: 2, written: 2 });
    // unpersisted is a mark on published copies only.
    const c = { ...alert({ time: T0 + 2 }), unpersisted: true };
    await s.write([c]);
    assert.equal((await s.get(c.id))!.unpersisted, undefined);
  });
});

/** A forecast of n points, one every 5 s after t, crossing `limit` at the 40th. */
function forecast(t: number, n: number, limit = 500): Forecast {
  const points = Array.from({ length: n }, (_, i) => ({ time: t + (i + 1) * 5000, value: 100 + 10 * i, lower: 90 + 9 * i, upper: 110 + 11 * i }));
  return {
    target: 'c1',
    metric: 'memory_working_set_bytes',
    model: 'ets',
    computedAt: t,
    lastObserved: t,
    level: 0.95,
    points,
    exhaustion: { limitMetric: 'memory_limit_bytes', limit, at: t + 40 * 5000, earliest: t + 37 * 5000, latest: t + 45 * 5000 },
    mase: 0.42,
  };
}

test('the forecast of an early warning is stored with the alert and read back whole; more than MAX_ALERT_FORECAST_POINTS points are thinned', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store);
    const a: Alert = { ...alert({ time: T0, rule: 'Memory exhaustion forecast' }), forecast: forecast(T0, 46) };
    const big: Alert = {
      ...alert({ time: T0 + 1, rule: 'Memory exhaustion forecast', container: 'c2' }),
      forecast: forecast(T0, 3 * MAX_ALERT_FORECAST_POINTS + 7),
    };
    await s.write([a, big]);
    assert.deepEqual(await s.get(a.id), a);
    const [listed] = (await s.list({ container: 'c1' })).alerts;
    assert.deepEqual(listed!.forecast, a.forecast);
    const b = await s.get(big.id);
    assert.ok(b?.forecast, 'the forecast of the second alert');
    assert.ok(
      b.forecast.points.length <= MAX_ALERT_FORECAST_POINTS && b.forecast.points.length >= MAX_ALERT_FORECAST_POINTS / 2,
      `${b.forecast.points.length} points`,
    );
    // Thinned evenly, the last point kept, nothing else of the forecast changed.
    assert.deepEqual(b.forecast.points.at(-1), big.forecast!.points.at(-1));
    assert.deepEqual({ ...b.forecast, points: [] }, { ...big.forecast!, points: [] });
    // A record with a forecast stays small: it is written with every version of the alert.
    let bytes = 0;
    for await (const [k, v] of store.keyspace('alerts').entries()) if (k[0] === 0x72) bytes = Math.max(bytes, v.length);
    assert.ok(bytes < 16 * 1024, `largest record ${bytes} bytes`);
  });
});

test('list filters (table): each index and the filters it does not cover, newest first', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store);
    const all = [
      alert({ time: T0 + 1 * MIN, rule: 'shell', container: 'c1', severity: 'warning' }),
      alert({ time: T0 + 2 * MIN, rule: 'shell', container: 'c2', severity: 'critical' }),
      alert({ time: T0 + 3 * MIN, rule: 'ptrace', container: 'c1', severity: 'alert', state: 'acknowledged' }),
      alert({ time: T0 + 4 * MIN, rule: 'ptrace', container: 'c2', severity: 'notice', state: 'resolved' }),
      alert({ time: T0 + 5 * MIN, rule: 'mount', container: 'c1\u0000x', severity: 'emergency' }),
      alert({ time: T0 + 6 * MIN, rule: 'shell', container: 'c1', severity: 'debug' }),
    ];
    await s.write(all);
    const cases: Array<[string, AlertFilter, number[]]> = [
      ['everything', {}, [5, 4, 3, 2, 1, 0]],
      ['by rule', { rule: 'shell' }, [5, 1, 0]],
      ['by container', { container: 'c1' }, [5, 2, 0]],
      ['container with a NUL byte', { container: 'c1\u0000x' }, [4]],
      ['by state', { state: 'open' }, [5, 4, 1, 0]],
      ['acknowledged', { state: 'acknowledged' }, [2]],
      ['min severity', { minSeverity: 'critical' }, [4, 2, 1]],
      ['rule and container', { rule: 'shell', container: 'c2' }, [1]],
      ['container and state', { container: 'c2', state: 'resolved' }, [3]],
      ['rule and min severity', { rule: 'ptrace', minSeverity: 'alert' }, [2]],
      ['since', { since: T0 + 3 * MIN }, [5, 4, 3, 2]],
      ['until (inclusive)', { until: T0 + 2 * MIN }, [1, 0]],
      ['since and until by rule', { rule: 'shell', since: T0 + 2 * MIN, until: T0 + 5 * MIN }, [1]],
      ['unknown rule', { rule: 'nope' }, []],
    ];
    for (const [name, filter, want] of cases) {
      const got = await s.list(filter);
      assert.deepEqual(
        got.alerts.map((a) => a.id),
        want.map((i) => all[i]!.id),
        name,
      );
      assert.equal(got.next, undefined, name);
    }
  });
});

test('paging: cursors continue where the page ended, for any index; foreign or forged cursors are refused', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store);
    const all: Alert[] = [];
    // Several alerts share a millisecond: the id orders them.
    for (let i = 0; i < 25; i++) all.push(alert({ time: T0 + Math.floor(i / 3), rule: i % 2 ? 'odd' : 'even' }));
    await s.write(all);
    const newest = [...all].reverse();
    for (const [filter, want] of [
      [{}, newest],
      [{ rule: 'even' }, newest.filter((a) => a.rule === 'even')],
      [{ state: 'open' as const }, newest],
    ] as Array<[AlertFilter, Alert[]]>) {
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await s.list(filter, { limit: 10, ...(after !== undefined ? { after } : {}) });
        seen.push(...page.alerts.map((a) => a.id));
        after = page.next;
        pages++;
      } while (after !== undefined);
      assert.deepEqual(
        seen,
        want.map((a) => a.id),
        JSON.stringify(filter),
      );
      assert.equal(pages, Math.ceil(want.length / 10), 'no empty trailing page');
    }
    const first = await s.list({ rule: 'even' }, { limit: 2 });
    await assert.rejects(s.list({}, { after: first.next! }), (e: unknown) => e instanceof AlertError && e.code === 'VIGIL_ALERT_CURSOR');
    await assert.rejects(s.list({}, { after: 'garbage' }), (e: unknown) => e instanceof AlertError && e.code === 'VIGIL_ALERT_CURSOR');
  });
});

test('a scan budget ends a page early with a cursor; the next page carries on', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store, { maxScan: 5 });
    const all: Alert[] = [];
    for (let i = 0; i < 12; i++) all.push(alert({ time: T0 + i, severity: i === 0 ? 'critical' : 'debug' }));
    await s.write(all);
    let page = await s.list({ minSeverity: 'critical' });
    const got: string[] = [];
    let pages = 1;
    got.push(...page.alerts.map((a) => a.id));
    while (page.next) {
      page = await s.list({ minSeverity: 'critical' }, { after: page.next });
      got.push(...page.alerts.map((a) => a.id));
      pages++;
    }
    assert.deepEqual(got, [all[0]!.id]);
    assert.equal(pages, 3);
  });
});

test('a state change moves the state index key; the old seq key goes', async () => {
  await withStore(async (store) => {
    const s = await AlertStore.open(store);
    const a = alert({ time: T0 });
    await s.write([a]);
    a.state = 'acknowledged';
    a.history.push({ state: 'acknowledged', at: new Date(T0 + 1).toISOString(), by: 'alice', comment: 'looking' });
    await s.write([a]);
    assert.equal(a.seq, 2);
    assert.deepEqual((await s.list({ state: 'open' })).alerts, []);
    assert.deepEqual(
      (await s.list({ state: 'acknowledged' })).alerts.map((x) => x.history.length),
      [2],
    );
    assert.deepEqual(await keyCounts(store), { r: 1, t: 1, c: 1, u: 1, s: 1, q: 1, m: 1 });
    assert.equal(s.stats().count, 1);
  });
});

test('since(seq): latest versions after seq in seq order; the counter survives a reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  try {
    let store = await Store.open({ dir });
    let s = await AlertStore.open(store);
    const [a, b, c] = [alert({ time: T0 }), alert({ time: T0 + 1 }), alert({ time: T0 + 2 })];
    await s.write([a!, b!, c!]);
    a!.count = 2;
    await s.write([a!]); // seq 4
    assert.deepEqual(
      (await s.since(0)).map((x) => [x.id, x.seq]),
      [
        [b!.id, 2],
        [c!.id, 3],
        [a!.id, 4],
      ],
    );
    assert.deepEqual(
      (await s.since(3)).map((x) => x.count),
      [2],
    );
    assert.deepEqual(await s.since(4), []);
    assert.deepEqual(
      (await s.since(0, 2)).map((x) => x.seq),
      [2, 3],
      'limit',
    );
    await store.close();

    store = await Store.open({ dir });
    s = await AlertStore.open(store);
    assert.deepEqual(
      { seq: s.seq, count: s.stats().count, persisted: s.stats().persisted },
      { seq: SEQ_RESERVE, count: 3, persisted: 4 },
      'allocation resumes from the reserved high-water mark',
    );
    const d = alert({ time: T0 + 3 });
    await s.write([d]);
    assert.equal(d.seq, SEQ_RESERVE + 1);
    assert.deepEqual(
      (await s.since(4)).map((x) => x.id),
      [d.id],
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retention: age then count, records and every index key removed together; seq never goes back', async () => {
  await withStore(async (store) => {
    let now = T0 + 40 * DAY;
    const s = await AlertStore.open(store, { maxAgeMs: 30 * DAY, maxCount: 5, now: () => now });
    const old = [alert({ time: T0, container: 'gone' }), alert({ time: T0 + DAY, rule: 'old rule', state: 'resolved' })];
    const recent: Alert[] = [];
    for (let i = 0; i < 8; i++) recent.push(alert({ time: T0 + 20 * DAY + i, container: i % 2 ? 'c1' : 'c2' }));
    await s.write([...old, ...recent]);
    assert.equal(s.stats().count, 10);
    assert.equal(await s.sweep(3), 5, 'two too old, then three beyond the count');
    const kept = recent.slice(3);
    assert.deepEqual(
      (await s.list()).alerts.map((a) => a.id),
      [...kept].reverse().map((a) => a.id),
    );
    assert.deepEqual(await keyCounts(store), { r: 5, t: 5, c: 5, u: 5, s: 5, q: 5, m: 1 });
    assert.deepEqual((await s.list({ container: 'gone' })).alerts, []);
    assert.deepEqual((await s.list({ state: 'resolved' })).alerts, []);
    assert.deepEqual(
      (await s.since(0)).map((a) => a.id),
      kept.map((a) => a.id),
    );
    assert.deepEqual({ count: s.stats().count, swept: s.stats().swept }, { count: 5, swept: 5 });
    assert.equal(await s.sweep(), 0, 'nothing more to do');
    now += 30 * DAY;
    assert.equal(await s.sweep(), 5);
    assert.deepEqual(await keyCounts(store), { m: 1 });
    const next = alert({ time: now });
    await s.write([next]);
    assert.equal(next.seq, 11, 'the counter is not derived from what is left');
  });
});

test('a torn or corrupt record is counted and skipped by get, list and since; retention still removes its keys', async () => {
  await withStore(async (store) => {
    let now = T0;
    const s = await AlertStore.open(store, { now: () => now, maxAgeMs: DAY });
    const [a, b, c] = [alert({ time: T0 }), alert({ time: T0 + 1 }), alert({ time: T0 + 2 })];
    await s.write([a!, b!, c!]);
    const ks = store.keyspace('alerts');
    const key = Buffer.concat([Buffer.from('r'), Buffer.from(b!.id, 'latin1')]);
    const raw = (await ks.get(key))!;
    await ks.put(key, raw.subarray(0, raw.length - 7)); // torn
    // A record whose checksum holds but whose content is not an alert.
    const keyC = Buffer.concat([Buffer.from('r'), Buffer.from(c!.id, 'latin1')]);
    await ks.put(keyC, sealRecord(Buffer.from('{"id":"x"}')));
    assert.equal(await s.get(b!.id), undefined);
    assert.deepEqual(
      (await s.list()).alerts.map((x) => x.id),
      [a!.id],
    );
    assert.deepEqual(
      (await s.list({ rule: a!.rule })).alerts.map((x) => x.id),
      [a!.id],
    );
    assert.deepEqual(
      (await s.since(0)).map((x) => x.id),
      [a!.id],
    );
    assert.ok(s.stats().corrupt >= 4);
    assert.ok((store.stats.corruptRecords['alerts'] ?? 0) >= 4);
    now += 2 * DAY;
    assert.equal(await s.sweep(), 3);
    assert.deepEqual(await keyCounts(store), { m: 1 });
  });
});

test('ids sort by creation time and strictly increase within a millisecond and when the clock steps back', () => {
  let t = T0;
  const g = new AlertIdGenerator(() => t);
  const out = [g.next(), g.next()];
  t = T0 - 5;
  out.push(g.next());
  t = T0 + 1;
  out.push(g.next());
  assert.deepEqual([...out].sort(), out);
  assert.equal(new Set(out).size, 4);
  assert.ok(out.every((id) => /^[0-9A-HJKMNP-TV-Z]{20}$/.test(id)));
});

function newestLog(dir: string): string {
  const logs = readdirSync(dir)
    .filter((f) => /^\d+\.log$/.test(f))
    .sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10));
  assert.ok(logs.length > 0, 'a LevelDB log');
  return join(dir, logs[0]!);
}

test('epoch and high-water mark: kept across reopens; a torn log tail makes a new epoch and never reuses a seq', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  try {
    let store = await Store.open({ dir });
    let s = await AlertStore.open(store);
    const epoch = s.epoch;
    assert.match(epoch, /^[0-9a-f]{16}$/);
    assert.equal(s.stats().hwm, SEQ_RESERVE, 'a block reserved at open');
    await s.write([alert({ time: T0 })], { sync: true });
    await s.close();
    await store.close();

    store = await Store.open({ dir });
    s = await AlertStore.open(store);
    assert.equal(s.epoch, epoch, 'same history, same epoch');
    assert.equal(s.epochChange, undefined);
    const batch: Alert[] = [];
    for (let i = 0; i < 400; i++) batch.push(alert({ time: T0 + 1 + i }));
    for (let i = 0; i < 400; i += 40) await s.write(batch.slice(i, i + 40), { sync: true });
    const top = s.seq;
    assert.equal(top, SEQ_RESERVE + 400);
    await s.close();
    await store.close();

    // Tear the newest log while stopped: LevelDB drops what follows the tear on open.
    const log = newestLog(dir);
    truncateSync(log, Math.floor(statSync(log).size / 2));
    store = await Store.open({ dir });
    s = await AlertStore.open(store);
    assert.ok(s.stats().count < 401, `history was lost (${s.stats().count} stored)`);
    assert.notEqual(s.epoch, epoch, 'a new epoch');
    assert.deepEqual({ from: s.epochChange?.from, persisted: s.epochChange?.persisted }, { from: epoch, persisted: top });
    assert.ok(s.seq >= top, 'allocation resumes at or above every seq handed out before');
    const next = alert({ time: T0 + 1000 });
    await s.write([next]);
    assert.ok(next.seq > top, 'no seq reused');
    const range = await s.range();
    assert.deepEqual({ epoch: range.epoch, last: range.last }, { epoch: s.epoch, last: next.seq });
    await s.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
