// `--version` on every binary: one line "<program> <package version> (commit <hash>, API vigil.v1)".
// The version is package.json's, the commit the one `make ts` wrote to dist/build-info.json (a
// commit of this repository, or "unknown" outside a git checkout), the API the package the .proto
// files declare. The daemon and the clients read them with separate modules (they share only
// proto/), so this also holds the two to the same answer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_VERSION as CLIENT_API, buildInfo as clientBuild } from '../common/node/version.js';
import { API_VERSION as DAEMON_API, buildInfo as daemonBuild } from '../common/node/version.js';

const ROOT = join(import.meta.dirname, '../../..');

test('the API version is the package every .proto file declares', () => {
  const dir = join(ROOT, 'proto/vigil/v1');
  const packages = new Set(
    readdirSync(dir)
      .filter((f) => f.endsWith('.proto'))
      .map((f) => /^package\s+([\w.]+);/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1]),
  );
  assert.deepEqual([...packages], [DAEMON_API]);
  assert.equal(CLIENT_API, DAEMON_API);
});

test('daemon and clients read the same version and commit: package.json and a commit of this repository', () => {
  assert.deepEqual(clientBuild(), daemonBuild());
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(daemonBuild().version, pkg.version);
  const { commit } = daemonBuild();
  if (commit === 'unknown') {
    // Only a tree that is not a git checkout builds without a commit.
    assert.throws(() => execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: 'pipe' }));
  } else {
    assert.match(commit, /^[0-9a-f]{4,40}$/);
    assert.equal(execFileSync('git', ['cat-file', '-t', commit], { cwd: ROOT, encoding: 'utf8' }).trim(), 'commit');
  }
});

test('--version of every binary (and vigild version): one line, exit 0, no daemon needed', () => {
  const { version, commit } = daemonBuild();
  const cases: Array<[string, string[], string]> = [
    ['vigild', ['--version'], 'vigild'],
    ['vigild', ['version'], 'vigild'],
    ['vigil', ['--version'], 'vigil'],
    ['vigil', ['version', '--client'], 'vigil'],
    ['vigil-forward', ['--version'], 'vigil-forward'],
  ];
  for (const [bin, args, program] of cases) {
    // VIGIL_ADDR points nowhere: a --version that asked a daemon would show it by failing or waiting.
    const out = execFileSync(join(ROOT, 'bin', bin), args, { encoding: 'utf8', env: { PATH: process.env.PATH, VIGIL_ADDR: 'unix:///nonexistent/vigil.sock' } });
    assert.equal(out, `${program} ${version} (commit ${commit}, API ${DAEMON_API})\n`, `${bin} ${args.join(' ')}`);
  }
});
