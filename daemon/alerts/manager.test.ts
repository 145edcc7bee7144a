// AlertManager against a real Store in a temp dir: persisted before published, the alert's shape and
// lineage, dedup, rate limits, lifecycle, metric self-resolve, seq resume, overload, actions, full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeSync, openSync, closeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../core/log.js';
import { Store } from '../store/store.js';
import { KTIME, type ExecEvent, type VigilEvent } from '../sensor/events.js';
import type { ContainerRef } from '../core/container.js';
import type { RuleInfo, RuleMatch, RuleKind } from '../detect/rule-match.js';
import type { ActionName } from '../core/severity.js';
import { AlertError } from './errors.js';
import { AlertManager, OVERLOAD_RULE, STORE_LOSS_RULE, type ActionRunner, type AlertManagerOptions } from './manager.js';
import { AlertStore, SEQ_RESERVE } from './store.js';
import { MAX_ALERT_FORECAST_POINTS, type ActionOutcome, type Alert, type AlertChange } from './alert.js';
import type { Forecast } from '../core/forecast.js';
import { toApiAlert } from '../api/convert.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const SEC = 1000;

const C1: ContainerRef = { id: 'c1', name: 'web', runtime: 'runc', image: 'busybox' };
const C2: ContainerRef = { id: 'c2', name: 'db', runtime: 'runc', image: 'busybox' };

function rule(name: string, over: { kind?: RuleKind; actions?: ActionName[] } = {}): RuleInfo {
  return {
    name,
    desc: name,
    kind: over.kind ?? 'event',
    severity: 'critical',
    tags: ['T1611', 'container_escape'],
    enabled: true,
    actions: over.actions ?? [],
    source: 'test.yaml:1',
  };
}

function exec(pid: number, exe: string, time: number): ExecEvent {
  const ns = { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 };
  const creds = { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, cap_effective: '0', cap_permitted: '0', cap_inheritable: '0' };
  return {
    kind: 'exec',
    time: new Date(time).toISOString(),
    pid,
    tid: pid,
    ppid: 100,
    vpid: pid,
    uid: 1000,
    gid: 1000,
    loginuid: 1000,
    comm: exe.split('/').pop()!,
    cgroup_id: 9,
    ns,
    retval: 0,
    exe,
    args: [exe, '-c', 'id'],
    argc: 3,
    args_truncated: false,
    path_truncated: false,
    fileless: false,
    setuid: false,
    setgid: false,
    filecaps: false,
    prior_creds_known: true,
    creds,
    exe_ino: 1,
    exe_dev: 1,
    proc: {
      exe,
      args: [exe, '-c', 'id'],
      ancestors: [
        { pid: 100, exe: '/usr/bin/runc', comm: 'runc', args: ['runc', 'exec'], uid: 0 },
        { pid: 1, exe: '/sbin/init', comm: 'init', args: ['/sbin/init'], uid: 0 },
      ],
    },
    [KTIME]: 0n,
  };
}

function match(r: RuleInfo, time: number, over: { exe?: string; container?: ContainerRef; pid?: number } = {}): RuleMatch {
  const ev: VigilEvent = exec(over.pid ?? 4711, over.exe ?? '/bin/sh', time);
  return { rule: r, time, message: `${r.name}: ${over.exe ?? '/bin/sh'}`, container: over.container ?? C1, events: [ev] };
}

interface Rig {
  store: Store;
  alerts: AlertStore;
  m: AlertManager;
  published: Array<[Alert, AlertChange]>;
  clock: { now: number };
  dir: string;
}

async function rig(options: Partial<AlertManagerOptions> = {}, dir?: string): Promise<Rig> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'vigil-alertmgr-'));
  const store = await Store.open({ dir: d });
  const clock = { now: T0 };
  const alerts = await AlertStore.open(store, { now: () => clock.now, sweepIntervalMs: 0 });
  const m = new AlertManager({ store: alerts, now: () => clock.now, summaryIntervalMs: 0, ...options });
  const published: Array<[Alert, AlertChange]> = [];
  m.onAlert((a, change) => {
    published.push([a, change]);
  });
  await m.start();
  return { store, alerts, m, published, clock, dir: d };
}

async function done(r: Rig, keep = false): Promise<void> {
  await r.m.stop();
  await r.store.close();
  if (!keep) rmSync(r.dir, { recursive: true, force: true });
}

test('an alert is stored before it is published; it carries the match, container, lineage and events', async () => {
  const r = await rig();
  const seen: Array<Promise<Alert | undefined>> = [];
  r.m.onAlert((a) => {
    seen.push(r.alerts.get(a.id));
  });
  const R = rule('shell in container');
  assert.equal(r.m.submit(match(R, T0)), true);
  await r.m.flush();
  assert.equal(r.published.length, 1);
  const [a, change] = r.published[0]!;
  assert.equal(change, 'opened');
  const stored = await seen[0]!;
  assert.ok(stored, 'the listener could read it from the store');
  assert.equal(stored.seq, a.seq);
  assert.equal(a.seq, 1);
  assert.equal(a.unpersisted, undefined);
  assert.match(a.id, /^[0-9A-Z]{20}$/);
  assert.deepEqual(
    {
      time: a.time,
      lastSeen: a.lastSeen,
      rule: a.rule,
      severity: a.severity,
      tags: a.tags,
      message: a.message,
      container: a.container,
      count: a.count,
      state: a.state,
    },
    {
      time: new Date(T0).toISOString(),
      lastSeen: new Date(T0).toISOString(),
      rule: R.name,
      severity: 'critical',
      tags: R.tags,
      message: 'shell in container: /bin/sh',
      container: C1,
      count: 1,
      state: 'open',
    },
  );
  assert.deepEqual(a.lineage, [
    { pid: 4711, exe: '/bin/sh', args: ['/bin/sh', '-c', 'id'], comm: 'sh', uid: 1000 },
    { pid: 100, exe: '/usr/bin/runc', args: ['runc', 'exec'], comm: 'runc', uid: 0 },
    { pid: 1, exe: '/sbin/init', args: ['/sbin/init'], comm: 'init', uid: 0 },
  ]);
  assert.deepEqual(
    a.events.map((e) => e.kind),
    ['exec'],
  );
  assert.deepEqual(a.history, [{ state: 'open', at: a.time, by: 'vigild' }]);
  assert.ok(Object.isFrozen(a), 'listeners get a snapshot');
  await done(r);
});

test('dedup (table): same rule, container and exe inside the window fold into one alert', async () => {
  const R = rule('shell');
  const cases: Array<[string, Array<[number, { exe?: string; container?: ContainerRef }]>, number[]]> = [
    [
      'three in the window',
      [
        [0, {}],
        [10 * SEC, {}],
        [59 * SEC, {}],
      ],
      [3],
    ],
    [
      'other exe',
      [
        [0, {}],
        [1 * SEC, { exe: '/bin/bash' }],
      ],
      [1, 1],
    ],
    [
      'other container',
      [
        [0, {}],
        [1 * SEC, { container: C2 }],
      ],
      [1, 1],
    ],
    [
      'after the window (from the first match)',
      [
        [0, {}],
        [30 * SEC, {}],
        [61 * SEC, {}],
      ],
      [2, 1],
    ],
    [
      'a little out of order',
      [
        [10 * SEC, {}],
        [5 * SEC, {}],
      ],
      [2],
    ],
  ];
  for (const [name, matches, counts] of cases) {
    const r = await rig({ maxEvents: 2 });
    for (const [dt, over] of matches) r.m.submit(match(R, T0 + dt, over));
    await r.m.flush();
    const stored = (await r.alerts.list()).alerts.reverse();
    assert.deepEqual(
      stored.map((a) => a.count),
      counts,
      name,
    );
    assert.ok(
      stored.every((a) => a.events.length === Math.min(2, a.count)),
      `${name}: events bounded`,
    );
    assert.equal(r.m.stats().opened, counts.length, name);
    await done(r);
  }
});

test('dedup: a hit updates lastSeen and is published as an update; a resolved alert is not folded into', async () => {
  const r = await rig();
  const R = rule('shell');
  r.m.submit(match(R, T0));
  await r.m.flush();
  r.m.submit(match(R, T0 + 5 * SEC));
  await r.m.flush();
  assert.deepEqual(
    r.published.map(([a, c]) => [c, a.count, a.seq]),
    [
      ['opened', 1, 1],
      ['updated', 2, 2],
    ],
  );
  assert.equal(r.published[1]![0].lastSeen, new Date(T0 + 5 * SEC).toISOString());
  await r.m.resolve(r.published[0]![0].id, 'alice', 'fixed');
  r.m.submit(match(R, T0 + 6 * SEC));
  await r.m.flush();
  const list = (await r.alerts.list()).alerts;
  assert.deepEqual(
    list.map((a) => [a.state, a.count]),
    [
      ['open', 1],
      ['resolved', 2],
    ],
  );
  await done(r);
});

test('rate limit: new alerts beyond the budget of a rule in a container are suppressed, counted, and reported by the next alert or a summary', async () => {
  const r = await rig({ ratePerMinute: 3, summaryIntervalMs: 60 * SEC });
  const R = rule('noisy');
  for (let i = 0; i < 10; i++) r.m.submit(match(R, T0, { exe: `/bin/p${i}` }));
  r.m.submit(match(rule('other'), T0));
  // The same rule in another container has a budget of its own: a flood in c1 hides nothing in c2.
  r.m.submit(match(R, T0, { exe: '/bin/elsewhere', container: { ...C1, id: 'c2', name: 'other' } }));
  await r.m.flush();
  assert.equal(r.m.stats().opened, 5, 'three of the noisy rule in c1, one in c2, one of another rule');
  assert.equal(r.m.stats().suppressed, 7);
  // Dedup hits cost no token.
  r.m.submit(match(R, T0 + 1, { exe: '/bin/p0' }));
  await r.m.flush();
  assert.equal(r.m.stats().suppressed, 7);
  r.clock.now += 20 * SEC; // one token back
  r.m.submit(match(R, T0 + 20 * SEC, { exe: '/bin/next' }));
  await r.m.flush();
  const next = r.published.at(-1)![0];
  assert.equal(next.suppressed, 7);
  assert.match(next.message, /\(7 earlier matches of this rule in c1 were suppressed by its rate limit\)$/);
  // More suppressed, no further alert: the summary after summaryIntervalMs.
  r.m.submit(match(R, T0 + 21 * SEC, { exe: '/bin/x1' }));
  r.m.submit(match(R, T0 + 22 * SEC, { exe: '/bin/x2' }));
  await r.m.flush();
  await r.m.tick();
  assert.equal(r.m.stats().summaries, 0, 'not due yet');
  r.clock.now += 61 * SEC;
  await r.m.tick();
  const summary = r.published.at(-1)!;
  assert.equal(summary[1], 'opened');
  assert.equal(summary[0].suppressed, 2);
  assert.match(summary[0].message, /^2 matches of rule "noisy" in c1 were suppressed by its rate limit \(3\/min\)/);
  assert.equal(summary[0].lineage[0]!.exe, '/bin/x2', 'built from the last suppressed match');
  assert.ok(await r.alerts.get(summary[0].id));
  assert.equal(r.m.stats().summaries, 1);
  await done(r);
});

test('lifecycle (table): open -> acknowledged -> resolved with who, when and comment; invalid steps refused', async () => {
  const r = await rig();
  r.m.submit(match(rule('a'), T0));
  r.m.submit(match(rule('b'), T0));
  await r.m.flush();
  const [a, b] = r.published.map(([x]) => x.id);
  type Step = ['ack' | 'resolve', string, string | undefined, string | null];
  const steps: Step[] = [
    ['ack', a!, 'alice', null],
    ['ack', a!, 'bob', 'VIGIL_ALERT_STATE'],
    ['resolve', a!, 'bob', null],
    ['resolve', a!, 'bob', 'VIGIL_ALERT_STATE'],
    ['ack', a!, 'bob', 'VIGIL_ALERT_STATE'],
    ['resolve', b!, 'carol', null], // open -> resolved directly
    ['ack', '01ARZ3NDEKTSV4RRFFQ6', 'bob', 'VIGIL_ALERT_NOT_FOUND'],
    ['ack', 'not-an-id', 'bob', 'VIGIL_ALERT_NOT_FOUND'],
  ];
  r.clock.now = T0 + 5 * SEC;
  for (const [op, id, who, err] of steps) {
    const call = op === 'ack' ? r.m.acknowledge(id, who!, `${op} by ${who}`) : r.m.resolve(id, who!, `${op} by ${who}`);
    if (err === null) await call;
    else await assert.rejects(call, (e: unknown) => e instanceof AlertError && e.code === err, `${op} ${id} -> ${err}`);
  }
  await assert.rejects(r.m.acknowledge(b!, ''), TypeError);
  const stored = (await r.alerts.get(a!))!;
  assert.equal(stored.state, 'resolved');
  assert.deepEqual(stored.history.slice(1), [
    { state: 'acknowledged', at: new Date(T0 + 5 * SEC).toISOString(), by: 'alice', comment: 'ack by alice' },
    { state: 'resolved', at: new Date(T0 + 5 * SEC).toISOString(), by: 'bob', comment: 'resolve by bob' },
  ]);
  assert.deepEqual(
    r.published.map(([, c]) => c),
    ['opened', 'opened', 'acknowledged', 'resolved', 'resolved'],
  );
  assert.deepEqual((await r.alerts.list({ state: 'resolved' })).alerts.length, 2);
  await done(r);
});

test('metric alerts: repeated matches update one alert; active=false resolves it by vigild, also after a restart', async () => {
  const r = await rig();
  const R = rule('memory near limit', { kind: 'metric' });
  const metric = (v: number, active?: boolean): RuleMatch => ({
    rule: R,
    time: T0 + v,
    message: `memory at ${v}%`,
    container: C1,
    events: [],
    metric: { target: 'c1', values: { memory_pct: v }, heldMs: 30_000 },
    ...(active !== undefined ? { active } : {}),
  });
  r.m.submit(metric(91));
  r.m.submit(metric(95));
  await r.m.flush();
  let [a] = (await r.alerts.list()).alerts;
  assert.deepEqual([a!.count, a!.metric!.values['memory_pct'], a!.lineage], [2, 95, []]);
  r.m.submit(metric(60, false));
  r.m.submit(metric(50, false));
  await r.m.flush();
  [a] = (await r.alerts.list()).alerts;
  assert.equal(a!.state, 'resolved');
  assert.deepEqual(a!.history.at(-1), { state: 'resolved', at: new Date(T0).toISOString(), by: 'vigild', comment: 'condition cleared: memory at 60%' });
  assert.deepEqual([r.m.stats().metricResolved, r.m.stats().metricClearsIgnored], [1, 1]);

  // Open again, restart the daemon, and the clear still resolves it.
  r.m.submit(metric(97));
  await r.m.flush();
  await done(r, true);
  const again = await rig({}, r.dir);
  again.m.submit(metric(40, false));
  await again.m.flush();
  const states = (await again.alerts.list()).alerts.map((x) => x.state);
  assert.deepEqual(states, ['resolved', 'resolved']);
  await done(again);
});

test('early warnings: the alert carries the forecast of the match; an update replaces it and the message with the latest; the resolve keeps it', async () => {
  const r = await rig();
  const R = rule('Memory exhaustion forecast', { kind: 'metric' });
  const fc = (at: number, n = 20): Forecast => ({
    target: 'c1',
    metric: 'memory_working_set_bytes',
    model: 'linear',
    computedAt: T0 + at,
    lastObserved: T0 + at,
    level: 0.95,
    points: Array.from({ length: n }, (_, i) => ({ time: T0 + at + (i + 1) * 5000, value: i, lower: i - 1, upper: i + 1 })),
    exhaustion: { limitMetric: 'memory_limit_bytes', limit: 10, at: T0 + at + 50_000 },
  });
  const warning = (at: number, f?: Forecast, active = true): RuleMatch => ({
    rule: R,
    time: T0 + at,
    message: `warning at ${at}`,
    container: C1,
    events: [],
    metric: { target: 'c1', values: { forecast_at_ms: T0 + at + 50_000 }, heldMs: 0 },
    active,
    ...(f ? { forecast: f } : {}),
  });
  r.m.submit(warning(0, fc(0)));
  await r.m.flush();
  let [a] = (await r.alerts.list()).alerts;
  assert.deepEqual(a!.forecast, fc(0));
  assert.deepEqual(r.published.at(-1)![0].forecast, fc(0));
  // An update: the latest forecast replaces the old one (a forecast of too many points is bounded).
  r.m.submit(warning(10_000, fc(10_000, 3 * MAX_ALERT_FORECAST_POINTS)));
  await r.m.flush();
  [a] = (await r.alerts.list()).alerts;
  assert.equal(a!.count, 2);
  assert.equal(a!.forecast!.computedAt, T0 + 10_000);
  assert.equal(a!.message, 'warning at 10000', 'the message follows the latest forecast');
  assert.ok(a!.forecast!.points.length <= MAX_ALERT_FORECAST_POINTS, `${a!.forecast!.points.length} points`);
  assert.deepEqual(r.published.at(-1)![0].forecast, a!.forecast);
  // Resolved by a match without a forecast: the last one that justified the warning stays.
  r.m.submit(warning(20_000, undefined, false));
  await r.m.flush();
  [a] = (await r.alerts.list()).alerts;
  assert.equal(a!.state, 'resolved');
  assert.equal(a!.forecast!.computedAt, T0 + 10_000);
  await done(r);
});

test('seq resume: a subscriber that reconnects after a restart gets what it missed from the store', async () => {
  const r = await rig();
  for (let i = 0; i < 3; i++) r.m.submit(match(rule(`r${i}`), T0));
  await r.m.flush();
  const lastSeen = r.published.at(-1)![0].seq;
  r.m.submit(match(rule('r0'), T0 + SEC)); // dedup hit: a new version of the first alert
  r.m.submit(match(rule('r9'), T0 + SEC));
  await r.m.flush();
  await done(r, true);
  const again = await rig({}, r.dir);
  const missed = await again.m.since(lastSeen);
  assert.deepEqual(
    missed.map((a) => [a.rule, a.count, a.seq]),
    [
      ['r0', 2, 4],
      ['r9', 1, 5],
    ],
  );
  again.m.submit(match(rule('r10'), T0 + 2 * SEC));
  await again.m.flush();
  assert.equal(again.published.at(-1)![0].seq, SEQ_RESERVE + 1, 'after a restart seqs resume above the reserved high-water mark, never below');
  await done(again);
});

test('a full intake queue drops and counts matches and raises the overload alert once', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const r = await rig({ queueCapacity: 5, log });
  const R = rule('flood');
  const accepted = Array.from({ length: 20 }, (_, i) => r.m.submit(match(R, T0, { exe: `/bin/f${i}` })));
  assert.deepEqual([accepted.filter(Boolean).length, r.m.stats().dropped], [5, 15]);
  await r.m.flush();
  for (let i = 0; i < 10; i++) r.m.submit(match(R, T0, { exe: `/bin/g${i}` }));
  await r.m.flush();
  const overload = (await r.alerts.list({ rule: OVERLOAD_RULE.name })).alerts;
  assert.equal(overload.length, 1, 'repeats fold into one alert');
  assert.equal(overload[0]!.severity, 'critical');
  assert.equal(overload[0]!.container.id, 'host');
  assert.equal(overload[0]!.count, 2);
  assert.match(overload[0]!.message, /20 rule matches dropped/);
  const logged = lines
    .map((l) => JSON.parse(l) as { level: number; msg: string; dropped?: number })
    .filter((l) => l.msg === 'alert pipeline overloaded: rule matches dropped');
  assert.deepEqual(
    logged.map((l) => [l.level, l.dropped]),
    [
      [50, 1],
      [50, 16],
    ],
    'logged once per overload alert, at error',
  );
  await done(r);
});

test('a flood of one act folds in the intake: the alert counts every match, keeps the first events, and another container is still alerted', async () => {
  const r = await rig({ queueCapacity: 5, maxEvents: 4 });
  const R = rule('ssh keys read');
  const n = 50_000;
  for (let i = 0; i < n; i++) assert.ok(r.m.submit(match(R, T0 + i, { pid: 1000 + i })), `match ${i} taken`);
  assert.ok(r.m.submit(match(R, T0 + n, { container: C2 })), "the quiet container's match is taken");
  assert.deepEqual([r.m.stats().queued, r.m.stats().dropped, r.m.stats().folded], [2, 0, n - 1]);
  await r.m.flush();
  const got = (await r.alerts.list({ rule: R.name })).alerts;
  const flood = got.find((a) => a.container.id === C1.id)!;
  assert.equal(flood.count, n, 'every folded match is counted');
  assert.deepEqual(
    flood.events.map((e) => e.pid),
    [1000, 1001, 1002, 1003],
    'the events of the first matches, in order',
  );
  assert.equal(flood.lastSeen, new Date(T0 + n - 1).toISOString(), 'last seen is the latest folded match');
  assert.equal(got.find((a) => a.container.id === C2.id)?.count, 1);
  assert.equal(r.m.stats().deduped, n - 1);
  await done(r);
});

test('folded matches past the dedup window open the next alert; past the rate limit they count as suppressed', async () => {
  const r = await rig({ queueCapacity: 100, maxEvents: 2, dedupWindowMs: 10 * SEC, ratePerMinute: 1 });
  const R = rule('window');
  // Held while the worker is busy: all of them wait in one entry before any is applied.
  for (let i = 0; i < 30; i++) r.m.submit(match(R, T0 + i * SEC));
  await r.m.flush();
  const [a] = (await r.alerts.list({ rule: R.name })).alerts;
  assert.ok(a, 'one alert: the rate limit (1 a minute) suppresses the second window');
  // The first two matches are kept whole and fold into the alert; the 28 counted ones come with the latest (29 s), past the window.
  assert.equal(a.count, 2);
  assert.equal(r.m.stats().suppressed, 28);
  await done(r);
});

test('rules whose kill or freeze runs per match never fold: each match keeps its own process', async () => {
  const runs: number[] = [];
  const runner: ActionRunner = async (alert) => {
    runs.push(alert.lineage[0]!.pid);
    return [];
  };
  const r = await rig({ actions: runner });
  const R = rule('kill it', { actions: ['kill'] });
  for (let i = 0; i < 5; i++) r.m.submit(match(R, T0, { pid: 500 + i }));
  assert.equal(r.m.stats().folded, 0);
  await r.m.flush();
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(
    [...runs].sort((x, y) => x - y),
    [500, 501, 502, 503, 504],
  );
  await done(r);
});

test('actions: all of them once per new alert, kill/freeze again for each folded match (its own pid); outcomes appended, stored and published; a failing runner is recorded', async () => {
  const calls: Array<[string, ActionName[], number | undefined]> = [];
  let fail = false;
  const runner: ActionRunner = async (alert, actions) => {
    calls.push([alert.rule, actions, alert.lineage[0]?.pid]);
    if (fail) throw new Error('webhook down');
    return actions.map((action): ActionOutcome => ({ action, ok: true, detail: `${action} done`, at: new Date(T0).toISOString() }));
  };
  const r = await rig({ actions: runner });
  const K = rule('escape', { actions: ['notify', 'kill'] });
  r.m.submit(match(K, T0, { pid: 4001 }));
  r.m.submit(match(K, T0 + SEC, { pid: 4002 }));
  r.m.submit(match(rule('quiet'), T0));
  await r.m.flush();
  await new Promise((res) => setTimeout(res, 10));
  await r.m.flush();
  // The second process did the same inside the dedup window: folded into the alert, but killed too.
  assert.deepEqual(calls, [
    ['escape', ['notify', 'kill'], 4001],
    ['escape', ['kill'], 4002],
  ]);
  const escape = (await r.alerts.list({ rule: 'escape' })).alerts[0]!;
  assert.deepEqual(
    escape.actions.map((o) => [o.action, o.ok, o.detail]),
    [
      ['notify', true, 'notify done'],
      ['kill', true, 'kill done'],
      ['kill', true, 'kill done'],
    ],
  );
  assert.equal(escape.count, 2);
  assert.equal(escape.lineage[0]?.pid, 4001, 'the alert keeps its first process');
  assert.ok(r.published.some(([a, c]) => c === 'actions' && a.actions.length === 3));
  assert.equal(r.m.stats().followUpRuns, 1);
  fail = true;
  r.m.submit(match(K, T0, { container: C2 }));
  await r.m.flush();
  await new Promise((res) => setTimeout(res, 10));
  await r.m.flush();
  const failed = (await r.alerts.list({ rule: 'escape', container: 'c2' })).alerts[0]!;
  assert.deepEqual(
    failed.actions.map((o) => [o.action, o.ok, o.detail]),
    [
      ['notify', false, 'action runner failed: webhook down'],
      ['kill', false, 'action runner failed: webhook down'],
    ],
  );
  assert.equal(r.m.stats().actionFailures, 1);
  await done(r);
});

test('a match suppressed by the rate limit still gets kill/freeze (counted, logged), not notify', async () => {
  const calls: Array<[string, ActionName[], number | undefined]> = [];
  const runner: ActionRunner = async (alert, actions) => {
    calls.push([alert.id, actions, alert.lineage[0]?.pid]);
    return actions.map((action): ActionOutcome => ({ action, ok: true, detail: `${action} done`, at: new Date(T0).toISOString() }));
  };
  const r = await rig({ actions: runner, ratePerMinute: 1 });
  const K = rule('flooded', { actions: ['notify', 'kill', 'freeze'] });
  // Different executables, so dedup does not fold them: the second is over the rule's rate.
  r.m.submit(match(K, T0, { pid: 5001, exe: '/bin/a' }));
  r.m.submit(match(K, T0 + 1, { pid: 5002, exe: '/bin/b' }));
  await r.m.flush();
  await new Promise((res) => setTimeout(res, 10));
  await r.m.flush();
  assert.equal((await r.alerts.list({ rule: 'flooded' })).alerts.length, 1);
  assert.deepEqual(
    calls.map(([id, a, pid]) => [id === '' ? 'stand-in' : 'alert', a, pid]),
    [
      ['alert', ['notify', 'kill', 'freeze'], 5001],
      ['stand-in', ['kill', 'freeze'], 5002],
    ],
  );
  const st = r.m.stats();
  assert.deepEqual([st.suppressed, st.followUpRuns, st.followUpOutcomesUnrecorded], [1, 1, 2]);
  await done(r);
});

test('a listener that throws or rejects is counted and logged; the others still get the alert', async () => {
  const r = await rig();
  const off = r.m.onAlert(() => {
    throw new Error('boom');
  });
  r.m.onAlert(async () => {
    throw new Error('async boom');
  });
  r.m.submit(match(rule('x'), T0));
  await r.m.flush();
  await new Promise((res) => setImmediate(res));
  assert.equal(r.published.length, 1);
  assert.equal(r.m.stats().listenerErrors, 2);
  off();
  r.m.submit(match(rule('y'), T0));
  await r.m.flush();
  await new Promise((res) => setImmediate(res));
  assert.equal(r.m.stats().listenerErrors, 3);
  await done(r);
});

/** Waits for `cond` (polling), failing after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

test('a full disk: alerts are published unpersisted with seqs of their own, wait (no write per batch), and are all stored once there is room, without a restart', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'vigil-alertfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  try {
    const dir = join(mnt, 'data');
    mkdirSync(dir);
    const store = await Store.open({ dir, log, recoverInitialMs: 50, recoverMaxMs: 200 });
    const clock = { now: T0 };
    const alerts = await AlertStore.open(store, { now: () => clock.now, sweepIntervalMs: 0, log });
    const m = new AlertManager({ store: alerts, now: () => clock.now, summaryIntervalMs: 0, retryIntervalMs: 50, log });
    const r: Rig = { store, alerts, m, published: [], clock, dir };
    m.onAlert((a, change) => void r.published.push([a, change]));
    await m.start();
    r.m.submit(match(rule('before'), T0));
    await r.m.flush();
    const filler = join(mnt, 'filler');
    fill(filler);
    const big = match(rule('during'), T0 + SEC);
    // Make the batch big enough that the log write cannot fit in any slack.
    big.message = 'x'.repeat(256 * 1024);
    r.m.submit(big);
    await r.m.flush();
    const [during, change] = r.published.at(-1)!;
    assert.equal(change, 'opened');
    assert.equal(during.unpersisted, true);
    assert.equal(r.store.health.ok, false, 'the store says it is failing');
    assert.equal(await r.alerts.get(during.id), undefined, 'not in the store');
    assert.equal((await r.m.get(during.id))!.unpersisted, true, 'the manager still knows it');
    const errorsThen = r.store.stats.writeErrors;
    for (let i = 0; i < 40; i++) {
      r.m.submit(match(rule(`more ${i}`), T0 + 2 * SEC));
      await r.m.flush();
    }
    assert.ok(
      r.store.stats.writeErrors - errorsThen < 20,
      `no write per batch while failing (${r.store.stats.writeErrors - errorsThen} errors for 40 batches)`,
    );
    assert.equal(r.m.stats().waiting, 41);
    const seqs = r.published.map(([a]) => a.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'every published version has a seq of its own');

    unlinkSync(filler);
    await until(() => r.m.stats().waiting === 0, 30_000, 'the waiting alerts to be written');
    assert.equal(r.store.health.ok, true);
    const stored = await r.alerts.get(during.id);
    assert.ok(stored, 'written once there is room');
    assert.equal(stored.seq, during.seq, 'it keeps the seq it was published with');
    assert.equal(stored.unpersisted, undefined);
    assert.ok(
      r.published.some(([a, c]) => a.id === during.id && c === 'updated' && a.unpersisted === undefined),
      'published again, persisted',
    );
    assert.equal(r.m.stats().rewritten, 41);
    assert.equal(r.alerts.stats().count, 42, 'nothing lost');
    r.m.submit(match(rule('after'), T0 + 3 * SEC));
    await r.m.flush();
    assert.equal(r.published.at(-1)![0].unpersisted, undefined);
    assert.ok(r.published.at(-1)![0].seq > Math.max(...seqs));
    const msgs = lines.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg);
    assert.equal(msgs.filter((x) => x.startsWith('store writes failing')).length, 1, 'the failure is logged once');
    assert.equal(msgs.filter((x) => x === 'store writes work again').length, 1);
    assert.equal(msgs.filter((x) => x.startsWith('alerts wait for the store')).length, 1);
    await done(r, true);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('the waiting queue is bounded: the oldest are dropped, counted and alerted once the store takes writes again', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'vigil-alertfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  try {
    const dir = join(mnt, 'data');
    mkdirSync(dir);
    const store = await Store.open({ dir, recoverInitialMs: 50, recoverMaxMs: 200 });
    const clock = { now: T0 };
    const alerts = await AlertStore.open(store, { now: () => clock.now, sweepIntervalMs: 0 });
    const m = new AlertManager({ store: alerts, now: () => clock.now, summaryIntervalMs: 0, retryIntervalMs: 50, maxUnpersisted: 5 });
    const r: Rig = { store, alerts, m, published: [], clock, dir };
    await m.start();
    const filler = join(mnt, 'filler');
    fill(filler);
    const big = match(rule('during'), T0);
    big.message = 'x'.repeat(256 * 1024);
    r.m.submit(big);
    await r.m.flush();
    for (let i = 0; i < 10; i++) r.m.submit(match(rule(`flood ${i}`), T0));
    await r.m.flush();
    assert.ok(r.m.stats().unpersistedDropped >= 6);
    assert.ok(r.m.stats().waiting <= 6);
    unlinkSync(filler);
    await until(() => r.m.stats().waiting === 0, 30_000, 'the waiting alerts to be written');
    const loss = (await r.alerts.list({ rule: STORE_LOSS_RULE.name })).alerts;
    assert.equal(loss.length, 1);
    assert.match(loss[0]!.message, /dropped since start/);
    await done(r, true);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test("Falco's alert fields: the output's field values, the source and the host, on the alert and through the API", async () => {
  const r = await rig();
  const outputFields = [
    { name: 'proc.name', value: 'sh' },
    { name: 'proc.pid', value: 4711 },
    { name: 'container.privileged', value: false },
    { name: 'user.name', value: null },
  ];
  r.m.submit({ ...match(rule('shell in container'), T0), outputFields });
  r.m.submit(match(rule('memory near limit', { kind: 'metric' }), T0 + SEC, { container: C2 }));
  await r.m.flush();
  const [event, metric] = r.published.map(([a]) => a);
  assert.deepEqual([event!.outputFields, event!.source, event!.hostname], [outputFields, 'syscall', hostname()]);
  assert.equal(metric!.source, 'vigil_metrics');
  // evt.time (unix ns) first, then each field typed; a field without a value carries none.
  assert.deepEqual(toApiAlert(event!).output_fields, [
    { name: 'evt.time', integer: String(BigInt(T0) * 1_000_000n) },
    { name: 'proc.name', text: 'sh' },
    { name: 'proc.pid', integer: '4711' },
    { name: 'container.privileged', flag: false },
    { name: 'user.name' },
  ]);
  assert.deepEqual([toApiAlert(event!).source, toApiAlert(event!).hostname], ['syscall', hostname()]);
  await done(r);
});
