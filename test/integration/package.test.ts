// The Debian package (make package, deploy/package.sh), installed with dpkg into a fresh root that is
// a throw-away copy of this machine: an overlay of / in a private mount and network namespace, with
// /proc, /sys and /dev (and runc's state) bound in. dpkg there checks the package's Depends against
// this machine's own package database and runs the maintainer scripts for real; nothing reaches the
// machine itself (another engineer's vigild would otherwise pick up /etc/vigil/vigild.yaml), and the
// overlay's upper layer is exactly what installing and purging changed.
// Then, from the installed paths only: vigild as its installed unit starts it (ExecStart, the
// unit's capability bounding set, no_new_privs, the group vigil that postinst made; systemd's
// StateDirectory and RuntimeDirectory made by hand, as there is no systemd here) detects a real runc
// container reading /etc/shadow, seen through the installed vigil. dpkg --purge must leave nothing
// but the data dir: every file the upper layer still holds is the data, dpkg's own records, or a
// host file with its content unchanged; no host file is deleted.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runcMissing, startContainer, type Container } from '../runc.js';
import { ROOT } from './harness.js';

const RULE = 'Read of shadow file in container';
const PREFIX = '/usr/lib/vigil';
/** Where the package or its daemon write: hidden from the fresh root when this machine has them. */
const VIGIL_PATHS = ['etc/vigil', 'var/lib/vigil', 'usr/lib/vigil'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Out {
  status: number | null;
  stdout: string;
  stderr: string;
}

function makeVar(name: string): string[] {
  const m = new RegExp(`^${name}\\s*:=(.*)$`, 'm').exec(readFileSync(join(ROOT, 'Makefile'), 'utf8').replace(/\\\n/g, ' '));
  assert.ok(m, `${name} in the Makefile`);
  return m[1]!.trim().split(/\s+/);
}

/** CAP_SYS_PTRACE -> sys_ptrace, the spelling setpriv takes. */
const setprivCaps = (caps: readonly string[]): string => ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');

/** A unit file's [Service] values by key (the last one wins, as systemd reads single-valued keys). */
function serviceKeys(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let inService = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inService = line === '[Service]';
    else if (inService && line && !line.startsWith('#')) {
      const eq = line.indexOf('=');
      out.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return out;
}

describe('the .deb: installed into a copy of this machine, it runs, detects, and purges clean', () => {
  const work = mkdtempSync(join(tmpdir(), 'vigil-deb-'));
  /** The namespace keeper: its root is the overlay; every step enters its namespaces and root. */
  let keeper: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let container: Container | undefined;
  let deb = '';
  let rootPath = '';
  /** The VIGIL_PATHS this machine has: whited out in the upper layer before anything is installed. */
  let hidden = new Set<string>();

  /** Runs a command inside the fresh root (its mount and network namespace, its root directory). */
  function inRoot(args: string[], input?: string): Out {
    const r = spawnSync('/usr/bin/nsenter', ['-t', String(keeper!.pid), '-m', '-n', '-r', '-w', '--', ...args], { encoding: 'utf8', timeout: 120_000, input });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  /** Runs a command in the keeper's mount namespace but the host's root view (where the overlay's layers are). */
  function inNamespace(args: string[]): Out {
    const r = spawnSync('/usr/bin/nsenter', ['-t', String(keeper!.pid), '-m', '--', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const ok = (what: string, r: Out): string => {
    assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    const why = runcMissing();
    if (why) assert.fail(why);
    const built = spawnSync('make', ['-C', ROOT, '--no-print-directory', 'package'], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(built.status, 0, `make package failed:\n${built.stdout.slice(-3000)}${built.stderr.slice(-3000)}`);
    deb = built.stdout.trim().split('\n').pop()!;
    assert.match(deb, /^dist\/vigil_[\w.~+-]+_\w+\.deb$/, built.stdout);
    deb = join(ROOT, deb);
    // Before the namespace, so that runc's state directory exists to be bound in.
    container = startContainer();
    const script = [
      'set -e',
      'W=$1',
      // The layers on a tmpfs of this namespace: an upper layer may not live on the overlay's own lower.
      'mount -t tmpfs tmpfs "$W"',
      'mkdir "$W/upper" "$W/work" "$W/root"',
      'mount -t overlay overlay -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work" "$W/root"',
      // /run as a booted machine has it, an empty tmpfs: what this machine keeps there (another
      // vigild's /run/vigil) is not the fresh root's, and removing it there is no deleted host file.
      'mount -t tmpfs -o mode=0755 tmpfs "$W/root/run"',
      'mkdir "$W/root/run/runc"',
      'for m in proc sys dev run/runc; do mount --rbind "/$m" "$W/root/$m"; done',
      // A machine vigil was never installed on: what this machine has of vigil (the data dir that the
      // README's run command made, an installed package's files) is removed in the overlay, so that
      // what the package and its daemon write lands in the upper layer instead of matching the host.
      `for d in ${VIGIL_PATHS.join(' ')}; do if [ -e "$W/root/$d" ]; then rm -rf "$W/root/$d"; echo "hidden $d"; fi; done`,
      'ip link set lo up',
      'echo ready',
      'exec chroot "$W/root" sleep infinity',
    ].join('\n');
    keeper = spawn('/usr/bin/unshare', ['--mount', '--net', '--propagation', 'private', '--', '/bin/bash', '-c', script, 'keeper', work], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    keeper.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    keeper.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; !out.includes('ready'); i++) {
      if (keeper.exitCode !== null || i > 200) assert.fail(`the fresh root did not come up: ${out}`);
      await sleep(50);
    }
    // The overlay holds the keeper's exec of sleep only once chroot has run.
    for (let i = 0; !readFileSync(`/proc/${keeper.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) {
      if (i > 200) assert.fail('the keeper did not chroot');
      await sleep(50);
    }
    rootPath = `/proc/${keeper.pid}/root`;
    hidden = new Set([...out.matchAll(/^hidden (\S+)$/gm)].map((m) => m[1]!));
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon!.once('exit', r));
    }
    container?.delete();
    // The namespace, its overlay and its tmpfs go with the keeper.
    keeper?.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  test('the package depends on the run-time packages, Node.js and adduser only, and ships production node_modules only', () => {
    const control = ok('dpkg-deb -f', { ...spawnSync('dpkg-deb', ['-f', deb, 'Depends'], { encoding: 'utf8' }) });
    const deps = control
      .trim()
      .split(/,\s*/)
      .map((d) => d.split(/\s/)[0]!);
    // adduser: postinst's addgroup, postrm's delgroup.
    assert.deepEqual(deps.sort(), ['adduser', 'nodejs', ...makeVar('RUN_PACKAGES')].sort());
    const files = ok('dpkg-deb -c', { ...spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }) });
    const shipped = new Set([...files.matchAll(/\.\/usr\/lib\/vigil\/node_modules\/((?:@[^/]+\/)?[^/@.][^/]*)\/$/gm)].map((m) => m[1]!));
    // The lock file marks what only development needs (a devDependency that a production package
    // also needs, such as @types/node for protobufjs, is not marked).
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const topLevel = Object.entries(lock.packages).filter(([p]) => p.startsWith('node_modules/') && !p.slice(13).includes('/node_modules/'));
    for (const [p, meta] of topLevel) {
      const name = p.slice(13);
      if (meta.dev) assert.ok(!shipped.has(name), `${name}, a development dependency, is in the package`);
      else if (!meta.optional) assert.ok(shipped.has(name), `production dependency ${name} is not in the package`);
    }
    for (const d of ['typescript', 'vite', 'node-gyp', 'playwright-core']) assert.ok(!shipped.has(d), `${d} is in the package`);
    assert.doesNotMatch(files, /\.\/usr\/lib\/vigil\/dist\/js\/.*\.test\.js$/m, "vigil's unit tests are in the package");
    assert.match(files, /\.\/usr\/lib\/vigil\/build\/Release\/vigil_native\.node$/m);
    assert.match(files, /\.\/usr\/lib\/vigil\/rules\/credentials\.yaml$/m);
  });

  test("dpkg -i installs it against this machine's packages; vigild runs as its unit and detects a container reading /etc/shadow", async () => {
    ok('cp of the .deb', inNamespace(['cp', deb, join(work, 'root/tmp/vigil.deb')]));
    ok('dpkg -i', inRoot(['dpkg', '-i', '/tmp/vigil.deb']));
    ok('rm of the .deb', inRoot(['rm', '/tmp/vigil.deb']));

    // What postinst made, and the installed layout.
    const group = /^vigil:x:(\d+):/m.exec(readFileSync(join(rootPath, 'etc/group'), 'utf8'));
    assert.ok(group, 'postinst made the group vigil');
    const gid = Number(group[1]);
    const fwd = statSync(join(rootPath, 'etc/vigil/forward.yaml'));
    assert.deepEqual([(fwd.mode & 0o777).toString(8), fwd.uid, fwd.gid], ['640', 0, gid], 'forward.yaml is root:vigil 0640');
    assert.equal((statSync(join(rootPath, 'etc/vigil/vigild.yaml')).mode & 0o777).toString(8), '600');
    const info = JSON.parse(readFileSync(join(ROOT, 'dist/build-info.json'), 'utf8')) as { commit: string };
    for (const b of ['vigild', 'vigil', 'vigil-forward'])
      assert.match(ok(`${b} --version`, inRoot([`/usr/bin/${b}`, '--version'])), new RegExp(`^${b} \\S+ \\(commit ${info.commit}, API vigil\\.v1\\)\\n$`));
    ok('vigil-forward --check of the installed config', inRoot(['/usr/bin/vigil-forward', '--check', '-c', '/etc/vigil/forward.yaml']));

    // The unit as installed: its ExecStart, its privileges.
    const unit = serviceKeys(readFileSync(join(rootPath, 'lib/systemd/system/vigild.service'), 'utf8'));
    const exec = unit.get('ExecStart')!.split(/\s+/);
    assert.deepEqual(exec, [`${PREFIX}/bin/vigild`, 'run', '--config', '/etc/vigil/vigild.yaml']);
    assert.equal(unit.get('User'), 'root');
    assert.equal(unit.get('NoNewPrivileges'), 'yes');
    const caps = unit.get('CapabilityBoundingSet')!.split(/\s+/);
    assert.equal(unit.get('SupplementaryGroups'), 'vigil');
    // What systemd makes for StateDirectory=vigil and RuntimeDirectory=vigil before ExecStart.
    ok('state and runtime dirs', inRoot(['/bin/sh', '-c', 'install -d -m 0700 /var/lib/vigil && install -d -m 0755 /run/vigil']));
    daemon = spawn(
      '/usr/bin/nsenter',
      [
        '-t',
        String(keeper!.pid),
        '-m',
        '-n',
        '-r',
        '-w',
        '--',
        '/usr/bin/setpriv',
        '--no-new-privs',
        '--groups=vigil',
        `--bounding-set=${setprivCaps(caps)}`,
        '--inh-caps=-all',
        '--',
        ...exec,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    const exited = new Promise<number | null>((r) => daemon!.on('exit', (code) => r(code)));
    const waitFor = async <T>(what: string, fn: () => T | undefined, timeoutMs = 30_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = fn();
        if (v !== undefined) return v;
        if (daemon!.exitCode !== null) assert.fail(`vigild exited (${daemon!.exitCode}) while waiting for ${what}:\n${daemonLog.slice(-3000)}`);
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${daemonLog.slice(-3000)}`);
        await sleep(300);
      }
    };
    const status = await waitFor('vigil status', () => {
      const r = inRoot(['/usr/bin/vigil', 'status', '-o', 'json']);
      return r.status === 0 ? (JSON.parse(r.stdout) as { attached: number; refused: number; commit: string }) : undefined;
    });
    assert.ok(status.attached > 0, JSON.stringify(status));
    assert.equal(status.commit, info.commit);
    const procStatus = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
    assert.match(procStatus, /^NoNewPrivs:\s*1$/m);
    const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(procStatus)![1]}`);
    assert.equal(bnd.toString(2).replace(/0/g, '').length, caps.length, "the unit's bounding set");
    const sock = statSync(join(rootPath, 'run/vigil/vigil.sock'));
    assert.deepEqual([(sock.mode & 0o777).toString(8), sock.gid], ['660', gid], 'the API socket is 0660 root:vigil (api.socket_group of the installed config)');

    const c = container!;
    c.exec(['sh', '-c', 'echo "root:*:19000:0:99999:7:::" > /etc/shadow; cat /etc/shadow']);
    const alert = await waitFor('the alert', () => {
      const r = inRoot(['/usr/bin/vigil', 'alerts', 'ls', '-o', 'json', '--rule', RULE]);
      if (r.status !== 0) return undefined;
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { rule: string; container?: { id?: string } })
        .find((a) => a.container?.id === c.id);
    });
    assert.equal(alert.rule, RULE);

    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, `vigild did not stop cleanly:\n${daemonLog.slice(-2000)}`);
    // systemd removes a RuntimeDirectory when its unit stops.
    ok('rm of the runtime dir', inRoot(['rm', '-rf', '/run/vigil']));
    assert.ok(existsSync(join(rootPath, 'var/lib/vigil/http.token')), 'the daemon wrote its data dir');
  });

  test('dpkg --purge leaves nothing but the data dir', () => {
    ok('dpkg --purge', inRoot(['dpkg', '--purge', 'vigil']));
    assert.notEqual(inRoot(['dpkg-query', '-W', '-f=${db:Status-Abbrev}', 'vigil']).stdout.trim(), 'ii');
    // The upper layer: every file, link, directory and whiteout (a deleted host file) that
    // installing, running and purging left. Compared with the host itself, which is the lower layer.
    const entries = ok('find', inNamespace(['find', join(work, 'upper'), '-mindepth', '1', '-printf', '%y %P\\n']))
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ type: l[0]!, path: l.slice(2) }));
    const DATA = /^var\/lib\/vigil(\/|$)/;
    // dpkg's database and log (it records the purge itself), adduser's debconf cache, and shadow's
    // backups of /etc/group and /etc/gshadow (group- and gshadow- hold the state before the last
    // change, here the delgroup): bookkeeping of the system's tools, not files of the package.
    // /etc/group and /etc/gshadow themselves must be as they were.
    const BOOKKEEPING = /^(var\/lib\/dpkg|var\/log|var\/cache\/debconf)(\/|$)|^etc\/g(roup|shadow)-$/;
    const left: string[] = [];
    for (const e of entries) {
      if (DATA.test(e.path) || BOOKKEEPING.test(e.path)) continue;
      const host = join('/', e.path);
      const under = [...hidden].find((h) => e.path === h || e.path.startsWith(`${h}/`));
      if (under) {
        // The whiteout made before the install is the fresh root's own state; anything else below a
        // hidden path was left by the package, whatever the host holds there.
        if (!(e.type === 'c' && e.path === under)) left.push(`${e.path}: left behind`);
        continue;
      }
      if (e.type === 'c') {
        left.push(`${e.path}: a host file was deleted`);
        continue;
      }
      if (!existsSync(host)) {
        left.push(`${e.path}: left behind`);
        continue;
      }
      if (e.type === 'f' && !readFileSync(host).equals(readFileSync(join(rootPath, e.path)))) left.push(`${e.path}: changed`);
    }
    assert.deepEqual(left, [], 'what the purge left');
    assert.ok(
      entries.some((e) => e.path === 'var/lib/vigil/http.token'),
      'the data dir is kept',
    );
    assert.ok(!/^vigil:/m.test(readFileSync(join(rootPath, 'etc/group'), 'utf8')), 'the group vigil is gone');
  });
});
