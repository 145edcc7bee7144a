// The deployment files checked by real tools and by running what they describe:
//
// systemd: deploy/install.sh installs the built tree into a temporary root exactly as on a host;
// `systemd-analyze verify --root` then checks the units as installed (ExecStart and ExecReload must
// exist inside that root, which is why the root is a real install and not a path substitution; the
// root also gets a copy of this machine's /usr/lib/systemd/system, so that the targets the units
// name resolve, and of /usr/bin/kill for ExecReload). Any output fails: verify reports a misspelt
// directive on stderr and still exits 0. systemd-analyze security --offline scores the hardening.
// There is no systemd running here, so the unit's privileges are reproduced with setpriv (the same
// bounding set, no_new_privs, the supplementary group) around the installed vigild and a real runc
// container; each capability is shown to be needed by what fails without it.
//
// Kubernetes: that daemon also runs as the DaemonSet's pod would see it where it matters here: in
// a network namespace of its own, listening on 0.0.0.0 with a bearer token, and ready only when
// the DaemonSet's own exec probe script (run in that namespace, as the kubelet runs it in the
// container) says so; the script fails with a wrong token. The DaemonSet's command (nsenter into
// the host cgroup namespace, setpriv dropping what nsenter needed) is run with the container's
// capabilities and must leave exactly the unit's.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../daemon/config.js';
import { RUNC, runcMissing, startContainer, type Container } from '../runc.js';
import { ROOT, assertPrerequisites } from './harness.js';
import { freePort } from '../net.js';

const run = promisify(execFile);
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const SETPRIV = '/usr/bin/setpriv';
const UNITS = ['vigild.service', 'vigil-forward.service'];
const PREFIX = '/usr/local/lib/vigil';
/** Where the image's Debian package puts the program (deploy/package.sh). */
const IMAGE_PREFIX = '/usr/lib/vigil';
// A group id no account here uses: it stands for the group vigil of SupplementaryGroups=vigil.
const SOCKET_GID = 47011;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PodContainer {
  name: string;
  command: string[];
  env?: Array<{ name: string; value: string }>;
  startupProbe: { exec: { command: string[] } };
  securityContext: { allowPrivilegeEscalation?: boolean; capabilities: { add: string[]; drop: string[] } };
}

/** The vigild container of deploy/kubernetes/daemonset.yaml, read as Kubernetes reads YAML (1.1). */
function daemonSetContainer(): PodContainer {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/daemonset.yaml'), 'utf8'), { version: '1.1' });
  const ds = docs[0]!.toJS() as { spec: { template: { spec: { containers: PodContainer[] } } } };
  const c = ds.spec.template.spec.containers.find((x) => x.name === 'vigild');
  assert.ok(c, 'daemonset.yaml has no vigild container');
  return c;
}

/** A unit file as sections of key -> values (a key may repeat; comments and blank lines dropped). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1]!, section);
      return;
    }
    const eq = line.indexOf('=');
    if (!section || eq <= 0) throw new Error(`line ${i + 1}: not a key=value in a section: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return out;
}

function one(unit: Map<string, Map<string, string[]>>, section: string, key: string): string {
  const v = unit.get(section)?.get(key);
  assert.ok(v && v.length > 0, `[${section}] ${key} is not set`);
  return v[v.length - 1]!;
}

/** CAP_SYS_PTRACE -> sys_ptrace, the spelling setpriv takes. */
function setprivCaps(caps: readonly string[]): string {
  return ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
}

function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) assert.fail(`${path} is missing: apt-get install ${pkg}`);
}

describe("deployment: the systemd units, and the DaemonSet's privileges and probes", () => {
  let root = '';
  let vigild: Map<string, Map<string, string[]>>;
  let forward: Map<string, Map<string, string[]>>;

  before(() => {
    requireTool(SYSTEMD_ANALYZE, 'systemd');
    requireTool(SETPRIV, 'util-linux');
    requireTool('/usr/bin/unshare', 'util-linux');
    requireTool('/usr/bin/nsenter', 'util-linux');
    requireTool('/usr/sbin/ip', 'iproute2');
    requireTool('/usr/bin/kill', 'procps');
    root = mkdtempSync(join(tmpdir(), 'vigil-deploy-'));
    // Read by the unprivileged API client below, as /usr/local is on a host.
    chmodSync(root, 0o755);
    const r = spawnSync(join(ROOT, 'deploy/install.sh'), ['--destdir', root], { encoding: 'utf8' });
    assert.equal(r.status, 0, `install.sh failed:\n${r.stdout}${r.stderr}`);
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    cpSync('/usr/bin/kill', join(root, 'usr/bin/kill'));
    symlinkSync('usr/bin', join(root, 'bin'));
    vigild = parseUnit(readFileSync(join(root, 'etc/systemd/system/vigild.service'), 'utf8'));
    forward = parseUnit(readFileSync(join(root, 'etc/systemd/system/vigil-forward.service'), 'utf8'));
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('systemd-analyze verify accepts the installed units without a single message', async () => {
    const r = spawnSync(SYSTEMD_ANALYZE, ['verify', `--root=${root}`, ...UNITS], { encoding: 'utf8', cwd: root });
    assert.equal(`${r.stdout}${r.stderr}`, '', 'systemd-analyze verify printed something');
    assert.equal(r.status, 0);
  });

  test('verify does report a misspelt directive and a missing program (the check above can fail)', () => {
    const dir = join(root, 'etc/systemd/system');
    const good = readFileSync(join(dir, 'vigild.service'), 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['ProtectHome=read-only', 'ProtectHom=read-only', /Unknown key 'ProtectHom'/],
      [`ExecStart=${PREFIX}/bin/vigild`, `ExecStart=${PREFIX}/bin/vigild-missing`, /vigild-missing is not executable/],
    ];
    for (const [from, to, expected] of cases) {
      assert.ok(good.includes(from), `the unit no longer has ${from}`);
      writeFileSync(join(dir, 'vigil-broken.service'), good.replace(from, to));
      const r = spawnSync(SYSTEMD_ANALYZE, ['verify', `--root=${root}`, 'vigil-broken.service'], { encoding: 'utf8', cwd: root });
      assert.match(`${r.stdout}${r.stderr}`, expected);
    }
    rmSync(join(dir, 'vigil-broken.service'));
  });

  test('systemd-analyze security --offline: the hardening does not regress', () => {
    // Measured with systemd 252 (Debian 12): vigild 4.4, vigil-forward 3.0 (lower is better; the
    // remaining exposure is mostly vigild's capabilities and no SystemCallFilter, see the unit).
    for (const [unit, most] of [
      ['vigild.service', 4.5],
      ['vigil-forward.service', 3.0],
    ] as const) {
      const r = spawnSync(SYSTEMD_ANALYZE, ['security', '--offline=true', `--root=${root}`, '--no-pager', unit], { encoding: 'utf8', cwd: root });
      const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout);
      assert.ok(m, `no exposure level in:\n${r.stdout}${r.stderr}`);
      assert.ok(Number(m[1]) <= most, `${unit}: exposure ${m[1]} > ${most}`);
    }
  });

  test('the units run the installed programs with the installed configs, and the samples parse', async () => {
    const exec = one(vigild, 'Service', 'ExecStart').split(/\s+/);
    assert.deepEqual(exec, [`${PREFIX}/bin/vigild`, 'run', '--config', '/etc/vigil/vigild.yaml']);
    const fexec = one(forward, 'Service', 'ExecStart').split(/\s+/);
    assert.deepEqual(fexec, [`${PREFIX}/bin/vigil-forward`, '-c', '/etc/vigil/forward.yaml']);
    const cfgFile = join(root, 'etc/vigil/vigild.yaml');
    const cfg = parseConfig(readFileSync(cfgFile, 'utf8'), cfgFile);
    // What the unit provides and the config must name: StateDirectory, RuntimeDirectory, the group.
    assert.equal(cfg.dataDir, `/var/lib/${one(vigild, 'Service', 'StateDirectory')}`);
    assert.equal(cfg.api.socket, `/run/${one(vigild, 'Service', 'RuntimeDirectory')}/vigil.sock`);
    assert.equal(cfg.api.socketGroup, one(vigild, 'Service', 'SupplementaryGroups'));
    assert.equal(one(forward, 'Service', 'SupplementaryGroups'), cfg.api.socketGroup);
    assert.equal((statSync(cfgFile).mode & 0o777).toString(8), '600');
    // The forwarder's own check of its sample, with the installed program.
    const { stdout } = await run(join(root, PREFIX, 'bin/vigil-forward'), ['--check', '-c', join(root, 'etc/vigil/forward.yaml')]);
    assert.match(stdout, /ok, 1 sink\(s\): siem \(syslog\)/);
    assert.match(readFileSync(join(root, 'etc/vigil/forward.yaml'), 'utf8'), /state_file: \/var\/lib\/vigil-forward\/state.json/);
    assert.equal(one(forward, 'Service', 'StateDirectory'), 'vigil-forward');
  });

  describe("vigild from the installed tree with exactly the unit's privileges", () => {
    let caps: string[] = [];
    let work = '';
    let container: Container | undefined;
    let daemon: ChildProcess | undefined;
    let logOf: () => string = () => '';
    let exited: Promise<number | null> = Promise.resolve(null);

    let negatives: Promise<Array<{ cap: string; code: number | null | 'timeout'; log: string }>> = Promise.resolve([]);

    before(async () => {
      assertPrerequisites();
      const why = runcMissing();
      if (why) assert.fail(why);
      caps = one(vigild, 'Service', 'CapabilityBoundingSet').split(/\s+/);
      assert.equal(one(vigild, 'Service', 'NoNewPrivileges'), 'yes');
      assert.equal(one(vigild, 'Service', 'User'), 'root');
      work = mkdtempSync(join(tmpdir(), 'vigil-deploy-run-'));
      // RuntimeDirectoryMode=0755: members of the group must reach the socket inside.
      chmodSync(work, 0o755);
      // Before the daemon, so that its start-up scan already knows it (no wait for discovery).
      container = startContainer();
      // vigild without CAP_BPF or without CAP_PERFMON: started now, beside the real one, to save
      // time; their failures are checked by the last test.
      negatives = Promise.all(
        ['CAP_BPF', 'CAP_PERFMON'].map(async (cap) => {
          const d = startDaemon(
            caps.filter((k) => k !== cap),
            writeConfig(`no-${cap}`, `127.0.0.1:${await freePort()}`),
          );
          const code = await Promise.race([d.exited, sleep(20_000).then(() => 'timeout' as const)]);
          if (code === 'timeout') d.child.kill('SIGKILL');
          return { cap, code, log: d.log() };
        }),
      );
    });
    after(async () => {
      if (daemon && daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        await exited;
      }
      await negatives.catch(() => undefined);
      container?.delete();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** The installed vigild, as the unit starts it but with a test config, under setpriv. */
    function startDaemon(
      withCaps: readonly string[],
      config: string,
      o: { netns?: boolean } = {},
    ): { child: ChildProcess; log: () => string; exited: Promise<number | null> } {
      const exec = one(vigild, 'Service', 'ExecStart').split(/\s+/);
      const args = [
        SETPRIV,
        '--no-new-privs',
        `--groups=${SOCKET_GID}`,
        `--bounding-set=${setprivCaps(withCaps)}`,
        '--inh-caps=-all',
        '--',
        join(root, exec[0]!),
        ...exec.slice(1, -1),
        config,
      ];
      // A pod's own network namespace: only lo, brought up; every exec keeps the pid.
      const argv = o.netns ? ['/usr/bin/unshare', '--net', '--', '/bin/sh', '-c', '/usr/sbin/ip link set lo up && exec "$@"', 'sh', ...args] : args;
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
      return { child, log: () => text, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
    }

    function writeConfig(name: string, listen: string, o: { rules?: string; tokenFile?: string } = {}): string {
      const dir = join(work, name);
      mkdirSync(join(dir, 'rules'), { recursive: true });
      chmodSync(dir, 0o755);
      if (o.rules) writeFileSync(join(dir, 'rules/deploy-check.yaml'), o.rules);
      const file = join(dir, 'vigild.yaml');
      writeFileSync(
        file,
        [
          `data_dir: ${join(dir, 'data')}`,
          `http: { listen: "${listen}"${o.tokenFile ? `, token_file: ${o.tokenFile}` : ''} }`,
          `api: { socket: ${join(dir, 'vigil.sock')}, socket_group: "${SOCKET_GID}" }`,
          `rules: { dirs: [${join(root, PREFIX, 'rules')}, ${join(dir, 'rules')}] }`,
          '',
        ].join('\n'),
      );
      return file;
    }

    async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn().catch(() => undefined);
        if (v !== undefined) return v;
        if (daemon && daemon.exitCode !== null) assert.fail(`vigild exited (${daemon.exitCode}) while waiting for ${what}:\n${logOf().slice(-3000)}`);
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${logOf().slice(-3000)}`);
        await sleep(200);
      }
    }

    test('probes attach, a container process is identified and killed by a rule, the API reaches a group member only', async () => {
      // As in the pod: the listener and token the DaemonSet's probe script is given.
      const pc = daemonSetContainer();
      const env = Object.fromEntries((pc.env ?? []).map((e) => [e.name, e.value]));
      const url = new URL(env.VIGIL_HEALTHZ_URL!);
      const tokenFile = join(work, 'http-token');
      writeFileSync(tokenFile, `${'k8s-probe-token-'.repeat(3)}\n`, { mode: 0o600 });
      const wrongToken = join(work, 'wrong-token');
      writeFileSync(wrongToken, `${'not-the-token-'.repeat(3)}\n`, { mode: 0o600 });
      // The kill response on a uid-1000 process needs CAP_KILL; the rule also needs the file event
      // joined with the container (runc state under /run/runc, /proc reads).
      const rule = [
        '- rule: Deploy check kill',
        '  desc: a uid-1000 process in a container opened /etc/shadow',
        '  condition: in_container and evt.kind = file and file.op = open and file.path = /etc/shadow and user.uid = 1000',
        '  output: "deploy check %proc.exe uid=%user.uid container=%container.id"',
        '  severity: warning',
        '  actions: [kill]',
        '',
      ].join('\n');
      const config = writeConfig('run', `0.0.0.0:${url.port}`, { rules: rule, tokenFile });
      const d = startDaemon(caps, config, { netns: true });
      daemon = d.child;
      exited = d.exited;
      logOf = d.log;
      const pid = daemon.pid!;
      const probe = pc.startupProbe.exec.command;
      const runProbe = (token: string): Promise<number | null> =>
        new Promise((resolve) => {
          const p = spawn('/usr/bin/nsenter', [`--net=/proc/${pid}/ns/net`, '--', ...probe], {
            stdio: 'ignore',
            env: { ...process.env, ...env, VIGIL_HTTP_TOKEN_FILE: token },
          });
          p.on('exit', (code) => resolve(code));
        });
      await waitFor('the DaemonSet probe to pass', async () => ((await runProbe(tokenFile)) === 0 ? true : undefined));
      assert.equal(await runProbe(wrongToken), 1, 'the probe passes with a wrong token');
      const cli = join(root, PREFIX, 'bin/vigil');
      const sock = join(work, 'run/vigil.sock');
      const st0 = JSON.parse((await run(cli, ['status', '-o', 'json', '--addr', `unix://${sock}`])).stdout) as { attached: number; refused: number };
      assert.ok(st0.attached > 0, JSON.stringify(st0));
      assert.equal(st0.refused, 0, JSON.stringify(st0));
      const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
      // setpriv exec'd vigild's launcher, which exec'd node: the daemon is this pid.
      const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
      const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
      assert.equal(eff, bnd, 'uid 0 holds its whole (reduced) bounding set');
      assert.match(status, /^NoNewPrivs:\s*1$/m);

      const st = statSync(sock);
      assert.equal((st.mode & 0o777).toString(8), '660');
      assert.equal(st.uid, 0);
      assert.equal(st.gid, SOCKET_GID, 'the socket belongs to the group, set without CAP_CHOWN');

      // The forwarder's unit: an unprivileged uid whose only access is the group.
      const asNobody = (groups: string[]): string[] => [
        '--reuid=65534',
        '--regid=65534',
        ...groups,
        '--bounding-set=-all',
        '--inh-caps=-all',
        '--no-new-privs',
        '--',
        cli,
        'status',
        '-o',
        'json',
        '--addr',
        `unix://${sock}`,
      ];
      const member = await run(SETPRIV, asNobody([`--groups=${SOCKET_GID}`]));
      assert.ok((JSON.parse(member.stdout) as { version?: string }).version, member.stdout);
      await assert.rejects(run(SETPRIV, asNobody(['--clear-groups'])), /no permission to use unix:/);

      const c = container!;
      assert.equal(c.exec(['sh', '-c', 'echo "root:*:19000:0:99999:7:::" > /etc/shadow && chmod 644 /etc/shadow']).status, 0);
      const pidFile = join(c.bundle, 'deploy-uid1000.pid');
      const x = spawnSync(RUNC, ['exec', '-d', '--user', '1000:1000', '--pid-file', pidFile, c.id, 'sh', '-c', 'exec 3</etc/shadow; exec sleep 300'], {
        stdio: 'ignore',
        timeout: 30_000,
      });
      assert.equal(x.status, 0, 'runc exec --user 1000');
      const victim = Number(readFileSync(pidFile, 'utf8').trim());
      await waitFor('vigild to log the kill', async () => (d.log().includes('"msg":"killed"') ? true : undefined));
      const { stdout } = await run(cli, ['alerts', 'ls', '-o', 'json', '--addr', `unix://${sock}`]);
      const alert = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { rule: string; container?: { id?: string }; actions?: Array<{ action: string; ok: boolean; detail: string }> })
        .find((a) => a.rule === 'Deploy check kill');
      assert.ok(alert, `no Deploy check kill alert in:\n${stdout}`);
      assert.equal(alert.container?.id, c.id);
      assert.deepEqual(
        alert.actions!.map((o) => [o.action, o.ok]),
        [['ACTION_KILL', true]],
        JSON.stringify(alert.actions),
      );
      assert.match(alert.actions![0]!.detail, new RegExp(`killed pid ${victim}\\b`));
      await waitFor(
        'the killed process to be gone',
        async () => (existsSync(`/proc/${victim}/status`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${victim}/status`, 'utf8')) ? undefined : true),
        5000,
      );

      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, `vigild did not stop cleanly:\n${d.log().slice(-2000)}`);
      assert.ok(!existsSync(sock), 'the socket is removed at stop');
    });

    test("the DaemonSet command, under the container's capabilities, leaves exactly the unit's and joins the host cgroup namespace", () => {
      const pc = daemonSetContainer();
      const at = pc.command.indexOf(`${IMAGE_PREFIX}/bin/vigild`);
      assert.ok(at > 0, `the DaemonSet does not run ${IMAGE_PREFIX}/bin/vigild through a wrapper`);
      // As the runtime starts the container: uid 0, bounding = the added capabilities (drop ALL),
      // no_new_privs (allowPrivilegeEscalation: false). vigild is replaced by a look at itself.
      assert.deepEqual(pc.securityContext.capabilities.drop, ['ALL']);
      assert.equal(pc.securityContext.allowPrivilegeEscalation, false);
      const look = ['/bin/sh', '-c', 'cat /proc/self/status; readlink /proc/self/ns/cgroup'];
      // With hostPID, pid 1 is the node's init. Here pid 1 is the sandbox's supervisor, which
      // nothing may inspect, so this test process stands in for the host's init: its cgroup
      // namespace is the one every other process here is in.
      const chain = pc.command.slice(0, at).map((a) => a.replace(/^(--cgroup=)\/proc\/1\//, `$1/proc/${process.pid}/`));
      assert.notDeepEqual(chain, pc.command.slice(0, at), 'the DaemonSet command does not enter /proc/1/ns/cgroup');
      // The container starts in a cgroup namespace of its own, as on a cgroup v2 node.
      const container = [
        '/usr/bin/unshare',
        '--cgroup',
        '--',
        SETPRIV,
        '--no-new-privs',
        `--bounding-set=${setprivCaps(pc.securityContext.capabilities.add)}`,
        '--inh-caps=-all',
        '--',
      ];
      const alone = spawnSync(container[0]!, [...container.slice(1), ...look], { encoding: 'utf8' });
      assert.notEqual(alone.stdout.trim().split('\n').pop(), readlinkSync(`/proc/${process.pid}/ns/cgroup`), 'unshare --cgroup made no namespace');
      const r = spawnSync(container[0]!, [...container.slice(1), ...chain, ...look], { encoding: 'utf8' });
      assert.equal(r.status, 0, `the DaemonSet command failed: ${r.stderr}`);
      const unit = spawnSync(SETPRIV, ['--no-new-privs', `--bounding-set=${setprivCaps(caps)}`, '--inh-caps=-all', '--', '/bin/cat', '/proc/self/status'], {
        encoding: 'utf8',
      });
      const field = (text: string, name: string): string => new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(text)?.[1] ?? `no ${name}`;
      for (const f of ['CapBnd', 'CapEff', 'CapPrm', 'CapInh', 'CapAmb'])
        assert.equal(field(r.stdout, f), field(unit.stdout, f), `${f} differs from the unit's`);
      assert.equal(field(r.stdout, 'NoNewPrivs'), '1');
      assert.equal(r.stdout.trim().split('\n').pop(), readlinkSync(`/proc/${process.pid}/ns/cgroup`));
    });

    test('each capability of the unit is needed: without it, what vigild does fails', async () => {
      const c = container!;
      const pidFile = join(c.bundle, `deploy-needs-${Date.now()}.pid`);
      const x = spawnSync(RUNC, ['exec', '-d', '--user', '1000:1000', '--pid-file', pidFile, c.id, 'sleep', '300'], { stdio: 'ignore', timeout: 30_000 });
      assert.equal(x.status, 0, 'runc exec --user 1000');
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      // The reads and signals vigild makes (process table, posture, fd fields, the kill response),
      // made by a shell under the same privileges as the unit, minus one capability at a time.
      const probes: Record<string, string> = {
        exe: `readlink /proc/${pid}/exe`,
        ns: `readlink /proc/${pid}/ns/net`,
        root: `stat /proc/${pid}/root/bin/sh`,
        fd: `ls /proc/${pid}/fd`,
        kill: `kill -0 ${pid}`,
      };
      const attempt = (withCaps: readonly string[], cmd: string): boolean =>
        spawnSync(SETPRIV, ['--no-new-privs', `--bounding-set=${setprivCaps(withCaps)}`, '--inh-caps=-all', '--', '/bin/sh', '-c', `${cmd} >/dev/null 2>&1`])
          .status === 0;
      for (const [what, cmd] of Object.entries(probes)) assert.ok(attempt(caps, cmd), `${what} fails even with the unit's capabilities`);
      const needs: Record<string, string[]> = {
        CAP_SYS_PTRACE: ['exe', 'ns', 'root'],
        CAP_DAC_READ_SEARCH: ['fd'],
        CAP_KILL: ['kill'],
      };
      for (const [cap, whats] of Object.entries(needs)) {
        assert.ok(caps.includes(cap), `the unit lacks ${cap}`);
        const without = caps.filter((k) => k !== cap);
        for (const what of whats) assert.equal(attempt(without, probes[what]!), false, `${what} works without ${cap}: is it still needed?`);
      }
      // CAP_BPF and CAP_PERFMON: the probes do not load without either (started in before()).
      for (const n of await negatives) {
        assert.ok(caps.includes(n.cap), `the unit lacks ${n.cap}`);
        assert.equal(n.code, 1, `vigild without ${n.cap}: ${n.log.slice(-1000)}`);
        assert.match(n.log, /VIGIL_NOT_ROOT: cannot start the sensor: .*needs root, or CAP_BPF and CAP_PERFMON/);
      }
      assert.deepEqual(Object.keys(needs).concat('CAP_BPF', 'CAP_PERFMON').sort(), [...caps].sort(), 'every capability of the unit is accounted for');
    });
  });
});
