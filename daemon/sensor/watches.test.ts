import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_WATCHES, parseWatch, watchTable } from './watches.js';

test('default watch table: stable ids, unique, valid', () => {
  const ids = DEFAULT_WATCHES.map((w) => w.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    ids,
    ids.map((_, i) => i + 1),
    'ids are 1..n in order (never renumber: append)',
  );
  const byPath = new Map(DEFAULT_WATCHES.map((w) => [`${w.kind}:${w.path}`, w.id]));
  assert.equal(byPath.get('name:release_agent'), 1);
  assert.equal(byPath.get('exact:/etc/shadow'), 11);
  assert.equal(byPath.get('prefix:/proc/sys/'), 10);
  // the exact /proc/sys/kernel/modprobe lies below the prefix /proc/sys/, which sends it anyway
  assert.deepEqual(
    DEFAULT_WATCHES.filter((w) => !watchTable([]).some((t) => t.id === w.id)).map((w) => w.id),
    [9],
  );
  // identities of the same targets: a file reached by another path is still watched
  assert.ok(DEFAULT_WATCHES.some((w) => w.kind === 'fs-name' && w.path === 'release_agent' && w.magic === 0x27e0eb));
  assert.ok(DEFAULT_WATCHES.some((w) => w.kind === 'fs-exact' && w.path === '/etc/shadow' && w.magic === undefined));
});

test('--watch syntax', () => {
  const ok: Array<[string, unknown]> = [
    ['exact:/etc/passwd', { kind: 'exact', path: '/etc/passwd', id: 1000 }],
    ['prefix:/srv/secrets/', { kind: 'prefix', path: '/srv/secrets/', id: 1000 }],
    ['name:id_rsa', { kind: 'name', path: 'id_rsa', id: 1000 }],
    ['fs-exact:/etc/shadow', { kind: 'fs-exact', path: '/etc/shadow', id: 1000 }],
    ['fs-prefix@proc:/sys/', { kind: 'fs-prefix', path: '/sys/', id: 1000, magic: 0x9fa0 }],
    ['fs-name@cgroup:release_agent', { kind: 'fs-name', path: 'release_agent', id: 1000, magic: 0x27e0eb }],
    ['suffix:release_agent', { kind: 'suffix', path: 'release_agent', id: 1000 }],
    ['suffix:/.ssh/authorized_keys', { kind: 'suffix', path: '/.ssh/authorized_keys', id: 1000 }],
    ['traversal:../', { kind: 'traversal', path: '../', id: 1000 }],
    ['write-prefix:/etc/', { kind: 'write-prefix', path: '/etc/', id: 1000 }],
    ['write-exact:/etc/hosts', { kind: 'write-exact', path: '/etc/hosts', id: 1000 }],
    ['proc-link:/proc/', { kind: 'proc-link', path: '/proc/', id: 1000 }],
  ];
  for (const [spec, want] of ok) assert.deepEqual(parseWatch(spec, 1000), want, spec);
  const bad = [
    'passwd',
    'exact:etc/passwd',
    'name:a/b',
    'glob:/x',
    'exact:/a/../b',
    `name:${'x'.repeat(64)}`,
    `exact:/${'x'.repeat(255)}`,
    'name:',
    'exact@proc:/x',
    'fs-exact@nofs:/x',
    'suffix:',
    `suffix:${'x'.repeat(65)}`,
    'traversal:..',
    'proc-link:/proc/self/',
    'write-prefix:etc/',
    'write-exact@proc:/x',
    'suffix@proc:x',
    'fs-name@proc:a/b',
    `fs-prefix:/${'x'.repeat(251)}`,
  ];
  for (const spec of bad) assert.throws(() => parseWatch(spec, 1000), ConfigError, spec);
});

test('user watches add to the defaults; duplicates keep the first', () => {
  const t = watchTable([parseWatch('name:docker.sock', 1000), parseWatch('exact:/x', 1001)]);
  assert.equal(t.length, DEFAULT_WATCHES.length);
  assert.equal(t.find((w) => w.path === 'docker.sock')!.id, 4);
  assert.deepEqual(watchTable([parseWatch('exact:/x', 1000)], false), [{ kind: 'exact', path: '/x', id: 1000 }]);
});

test('entries another entry already sends are dropped (an exact entry would shadow a prefix in the trie)', () => {
  const t = (specs: string[]): string[] =>
    watchTable(
      specs.map((s, i) => parseWatch(s, 1000 + i)),
      false,
    ).map((w) => `${w.kind}:${w.path}`);
  const cases: Array<[string[], string[]]> = [
    // read entries: an exact path below a prefix goes; the prefix sends it
    [['prefix:/etc/', 'exact:/etc/shadow'], ['prefix:/etc/']],
    [
      ['prefix:/', 'exact:/etc/shadow', 'name:shadow'],
      ['prefix:/', 'name:shadow'],
    ],
    [
      ['prefix:/etc/ssh/', 'exact:/etc/shadow'],
      ['prefix:/etc/ssh/', 'exact:/etc/shadow'],
    ],
    // write entries: a read entry sends writes too
    [
      ['exact:/etc/shadow', 'write-exact:/etc/shadow', 'write-prefix:/etc/'],
      ['exact:/etc/shadow', 'write-prefix:/etc/'],
    ],
    [['prefix:/etc/', 'write-prefix:/etc/', 'write-exact:/etc/x'], ['prefix:/etc/']],
    [
      ['write-prefix:/etc/', 'write-prefix:/etc/cron.d/', 'write-exact:/etc/hosts', 'write-exact:/root'],
      ['write-prefix:/etc/', 'write-exact:/root'],
    ],
    // a write prefix below a read exact entry is not covered by it
    [
      ['exact:/etc', 'write-prefix:/etc/'],
      ['exact:/etc', 'write-prefix:/etc/'],
    ],
  ];
  for (const [specs, want] of cases) assert.deepEqual(t(specs), want, specs.join(' '));
});
