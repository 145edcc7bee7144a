import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runConfig } from './config.js';

function run(argv: string[]): { code: number; out: string; err: string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = runConfig(argv, { stdout, stderr });
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? '') };
}

test('vigild config check and schema: exit status and output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-cli-'));
  try {
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'log_level: debug\n');
    writeFileSync(bad, 'metrics:\n  retention: { raw: 0s }\n');
    const table: Array<[string[], number, RegExp, RegExp]> = [
      [['check', good], 0, /^ok\n$/, /^$/],
      [['check', bad], 1, /^$/, /bad\.yaml:2:\d+: metrics\.retention\.raw must be a duration/],
      [['check', join(dir, 'missing.yaml')], 1, /^$/, /cannot read config file/],
      [['schema', 'vigild'], 0, /"title": "vigild.yaml"/, /^$/],
      [['schema', 'rules'], 0, /"title": "vigil rule file"/, /^$/],
      [['schema', 'forward'], 2, /^$/, /unknown schema "forward".*vigil-forward --schema/],
      [['schema'], 2, /^$/, /schema needs one of vigild, rules/],
      [['check', good, 'extra'], 2, /^$/, /unexpected argument "extra"/],
      [['lint'], 2, /^$/, /unknown command "lint"/],
    ];
    for (const [argv, code, out, err] of table) {
      const r = run(argv);
      assert.equal(r.code, code, argv.join(' '));
      assert.match(r.out, out, argv.join(' '));
      assert.match(r.err, err, argv.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
