// `vigild run` flags as a table: what each command line sets, and the usage errors. parseRunFlags
// reads no file (the docs test relies on that); parseRunArgs applies the flags over the config file,
// --rules replacing its rules.dirs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../core/errors.js';
import { parseRunArgs, parseRunFlags, type RunFlags } from './run.js';

const OK: Array<[string[], Partial<RunFlags>]> = [
  [[], { help: false }],
  [['--help'], { help: true }],
  [['--rules', '/srv/rules'], { ruleDirs: ['/srv/rules'] }],
  [['--rules', 'rules/', '--rules=/etc/vigil/rules.d'], { ruleDirs: ['rules/', '/etc/vigil/rules.d'] }],
  [['--config', '/nonexistent/vigild.yaml'], { config: '/nonexistent/vigild.yaml' }],
  [
    ['--http', '127.0.0.1:9999', '--api-socket', '/tmp/v.sock', '--data-dir', '/tmp/d', '--log-level', 'debug'],
    { httpListen: '127.0.0.1:9999', apiSocket: '/tmp/v.sock', dataDir: '/tmp/d', logLevel: 'debug' },
  ],
];

for (const [argv, want] of OK) {
  test(`run flags: ${argv.join(' ') || '(none)'}`, () => {
    const flags = parseRunFlags(argv);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(flags[k as keyof RunFlags], v, k);
  });
}

const BAD: Array<[string[], RegExp]> = [
  [['--rule', 'x'], /Unknown option '--rule'/],
  [['--rules'], /argument missing/],
  [['--rules', ''], /--rules needs a directory or file/],
  [['--http', 'nowhere'], /--http: "nowhere" is not host:port/],
  [['--api-socket', 'rel.sock'], /--api-socket must be an absolute path/],
  [['--log-level', 'loud'], /--log-level must be fatal/],
  [['extra'], /Unexpected argument 'extra'|unexpected/i],
];

for (const [argv, msg] of BAD) {
  test(`run flags usage error: ${argv.join(' ')}`, () => {
    assert.throws(
      () => parseRunFlags(argv),
      (err: unknown) => err instanceof UsageError && msg.test(err.message),
    );
  });
}

test("--rules replaces the config file's rules.dirs; without it the file's dirs stay", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-run-'));
  try {
    const file = join(dir, 'vigild.yaml');
    writeFileSync(file, 'rules:\n  dirs: [/etc/vigil/from-config]\n');
    assert.deepEqual(parseRunArgs(['--config', file]).config.ruleDirs, ['/etc/vigil/from-config']);
    assert.deepEqual(parseRunArgs(['--config', file, '--rules', '/a', '--rules', '/b']).config.ruleDirs, ['/a', '/b']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
