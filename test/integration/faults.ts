// Fault scenarios against the real daemon (bin/vigild), the real forwarder (vigil-forward), real
// LevelDB, a real tmpfs and real kill -9s (issue 12). Each scenario returns what it counted; the
// tests (faults.test.ts) assert on it and bench/faults.sh prints it.
//
// Alerts come from a rule on the exec of a copy of /usr/bin/true with a name of its own (so no other
// process matches), run N times by a shell loop. A dedup hit folds a match into an open alert
// (count + 1): the alerts' counts add up to the matches, so "produced" is the number of execs and
// "persisted" the sum of the counts of the stored alerts of the rule.
//
// Every wait has a deadline and fails with the daemon's log; nothing is asserted on time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { AlertsClient } from '../../proto/gen/vigil/v1/Alerts.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { GetStatusResponse__Output } from '../../proto/gen/vigil/v1/GetStatusResponse.js';
import type { ListAlertsResponse__Output } from '../../proto/gen/vigil/v1/ListAlertsResponse.js';
import type { StatusClient } from '../../proto/gen/vigil/v1/Status.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import { clientConstructors } from '../../daemon/api/proto.js';
import { ROOT, VIGILD } from './harness.js';

const FORWARDER = join(ROOT, 'dist/js/clients/forwarder/main.js');
const VIGIL = join(ROOT, 'bin/vigil');
const RULE = 'Fault test marker';
/** Deadlines are generous: the tests share a 2-core machine with other daemons and builds. */
const RPC_DEADLINE_MS = 60_000;
const STEP_MS = 120_000;

export interface FaultReport {
  fault: string;
  /** Rule matches made (execs), matches whose alerts are stored at the end, delivered by the forwarder. */
  produced: number;
  persisted: number;
  delivered?: number;
  /** produced - persisted (or stored alerts never delivered, for delivery scenarios). */
  lost: number;
  /** Seqs seen for two different alerts (or at or below a seq handed out before a restart). */
  reused: number;
  notes: Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a wait's condition to end the wait at once (a failed precondition, not a transient error). */
class WaitAborted extends Error {}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms: number, log: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let v: T | undefined;
    try {
      v = await fn();
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log().slice(-4000)}`);
    await sleep(100);
  }
}

/** A real bin/vigild with a data dir, a socket, an HTTP port and the marker rule. */
export class Vigild {
  child: ChildProcess | undefined;
  private text = '';
  private exited: Promise<unknown> | undefined;
  readonly socket: string;
  readonly port: number;
  readonly marker: string;

  constructor(
    readonly work: string,
    readonly dataDir: string,
  ) {
    this.socket = join(work, 'vigil.sock');
    this.port = 20500 + (process.pid % 500);
    this.marker = join(work, 'vigil-fault-mark');
    if (!existsSync(this.marker)) copyFileSync('/usr/bin/true', this.marker);
    chmodSync(this.marker, 0o755);
    mkdirSync(join(work, 'rules'), { recursive: true });
    writeFileSync(
      join(work, 'rules', 'mark.yaml'),
      [
        `- rule: ${RULE}`,
        '  desc: marker',
        `  condition: evt.kind = exec and proc.exe = ${this.marker}`,
        '  output: "marker %proc.exe"',
        '  severity: notice',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(work, 'vigild.yaml'),
      [
        `data_dir: ${JSON.stringify(dataDir)}`,
        `http: { listen: "127.0.0.1:${this.port}" }`,
        'log_level: info',
        `rules: { dirs: [ ${JSON.stringify(join(work, 'rules'))} ] }`,
        'alerts: { dedup_window: 1ms, rate_per_minute: 1000000 }',
        `api: { socket: ${JSON.stringify(this.socket)} }`,
        '',
      ].join('\n'),
    );
  }

  log(): string {
    return this.text;
  }

  /** The LevelDB directory of the daemon's store. */
  get storeDir(): string {
    return join(this.dataDir, 'data');
  }

  async start(): Promise<void> {
    const child = spawn(VIGILD, ['--config', join(this.work, 'vigild.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.text += d.toString()));
    this.exited = new Promise((r) => child.once('exit', r));
    await until(
      'vigild to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`vigild exited ${child.exitCode}:\n${this.text.slice(-3000)}`);
        return (await this.health())?.ok === true ? true : undefined;
      },
      STEP_MS,
      () => this.text,
    );
  }

  async health(): Promise<{ ok: boolean; status: string; detail: { store?: { ok: boolean; error?: string } } } | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
      return (await r.json()) as { ok: boolean; status: string; detail: { store?: { ok: boolean; error?: string } } };
    } catch {
      return undefined;
    }
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** Runs the marker `n` times (each exec is one rule match). */
  fire(n: number): void {
    const r = spawnSync('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do ${this.marker}; i=$((i+1)); done`], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`the marker loop failed: ${r.status}`);
  }

  clients(): { events: EventsClient; alerts: AlertsClient; status: StatusClient; close(): void } {
    const C = clientConstructors();
    const addr = `unix:${this.socket}`;
    const creds = grpc.credentials.createInsecure();
    const events = new C['Events']!(addr, creds) as unknown as EventsClient;
    const alerts = new C['Alerts']!(addr, creds) as unknown as AlertsClient;
    const status = new C['Status']!(addr, creds) as unknown as StatusClient;
    return { events, alerts, status, close: () => [events, alerts, status].forEach((c) => c.close()) };
  }

  async status(): Promise<GetStatusResponse__Output> {
    const c = this.clients();
    try {
      return await new Promise((resolve, reject) =>
        c.status.Get({}, { deadline: Date.now() + RPC_DEADLINE_MS }, (err, v) => (err ? reject(err) : resolve(v!))),
      );
    } finally {
      c.close();
    }
  }

  /** Every stored alert of the marker rule: id -> [seq, count]. */
  async stored(): Promise<Map<string, { seq: number; count: number }>> {
    const c = this.clients();
    const out = new Map<string, { seq: number; count: number }>();
    try {
      let token = '';
      do {
        const page: ListAlertsResponse__Output = await new Promise((resolve, reject) =>
          c.alerts.List({ rule: RULE, limit: 200, page_token: token }, { deadline: Date.now() + RPC_DEADLINE_MS }, (err, v) =>
            err ? reject(err) : resolve(v!),
          ),
        );
        for (const a of page.alerts) out.set(a.id, { seq: Number(a.seq), count: Number(a.count) });
        token = page.next_page_token;
      } while (token !== '');
    } finally {
      c.close();
    }
    return out;
  }

  async persistedMatches(): Promise<number> {
    let n = 0;
    for (const a of (await this.stored()).values()) n += a.count;
    return n;
  }
}

/** Watches a stream: every (seq, id) pair published, persisted or not. */
class SeqWatch {
  readonly pairs = new Map<number, Set<string>>();
  readonly unpersisted = new Set<number>();
  epoch = '';
  private stream: grpc.ClientReadableStream<SubscribeResponse__Output> | undefined;
  private client: ReturnType<Vigild['clients']> | undefined;

  start(d: Vigild): void {
    this.client = d.clients();
    this.stream = this.client.events.Subscribe({ include_alerts: true, allow: [{ rules: [RULE] }] });
    this.stream.on('data', (m: SubscribeResponse__Output) => {
      if (m.message === 'heartbeat' && m.heartbeat!.epoch) this.epoch = m.heartbeat!.epoch;
      if (m.message !== 'alert') return;
      const seq = Number(m.alert!.seq);
      let ids = this.pairs.get(seq);
      if (!ids) this.pairs.set(seq, (ids = new Set()));
      ids.add(m.alert!.id);
      if (m.alert!.unpersisted) this.unpersisted.add(seq);
    });
    this.stream.on('error', () => undefined);
  }

  add(seq: number, id: string): void {
    let ids = this.pairs.get(seq);
    if (!ids) this.pairs.set(seq, (ids = new Set()));
    ids.add(id);
  }

  /** Seqs seen with more than one alert id. */
  reused(): number {
    let n = 0;
    for (const ids of this.pairs.values()) if (ids.size > 1) n++;
    return n;
  }

  stop(): void {
    this.stream?.cancel();
    this.client?.close();
  }
}

/** A webhook receiver for the forwarder; `down` answers 503. */
class Receiver {
  readonly seqs: number[] = [];
  readonly ids = new Set<string>();
  server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        for (const doc of JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ id: string; seq: number; kind: string }>) {
          if (doc.kind !== 'alert') continue;
          this.seqs.push(doc.seq);
          this.ids.add(doc.id);
        }
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
    this.server = undefined;
  }
}

/** A real vigil-forward with one webhook sink. */
class Forward {
  child: ChildProcess | undefined;
  private text = '';
  readonly config: string;
  readonly state: string;

  constructor(work: string, socket: string, port: number, policy: 'oldest' | 'now' = 'oldest') {
    this.config = join(work, 'forward.yaml');
    this.state = join(work, 'forward-state.json');
    writeFileSync(
      this.config,
      [
        `daemon: { address: "unix://${socket}" }`,
        `state_file: ${JSON.stringify(this.state)}`,
        `on_epoch_change: ${policy}`,
        'shutdown_timeout_ms: 2000',
        'sinks:',
        `  - { name: hook, type: webhook, url: "http://127.0.0.1:${port}/alerts", batch: { max_items: 50, max_wait_ms: 20 }, retry: { initial_ms: 50, max_ms: 500 } }`,
        '',
      ].join('\n'),
    );
  }

  log(): string {
    return this.text;
  }

  start(): void {
    this.child = spawn(process.execPath, [FORWARDER, '-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.text += d.toString()));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  cursor(): { seq: number; epoch?: string } | undefined {
    try {
      return (JSON.parse(readFileSync(this.state, 'utf8')) as { sinks: Record<string, { seq: number; epoch?: string }> }).sinks['hook'];
    } catch {
      return undefined;
    }
  }
}

function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // Fill the last few blocks too.
  const fd2 = openSync(`${path}.tail`, 'w');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(4096, 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd2);
  }
}

/**
 * The data dir on an 8 MiB tmpfs, filled while alerts are raised, then freed: no restart, nothing
 * lost, no seq reused, /healthz degraded then ok, `vigil status` showing the store error.
 */
export async function fullDisk(): Promise<FaultReport> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-fault-disk-'));
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr?.toString()}`);
  const d = new Vigild(work, join(mnt, 'vigil'));
  const watch = new SeqWatch();
  const notes: Record<string, unknown> = {};
  try {
    await d.start();
    watch.start(d);
    d.fire(50);
    await until(
      'the first 50 matches stored',
      async () => ((await d.persistedMatches()) === 50 ? true : undefined),
      STEP_MS,
      () => d.log(),
    );
    const filler = join(mnt, 'filler');
    const logFrom = d.log().length;
    fill(filler);
    d.fire(200);
    const degraded = await until(
      '/healthz degraded',
      async () => {
        const h = await d.health();
        return h?.status === 'degraded' ? h : undefined;
      },
      STEP_MS,
      () => d.log(),
    );
    notes['health_while_full'] = degraded.status;
    notes['store_error'] = degraded.detail.store?.error;
    notes['vigil_status_shows_error'] = await until(
      'vigil status to show the store error',
      () => {
        const st = spawnSync(VIGIL, ['--addr', `unix://${d.socket}`, '--timeout', '60s', 'status'], { encoding: 'utf8' });
        return /store failing: VIGIL_STORE_FULL/.test(st.stdout) ? true : undefined;
      },
      STEP_MS,
      () => d.log(),
    ).catch(() => false);
    notes['write_errors_while_full'] = await d.metric('vigil_store_write_errors_total');
    notes['waiting_while_full'] = Number((await d.status()).alerts!.waiting);
    // What the daemon logged at warn or above while full, besides the alerts themselves.
    const noisy = d
      .log()
      .slice(logFrom)
      .split('\n')
      .filter((l) => /"level":(40|50|60)/.test(l) && !l.includes('"alert":{'));
    notes['warnings_while_full'] = noisy.length;
    notes['warning_messages_while_full'] = [...new Set(noisy.map((l) => (JSON.parse(l) as { msg: string }).msg))];
    unlinkSync(filler);
    unlinkSync(`${filler}.tail`);
    await until(
      '/healthz ok again',
      async () => ((await d.health())?.status === 'ok' ? true : undefined),
      STEP_MS,
      () => d.log(),
    );
    notes['health_after'] = 'ok';
    d.fire(50);
    const produced = 300;
    const persisted = await until(
      'every match stored',
      async () => {
        const n = await d.persistedMatches();
        return n >= produced && (await d.status()).alerts!.waiting === '0' ? n : undefined;
      },
      STEP_MS,
      () => d.log(),
    ).catch(async () => d.persistedMatches());
    notes['write_errors_total'] = await d.metric('vigil_store_write_errors_total');
    notes['reopens'] = await d.metric('vigil_store_reopens_total');
    notes['unpersisted_published'] = watch.unpersisted.size;
    notes['failing_logged'] = (d.log().match(/store writes failing/g) ?? []).length;
    notes['recovered_logged'] = (d.log().match(/store writes work again/g) ?? []).length;
    for (const [id, a] of await d.stored()) watch.add(a.seq, id);
    return { fault: 'full disk (8 MiB tmpfs filled, then freed, no restart)', produced, persisted, lost: produced - persisted, reused: watch.reused(), notes };
  } finally {
    watch.stop();
    await d.stop();
    spawnSync('umount', [mnt]);
    rmSync(work, { recursive: true, force: true });
  }
}

function newestLog(dir: string): string {
  const logs = readdirSync(dir)
    .filter((f) => /^\d+\.log$/.test(f))
    .sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10));
  if (logs.length === 0) throw new Error(`no LevelDB log in ${dir}`);
  return join(dir, logs[0]!);
}

/**
 * The newest LevelDB log of the alert store torn while the daemon is stopped: on restart history is
 * lost (a new epoch, logged), seqs are never reused, and the forwarder notices the new epoch and
 * replays from the oldest stored alert.
 */
export async function tornLog(): Promise<FaultReport> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-fault-torn-'));
  const d = new Vigild(work, join(work, 'data'));
  const rx = new Receiver();
  await rx.start();
  const fwd = new Forward(work, d.socket, rx.port, 'oldest');
  const notes: Record<string, unknown> = {};
  try {
    await d.start();
    fwd.start();
    await until(
      'the forwarder to subscribe',
      () => (fwd.cursor()?.epoch ? true : undefined),
      STEP_MS,
      () => fwd.log() + d.log(),
    );
    d.fire(150);
    await until(
      '150 matches stored',
      async () => ((await d.persistedMatches()) === 150 ? true : undefined),
      STEP_MS,
      () => d.log(),
    );
    const before = await d.status();
    const epochBefore = before.alerts!.epoch;
    const lastBefore = Number(before.alerts!.last_seq);
    const storedBefore = await d.stored();
    const maxSeqBefore = Math.max(...[...storedBefore.values()].map((a) => a.seq));
    await until(
      'the forwarder to deliver them',
      () => (rx.ids.size >= storedBefore.size ? true : undefined),
      STEP_MS,
      () => fwd.log(),
    );
    await fwd.stop();
    await d.stop();
    // The tear cuts the log where the later half of the alerts begins: the metric sweeps write to
    // the same log, so a cut at half the file lost no alert when the host had many cgroups to sample.
    const log = newestLog(d.storeDir);
    const bytes = readFileSync(log);
    const bySeq = [...storedBefore.entries()].sort((a, b) => a[1].seq - b[1].seq);
    const cutAt = bySeq
      .slice(Math.floor(bySeq.length / 2))
      .map(([id]) => bytes.indexOf(id))
      .find((at) => at > 0);
    if (cutAt === undefined) throw new Error(`no alert id of the later half in ${log} (${bytes.length} bytes)`);
    truncateSync(log, cutAt);
    notes['log_truncated'] = `${bytes.length} -> ${cutAt} bytes`;

    await d.start();
    const after = await d.status();
    const epochAfter = after.alerts!.epoch;
    const survivors = await d.stored();
    notes['stored_before'] = storedBefore.size;
    notes['stored_after_tear'] = survivors.size;
    notes['epoch_changed'] = epochAfter !== epochBefore;
    notes['history_lost_logged'] = /ALERT HISTORY LOST/.test(d.log());
    d.fire(20);
    await until(
      '20 new matches stored',
      async () => ((await d.persistedMatches()) >= [...survivors.values()].reduce((a, b) => a + b.count, 0) + 20 ? true : undefined),
      STEP_MS,
      () => d.log(),
    );
    const now = await d.stored();
    const fresh = [...now.entries()].filter(([id]) => !storedBefore.has(id));
    const reused = fresh.filter(([, a]) => a.seq <= Math.max(lastBefore, maxSeqBefore)).length;
    notes['new_seqs_from'] = Math.min(...fresh.map(([, a]) => a.seq));
    notes['seq_handed_out_before'] = lastBefore;

    fwd.start();
    await until(
      'the forwarder to notice the new epoch',
      () => (fwd.cursor()?.epoch === epochAfter ? true : undefined),
      STEP_MS,
      () => fwd.log(),
    );
    notes['forwarder_noticed'] = /ALERT HISTORY CHANGED/.test(fwd.log());
    await until(
      'the forwarder to deliver the new alerts',
      () => (fresh.every(([id]) => rx.ids.has(id)) ? true : undefined),
      STEP_MS,
      () => fwd.log(),
    );
    const undelivered = [...now.keys()].filter((id) => !rx.ids.has(id)).length;
    const produced = 170;
    const persistedMatches = await d.persistedMatches();
    return {
      fault: 'LevelDB log tail torn while stopped',
      produced,
      persisted: persistedMatches,
      delivered: [...now.entries()].filter(([id]) => rx.ids.has(id)).reduce((n, [, a]) => n + a.count, 0),
      lost: undelivered,
      reused,
      notes: { ...notes, lost_to_the_tear: produced - persistedMatches },
    };
  } finally {
    await fwd.stop();
    await d.stop();
    await rx.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * kill -9 of the forwarder and of the daemon during an alert flood, with the forwarder's sink down
 * from the start: after both restart and the sink comes up, every stored alert is delivered and
 * nothing published as persisted is missing from the store.
 */
export async function killFlood(): Promise<FaultReport> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-fault-kill-'));
  const d = new Vigild(work, join(work, 'data'));
  // A port nobody listens on yet: the sink is down from the start.
  const probe = new Receiver();
  await probe.start();
  const port = probe.port;
  await probe.stop();
  const fwd = new Forward(work, d.socket, port, 'oldest');
  const watch = new SeqWatch();
  const notes: Record<string, unknown> = {};
  try {
    await d.start();
    fwd.start();
    await until(
      'the forwarder to write its first cursor',
      () => (fwd.cursor()?.epoch ? true : undefined),
      STEP_MS,
      () => fwd.log() + d.log(),
    );
    watch.start(d);
    // The flood: a loop of execs in the background while the kills land.
    const flood = spawn('sh', ['-c', `i=0; while [ $i -lt 1000 ]; do ${d.marker}; i=$((i+1)); done`], { stdio: 'ignore' });
    let flooding = true;
    let floodExit: unknown;
    const floodDone = new Promise((r) => flood.once('exit', (code, sig) => r([code, sig]))).then((x) => {
      floodExit = x;
      flooding = false;
    });
    // "During the flood": while its alerts still arrive. On a busy machine the daemon may still be
    // working through the flood's execs after the loop itself has ended; that counts too.
    const floodStart = Date.now();
    // Alert versions seen: on the stream, or (should the stream lag on a busy machine) in the store.
    const seen = async (): Promise<number> => Math.max(watch.pairs.size, (await d.stored()).size);
    const inFlood = (n: number) => async (): Promise<true | undefined> => {
      const k = await seen();
      if (k >= n) return true;
      if (!flooding && Date.now() - floodStart > STEP_MS / 2 && k === 0)
        throw new WaitAborted(`the flood ended (${JSON.stringify(floodExit)}) and no alert of it arrived`);
      return undefined;
    };
    await until('alerts flowing', inFlood(30), STEP_MS, () => d.log());
    await fwd.stop('SIGKILL');
    notes['cursor_at_forwarder_kill'] = fwd.cursor();
    await until('more alerts', inFlood((await seen()) + 30), STEP_MS, () => d.log());
    notes['stream_versions_seen'] = watch.pairs.size;
    const publishedPersisted = new Map<number, string>();
    for (const [seq, ids] of watch.pairs) if (!watch.unpersisted.has(seq)) publishedPersisted.set(seq, [...ids][0]!);
    await d.stop('SIGKILL');
    watch.stop();
    await floodDone;
    notes['published_before_daemon_kill'] = publishedPersisted.size;
    notes['flood_running_at_daemon_kill'] = flooding;

    await d.start();
    const atRestart = await d.persistedMatches();
    notes['matches_stored_at_restart'] = atRestart;
    d.fire(100);
    const rx = new Receiver();
    fwd.start();
    await rx.start(port);
    try {
      const stored = await until(
        'the 100 matches after the restart',
        async () => {
          const s = await d.stored();
          const n = [...s.values()].reduce((a, b) => a + b.count, 0);
          return n >= atRestart + 100 ? s : undefined;
        },
        STEP_MS,
        () => d.log(),
      );
      const storedIds = new Set(stored.keys());
      const missingFromStore = [...publishedPersisted.values()].filter((id) => !storedIds.has(id)).length;
      await until(
        'every stored alert delivered',
        () => ([...storedIds].every((id) => rx.ids.has(id)) ? true : undefined),
        STEP_MS,
        () => fwd.log(),
      );
      const final = await d.stored();
      const persisted = [...final.values()].reduce((a, b) => a + b.count, 0);
      // What the daemon saw: what it stored, and any version it published as persisted that is gone.
      const produced = persisted + missingFromStore;
      const reusedSeqs = new Map<number, Set<string>>();
      for (const [seq, id] of publishedPersisted) reusedSeqs.set(seq, new Set([id]));
      for (const [id, a] of final) {
        let ids = reusedSeqs.get(a.seq);
        if (!ids) reusedSeqs.set(a.seq, (ids = new Set()));
        ids.add(id);
      }
      // A version published before the kill may have been updated since (a new seq): not a reuse.
      let reused = 0;
      for (const ids of reusedSeqs.values()) if (ids.size > 1) reused++;
      notes['duplicates_delivered'] = rx.seqs.length - new Set(rx.seqs).size;
      notes['alerts_stored'] = final.size;
      notes['alerts_delivered'] = [...final.keys()].filter((id) => rx.ids.has(id)).length;
      return {
        fault: 'kill -9 of forwarder and daemon in a flood, sink down from the start',
        produced,
        persisted,
        delivered: [...final.entries()].filter(([id]) => rx.ids.has(id)).reduce((n, [, a]) => n + a.count, 0),
        lost: missingFromStore + [...final.keys()].filter((id) => !rx.ids.has(id)).length,
        reused,
        notes,
      };
    } finally {
      await fwd.stop();
      await rx.stop();
    }
  } finally {
    watch.stop();
    await fwd.stop();
    await d.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
