// The gRPC API over real sockets: a real server (daemon/api/grpc.ts) over the daemon's real alert
// manager, alert store, target set, series store (LevelDB in a temporary directory) and the repo's
// rule files, with an in-memory event source standing in for the sensor. Clients are built from the
// generated types (proto/gen), as the CLI and the forwarder build theirs.
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { AlertsClient } from '../../proto/gen/vigil/v1/Alerts.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { ForecastsClient } from '../../proto/gen/vigil/v1/Forecasts.js';
import type { RulesClient } from '../../proto/gen/vigil/v1/Rules.js';
import type { StatusClient } from '../../proto/gen/vigil/v1/Status.js';
import type { SubscribeRequest } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { TargetsClient } from '../../proto/gen/vigil/v1/Targets.js';
import { GrpcApi } from '../../daemon/api/grpc.js';
import { Gateway } from '../../daemon/api/gateway.js';
import { HttpApi } from '../../daemon/api/http.js';
import { NO_SOURCES, vigilFamilies } from '../../daemon/api/families.js';
import { MetricsRegistry } from '../../daemon/api/prometheus.js';
import { clientConstructors } from '../../daemon/api/proto.js';
import { WebRoot } from '../../daemon/api/web.js';
import { unaryCall as call } from '../net.js';
import type { ContainerView, DaemonServices, EventSource } from '../../daemon/api/services.js';
import type { StreamEvent } from '../../daemon/api/convert.js';
import { AlertManager } from '../../daemon/alerts/manager.js';
import { AlertStore } from '../../daemon/alerts/store.js';
import { TargetSet } from '../../daemon/containers/targets.js';
import type { ContainerInfo } from '../../daemon/containers/container-info.js';
import type { ContainerRef } from '../../daemon/core/container.js';
import { validateRuleText } from '../../daemon/detect/manager.js';
import { RuleSet } from '../../daemon/detect/ruleset.js';
import type { RuleInfo, RuleMatch } from '../../daemon/detect/rule-match.js';
import { ConfigError } from '../../daemon/core/errors.js';
import { silentLogger } from '../../daemon/core/log.js';
import { SeriesStore } from '../../daemon/metrics/series.js';
import { KTIME, type ExecEvent } from '../../daemon/sensor/events.js';
import { BoundedQueue } from '../../daemon/core/queue.js';
import { Store } from '../../daemon/store/store.js';
import { HOSTILE, HOSTILE_EXE_GLOB } from '../../common/hostile-patterns.js';

const REPO = join(import.meta.dirname, '../../../..');
const RULE_DIRS = [join(REPO, 'rules')];
const TOKEN = 'a-test-token-of-32-characters-xx';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const WEB: ContainerRef = { id: 'c0ffee000001', name: 'web-1', runtime: 'runc', image: 'busybox', namespace: 'prod' };
const DB: ContainerRef = { id: 'dbdbdb000002', name: 'db-1', runtime: 'runc', image: 'busybox', namespace: 'staging' };
const SEC: ContainerRef = { id: '5ec5ec000004', name: 'sec-1', runtime: 'runc', image: 'busybox' };
const OLD: ContainerRef = { id: '01d01d000003', name: 'old-1', runtime: 'runc', image: 'busybox' };

function execEvent(pid: number, exe: string, container: ContainerRef): ExecEvent {
  const ns = { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 };
  const creds = {
    uid: 0,
    euid: 0,
    suid: 0,
    fsuid: 0,
    gid: 0,
    egid: 0,
    sgid: 0,
    fsgid: 0,
    cap_effective: '0x1ffffffffff',
    cap_permitted: '0x0',
    cap_inheritable: '0x0',
  };
  return {
    kind: 'exec',
    time: new Date().toISOString(),
    pid,
    tid: pid,
    ppid: 1,
    vpid: pid,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: exe.split('/').pop()!,
    cgroup_id: 4242,
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
    exe_ino: 7,
    exe_dev: 8,
    proc: { exe, args: [exe], ancestors: [{ pid: 1, exe: '/sbin/init', comm: 'init', args: ['/sbin/init'], uid: 0 }] },
    container,
    [KTIME]: 123456789012345678n,
  };
}

function rule(name: string, severity: RuleInfo['severity'] = 'critical'): RuleInfo {
  return { name, desc: name, kind: 'event', severity, tags: ['T1611'], enabled: true, actions: [], source: 'test.yaml:1' };
}

/** The sensor's side of a subscription, in memory: a bounded queue drained on the next tick. */
class FakeEvents implements EventSource {
  private readonly subs = new Set<{ q: BoundedQueue<StreamEvent>; handler: (ev: StreamEvent) => void; filter?: (ev: StreamEvent) => boolean }>();
  subscribe(handler: (ev: StreamEvent) => void, options: { capacity: number; filter?: (ev: StreamEvent) => boolean }) {
    const s = { q: new BoundedQueue<StreamEvent>(options.capacity), handler, ...(options.filter ? { filter: options.filter } : {}) };
    this.subs.add(s);
    const subs = this.subs;
    return {
      get dropped() {
        return s.q.dropped;
      },
      get queued() {
        return s.q.length;
      },
      unsubscribe() {
        subs.delete(s);
      },
    };
  }
  emit(ev: StreamEvent): void {
    for (const s of this.subs) if (!s.filter || s.filter(ev)) s.q.push(ev);
    setImmediate(() => {
      for (const s of this.subs) for (let e = s.q.shift(); e; e = s.q.shift()) s.handler(e);
    });
  }
  get count(): number {
    return this.subs.size;
  }
}

interface World {
  dir: string;
  store: Store;
  alerts: AlertManager;
  alertStore: AlertStore;
  targets: TargetSet;
  series: SeriesStore;
  events: FakeEvents;
  services: DaemonServices;
  api: GrpcApi;
  socket: string;
  cert: Buffer;
  exeCounter: number;
}

function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'api.crt');
  const key = join(dir, 'api.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

async function makeWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const store = await Store.open({ dir: join(dir, 'data'), log: silentLogger() });
  const alertStore = await AlertStore.open(store, { log: silentLogger() });
  const alerts = new AlertManager({ store: alertStore, log: silentLogger(), actions: async () => [], dedupWindowMs: 60_000, ratePerMinute: 1_000_000 });
  await alerts.start();
  const targets = await TargetSet.open(store, { log: silentLogger() });
  const series = await SeriesStore.open(store, { log: silentLogger(), flushIntervalMs: 0, sweepIntervalMs: 0 });
  const events = new FakeEvents();
  const info = (r: ContainerRef, stoppedAt?: string): ContainerInfo => ({
    ...r,
    labels: { app: r.name },
    cgroupId: 1,
    cgroupPath: `/runc/${r.id}`,
    startedAt: new Date().toISOString(),
    ...(stoppedAt ? { stoppedAt } : {}),
  });
  const view = (i: ContainerInfo, latest: Record<string, number> = {}): ContainerView => ({
    info: i,
    running: !i.stoppedAt,
    monitored: true,
    latest,
    sampledAt: Date.now(),
  });
  const services: DaemonServices = {
    events,
    containers: {
      list: () => [
        view(info(WEB), { memory_working_set_bytes: 5e6, memory_limit_bytes: 1e7 }),
        view(info(DB)),
        view(info(SEC)),
        view(info(OLD, new Date().toISOString())),
      ],
      host: () => view({ id: 'host', name: 'host', runtime: 'host', image: '', labels: {}, cgroupId: 0, cgroupPath: '/', startedAt: new Date().toISOString() }),
    },
    alerts: {
      list: (f, p) => alerts.list(f, p),
      get: (id) => alerts.get(id),
      acknowledge: (id, w, c) => alerts.acknowledge(id, w, c),
      resolve: (id, w, c) => alerts.resolve(id, w, c),
      since: (s, l) => alerts.since(s, l),
      onAlert: (fn) => alerts.onAlert(fn),
      lastSeq: () => alertStore.seq,
      stored: () => alertStore.stats().count,
      range: () => alertStore.range(),
      storeState: () => ({ ok: true, since: Date.now(), epoch: alertStore.epoch, persisted: alertStore.stats().persisted, waiting: 0, dropped: 0 }),
    },
    targets: { addBatch: (s) => targets.addBatch(s), removeBatch: (s) => targets.removeBatch(s), list: () => targets.list() },
    metrics: { query: (t, m, f, to, st) => series.query(t, m, f, to, st) },
    rules: {
      list: () => RuleSet.load(RULE_DIRS).rules(),
      validate: async (text, file) => validateRuleText(RULE_DIRS, text, file),
      reload: async () => ({
        ok: true,
        errors: [],
        rules: RuleSet.load(RULE_DIRS)
          .rules()
          .map((r) => r.name),
      }),
    },
    status: {
      version: '0.1.0-test',
      startedAt: Date.now(),
      source: () => 'replay',
      probes: () => [
        { object: 'process', program: 'handle_exec', section: 'tp_btf/sched_process_exec', attached: true, reason: '' },
        { object: 'lsm', program: 'file_open', section: 'lsm/file_open', attached: false, reason: 'LSM programs refused (EPERM)' },
      ],
      sensorStats: () => undefined,
    },
  };
  const { cert, key } = makeCert(dir);
  writeFileSync(join(dir, 'token'), TOKEN + '\n');
  const socket = join(dir, 'run', 'vigil.sock');
  const api = await GrpcApi.start({
    socket,
    listen: '127.0.0.1:0',
    tls: { cert, key },
    token: TOKEN,
    services,
    logger: silentLogger(),
    heartbeatMs: 200,
    maxSubscribers: 200,
  });
  return { dir, store, alerts, alertStore, targets, series, events, services, api, socket, cert: readFileSync(cert), exeCounter: 0 };
}

async function closeWorld(w: World): Promise<void> {
  await w.api.close();
  await w.alerts.stop();
  await w.series.close();
  await w.store.close();
  rmSync(w.dir, { recursive: true, force: true });
}

type Clients = {
  events: EventsClient;
  alerts: AlertsClient;
  targets: TargetsClient;
  rules: RulesClient;
  status: StatusClient;
  forecasts: ForecastsClient;
  close(): void;
};

function clients(address: string, creds: grpc.ChannelCredentials, options: grpc.ClientOptions = {}): Clients {
  const C = clientConstructors();
  const mk = <T>(name: string): T => new C[name]!(address, creds, options) as unknown as T;
  const out = {
    events: mk<EventsClient>('Events'),
    alerts: mk<AlertsClient>('Alerts'),
    targets: mk<TargetsClient>('Targets'),
    rules: mk<RulesClient>('Rules'),
    status: mk<StatusClient>('Status'),
    forecasts: mk<ForecastsClient>('Forecasts'),
  };
  return { ...out, close: () => Object.values(out).forEach((c) => c.close()) };
}

function unixClients(w: World): Clients {
  return clients(`unix:${w.socket}`, grpc.credentials.createInsecure());
}

function tlsClients(w: World, token: string | undefined, scheme = 'Bearer'): Clients {
  let creds = grpc.credentials.createSsl(w.cert);
  if (token !== undefined) {
    creds = grpc.credentials.combineChannelCredentials(
      creds,
      grpc.credentials.createFromMetadataGenerator((_p, cb) => {
        const md = new grpc.Metadata();
        md.set('authorization', `${scheme} ${token}`);
        cb(null, md);
      }),
    );
  }
  return clients(`localhost:${w.api.port}`, creds);
}

/** Promisified unary call. */

async function rejectsWith(p: Promise<unknown>, code: grpc.status, re?: RegExp): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    if (re) assert.match(e.details, re);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}`);
}

/** A subscription that collects what it receives. */
class Collector {
  readonly messages: SubscribeResponse__Output[] = [];
  readonly alerts: Array<{ seq: number; at: number }> = [];
  readonly gaps: SubscribeResponse__Output['gap'][] = [];
  error: grpc.ServiceError | undefined;
  readonly stream: grpc.ClientReadableStream<SubscribeResponse__Output>;
  private waiters: Array<() => void> = [];
  constructor(client: EventsClient, req: SubscribeRequest, paused = false) {
    this.stream = client.Subscribe(req);
    if (paused) this.stream.pause();
    this.stream.on('data', (m: SubscribeResponse__Output) => {
      if (m.message === 'heartbeat') return;
      this.messages.push(m);
      if (m.message === 'alert') this.alerts.push({ seq: Number(m.alert!.seq), at: Date.now() });
      if (m.message === 'gap') this.gaps.push(m.gap);
      for (const w of this.waiters.splice(0)) w();
    });
    this.stream.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.error && this.error.code !== grpc.status.CANCELLED) assert.fail(`${what}: stream failed: ${this.error.details}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (have ${this.messages.length} messages)`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  /** Resolves when the server has the stream open. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.once('metadata', () => resolve());
      this.stream.once('error', reject);
    });
  }
  cancel(): void {
    this.stream.cancel();
  }
}

async function raise(w: World, n: number, over: { rule?: string; container?: ContainerRef; severity?: RuleInfo['severity'] } = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    const exe = `/usr/bin/tool-${++w.exeCounter}`;
    const ev = execEvent(1000 + w.exeCounter, exe, over.container ?? WEB);
    const m: RuleMatch = {
      rule: rule(over.rule ?? 'Shell in container', over.severity),
      time: Date.now(),
      message: `shell ${exe}`,
      container: over.container ?? WEB,
      events: [ev],
    };
    while (!w.alerts.submit(m)) await w.alerts.flush();
  }
  await w.alerts.flush();
}

describe('gRPC API', () => {
  let w: World;
  before(async () => {
    w = await makeWorld();
  });
  after(async () => {
    await closeWorld(w);
  });

  test('the unix socket is mode 0600 and serves Status without a token', async () => {
    const st = statSync(w.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    const c = unixClients(w);
    try {
      const s = await call<
        object,
        { version: string; probes: Array<{ attached: boolean; reason: string }>; refused: number; attached: number; uptime_ms: string }
      >(c.status, 'Get', {});
      assert.equal(s.version, '0.1.0-test');
      assert.equal(s.attached, 1);
      assert.equal(s.refused, 1);
      assert.match(s.probes[1]!.reason, /EPERM/);
      assert.equal(typeof s.uptime_ms, 'string', 'uint64 fields are decimal strings (longs: String)');
    } finally {
      c.close();
    }
  });

  test('TCP with TLS and the token is served; a missing or wrong token is UNAUTHENTICATED; health needs none', async () => {
    const good = tlsClients(w, TOKEN);
    const none = tlsClients(w, undefined);
    const wrong = tlsClients(w, TOKEN.replace(/x$/, 'y'));
    try {
      const s = await call<object, { version: string }>(good.status, 'Get', {});
      assert.equal(s.version, '0.1.0-test');
      // RFC 7235: the scheme is case-insensitive
      for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
        const c = tlsClients(w, TOKEN, scheme);
        try {
          assert.equal((await call<object, { version: string }>(c.status, 'Get', {})).version, '0.1.0-test', scheme);
        } finally {
          c.close();
        }
      }
      const basic = tlsClients(w, TOKEN, 'Basic');
      await rejectsWith(call(basic.status, 'Get', {}), grpc.status.UNAUTHENTICATED, /missing bearer token/).finally(() => basic.close());
      await rejectsWith(call(none.status, 'Get', {}), grpc.status.UNAUTHENTICATED, /missing bearer token/);
      await rejectsWith(call(wrong.alerts, 'List', {}), grpc.status.UNAUTHENTICATED, /wrong bearer token/);
      const sub = new Collector(wrong.events, { include_alerts: true });
      await sub.until('the refusal', () => sub.error !== undefined);
      assert.equal(sub.error!.code, grpc.status.UNAUTHENTICATED);
      // The standard health service, as a load balancer calls it (no token).
      const Health = grpc.makeGenericClientConstructor(
        {
          Check: {
            path: '/grpc.health.v1.Health/Check',
            requestStream: false,
            responseStream: false,
            requestSerialize: () => Buffer.alloc(0),
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        'Health',
      );
      const h = new Health(`localhost:${w.api.port}`, grpc.credentials.createSsl(w.cert));
      const res = await call<Record<string, never>, Buffer>(h, 'Check', {});
      assert.deepEqual([...res], [0x08, 0x01], 'status SERVING');
      h.close();
    } finally {
      good.close();
      none.close();
      wrong.close();
    }
  });

  test('plain TCP off loopback is refused at start; insecure loopback is allowed', async () => {
    await assert.rejects(
      GrpcApi.start({ listen: '0.0.0.0:0', services: w.services, logger: silentLogger() }),
      (e: unknown) => e instanceof ConfigError && /refusing plain TCP/.test(e.message),
    );
    await assert.rejects(GrpcApi.start({ listen: '0.0.0.0:0', insecure: true, services: w.services, logger: silentLogger() }), ConfigError);
    await assert.rejects(
      GrpcApi.start({ listen: '0.0.0.0:0', tls: { cert: 'x', key: 'y' }, services: w.services, logger: silentLogger() }),
      /needs api.token_file/,
    );
    const api = await GrpcApi.start({ listen: '127.0.0.1:0', insecure: true, services: w.services, logger: silentLogger() });
    const c = clients(`127.0.0.1:${api.port}`, grpc.credentials.createInsecure());
    try {
      assert.equal((await call<object, { version: string }>(c.status, 'Get', {})).version, '0.1.0-test');
    } finally {
      c.close();
      await api.close();
    }
  });

  test('a stale socket file is replaced; a live one is refused', async () => {
    await assert.rejects(GrpcApi.start({ socket: w.socket, services: w.services, logger: silentLogger() }), /another daemon answers/);
    const sock = join(w.dir, 'stale', 'v.sock');
    const first = await GrpcApi.start({ socket: sock, services: w.services, logger: silentLogger() });
    // Leave the file behind as a crashed daemon would: close the servers without the cleanup.
    await (first as unknown as { servers: grpc.Server[] }).servers[0]!.forceShutdown();
    const second = await GrpcApi.start({ socket: sock, services: w.services, logger: silentLogger() });
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    await second.close();
  });

  test('malformed filters are INVALID_ARGUMENT with a message', async () => {
    const c = unixClients(w);
    try {
      const cases: Array<[SubscribeRequest, RegExp]> = [
        [{ include_events: true, allow: [{ container_names: ['web-[1'] }] }, /allow\[0\]\.container_names: bad glob "web-\[1" at column 5: unterminated '\['/],
        [{ include_events: true, deny: [{ kinds: [99 as unknown as 'EVENT_KIND_EXEC'] }] }, /deny\[0\]\.kinds: unknown event kind 99/],
        [{ include_events: true, allow: [{ kinds: ['EVENT_KIND_UNSPECIFIED'] }] }, /unknown event kind "EVENT_KIND_UNSPECIFIED"/],
        [{ include_alerts: true, allow: [{ container_ids: ['ab'] }] }, /shorter than 4/],
        [{ include_alerts: true, field_mask: { paths: ['nonsense'] } }, /field_mask: "nonsense" is a field of neither/],
        [{}, /include_events, include_alerts or both/],
        [{ include_events: true, since_seq: 5 }, /since_seq resumes alerts/],
        [{ include_events: true, allow: [{ exe_globs: ['/bin/[z-a]'] }] }, /allow\[0\]\.exe_globs: bad glob "\/bin\/\[z-a\]" at column 7: reversed range z-a/],
        [
          { include_events: true, allow: [{ exe_globs: Array.from({ length: 9 }, (_, i) => `/${i}`.padEnd(512, '*')) }] },
          /globs longer than 4096 characters in all/,
        ],
        [{ include_events: true, client_name: 'has space' }, /client_name "has space": letters, digits/],
      ];
      for (const [req, re] of cases) {
        const sub = new Collector(c.events, req);
        await sub.until('the refusal', () => sub.error !== undefined);
        assert.equal(sub.error!.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(req));
        assert.match(sub.error!.details, re);
      }
    } finally {
      c.close();
    }
  });

  test('events: filters (kinds, exe globs, namespaces, deny) and a field mask', async () => {
    const c = unixClients(w);
    try {
      const all = new Collector(c.events, { include_events: true });
      const shells = new Collector(c.events, {
        include_events: true,
        allow: [{ kinds: ['EVENT_KIND_EXEC'], exe_globs: ['/bin/*sh'] }],
        deny: [{ pod_namespaces: ['staging'] }],
        field_mask: { paths: ['pid', 'container.name', 'exec.args'] },
      });
      await Promise.all([all.ready(), shells.ready()]);
      w.events.emit(execEvent(10, '/bin/sh', WEB));
      w.events.emit(execEvent(11, '/bin/bash', DB));
      w.events.emit(execEvent(12, '/usr/bin/id', WEB));
      w.events.emit(execEvent(13, '/bin/dash', WEB));
      await all.until('4 events', () => all.messages.length === 4);
      await shells.until('2 events', () => shells.messages.length === 2);
      await sleep(100);
      assert.equal(shells.messages.length, 2);
      const e = shells.messages[0]!.event!;
      assert.equal(e.kind, 'EVENT_KIND_EXEC');
      assert.equal(e.pid, 10);
      assert.equal(e.container?.name, 'web-1');
      assert.equal(e.container?.id, '', 'masked out');
      assert.equal(e.comm, '', 'masked out');
      assert.deepEqual(e.exec?.args, ['/bin/sh', '-c', 'id']);
      assert.equal(shells.messages[1]!.event!.pid, 13);
      const full = all.messages[0]!.event!;
      assert.equal(full.detail, 'exec');
      assert.equal(full.ktime_ns, '123456789012345678');
      assert.equal(full.exec!.creds!.cap_effective, '0x1ffffffffff');
      assert.equal(full.proc!.ancestors[0]!.exe, '/sbin/init');
      all.cancel();
      shells.cancel();
    } finally {
      c.close();
    }
  });

  test('hostile globs: a subscriber with them gets exactly what matches, and the API answers within its deadline meanwhile', async () => {
    const c = unixClients(w);
    const c2 = unixClients(w);
    try {
      // The filter of issue 12 (`**a` x20 then `b`) and the other hostile patterns, on exes of up
      // to 4096 characters; a second subscriber takes everything.
      const exeCases = HOSTILE.filter((h) => h.mode === 'path' && h.pattern.length <= 512);
      const nameCases = HOSTILE.filter((h) => h.mode === 'plain' && h.pattern.length <= 512);
      const hostile = new Collector(c.events, {
        include_events: true,
        client_name: 'hostile',
        allow: [{ exe_globs: [HOSTILE_EXE_GLOB] }, ...nameCases.map((h) => ({ container_names: [h.pattern] }))],
      });
      const all = new Collector(c2.events, { include_events: true });
      await Promise.all([hostile.ready(), all.ready()]);
      let pid = 5000;
      const want: number[] = [];
      for (const h of exeCases) {
        if (h.pattern !== HOSTILE_EXE_GLOB) continue;
        w.events.emit(execEvent(++pid, h.input, WEB));
        if (h.want) want.push(pid);
      }
      for (const h of nameCases) {
        w.events.emit(execEvent(++pid, '/bin/true', { ...WEB, name: h.input }));
        // a name that matches no name glob may still match the exe glob: /bin/true does not
        if (h.want) want.push(pid);
      }
      // Last, one that matches: the stream is ordered, so once it arrives every earlier one has.
      const sentinel = ++pid;
      w.events.emit(execEvent(sentinel, '/x/' + 'a'.repeat(20) + 'b', WEB));
      want.push(sentinel);
      const total = pid - 5000;
      // While the hostile subscriber is connected and its filter is being evaluated: a unary call answers before its deadline.
      const st = await new Promise<{ subscribers: Array<{ name: string }> }>((resolve, reject) =>
        (
          c2.status as unknown as {
            Get(r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: { subscribers: Array<{ name: string }> }) => void): void;
          }
        ).Get({}, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      assert.ok(
        st.subscribers.some((s) => s.name === 'hostile'),
        JSON.stringify(st.subscribers),
      );
      await all.until(`${total} events`, () => all.messages.length === total);
      await hostile.until('the last event', () => hostile.messages.some((m) => m.event!.pid === sentinel));
      assert.deepEqual(
        hostile.messages.map((m) => m.event!.pid).sort((a, b) => a - b),
        want,
      );
      assert.ok(want.length > 0 && want.length < total, `${want.length} of ${total}`);
      hostile.cancel();
      all.cancel();
    } finally {
      c.close();
      c2.close();
    }
  });

  test('fan-out: every subscriber receives every alert, in seq order', async () => {
    const c = unixClients(w);
    try {
      const subs = [0, 1, 2, 3].map(() => new Collector(c.events, { include_alerts: true }));
      const critical = new Collector(c.events, { include_alerts: true, allow: [{ min_severity: 'SEVERITY_CRITICAL', rules: ['Shell in container'] }] });
      await Promise.all([...subs, critical].map((s) => s.ready()));
      const start = w.alertStore.seq;
      await raise(w, 40);
      await raise(w, 5, { severity: 'warning', rule: 'Noisy' });
      for (const s of subs) await s.until('45 alerts', () => s.alerts.length === 45);
      for (const s of subs)
        assert.deepEqual(
          s.alerts.map((a) => a.seq),
          Array.from({ length: 45 }, (_, i) => start + 1 + i),
        );
      await critical.until('40 critical alerts', () => critical.alerts.length === 40);
      const a = critical.messages[0]!;
      assert.equal(a.alert_change, 'ALERT_CHANGE_OPENED');
      assert.equal(a.alert!.severity, 'SEVERITY_CRITICAL');
      assert.equal(a.alert!.events[0]!.detail, 'exec');
      for (const s of [...subs, critical]) s.cancel();
    } finally {
      c.close();
    }
  });

  test('a stalled subscriber gets a gap with the number lost while another stays on time', async () => {
    const c = unixClients(w);
    const c2 = unixClients(w);
    try {
      const stalled = new Collector(c.events, { include_alerts: true, queue_size: 32, client_name: 'stalled-test' }, true);
      const live = new Collector(c2.events, { include_alerts: true });
      await Promise.all([stalled.ready(), live.ready()]);
      const start = w.alertStore.seq;
      const N = 3000;
      const t0 = Date.now();
      await raise(w, N);
      const published = Date.now();
      await live.until(`${N} alerts`, () => live.alerts.length === N);
      const lag = live.alerts[N - 1]!.at - published;
      assert.ok(lag < 2000, `the live subscriber finished ${lag} ms after the last publish`);
      assert.deepEqual(
        live.alerts.map((a) => a.seq),
        Array.from({ length: N }, (_, i) => start + 1 + i),
      );
      assert.equal(live.gaps.length, 0);
      // Unstall: what the queue and the transport held comes first, then the gap, then the rest.
      stalled.stream.resume();
      await stalled.until('the gap and the tail', () => {
        const lost = stalled.gaps.reduce((n, g) => n + Number(g!.lost), 0);
        return stalled.gaps.length > 0 && stalled.alerts.length + lost === N;
      });
      const lost = stalled.gaps.reduce((n, g) => n + Number(g!.lost), 0);
      assert.ok(lost > 0 && lost < N, `lost ${lost}`);
      assert.equal(stalled.gaps[0]!.reason, 'queue_full');
      assert.equal(Number(stalled.gaps[0]!.lost_alerts), Number(stalled.gaps[0]!.lost));
      // The gap tells where to resume from: its last_seq is the last alert delivered before it.
      const gi = stalled.messages.findIndex((m) => m.message === 'gap');
      const before = stalled.messages.slice(0, gi).filter((m) => m.message === 'alert');
      assert.equal(Number(stalled.gaps[0]!.last_seq), Number(before[before.length - 1]!.alert!.seq));
      const status = await call<
        object,
        { subscribers: Array<{ lost: string; name: string }>; subscriber_lost: string; subscriber_lost_by: Record<string, string> }
      >(c2.status, 'Get', {});
      assert.ok(status.subscribers.some((s) => Number(s.lost) === lost && s.name === 'stalled-test'));
      // the daemon's totals count it too, by name, as /metrics does
      assert.equal(Number(status.subscriber_lost_by['stalled-test']), lost);
      assert.ok(Number(status.subscriber_lost) >= lost);
      const api = w.api;
      const exposition = (
        await new MetricsRegistry(vigilFamilies({ ...NO_SOURCES, subscriberDrops: () => api.subscriberDrops() }), { defaults: false }).render()
      ).body;
      assert.match(exposition, /^# TYPE vigil_subscriber_dropped_total counter$/m);
      assert.match(exposition, new RegExp(`^vigil_subscriber_dropped_total\\{subscriber="stalled-test"\\} ${lost}$`, 'm'));
      stalled.cancel();
      live.cancel();
      // a counter: the stream has ended, its losses stay counted
      await stalled.until('the end of the stream', () => stalled.error !== undefined);
      const after = await call<object, { subscriber_lost_by: Record<string, string> }>(c2.status, 'Get', {});
      assert.equal(Number(after.subscriber_lost_by['stalled-test']), lost);
      void t0;
    } finally {
      c.close();
      c2.close();
    }
  });

  test('reconnecting with since_seq receives exactly the missed alerts, then live ones', async () => {
    const c = unixClients(w);
    try {
      const first = new Collector(c.events, { include_alerts: true });
      await first.ready();
      await raise(w, 5);
      await first.until('5 alerts', () => first.alerts.length === 5);
      const last = first.alerts[4]!.seq;
      first.cancel();
      await sleep(50);
      await raise(w, 7);
      await raise(w, 3, { container: DB });
      const missed = Array.from({ length: 10 }, (_, i) => last + 1 + i);
      const again = new Collector(c.events, { include_alerts: true, since_seq: String(last) });
      const webOnly = new Collector(c.events, { include_alerts: true, since_seq: last, allow: [{ container_names: ['web-*'] }] });
      const masked = new Collector(c.events, { include_alerts: true, since_seq: last, field_mask: { paths: ['rule'] } });
      await again.until('the 10 missed', () => again.alerts.length >= 10);
      await masked.until('the 10 missed, masked', () => masked.alerts.length >= 10);
      // Replayed versions carry only the asked-for fields (and id, seq), like live ones.
      for (const m of masked.messages) assert.deepEqual([m.alert!.rule, m.alert!.message, m.alert!.lineage.length], ['Shell in container', '', 0]);
      masked.cancel();
      await webOnly.until('the 7 missed of web', () => webOnly.alerts.length >= 7);
      await raise(w, 2);
      await again.until('2 live', () => again.alerts.length >= 12);
      await sleep(100);
      assert.deepEqual(
        again.alerts.map((a) => a.seq),
        [...missed, last + 11, last + 12],
      );
      assert.deepEqual(
        webOnly.alerts.map((a) => a.seq),
        [...missed.slice(0, 7), last + 11, last + 12],
      );
      again.cancel();
      webOnly.cancel();
    } finally {
      c.close();
    }
  });

  test('cursors that cannot lie: every stream opens with the epoch; a since_seq beyond the range or of another epoch is refused with the range; 2^63 is never wrapped', async () => {
    const c = unixClients(w);
    try {
      await raise(w, 2);
      const range = await w.alertStore.range();
      assert.match(range.epoch, /^[0-9a-f]{16}$/);
      // The first message of a stream is a heartbeat with the epoch and the last seq published.
      const hello = await new Promise<SubscribeResponse__Output>((resolve, reject) => {
        const s = c.events.Subscribe({ include_alerts: true });
        s.once('data', (m: SubscribeResponse__Output) => {
          resolve(m);
          s.cancel();
        });
        s.on('error', (e: grpc.ServiceError) => e.code !== grpc.status.CANCELLED && reject(e));
      });
      assert.equal(hello.message, 'heartbeat');
      assert.deepEqual([hello.heartbeat!.epoch, Number(hello.heartbeat!.last_seq)], [range.epoch, range.last]);

      const refused = async (req: SubscribeRequest, code: grpc.status, re: RegExp): Promise<grpc.ServiceError> => {
        const col = new Collector(c.events, req);
        await col.until('the refusal', () => col.error !== undefined);
        assert.equal(col.error!.code, code, `${grpc.status[col.error!.code]}: ${col.error!.details}`);
        assert.match(col.error!.details, re);
        return col.error!;
      };
      const beyond = await refused({ include_alerts: true, since_seq: String(range.last + 1) }, grpc.status.OUT_OF_RANGE, /beyond the last seq/);
      assert.deepEqual(
        [beyond.metadata.get('vigil-epoch')[0], Number(beyond.metadata.get('vigil-last-seq')[0]), Number(beyond.metadata.get('vigil-first-seq')[0])],
        [range.epoch, range.last, range.first],
      );
      await refused({ include_alerts: true, since_seq: '9223372036854775808' }, grpc.status.OUT_OF_RANGE, /at or above 2\^63/);
      await refused({ include_alerts: true, since_seq: '18446744073709551615' }, grpc.status.OUT_OF_RANGE, /at or above 2\^63/);
      await refused({ include_alerts: true, since_seq: '9007199254740993' }, grpc.status.OUT_OF_RANGE, /beyond any seq/);
      const other = await refused(
        { include_alerts: true, since_seq: '1', epoch: 'ffffffffffffffff' },
        grpc.status.FAILED_PRECONDITION,
        /epoch ffffffffffffffff/,
      );
      assert.equal(other.metadata.get('vigil-epoch')[0], range.epoch);
      await refused({ include_alerts: true, since_seq: '1', epoch: 'not-an-epoch' }, grpc.status.INVALID_ARGUMENT, /not an epoch id/);

      // The right epoch resumes; from_oldest replays every stored alert.
      const resumeHello = await new Promise<SubscribeResponse__Output>((resolve, reject) => {
        const s = c.events.Subscribe({ include_alerts: true, since_seq: String(range.last - 1) });
        s.once('data', (m: SubscribeResponse__Output) => {
          resolve(m);
          s.cancel();
        });
        s.on('error', (e: grpc.ServiceError) => e.code !== grpc.status.CANCELLED && reject(e));
      });
      assert.equal(Number(resumeHello.heartbeat!.last_seq), range.last - 1, 'a resuming stream opens at its cursor (the replay follows)');
      const ok = new Collector(c.events, { include_alerts: true, since_seq: String(range.last - 1), epoch: range.epoch });
      await ok.until('the last alert', () => ok.alerts.length >= 1);
      assert.equal(ok.alerts[0]!.seq, range.last);
      ok.cancel();
      const all = new Collector(c.events, { include_alerts: true, from_oldest: true });
      await all.until('every stored alert', () => all.alerts.length >= w.alertStore.stats().count);
      assert.equal(all.alerts[0]!.seq, range.first);
      all.cancel();
      const st = await call<object, { alerts: { epoch: string; store_error: string } }>(c.status, 'Get', {});
      assert.deepEqual([st.alerts.epoch, st.alerts.store_error], [range.epoch, '']);
    } finally {
      c.close();
    }
  });

  test('alerts: list with filters and paging, get, acknowledge and resolve with comment and who', async () => {
    const c = tlsClients(w, TOKEN);
    try {
      await raise(w, 3, { rule: 'Listed rule', container: DB });
      const page = await call<object, { alerts: Array<{ id: string; rule: string; seq: string }>; next_page_token: string }>(c.alerts, 'List', {
        rule: 'Listed rule',
        limit: 2,
      });
      assert.equal(page.alerts.length, 2);
      assert.ok(page.next_page_token);
      const rest = await call<object, { alerts: Array<{ id: string }> }>(c.alerts, 'List', { rule: 'Listed rule', limit: 2, page_token: page.next_page_token });
      assert.equal(rest.alerts.length, 1);
      const id = page.alerts[0]!.id;
      const got = await call<object, { id: string; container: { name: string } }>(c.alerts, 'Get', { id });
      assert.equal(got.container.name, 'db-1');
      const acked = await call<object, { state: string; history: Array<{ by: string; comment: string }> }>(c.alerts, 'Acknowledge', {
        id,
        comment: 'looking',
        by: 'alice',
      });
      assert.equal(acked.state, 'ALERT_STATE_ACKNOWLEDGED');
      const h = acked.history.at(-1)!;
      assert.deepEqual([h.by, h.comment], ['alice', 'looking']);
      const resolved = await call<object, { state: string }>(c.alerts, 'Resolve', { id, comment: 'fixed' });
      assert.equal(resolved.state, 'ALERT_STATE_RESOLVED');
      await rejectsWith(call(c.alerts, 'Get', { id: 'nope' }), grpc.status.NOT_FOUND);
      await rejectsWith(call(c.alerts, 'Get', {}), grpc.status.INVALID_ARGUMENT, /id is required/);
      await rejectsWith(call(c.alerts, 'List', { page_token: 'garbage' }), grpc.status.INVALID_ARGUMENT);
      await rejectsWith(call(c.forecasts, 'Get', { target: 'host', metric: 'memory_usage_bytes' }), grpc.status.NOT_FOUND);
      await rejectsWith(call(c.forecasts, 'Get', { target: 'host', metric: 'bogus' }), grpc.status.INVALID_ARGUMENT, /unknown metric/);
    } finally {
      c.close();
    }
  });

  test('containers: list joins the latest samples and open alerts; get by id; stopped ones on request', async () => {
    const c = unixClients(w);
    const containers = new (clientConstructors()['Containers']!)(`unix:${w.socket}`, grpc.credentials.createInsecure());
    try {
      await raise(w, 1, { rule: 'Sec warning', container: SEC, severity: 'warning' });
      await raise(w, 1, { rule: 'Sec critical', container: SEC, severity: 'critical' });
      await raise(w, 1, { rule: 'Sec notice', container: SEC, severity: 'notice' });
      const crit = await call<object, { alerts: Array<{ id: string }> }>(c.alerts, 'List', { rule: 'Sec critical' });
      await call(c.alerts, 'Acknowledge', { id: crit.alerts[0]!.id });
      type Summary = {
        info: { ref: { id: string; name: string } };
        running: boolean;
        latest: Record<string, number>;
        open_alerts: number;
        worst_open_severity: string;
      };
      const list = await call<object, { containers: Summary[]; host: Summary }>(containers, 'List', {});
      assert.deepEqual(
        list.containers.map((x) => x.info.ref.name),
        ['db-1', 'sec-1', 'web-1'],
      );
      const sec = list.containers.find((x) => x.info.ref.id === SEC.id)!;
      assert.deepEqual([sec.open_alerts, sec.worst_open_severity], [2, 'SEVERITY_WARNING']);
      const web = list.containers.find((x) => x.info.ref.id === WEB.id)!;
      assert.equal(web.latest['memory_working_set_bytes'], 5e6);
      assert.equal(list.host.info.ref.id, 'host');
      const all = await call<object, { containers: Summary[] }>(containers, 'List', { include_stopped: true });
      assert.deepEqual(all.containers.map((x) => [x.info.ref.name, x.running]).at(-1), ['old-1', false]);
      const one = await call<object, Summary>(containers, 'Get', { id: SEC.id });
      assert.equal(one.open_alerts, 2);
      await rejectsWith(call(containers, 'Get', { id: 'nope' }), grpc.status.NOT_FOUND);
      await rejectsWith(call(containers, 'Get', {}), grpc.status.INVALID_ARGUMENT, /id is required/);
    } finally {
      c.close();
      containers.close();
    }
  });

  test('targets: a batch is applied whole or not at all', async () => {
    const c = unixClients(w);
    try {
      const before = await call<object, { targets: unknown[] }>(c.targets, 'List', {});
      const err = await rejectsWith(
        call(c.targets, 'Add', { targets: [{ selector: 'name:web-*' }, { selector: 'name:db-[1' }, { selector: 'bogus:x' }] }),
        grpc.status.INVALID_ARGUMENT,
      );
      assert.match(err.details, /2 errors, nothing applied/);
      assert.match(err.details, /db-\[1/);
      assert.deepEqual((await call<object, { targets: unknown[] }>(c.targets, 'List', {})).targets, before.targets);
      const added = await call<object, { targets: Array<{ id: string; metrics: string[] }> }>(c.targets, 'Add', {
        targets: [{ selector: 'name:web-*', metrics: ['memory_usage_bytes'] }, { selector: 'label:app=db' }],
      });
      assert.deepEqual(added.targets.map((t) => t.id).sort(), ['label:app=db', 'name:web-*']);
      const listed = await call<object, { targets: Array<{ id: string }> }>(c.targets, 'List', {});
      assert.equal(listed.targets.length, before.targets.length + 2);
      await rejectsWith(call(c.targets, 'Remove', { ids: ['name:web-*', 'name:nothing'] }), grpc.status.INVALID_ARGUMENT, /no such target/);
      assert.equal((await call<object, { targets: unknown[] }>(c.targets, 'List', {})).targets.length, before.targets.length + 2);
      assert.equal((await call<object, { removed: number }>(c.targets, 'Remove', { ids: ['name:web-*', 'label:app=db'] })).removed, 2);
    } finally {
      c.close();
    }
  });

  test('rules: list, and validate returns errors with line and column', async () => {
    const c = unixClients(w);
    try {
      const list = await call<object, { rules: Array<{ name: string; severity: string; kind: string }> }>(c.rules, 'List', {});
      assert.ok(list.rules.length > 10);
      assert.ok(list.rules.every((r) => r.severity.startsWith('SEVERITY_') && r.kind.startsWith('RULE_KIND_')));
      const bad = await call<object, { ok: boolean; errors: Array<{ file: string; line: number; column: number; message: string }> }>(c.rules, 'Validate', {
        file_name: 'mine.yaml',
        text: ['- rule: Broken', '  desc: broken', '  condition: evt.kind = exec and (', '  output: x', '  severity: critical', ''].join('\n'),
      });
      assert.equal(bad.ok, false);
      assert.ok(bad.errors.length >= 1);
      assert.equal(bad.errors[0]!.file, 'mine.yaml');
      assert.equal(bad.errors[0]!.line, 3);
      assert.ok(bad.errors[0]!.column > 1, `column ${bad.errors[0]!.column}`);
      const good = await call<object, { ok: boolean; rules: string[] }>(c.rules, 'Validate', {
        text: [
          '- rule: Good one',
          '  desc: fine',
          '  condition: evt.kind = exec and proc.exe = /bin/true',
          '  output: "ran %proc.exe"',
          '  severity: notice',
          '',
        ].join('\n'),
      });
      assert.deepEqual(good, { ok: true, errors: [], rules: ['Good one'] });
    } finally {
      c.close();
    }
  });

  test('HTTP API: the gateway serves the gRPC services as JSON with the token, maps errors, and streams alerts as SSE with resume', async () => {
    const http = await HttpApi.start({
      listen: '127.0.0.1:0',
      token: TOKEN,
      gateway: new Gateway({ socket: w.socket }),
      metrics: new MetricsRegistry([], { defaults: false }),
      health: () => ({ ok: true, detail: {} }),
      logger: silentLogger(),
    });
    const base = `http://${http.address}/api/v1`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const get = async (path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> }> => {
      const r = await fetch(base + path, { headers });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    try {
      assert.equal((await get('/status', {})).status, 401);
      assert.equal((await get('/status', { authorization: 'Bearer wrong-token-of-the-same-size-xx' })).status, 401);
      // RFC 7235: the scheme in any case, then one or more spaces
      for (const authorization of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer   ${TOKEN}`])
        assert.equal((await get('/status', { authorization })).status, 200, authorization);
      assert.equal((await get('/status', { authorization: `Basic ${TOKEN}` })).status, 401);
      const st = await get('/status');
      assert.deepEqual([st.status, st.body['version'], st.body['source']], [200, '0.1.0-test', 'replay']);
      const list = await get('/containers?include_stopped=true');
      assert.deepEqual(
        (list.body['containers'] as Array<{ info: { ref: { name: string } } }>).map((c) => c.info.ref.name),
        ['db-1', 'sec-1', 'web-1', 'old-1'],
      );
      assert.deepEqual(await get('/containers?include_stopped=maybe'), {
        status: 400,
        body: { code: 'INVALID_ARGUMENT', message: 'include_stopped: true or false, not "maybe"' },
      });
      assert.equal((await get(`/containers/${WEB.id}`)).body['running'], true);
      assert.equal((await get('/containers/nope')).status, 404);
      assert.equal((await get('/alerts?colour=red')).status, 400);
      assert.match(String((await get('/alerts?state=sleeping')).body['message']), /state: one of open, acknowledged, resolved/);
      assert.equal((await get('/nowhere')).status, 404);
      assert.equal((await get('/metrics/host/bogus')).status, 400);
      assert.equal((await get('/forecasts/host/memory_usage_bytes')).body['code'], 'NOT_FOUND');

      // Live alerts over SSE: the alert raised after the stream opened arrives with its seq as the event id.
      const ctl = new AbortController();
      const req = encodeURIComponent(JSON.stringify({ include_alerts: true, allow: [{ rules: ['Gateway rule'] }] }));
      const sse = await fetch(`${base}/stream?request=${req}`, { headers: auth, signal: ctl.signal });
      assert.equal(sse.status, 200);
      assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = sse.body!.getReader();
      await raise(w, 1, { rule: 'Gateway rule', container: DB });
      const first = await readSse(reader, (m) => m.event === 'alert');
      ctl.abort();
      const alert = (first.data as { alert: { id: string; seq: string; rule: string; container: { name: string } }; alert_change: string }).alert;
      assert.deepEqual([alert.rule, alert.container.name, first.id], ['Gateway rule', 'db-1', alert.seq]);

      // Acknowledge through HTTP: JSON only, `by` defaults to the dashboard, the state is the store's.
      const ack = (body: string, type = 'application/json') =>
        fetch(`${base}/alerts/${alert.id}/acknowledge`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
      assert.equal((await ack('{"comment":"x"}', 'text/plain')).status, 415);
      assert.equal((await ack('{"comment":')).status, 400);
      assert.equal((await ack('{"colour":"red"}')).status, 400);
      const acked = (await (await ack('{"comment":"on it"}')).json()) as { state: string; history: Array<{ by: string; comment: string }> };
      assert.equal(acked.state, 'ALERT_STATE_ACKNOWLEDGED');
      assert.deepEqual([acked.history.at(-1)!.by, acked.history.at(-1)!.comment], ['dashboard', 'on it']);
      const viaGrpc = unixClients(w);
      try {
        assert.equal((await call<object, { state: string }>(viaGrpc.alerts, 'Get', { id: alert.id })).state, 'ALERT_STATE_ACKNOWLEDGED');
      } finally {
        viaGrpc.close();
      }

      // Resume: Last-Event-ID replays from the store what came after it (the acknowledged version).
      const ctl2 = new AbortController();
      const again = await fetch(`${base}/stream?request=${req}`, { headers: { ...auth, 'last-event-id': String(Number(alert.seq)) }, signal: ctl2.signal });
      const replayed = await readSse(again.body!.getReader(), (m) => m.event === 'alert');
      ctl2.abort();
      assert.equal((replayed.data as { alert: { id: string; state: string } }).alert.state, 'ALERT_STATE_ACKNOWLEDGED');
      // A cursor the store cannot serve: 416 beyond the range or at/above 2^63 (never wrapped), 409 for another epoch; with the range.
      const range = await w.alertStore.range();
      const beyond = await fetch(`${base}/stream?request=${req}`, { headers: { ...auth, 'last-event-id': String(range.last + 1) } });
      const beyondBody = (await beyond.json()) as { code: string; epoch: string; last_seq: string };
      assert.deepEqual([beyond.status, beyondBody.code, beyondBody.epoch, beyondBody.last_seq], [416, 'OUT_OF_RANGE', range.epoch, String(range.last)]);
      assert.equal((await fetch(`${base}/stream?request=${req}`, { headers: { ...auth, 'last-event-id': '18446744073709551621' } })).status, 416);
      const huge = encodeURIComponent(JSON.stringify({ include_alerts: true, since_seq: '18446744073709551621' }));
      assert.equal((await fetch(`${base}/stream?request=${huge}`, { headers: auth })).status, 416);
      const otherEpoch = encodeURIComponent(JSON.stringify({ include_alerts: true, since_seq: '1', epoch: 'ffffffffffffffff' }));
      const conflict = await fetch(`${base}/stream?request=${otherEpoch}`, { headers: auth });
      assert.deepEqual([conflict.status, ((await conflict.json()) as { epoch: string }).epoch], [409, range.epoch]);
      assert.equal((await fetch(`${base}/stream?request=%7Bnope`, { headers: auth })).status, 400);
      assert.equal(
        (await fetch(`${base}/stream?request=${encodeURIComponent('{"allow":[{"kinds":["EVENT_KIND_UNSPECIFIED"]}]}')}`, { headers: auth })).status,
        400,
      );
    } finally {
      await http.close();
    }
  });

  test('HTTP API: auth none is loopback only and checks the Host header; static files need no token and stay inside the web root', async () => {
    await assert.rejects(
      HttpApi.start({
        listen: '0.0.0.0:0',
        token: TOKEN,
        auth: 'none',
        gateway: new Gateway({ socket: w.socket }),
        metrics: new MetricsRegistry([], { defaults: false }),
        health: () => ({ ok: true, detail: {} }),
        logger: silentLogger(),
      }),
      /only allowed on a loopback/,
    );
    const root = join(w.dir, 'web');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>vigil</title>');
    writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(w.dir, 'secret.txt'), 'not for you');
    const http = await HttpApi.start({
      listen: '127.0.0.1:0',
      auth: 'none',
      gateway: new Gateway({ socket: w.socket }),
      web: new WebRoot(root),
      metrics: new MetricsRegistry([], { defaults: false }),
      health: () => ({ ok: true, detail: {} }),
      logger: silentLogger(),
    });
    const port = Number(http.address.split(':').at(-1));
    try {
      assert.equal((await rawGet(port, '/api/v1/status', 'localhost')).status, 200);
      assert.equal((await rawGet(port, '/api/v1/status', `127.0.0.1:${port}`)).status, 200);
      assert.equal((await rawGet(port, '/api/v1/status', 'attacker.example')).status, 401);
      const index = await rawGet(port, '/', 'localhost');
      assert.deepEqual([index.status, index.headers['content-type'], index.headers['x-frame-options']], [200, 'text/html; charset=utf-8', 'DENY']);
      assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
      const asset = await rawGet(port, '/assets/app-1234.js', 'localhost');
      assert.deepEqual([asset.status, asset.body, asset.headers['cache-control']], [200, 'console.log(1)', 'public, max-age=31536000, immutable']);
      for (const p of ['/../secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/%00'])
        assert.equal((await rawGet(port, p, 'localhost')).status, 404, p);
    } finally {
      await http.close();
    }
  });

  test('streams are counted and bounded: subscribers beyond the limit are RESOURCE_EXHAUSTED', async () => {
    const api = await GrpcApi.start({ socket: join(w.dir, 'small.sock'), services: w.services, logger: silentLogger(), maxSubscribers: 2 });
    const c = clients(`unix:${join(w.dir, 'small.sock')}`, grpc.credentials.createInsecure());
    try {
      const a = new Collector(c.events, { include_alerts: true });
      const b = new Collector(c.events, { include_alerts: true });
      await Promise.all([a.ready(), b.ready()]);
      const third = new Collector(c.events, { include_alerts: true });
      await third.until('the refusal', () => third.error !== undefined);
      assert.equal(third.error!.code, grpc.status.RESOURCE_EXHAUSTED);
      a.cancel();
      b.cancel();
    } finally {
      c.close();
      await api.close();
    }
  });
});

describe('vigild serves the API', () => {
  test('a real daemon: an exec on the host reaches subscribers over the unix socket and over TLS with the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-api-daemon-'));
    const { cert, key } = makeCert(dir);
    writeFileSync(join(dir, 'token'), TOKEN + '\n', { mode: 0o600 });
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'rules', 'mark.yaml'),
      [
        '- rule: API test marker',
        '  desc: marker',
        '  condition: evt.kind = exec and proc.exe = /usr/bin/true',
        '  output: "marker %proc.exe"',
        '  severity: notice',
        '',
      ].join('\n'),
    );
    const socket = join(dir, 'run', 'vigil.sock');
    const tcp = 19800 + (process.pid % 150);
    writeFileSync(
      join(dir, 'vigild.yaml'),
      [
        `data_dir: ${join(dir, 'data')}`,
        `http: { listen: "127.0.0.1:${tcp + 150}" }`,
        'log_level: warn',
        `rules: { dirs: [ ${JSON.stringify(join(REPO, 'rules'))}, ${JSON.stringify(join(dir, 'rules'))} ] }`,
        'alerts: { dedup_window: 1ms }',
        'api:',
        `  socket: ${JSON.stringify(socket)}`,
        `  listen: "127.0.0.1:${tcp}"`,
        `  tls: { cert: ${JSON.stringify(cert)}, key: ${JSON.stringify(key)} }`,
        `  token_file: ${JSON.stringify(join(dir, 'token'))}`,
        '',
      ].join('\n'),
    );
    const child = spawn(join(REPO, 'bin/vigild'), ['--config', join(dir, 'vigild.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    const C = clientConstructors();
    const tlsCreds = (token: string): grpc.ChannelCredentials =>
      grpc.credentials.combineChannelCredentials(
        grpc.credentials.createSsl(readFileSync(cert)),
        grpc.credentials.createFromMetadataGenerator((_p, cb) => {
          const md = new grpc.Metadata();
          md.set('authorization', `Bearer ${token}`);
          cb(null, md);
        }),
      );
    const unixEvents = new C['Events']!(`unix:${socket}`, grpc.credentials.createInsecure()) as unknown as EventsClient;
    const tlsEvents = new C['Events']!(`localhost:${tcp}`, tlsCreds(TOKEN)) as unknown as EventsClient;
    const badStatus = new C['Status']!(`localhost:${tcp}`, tlsCreds('not-the-token-not-the-token')) as unknown as StatusClient;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          statSync(socket);
          break;
        } catch {
          if (child.exitCode !== null || Date.now() > deadline) assert.fail(`vigild did not start:\n${log.slice(-3000)}`);
          await sleep(250);
        }
      }
      // The unix socket is bound before the TCP listener: wait for both.
      while (!(await tcpOpen(tcp))) {
        if (child.exitCode !== null || Date.now() > deadline) assert.fail(`vigild did not listen on ${tcp}:\n${log.slice(-3000)}`);
        await sleep(100);
      }
      assert.equal(statSync(socket).mode & 0o777, 0o600);
      const req: SubscribeRequest = { include_alerts: true, allow: [{ rules: ['API test marker'] }] };
      const viaUnix = new Collector(unixEvents, req);
      const viaTls = new Collector(tlsEvents, req);
      await Promise.all([viaUnix.ready(), viaTls.ready()]);
      await rejectsWith(call(badStatus, 'Get', {}), grpc.status.UNAUTHENTICATED);
      execFileSync('/usr/bin/true');
      await viaUnix.until('the alert over the unix socket', () => viaUnix.alerts.length >= 1);
      await viaTls.until('the alert over TLS', () => viaTls.alerts.length >= 1);
      const a = viaTls.messages.find((m) => m.message === 'alert')!.alert!;
      assert.equal(a.rule, 'API test marker');
      assert.equal(a.container!.id, 'host');
      assert.equal(a.events.at(-1)!.exec!.exe, '/usr/bin/true');
      assert.equal(viaUnix.alerts[0]!.seq, viaTls.alerts[0]!.seq);
      viaUnix.cancel();
      viaTls.cancel();
    } finally {
      unixEvents.close();
      tlsEvents.close();
      badStatus.close();
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => statSync(socket), 'the socket is removed at stop');
  });
});

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads server-sent events until one satisfies `want` (or 10 s pass). */
async function readSse(reader: ReadableStreamDefaultReader<Uint8Array>, want: (m: SseMessage) => boolean): Promise<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const m: SseMessage = { event: 'message', data: undefined };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) m.event = line.slice(7);
        else if (line.startsWith('id: ')) m.id = line.slice(4);
        else if (line.startsWith('data: ')) m.data = JSON.parse(line.slice(6));
      }
      if (m.data !== undefined && want(m)) return m;
    }
  }
  throw new Error('no matching server-sent event within 10 s');
}

/** A GET with a chosen Host header (fetch does not let a caller set it), and the raw path kept. */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
