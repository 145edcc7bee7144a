// The Makefile's Debian package sets (README.md, "Debian packages"): `make build` and `make run`
// install the run-time and build sets only, `make test` adds the test-only set. Held here:
//   - the sets do not overlap, and `make -n run` would install no test-only package;
//   - every program the tests run comes from a package that is either in a set or installed on every
//     Debian system (Essential, or priority required), asked of dpkg, so a test that starts using a
//     new tool fails here until its package is named; the scan of the test sources for the programs
//     they run keeps the table below complete.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '../../..');

/** A Makefile variable's words (continuation lines joined). */
function makeVar(name: string): string[] {
  const text = readFileSync(join(ROOT, 'Makefile'), 'utf8').replace(/\\\n/g, ' ');
  const m = new RegExp(`^${name}\\s*:=(.*)$`, 'm').exec(text);
  assert.ok(m, `${name} in the Makefile`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

const RUN = makeVar('RUN_PACKAGES');
const BUILD = makeVar('BUILD_PACKAGES');
const TEST = makeVar('TEST_PACKAGES');
const BENCH = makeVar('BENCH_PACKAGES');

/** Every program the tests run, and the Debian package it comes from. */
const TOOLS: Record<string, string> = {
  runc: 'runc',
  busybox: 'busybox-static',
  rsyslogd: 'rsyslog',
  'nats-server': 'nats-server',
  openssl: 'openssl',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
  zsh: 'zsh',
  fish: 'fish',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  taskset: 'util-linux',
  setpriv: 'util-linux',
  ip: 'iproute2',
  kill: 'procps',
  mount: 'mount',
  umount: 'mount',
  bpftool: 'bpftool',
  cc: 'gcc-12',
  bash: 'bash',
  sh: 'dash',
  sleep: 'coreutils',
  true: 'coreutils',
  id: 'coreutils',
  git: 'git',
  make: 'make',
  readlink: 'coreutils',
  'dpkg-query': 'dpkg',
  // The package test: dpkg in the fresh root, which chroot, mount and find set up and inspect.
  'dpkg-deb': 'dpkg',
  dpkg: 'dpkg',
  chroot: 'coreutils',
  find: 'findutils',
  // The Prometheus test: a real server scraping vigild, promtool on /metrics, the rules and queries.
  prometheus: 'prometheus',
  promtool: 'prometheus',
};
/** Used only where present: version.test.ts checks the build commit with git when the tree is a git checkout. */
const OPTIONAL = new Set(['git']);
/** Packages the sets pull in (gcc-12 through g++). */
const PULLED_IN: Record<string, string> = { 'gcc-12': 'g++' };

function testSources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'fixtures' ? [] : testSources(p);
    return /\.(ts|sh)$/.test(f) ? [p] : [];
  });
}

test('the sets do not overlap; make run and make build would install no test-only package', () => {
  const sets = { RUN, BUILD, TEST, BENCH };
  const seen = new Map<string, string>();
  for (const [name, pkgs] of Object.entries(sets))
    for (const p of pkgs) {
      assert.ok(!seen.has(p), `${p} is in both ${seen.get(p)} and ${name}`);
      seen.set(p, name);
    }
  for (const target of ['run', 'build']) {
    const dry = execFileSync('make', ['-n', '-C', ROOT, target], { encoding: 'utf8' });
    const words = new Set(dry.split(/[\s'";]+/));
    for (const p of [...TEST, ...BENCH]) assert.ok(!words.has(p), `make -n ${target} would install ${p}`);
    for (const p of [...RUN, ...BUILD]) assert.ok(words.has(p), `make -n ${target} would not install ${p}`);
  }
  const dryTest = new Set(execFileSync('make', ['-n', '-C', ROOT, 'apt-test'], { encoding: 'utf8' }).split(/[\s'";]+/));
  for (const p of TEST) assert.ok(dryTest.has(p), `make apt-test would not install ${p}`);
});

test('every program the test sources run is in the tools table', () => {
  const found = new Set<string>();
  for (const file of testSources(join(ROOT, 'test'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync|runOk)\(\s*'([^'/\s]+)'/g)) found.add(m[1]!);
    // Host programs named by path (paths under /bin and /sbin are mostly inside the test containers).
    for (const m of text.matchAll(/'\/usr\/s?bin\/([\w.-]+)'/g)) found.add(m[1]!);
  }
  // vigil's own programs (the package test runs the installed ones) come from no Debian package.
  const missing = [...found].filter((t) => !(t in TOOLS) && !['vigild', 'vigil', 'vigil-forward'].includes(t));
  assert.deepEqual(missing, [], 'programs the tests run without a package in TOOLS');
  assert.ok(found.size >= 10, `only ${found.size} programs found: the scan is broken`);
});

test('every program the tests run comes from a package make installs or every Debian system has', () => {
  const all = new Set([...RUN, ...BUILD, ...TEST]);
  for (const [tool, want] of Object.entries(TOOLS)) {
    let path: string;
    try {
      path = execFileSync('bash', ['-c', `type -P ${tool}`], { encoding: 'utf8' }).trim();
    } catch {
      if (OPTIONAL.has(tool)) continue;
      assert.fail(`${tool} is not installed (run make test, which installs the test-only packages)`);
    }
    // usrmerge: dpkg may know the file under /bin rather than /usr/bin, or the other way round.
    const candidates = [path, path.replace(/^\/usr/, ''), `/usr${path}`, execFileSync('readlink', ['-f', path], { encoding: 'utf8' }).trim()];
    let owner = '';
    for (const c of candidates) {
      try {
        owner =
          execFileSync('dpkg-query', ['-S', c], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
            .split('\n')
            .find((l) => !l.startsWith('diversion'))
            ?.split(':')[0] ?? '';
      } catch {
        continue;
      }
      if (owner) break;
    }
    assert.equal(owner, want, `${tool} (${path}) comes from ${owner || 'no package'}`);
    if (OPTIONAL.has(tool) || all.has(want) || (PULLED_IN[want] !== undefined && all.has(PULLED_IN[want]!))) continue;
    const [essential, priority] = execFileSync('dpkg-query', ['-W', '-f=${Essential} ${Priority}', want], { encoding: 'utf8' }).split(' ');
    assert.ok(
      essential === 'yes' || priority === 'required',
      `${tool}: ${want} is neither in a Makefile set nor on every Debian system (Essential ${essential}, Priority ${priority})`,
    );
  }
});
