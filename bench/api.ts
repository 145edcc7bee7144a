// gRPC API benchmark (issue 6): alerts per second delivered to 1 and to 100 Events.Subscribe streams,
// and the latency from a real system call to its alert on a stream (p50, p99; budget p99 < 50 ms).
// Printed, never asserted.
//
// Fan-out: a GrpcApi on a unix socket over the daemon's real AlertManager and AlertStore (LevelDB in a
// temporary dir): every alert is persisted, then published, then written to every stream. The
// subscribers are gRPC clients in a worker thread (their own event loop), each counting what it gets;
// the rate is alerts submitted over the time until every subscriber has received all of them.
//
// Latency: the real daemon (bin/vigild) with one extra rule (exec of /usr/bin/true on the host), its
// API on a unix socket; the bench runs /usr/bin/true ROUNDS times and measures, for each alert, the
// triggering exec event's kernel wall-clock time to the alert's receipt on the stream.
//
// Run after `make build`, as root: node dist/js/bench/api.js
// Env: ALERTS (fan-out alerts per run, default 5000), ROUNDS (latency samples, default 300).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import type { EventsClient } from '../proto/gen/vigil/v1/Events.js';
import type { SubscribeResponse__Output } from '../proto/gen/vigil/v1/SubscribeResponse.js';
import { GrpcApi } from '../daemon/api/grpc.js';
import { clientConstructors } from '../daemon/api/proto.js';
import type { DaemonServices } from '../daemon/api/services.js';
import { AlertManager } from '../daemon/alerts/manager.js';
import { AlertStore } from '../daemon/alerts/store.js';
import type { RuleInfo, RuleMatch } from '../daemon/detect/rule-match.js';
import { silentLogger } from '../daemon/core/log.js';
import { KTIME, type ExecEvent } from '../daemon/sensor/events.js';
import { Store } from '../daemon/store/store.js';

const REPO = join(import.meta.dirname, '../../..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function eventsClient(socket: string): EventsClient {
  return new (clientConstructors()['Events']!)(`unix:${socket}`, grpc.credentials.createInsecure()) as unknown as EventsClient;
}

// ---- worker: the subscribers -------------------------------------------------------------------

if (!isMainThread) {
  const { socket, subscribers, expect } = workerData as { socket: string; subscribers: number; expect: number };
  const client = eventsClient(socket);
  let ready = 0;
  let done = 0;
  let gaps = 0;
  for (let i = 0; i < subscribers; i++) {
    let got = 0;
    const s = client.Subscribe({ include_alerts: true });
    s.on('metadata', () => {
      if (++ready === subscribers) parentPort!.postMessage({ ready: true });
    });
    s.on('data', (m: SubscribeResponse__Output) => {
      if (m.message === 'gap') gaps += Number(m.gap!.lost);
      if (m.message !== 'alert') return;
      if (++got === expect && ++done === subscribers) {
        parentPort!.postMessage({ done: true, at: Date.now(), gaps });
        client.close();
        process.exit(0);
      }
    });
    s.on('error', () => undefined);
  }
}

function rule(name: string): RuleInfo {
  return { name, desc: name, kind: 'event', severity: 'critical', tags: [], enabled: true, actions: [], source: 'bench:1' };
}

function execEvent(i: number): ExecEvent {
  const ns = { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 };
  const creds = { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, cap_effective: '0x0', cap_permitted: '0x0', cap_inheritable: '0x0' };
  const exe = `/usr/bin/tool-${i}`;
  return {
    kind: 'exec',
    time: new Date().toISOString(),
    pid: 1000 + i,
    tid: 1000 + i,
    ppid: 1,
    vpid: 7,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'tool',
    cgroup_id: 1,
    ns,
    retval: 0,
    exe,
    args: [exe, '--flag'],
    argc: 2,
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
    proc: { exe, args: [exe], ancestors: [{ pid: 1, exe: '/sbin/init', comm: 'init', args: [], uid: 0 }] },
    container: { id: 'c0ffee000001', name: 'web-1', runtime: 'runc', image: 'busybox' },
    [KTIME]: 0n,
  };
}

async function fanout(subscribers: number, alerts: number): Promise<{ rate: number; deliveries: number; gaps: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-api-'));
  const store = await Store.open({ dir: join(dir, 'data'), log: silentLogger() });
  const alertStore = await AlertStore.open(store, { log: silentLogger() });
  const manager = new AlertManager({ store: alertStore, log: silentLogger(), actions: async () => [], dedupWindowMs: 1, ratePerMinute: 1e9 });
  await manager.start();
  const services: DaemonServices = {
    alerts: {
      list: (f, p) => manager.list(f, p),
      get: (id) => manager.get(id),
      acknowledge: (i, w, c) => manager.acknowledge(i, w, c),
      resolve: (i, w, c) => manager.resolve(i, w, c),
      since: (s, l) => manager.since(s, l),
      onAlert: (fn) => manager.onAlert(fn),
      lastSeq: () => alertStore.seq,
      stored: () => alertStore.stats().count,
    },
    targets: { addBatch: async () => [], removeBatch: async () => [], list: () => [] },
    containers: {
      list: () => [],
      host: () => ({
        info: { id: 'host', name: 'host', runtime: 'host', image: '', labels: {}, cgroupId: 0, cgroupPath: '/', startedAt: new Date().toISOString() },
        running: true,
        monitored: false,
        latest: {},
      }),
    },
    metrics: { query: async () => ({ resolution: 'raw', step: 0, points: [] }) },
    rules: { list: () => [], validate: async () => ({ ok: true, errors: [], rules: [] }), reload: async () => ({ ok: true, errors: [], rules: [] }) },
    status: { version: 'bench', startedAt: Date.now(), source: () => 'none', probes: () => [], sensorStats: () => undefined },
  };
  const socket = join(dir, 'vigil.sock');
  const api = await GrpcApi.start({ socket, services, logger: silentLogger(), maxSubscribers: subscribers + 1, queueSize: 65536 });
  const worker = new Worker(new URL(import.meta.url), { workerData: { socket, subscribers, expect: alerts } });
  const result = new Promise<{ at: number; gaps: number }>((resolve, reject) => {
    worker.on('message', (m: { done?: boolean; at?: number; gaps?: number }) => m.done && resolve({ at: m.at!, gaps: m.gaps! }));
    worker.on('error', reject);
  });
  await new Promise<void>((resolve) => worker.on('message', (m: { ready?: boolean }) => m.ready && resolve()));
  const t0 = Date.now();
  for (let i = 0; i < alerts; i++) {
    const m: RuleMatch = {
      rule: rule('Bench'),
      time: Date.now(),
      message: `bench ${i}`,
      container: { id: 'c0ffee000001', name: 'web-1', runtime: 'runc', image: 'busybox' },
      events: [execEvent(i)],
    };
    while (!manager.submit(m)) await sleep(1);
    if (i % 256 === 0) await sleep(0);
  }
  const { at, gaps } = await result;
  const secs = (at - t0) / 1000;
  await worker.terminate();
  await api.close();
  await manager.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate: alerts / secs, deliveries: (alerts * subscribers) / secs, gaps };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** RFC 3339 with nanoseconds to unix ms (fractional). */
function wallMs(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(time);
  if (!m) return Date.parse(time);
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(m[2]) * 1000 : 0);
}

async function latency(rounds: number): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-lat-'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(
    join(rules, 'bench.yaml'),
    [
      '- rule: Bench exec of true',
      '  desc: bench marker',
      '  condition: evt.kind = exec and proc.exe = /usr/bin/true',
      '  output: "bench %proc.exe"',
      '  severity: notice',
      '',
    ].join('\n'),
  );
  const socket = join(dir, 'vigil.sock');
  const port = 19500 + (process.pid % 400);
  writeFileSync(
    join(dir, 'vigild.yaml'),
    [
      `data_dir: ${join(dir, 'data')}`,
      `http: { listen: "127.0.0.1:${port}" }`,
      'log_level: warn',
      `rules: { dirs: [ ${JSON.stringify(join(REPO, 'rules'))}, ${JSON.stringify(rules)} ] }`,
      'alerts: { dedup_window: 1ms, rate_per_minute: 1000000 }',
      `api: { socket: ${JSON.stringify(socket)} }`,
      '',
    ].join('\n'),
  );
  const child = spawn(join(REPO, 'bin/vigild'), ['--config', join(dir, 'vigild.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const client = eventsClient(socket);
    const deadline = Date.now() + 60_000;
    let stream: grpc.ClientReadableStream<SubscribeResponse__Output> | undefined;
    while (!stream) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`vigild did not start:\n${log.slice(-3000)}`);
      const s = client.Subscribe({ include_alerts: true, allow: [{ rules: ['Bench exec of true'] }] });
      const ok = await new Promise<boolean>((r) => {
        s.once('metadata', () => r(true));
        s.once('error', () => r(false));
      });
      if (ok) stream = s;
      else await sleep(250);
    }
    const lat: number[] = [];
    stream.on('data', (m: SubscribeResponse__Output) => {
      if (m.message !== 'alert') return;
      const evs = m.alert!.events;
      const ev = evs[evs.length - 1];
      if (ev) lat.push(Date.now() - wallMs(ev.time));
    });
    await sleep(500);
    for (let i = 0; i < rounds; i++) {
      execFileSync('/usr/bin/true');
      await sleep(10);
    }
    const until = Date.now() + 5000;
    while (lat.length < rounds && Date.now() < until) await sleep(50);
    stream.cancel();
    client.close();
    const sorted = [...lat].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, n: sorted.length };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  const ALERTS = Number(process.env.ALERTS ?? 5000);
  const ROUNDS = Number(process.env.ROUNDS ?? 300);
  for (const subs of [1, 100]) {
    const r = await fanout(subs, ALERTS);
    console.log(
      `fan-out to ${String(subs).padStart(3)} subscriber(s): ${Math.round(r.rate)} alerts/s persisted and delivered to all (${Math.round(r.deliveries)} deliveries/s, ${r.gaps} lost)`,
    );
  }
  const l = await latency(ROUNDS);
  console.log(
    `syscall-to-alert on the stream (real daemon, exec of /usr/bin/true, ${l.n} of ${ROUNDS}): p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms (budget p99 < 50 ms)`,
  );
}
