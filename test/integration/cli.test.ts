// The `vigil` CLI end to end: a real `bin/vigild` (temp data dir, HTTP on a free port, the API on a
// unix socket in a temp dir and on TCP with TLS and a bearer token), a real runc container that reads
// /etc/shadow (the default rule "Read of shadow file in container"), and `bin/vigil` run as a user
// would: tail -o json receives the alert with the container id, --since replays it, alerts ls/ack/show,
// a targets batch with a bad selector fails whole, status lists the probes, a malformed filter is
// refused by the daemon, a wrong or missing token is refused, and no daemon gives one clear line;
// ps lists a container started for it (name, id, memory against its limit; json; stopped with --all);
// dashboard prints a URL whose token opens the HTTP API, and says why when the token file is unreadable;
// a subscriber with a hostile exe glob gets the right answer while status and /healthz stay answered;
// version names the client's and the daemon's build; --color always colours a pipe.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runcMissing, startContainer, type Container } from '../runc.js';
import { freePort, stopChild } from '../net.js';
import { HOSTILE_EXE_GLOB } from '../../common/hostile-patterns.js';

const REPO = join(import.meta.dirname, '../../../..');
const VIGILD = join(REPO, 'bin/vigild');
const VIGIL = join(REPO, 'bin/vigil');
const RULE = 'Read of shadow file in container';
const LOCAL_RULE = 'Local rule from a rules flag';
const TOKEN = 'cli-test-token-0123456789abcdef';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no VIGIL_* of the caller, no colour. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...extra };
  return e;
}

/** Runs bin/vigil to completion. */
function vigil(args: string[], e: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(VIGIL, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}

/** A long-running bin/vigil (tail): its output so far, a wait for a line, SIGINT and the exit code. */
class Tail {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(args: string[], e: NodeJS.ProcessEnv) {
    this.child = spawn(VIGIL, ['tail', ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  async waitForLine<T>(what: string, pick: (line: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.stdout.split('\n')) {
        const v = line ? pick(line) : undefined;
        if (v !== undefined) return v;
      }
      if (this.child.exitCode !== null) assert.fail(`vigil tail exited (${this.child.exitCode}) before ${what}: ${this.stderr}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; stdout: ${this.stdout.slice(-2000)} stderr: ${this.stderr}`);
      await sleep(100);
    }
  }
  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

interface AlertJson {
  alert: { id: string; seq: string; rule: string; container: { id: string }; state: string; lineage: Array<{ exe: string }>; events: unknown[] };
  alert_change: string;
}

function alertOf(line: string, containerId: string): AlertJson | undefined {
  try {
    const m = JSON.parse(line) as Partial<AlertJson>;
    return m.alert && m.alert.rule === RULE && m.alert.container?.id === containerId ? (m as AlertJson) : undefined;
  } catch {
    return undefined;
  }
}

function assertNoStack(r: Result | Tail): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace on stderr: ${r.stderr}`);
}

describe('vigil CLI against a real vigild', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  const sock = join(dir, 'vigil.sock');
  const unixAddr = `unix://${sock}`;
  const cert = join(dir, 'api.crt');
  const key = join(dir, 'api.key');
  let tcpAddr = '';
  let httpAddr = '';
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let container: Container | undefined;
  const local = env({ VIGIL_ADDR: unixAddr });

  before(async () => {
    const why = runcMissing();
    if (why) assert.fail(why);
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
    writeFileSync(join(dir, 'token'), TOKEN + '\n', { mode: 0o600 });
    const apiPort = await freePort();
    const httpPort = await freePort();
    tcpAddr = `127.0.0.1:${apiPort}`;
    httpAddr = `127.0.0.1:${httpPort}`;
    // The config names a rule directory that does not exist: vigild starts only because --rules
    // replaces it (with the default pack and a local rule).
    writeFileSync(
      join(dir, 'vigild.yaml'),
      `api:\n  listen: ${tcpAddr}\n  tls:\n    cert: ${cert}\n    key: ${key}\n  token_file: ${join(dir, 'token')}\nrules:\n  dirs: [${join(dir, 'no-such-rules')}]\n`,
    );
    mkdirSync(join(dir, 'local-rules'));
    writeFileSync(
      join(dir, 'local-rules', 'local.yaml'),
      `- rule: ${LOCAL_RULE}\n  desc: A rule from a --rules directory.\n  condition: evt.kind = exec and proc.name = vigil-never-runs-this\n  output: never\n  severity: notice\n`,
    );
    daemon = spawn(
      VIGILD,
      [
        'run',
        '--config',
        join(dir, 'vigild.yaml'),
        '--data-dir',
        join(dir, 'data'),
        '--http',
        httpAddr,
        '--api-socket',
        sock,
        '--log-level',
        'warn',
        '--rules',
        join(REPO, 'rules'),
        '--rules',
        join(dir, 'local-rules'),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await vigil(['status'], local);
      if (r.code === 0) break;
      if (daemon.exitCode !== null) assert.fail(`vigild exited (${daemon.exitCode}): ${daemonLog}`);
      if (Date.now() > deadline) assert.fail(`vigild did not answer on ${sock}: ${r.stderr} ${daemonLog.slice(-2000)}`);
      await sleep(300);
    }
  });

  after(async () => {
    container?.delete();
    await stopChild(daemon);
    rmSync(dir, { recursive: true, force: true });
  });

  test('no daemon: one clear line and exit 1, over the socket and over TCP', async () => {
    const gone = join(dir, 'nobody.sock');
    const r = await vigil(['status', '--addr', `unix://${gone}`], env());
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `vigil: cannot reach vigild at unix://${gone} (is it running? start it with \`make run\` or \`systemctl start vigild\`)\n`);
    const port = await freePort();
    const t = await vigil(['alerts', 'ls'], env({ VIGIL_ADDR: `127.0.0.1:${port}`, VIGIL_TOKEN: TOKEN }));
    assert.equal(t.code, 1);
    assert.equal(t.stderr.split('\n').filter(Boolean).length, 1, t.stderr);
    assert.match(t.stderr, /^vigil: cannot reach vigild at 127\.0\.0\.1:\d+ \(is it running\?/);
    const tail = await vigil(['tail'], env({ VIGIL_ADDR: `unix://${gone}` }));
    assert.equal(tail.code, 1);
    assert.match(tail.stderr, /^vigil: cannot reach vigild at unix:\/\//);
  });

  test('a usage error exits 2 with one line and the usage', async () => {
    const r = await vigil(['alerts', 'ack'], local);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^vigil: missing alert ID\n\nUsage: vigil alerts ack ID/);
  });

  test('status lists the attached probes', async () => {
    const r = await vigil(['status'], local);
    assert.equal(r.code, 0, r.stderr);
    const m = /^probes: (\d+) attached, (\d+) refused$/m.exec(r.stdout);
    assert.ok(m && Number(m[1]) > 0, r.stdout);
    assert.match(r.stdout, /^ {2}attached {2}process\/vg_exec {2}tp_btf\/sched_process_exec$/m);
    assert.match(r.stdout, /^vigild \S+, up /);
  });

  test('version: this vigil and the running vigild, over the socket and over TCP; no daemon still exits 0', async () => {
    const { commit } = JSON.parse(readFileSync(join(REPO, 'dist/build-info.json'), 'utf8')) as { commit: string };
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const line = (program: string): string => `${program} ${version} (commit ${commit}, API vigil.v1)`;
    for (const [what, e, addr] of [
      ['socket', local, unixAddr],
      ['tcp', env({ VIGIL_ADDR: tcpAddr, VIGIL_TOKEN: TOKEN }), tcpAddr],
    ] as const) {
      const args = what === 'tcp' ? ['version', '--ca', cert] : ['version'];
      const r = await vigil(args, e);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.equal(r.stdout, `Client: ${line('vigil')}\nDaemon: ${line('vigild')} at ${addr}\n`, what);
      assert.equal(r.stderr, '', what);
    }
    const gone = await vigil(['version', '--addr', `unix://${join(dir, 'nobody.sock')}`], env());
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, `Client: ${line('vigil')}\n`);
    assert.match(gone.stderr, /^vigil: no daemon version: cannot reach vigild at unix:\/\/\S+nobody\.sock/);
    assertNoStack(gone);
  });

  test("vigild run --rules replaces the config's rule directories: the default pack and the local rule are in force", async () => {
    const r = await vigil(['rules', 'ls', '-o', 'json'], local);
    assert.equal(r.code, 0, r.stderr);
    const rules = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; source: string });
    assert.ok(
      rules.some((x) => x.name === RULE),
      'the default pack',
    );
    const mine = rules.find((x) => x.name === LOCAL_RULE);
    assert.ok(mine, `${LOCAL_RULE} in ${rules.map((x) => x.name).join(', ')}`);
    assert.match(mine.source, /local-rules\/local\.yaml/);
  });

  test('--color always colours status through a pipe despite NO_COLOR; never and the default do not', async () => {
    const cases: Array<[string[], boolean]> = [
      [['status'], false],
      [['status', '--color', 'always'], true],
      [['--color=always', 'status'], true],
      [['status', '--color', 'never'], false],
    ];
    for (const [args, coloured] of cases) {
      const r = await vigil(args, local);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(/\x1b\[/.test(r.stdout), coloured, args.join(' '));
    }
  });

  test('tail -o json receives the alert of a real container; --since replays it; alerts ls, ack and show', async () => {
    const tail = new Tail(['-o', 'json'], local);
    // The stream is open once the daemon counts the subscriber.
    for (let i = 0; ; i++) {
      const s = await vigil(['status', '-o', 'json'], local);
      if ((JSON.parse(s.stdout) as { subscribers: unknown[] }).subscribers.length > 0) break;
      if (i > 50) assert.fail(`tail never subscribed: ${tail.stderr}`);
      await sleep(100);
    }
    container = startContainer();
    const run = container.exec(['sh', '-c', 'mkdir -p /etc; echo x > /etc/shadow; cat /etc/shadow']);
    assert.equal(run.status, 0, run.stderr);
    const got = await tail.waitForLine('the shadow alert', (l) => alertOf(l, container!.id));
    assert.equal(got.alert_change, 'ALERT_CHANGE_OPENED');
    assert.equal(got.alert.state, 'ALERT_STATE_OPEN');
    assert.ok(got.alert.events.length > 0);
    assert.equal(await tail.interrupt(), 0, `SIGINT ends tail cleanly: ${tail.stderr}`);
    assert.equal(tail.stderr, '');
    const id = got.alert.id;

    const ls = await vigil(['alerts', 'ls'], local);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^ID +TIME +SEVERITY +STATE +RULE +CONTAINER +PROCESS$/m);
    const row = ls.stdout.split('\n').find((l) => l.startsWith(id));
    assert.ok(row, ls.stdout);
    assert.match(row, new RegExp(`warning +open +${RULE}`));
    const lsJson = await vigil(['alerts', 'ls', '-o', 'json', '--rule', RULE], local);
    assert.ok(
      lsJson.stdout
        .trim()
        .split('\n')
        .some((l) => (JSON.parse(l) as { id: string }).id === id),
    );

    const ack = await vigil(['alerts', 'ack', id, '--comment', 'looking into it'], local);
    assert.equal(ack.code, 0, ack.stderr);
    const me = userInfo().username;
    assert.equal(ack.stdout, `${id} acknowledged by ${me}: ${RULE}\n`);
    const show = await vigil(['alerts', 'show', id], local);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^Alert ${id} +warning +acknowledged$`, 'm'));
    assert.match(show.stdout, new RegExp(`^ {2}container +\\S+ ${container.id} \\(runc`, 'm'));
    assert.match(show.stdout, /^Process lineage$/m);
    assert.match(show.stdout, /└─ \/bin\/busybox\[\d+\]/);
    assert.match(show.stdout, /^Triggering events \(\d+\)$/m);
    assert.match(show.stdout, /file {6}\S+ \/bin\/busybox\[\d+\] open \/etc\/shadow/);
    assert.match(show.stdout, new RegExp(`acknowledged +by ${me}: looking into it$`, 'm'));
    const showJson = JSON.parse((await vigil(['alerts', 'show', id, '-o', 'json'], local)).stdout) as {
      state: string;
      history: Array<{ by: string; comment?: string }>;
    };
    assert.equal(showJson.state, 'ALERT_STATE_ACKNOWLEDGED');
    assert.equal(showJson.history.at(-1)?.comment, 'looking into it');

    // Resume after the seq tail printed: the acknowledgement is a newer version of the alert, and
    // the store replays it (since_seq 0 would mean live only, so the first alert's own seq is used).
    const resumed = new Tail(['-o', 'json', '--since', got.alert.seq], local);
    const again = await resumed.waitForLine('the replayed alert', (l) => alertOf(l, container!.id));
    assert.equal(again.alert.id, id);
    assert.equal(again.alert.state, 'ALERT_STATE_ACKNOWLEDGED');
    assert.ok(Number(again.alert.seq) > Number(got.alert.seq));
    assert.equal(await resumed.interrupt(), 0);

    // Compact over a pipe: one line, no colour codes.
    const compact = new Tail(['-o', 'compact', '--since', got.alert.seq, '--allow', `rule=${RULE}`], local);
    const line = await compact.waitForLine('the compact line', (l) => (l.includes(RULE) ? l : undefined));
    assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} warning {3}Read of shadow file in container {2}\S+ {2}\S+\[\d+\] {2}\S/);
    assert.doesNotMatch(line, /\x1b\[/);
    assert.equal(await compact.interrupt(), 0);

    const missing = await vigil(['alerts', 'show', 'NOSUCHALERT'], local);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.split('\n').filter(Boolean).length, 1, missing.stderr);
    assertNoStack(missing);
  });

  test('a targets batch with a bad selector fails whole, naming it', async () => {
    const r = await vigil(['targets', 'add', 'name:web-*', 'bad['], local);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^vigil: .*"bad\[".*\n$/);
    assertNoStack(r);
    const ls = await vigil(['targets', 'ls'], local);
    assert.doesNotMatch(ls.stdout, /name:web-\*/, 'nothing of the batch was added');
    const file = join(dir, 'targets.txt');
    writeFileSync(file, '# web tier\nname:web-* metrics=memory_usage_bytes,pids_current\n\nimage:nginx*\n');
    const ok = await vigil(['targets', 'add', '-f', file], local);
    assert.equal(ok.code, 0, ok.stderr);
    const ls2 = await vigil(['targets', 'ls'], local);
    assert.match(ls2.stdout, /^name:web-\* +memory_usage_bytes,pids_current +all /m);
    const rm = await vigil(['targets', 'rm', 'name:web-*', 'image:nginx*'], local);
    assert.equal(rm.stdout, 'removed 2 targets\n');
  });

  test('a malformed filter is refused by the daemon with its message', async () => {
    const r = await vigil(['tail', '--allow', 'container.name=web-['], local);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^vigil: allow\[0\]\.container_names: bad glob "web-\[".*\n$/);
    assertNoStack(r);
  });

  test('a hostile exe glob subscriber: its filter answers right, status and /healthz answer before their deadlines, drops are exported', async () => {
    // The report of issue 12: exe_globs `**a` x20 then `b`, and an exec of a path of 60 `a`s, pinned
    // the daemon. Here one exec does not match it and one does; a second subscriber sees both.
    const miss = join(dir, 'a'.repeat(60));
    const hit = join(dir, 'a'.repeat(59) + 'b');
    for (const f of [miss, hit]) {
      copyFileSync('/bin/true', f);
      chmodSync(f, 0o755);
    }
    const hostile = new Tail(['--events', '-o', 'json', '--allow', `kind=exec;exe=${HOSTILE_EXE_GLOB}`], local);
    const watcher = new Tail(['--events', '-o', 'json', '--allow', `kind=exec;exe=${dir}/**`], local);
    const exeOf = (line: string): string | undefined => {
      try {
        return (JSON.parse(line) as { event?: { exec?: { exe?: string } } }).event?.exec?.exe;
      } catch {
        return undefined;
      }
    };
    try {
      for (let i = 0; ; i++) {
        const s = await vigil(['status', '-o', 'json'], local);
        if ((JSON.parse(s.stdout) as { subscribers: unknown[] }).subscribers.length >= 2) break;
        if (i > 50) assert.fail(`the tails never subscribed: ${hostile.stderr} ${watcher.stderr}`);
        await sleep(100);
      }
      execFileSync(miss);
      execFileSync(hit);
      // While the hostile filter sees both execs, the daemon answers: each call has a deadline.
      const st = await vigil(['status', '--timeout', '5s'], local);
      assert.equal(st.code, 0, st.stderr);
      assert.match(st.stdout, /^subscribers: \d+, lost \d+ since start/m);
      assert.match(st.stdout, /^ {2}#\d+ vigil-tail \S+ since /m);
      const health = await fetch(`http://${httpAddr}/healthz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200);
      const metrics = await (await fetch(`http://${httpAddr}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      assert.match(metrics, /^# TYPE vigil_subscriber_dropped_total counter$/m);
      assert.match(metrics, /^vigil_subscriber_dropped_total\{subscriber="vigil-tail"\} \d+$/m);
      await watcher.waitForLine('the exec that misses', (l) => (exeOf(l) === miss ? true : undefined));
      await watcher.waitForLine('the exec that hits', (l) => (exeOf(l) === hit ? true : undefined));
      await hostile.waitForLine('the exec that hits', (l) => (exeOf(l) === hit ? true : undefined));
      // A stream is in order: the earlier exec would have come first had it matched.
      assert.ok(!hostile.stdout.split('\n').some((l) => exeOf(l) === miss), "the exec of 60 a's does not match");
    } finally {
      assert.equal(await hostile.interrupt(), 0, hostile.stderr);
      assert.equal(await watcher.interrupt(), 0, watcher.stderr);
    }
  });

  test('over TCP with TLS and the token; a wrong or missing token is refused', async () => {
    const ok = await vigil(['alerts', 'ls', '-o', 'json', '--rule', RULE, '--state', 'all', '--ca', cert], env({ VIGIL_ADDR: tcpAddr, VIGIL_TOKEN: TOKEN }));
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(
      ok.stdout
        .trim()
        .split('\n')
        .some((l) => (JSON.parse(l) as { container: { id: string } }).container.id === container?.id),
      ok.stdout,
    );
    const st = await vigil(['status', '--addr', tcpAddr], env({ VIGIL_CA: cert, VIGIL_TOKEN: TOKEN }));
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^probes: \d+ attached/m);

    const refused = 'vigil: the daemon refused the token (set VIGIL_TOKEN)\n';
    const wrong = await vigil(['status', '--addr', tcpAddr, '--ca', cert], env({ VIGIL_TOKEN: 'wrong-token' }));
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, refused);
    const none = await vigil(['status', '--addr', tcpAddr, '--ca', cert], env());
    assert.equal(none.code, 1);
    assert.equal(none.stderr, refused);
    const tailWrong = await vigil(['tail', '--addr', tcpAddr, '--ca', cert], env({ VIGIL_TOKEN: 'wrong-token' }));
    assert.equal(tailWrong.code, 1);
    assert.equal(tailWrong.stderr, refused);

    // Without the private CA the certificate is not trusted: one line that says so.
    const untrusted = await vigil(['status', '--addr', tcpAddr], env({ VIGIL_TOKEN: TOKEN }));
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /^vigil: TLS to vigild at 127\.0\.0\.1:\d+ failed: .*--ca or VIGIL_CA\)\n$/);
    // Plain TCP is only for loopback, and this listener speaks TLS only: no answer, still one line.
    const plain = await vigil(['status', '--addr', tcpAddr, '--insecure', '--timeout', '3s'], env({ VIGIL_TOKEN: TOKEN }));
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr.split('\n').filter(Boolean).length, 1, plain.stderr);
  });

  test('metrics of the container and of the host', async () => {
    const deadline = Date.now() + 30_000;
    let r: Result;
    for (;;) {
      r = await vigil(['metrics', container!.id, '--metric', 'memory_usage_bytes', '--since', '10m'], local);
      if (r.code === 0) break;
      if (Date.now() > deadline) assert.fail(`no metrics for ${container!.id}: ${r.stderr}`);
      await sleep(1000);
    }
    // Not a terminal: plain numbers, one point a line.
    assert.match(r.stdout, /^memory_usage_bytes \d{4}-\d\d-\d\dT[\d:.]+Z \d+(\.\d+)?$/m);
    const host = await vigil(['metrics', 'host', '-o', 'json', '--metric', 'pids_current'], local);
    assert.equal(host.code, 0, host.stderr);
    assert.ok((JSON.parse(host.stdout.split('\n')[0]!) as { points: unknown[] }).points.length > 0);
  });

  test('ps lists a real container by id and name with its memory against its limit; -o json parses; --all keeps it once stopped', async () => {
    const MiB = 1024 * 1024;
    // containerd's CRI annotations give the container a name, an image and a pod (runtimes.ts).
    const c = startContainer({
      memoryLimit: 64 * MiB,
      pidsLimit: 50,
      annotations: {
        'io.kubernetes.cri.container-name': 'ps-web',
        'io.kubernetes.cri.sandbox-name': 'ps-pod',
        'io.kubernetes.cri.sandbox-namespace': 'vigil-test',
        'io.kubernetes.cri.image-name': 'docker.io/library/busybox:1.36',
      },
    });
    try {
      const short = c.id.slice(0, 12);
      const cells = (out: string): string[] | undefined =>
        out
          .split('\n')
          .find((l) => l.startsWith(short + ' '))
          ?.split(/ {2,}/);
      // Listed at once; the memory figure comes with the first sweep that samples it (every 5 s).
      let r: Result;
      let row: string[] | undefined;
      const deadline = Date.now() + 30_000;
      for (;;) {
        r = await vigil(['ps'], local);
        assert.equal(r.code, 0, r.stderr);
        row = cells(r.stdout);
        if (row && row[5] !== '-') break;
        if (Date.now() > deadline) assert.fail(`no sampled row for ${c.id}: ${r.stdout}`);
        await sleep(1000);
      }
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^CONTAINER ID +NAME +IMAGE +RUNTIME +STATUS +MEM +CPU +PIDS +ALERTS$/);
      assert.match(lines[1]!, /^host +host +- +host +running +\d/);
      assert.equal(row!.length, 9, lines.join('\n'));
      const [id, name, image, runtime, status, mem, , pids, alerts] = row!;
      assert.deepEqual([id, name, image, runtime, alerts], [short, 'ps-web', 'docker.io/library/busybox:1.36', 'runc', '0']);
      assert.match(status!, /^running \d+(ms|s)/);
      const m = /^(\d+(?:\.\d+)?)(B|KiB|MiB)\/64MiB (\d+(?:\.\d)?)%$/.exec(mem!);
      assert.ok(m, `MEM ${mem}`);
      assert.ok(Number(m[1]) > 0, `a running sleep uses some memory: ${mem}`);
      assert.match(pids!, /^[1-9]\d*\/50$/);

      const json = await vigil(['ps', '-o', 'json'], local);
      assert.equal(json.code, 0, json.stderr);
      type Posture = {
        privileged: boolean;
        host_pid: boolean;
        host_net: boolean;
        host_ipc: boolean;
        host_mnt: boolean;
        host_uts: boolean;
        sensitive_mounts: string[];
        sources: string[];
        mismatches: string[];
      };
      type Summary = {
        info: { ref: { id: string; name: string; pod?: string }; posture?: Posture };
        running: boolean;
        latest: Record<string, number>;
        sampled_at_ms: string;
      };
      const all = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Summary);
      assert.equal(all[0]!.info.ref.id, 'host');
      const mine = all.find((s) => s.info.ref.id === c.id);
      assert.ok(mine, json.stdout);
      assert.equal(mine.info.ref.name, 'ps-web');
      assert.equal(mine.running, true);
      assert.equal(mine.latest['memory_limit_bytes'], 64 * MiB);
      const ws = mine.latest['memory_working_set_bytes']!;
      assert.ok(ws > 0 && ws < 64 * MiB, `working set ${ws}`);
      assert.ok(Number(mine.sampled_at_ms) > Date.now() - 60_000);
      const p = mine.info.posture;
      assert.ok(p, 'posture in the summary');
      assert.deepEqual(
        {
          privileged: p.privileged,
          host_pid: p.host_pid,
          host_net: p.host_net,
          host_ipc: p.host_ipc,
          host_mnt: p.host_mnt,
          host_uts: p.host_uts,
          sensitive_mounts: p.sensitive_mounts,
          mismatches: p.mismatches,
        },
        { privileged: false, host_pid: false, host_net: false, host_ipc: false, host_mnt: false, host_uts: false, sensitive_mounts: [], mismatches: [] },
        'an ordinary runc container is unprivileged in its own namespaces',
      );
      assert.deepEqual(p.sources, ['runtime', 'kernel']);

      const wide = await vigil(['ps', '-o', 'wide'], local);
      const wideRow = wide.stdout.split('\n').find((l) => l.startsWith(c.id + ' '));
      assert.ok(wideRow, `wide shows the full id: ${wide.stdout}`);
      assert.match(wideRow, / vigil-test\/ps-pod +running /);
      assert.equal(wideRow.trimEnd().split(/ {2,}/).at(-1), '-', `no posture flag on an ordinary container: ${wideRow}`);
      // The same for a container whose runtime bootstrap exec'd inside its cgroup (test/runc.ts).
      const forced = startContainer({ bootstrap: 'in-cgroup' });
      try {
        const fdeadline = Date.now() + 15_000;
        for (;;) {
          const w = await vigil(['ps', '-o', 'wide'], local);
          const fr = w.stdout.split('\n').find((l) => l.startsWith(forced.id + ' '));
          if (fr) {
            assert.equal(fr.trimEnd().split(/ {2,}/).at(-1), '-', `no posture flag (bootstrap in-cgroup): ${fr}`);
            break;
          }
          if (Date.now() > fdeadline) assert.fail(`${forced.id} not listed: ${w.stdout}`);
          await sleep(500);
        }
      } finally {
        forced.delete();
      }

      c.delete();
      const gone = Date.now() + 20_000;
      for (;;) {
        const running = await vigil(['ps'], local);
        if (!cells(running.stdout)) break;
        if (Date.now() > gone) assert.fail(`still listed as running after delete: ${running.stdout}`);
        await sleep(500);
      }
      const stopped = await vigil(['ps', '--all'], local);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(cells(stopped.stdout)?.[4] ?? '', /^stopped \d+(ms|s) ago$/, stopped.stdout);
    } finally {
      c.delete();
    }
  });

  test('dashboard prints a URL whose token opens the HTTP API; an unreadable token file is one line', async () => {
    const tokenFile = join(dir, 'data', 'http.token');
    const r = await vigil(['dashboard', '--http', httpAddr, '--token-file', tokenFile], local);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const m = new RegExp(`^http://${httpAddr.replace(/\./g, '\\.')}/#token=([^\\s&]+)\n$`).exec(r.stdout);
    assert.ok(m, r.stdout);
    const token = decodeURIComponent(m[1]!);
    assert.equal(token, readFileSync(tokenFile, 'utf8').trim());
    const ok = await fetch(`http://${httpAddr}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(((await ok.json()) as { version: string }).version, /\S/);
    // The 200 is the token's doing.
    assert.equal((await fetch(`http://${httpAddr}/api/v1/status`)).status, 401);

    // As an unprivileged user the 0600 token (in a 0700 data dir) is out of reach: say so, no URL.
    const denied = await new Promise<Result>((resolve) => {
      const child = spawn(VIGIL, ['dashboard', '--http', httpAddr, '--token-file', tokenFile], {
        env: env(),
        uid: 65534,
        gid: 65534,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => setImmediate(() => resolve({ code, stdout, stderr })));
    });
    assert.equal(denied.code, 1);
    assert.equal(denied.stdout, '');
    assert.equal(denied.stderr, `vigil: cannot read ${tokenFile}: permission denied (run as root, or pass --token-file)\n`);

    // No daemon on the address: one line, exit 1.
    const port = await freePort();
    const none = await vigil(['dashboard', '--http', `127.0.0.1:${port}`, '--token-file', tokenFile], local);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, new RegExp(`^vigil: vigild does not answer at http://127\\.0\\.0\\.1:${port}/healthz \\(connection refused\\)`));
    assert.equal(none.stderr.split('\n').filter(Boolean).length, 1);
  });
});
