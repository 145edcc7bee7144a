import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateError } from './core/errors.js';
import { CursorStore, readState, writeFileAtomic } from './state.js';

describe('cursor state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fwd-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty when absent, and round-trips per-sink cursors', async () => {
    const path = join(dir, 'sub', 'state.json');
    const s = new CursorStore(path);
    assert.equal(s.get('a'), 0);
    s.set('a', 5);
    s.set('b', 3);
    s.set('a', 9);
    await s.flush();
    assert.deepEqual(
      [...readState(path)],
      [
        ['a', { seq: 9, epoch: '' }],
        ['b', { seq: 3, epoch: '' }],
      ],
    );
    const again = new CursorStore(path);
    assert.equal(again.get('a'), 9);
    assert.equal(again.get('b'), 3);
  });

  it('cursors never move back', async () => {
    const s = new CursorStore(join(dir, 'back.json'));
    s.set('a', 10);
    s.set('a', 4);
    await s.flush();
    assert.equal(new CursorStore(join(dir, 'back.json')).get('a'), 10);
  });

  it('coalesces a burst of updates into few writes', async () => {
    const s = new CursorStore(join(dir, 'burst.json'));
    for (let i = 1; i <= 1000; i++) s.set('a', i);
    await s.flush();
    assert.ok(s.writes <= 2, `writes ${s.writes}`);
    assert.equal(readState(join(dir, 'burst.json')).get('a')?.seq, 1000);
  });

  it('keeps each cursor with its epoch; reset moves it anywhere; a version 1 file is read without epochs', async () => {
    const path = join(dir, 'epoch.json');
    writeFileSync(path, '{"version":1,"sinks":{"old":{"seq":7,"updated":"x"}}}');
    const s = new CursorStore(path);
    assert.deepEqual([s.has('old'), s.get('old'), s.epoch('old'), s.has('new')], [true, 7, '', false]);
    s.reset('new', 40, '0123456789abcdef');
    s.reset('old', 0, 'fedcba9876543210');
    await s.flush();
    const back = readState(path);
    assert.deepEqual(
      [...back],
      [
        ['new', { seq: 40, epoch: '0123456789abcdef' }],
        ['old', { seq: 0, epoch: 'fedcba9876543210' }],
      ],
    );
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, 2);
  });

  it('replaces the file whole and leaves no temp file behind', () => {
    const path = join(dir, 'atomic.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, 'two');
    assert.equal(readFileSync(path, 'utf8'), 'two');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  it('refuses a file that is not a state file, with its path', () => {
    const table: Array<[string, RegExp]> = [
      ['{', /not JSON/],
      ['[]', /not a vigil-forward state file/],
      ['{"version":3,"sinks":{}}', /version 1 or 2/],
      ['{"version":1,"sinks":{"a":{"seq":-1}}}', /sink a: bad seq/],
      ['{"version":2,"sinks":{"a":{"seq":1,"epoch":"zz"}}}', /sink a: bad epoch/],
    ];
    for (const [content, want] of table) {
      const path = join(dir, 'bad.json');
      writeFileSync(path, content);
      assert.throws(
        () => readState(path),
        (err: unknown) => err instanceof StateError && want.test(err.message) && err.message.startsWith(path),
      );
    }
  });
});
