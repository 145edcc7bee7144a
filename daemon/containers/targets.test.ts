import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { sealRecord } from '../store/record.js';
import { SelectorError, TargetBatchError, TargetSet, formatSelector, parseSelector, parseTargetFile, readTargetFile, selectorMatches } from './targets.js';
import type { ContainerInfo } from './container-info.js';
import { HOSTILE } from '../../common/hostile-patterns.js';

function container(over: Partial<ContainerInfo>): ContainerInfo {
  return {
    id: '3f2a9c0d11e5b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6',
    name: 'web-1',
    runtime: 'containerd',
    image: 'docker.io/library/nginx:1.25',
    labels: {},
    cgroupId: 1234,
    cgroupPath: '/kubepods/burstable/pod1234/3f2a9c0d11e5',
    startedAt: '2026-11-28T12:00:00.000Z',
    ...over,
  };
}

const web = container({});
const db = container({
  id: 'aa11bb22',
  name: 'db',
  image: 'postgres:16',
  namespace: 'prod',
  pod: 'db-0',
  labels: { 'io.kubernetes.pod.namespace': 'prod', tier: 'data', empty: '' },
  cgroupPath: '/system.slice/docker-aa11bb22.scope',
});

test('selectors: canonical form and what they match', () => {
  // [selector, canonical, matches web, matches db, matches host]
  const table: Array<[string, string, boolean, boolean, boolean]> = [
    ['all', 'all', true, true, false],
    ['host', 'host', false, false, true],
    ['id:3f2a', 'id:3f2a', true, false, false],
    ['id:aa11bb22', 'id:aa11bb22', false, true, false],
    ['name:web-*', 'name:web-*', true, false, false],
    ['name:web-?', 'name:web-?', true, false, false],
    ['name:[dw]*', 'name:[dw]*', true, true, false],
    ['name:[!d]*', 'name:[!d]*', true, false, false],
    ['name:web\\-1', 'name:web\\-1', true, false, false],
    ['image:*nginx:*', 'image:*nginx:*', true, false, false],
    ['image:postgres:1[0-9]', 'image:postgres:1[0-9]', false, true, false],
    ['label:tier=data', 'label:tier=data', false, true, false],
    ['label:tier=d*', 'label:tier=d*', false, true, false],
    ['tier=data', 'label:tier=data', false, true, false],
    ['label:empty=', 'label:empty=', false, true, false],
    ['k8s.namespace=prod', 'label:k8s.namespace=prod', false, true, false],
    ['label:io.kubernetes.pod.namespace=prod', 'label:io.kubernetes.pod.namespace=prod', false, true, false],
    ['label:k8s.pod=db-*', 'label:k8s.pod=db-*', false, true, false],
    ['cgroup:/kubepods/**', 'cgroup:/kubepods/**', true, false, false],
    ['cgroup:/kubepods/*', 'cgroup:/kubepods/*', false, false, false],
    ['cgroup:/kubepods/*/*/*', 'cgroup:/kubepods/*/*/*', true, false, false],
    ['cgroup:/system.slice/docker-*.scope', 'cgroup:/system.slice/docker-*.scope', false, true, false],
  ];
  for (const [text, canonical, w, d, h] of table) {
    const sel = parseSelector(text);
    assert.equal(formatSelector(sel), canonical, text);
    assert.equal(formatSelector(parseSelector(canonical)), canonical, `${text}: canonical form parses to itself`);
    assert.equal(selectorMatches(sel, web), w, `${text} vs web`);
    assert.equal(selectorMatches(sel, db), d, `${text} vs db`);
    assert.equal(selectorMatches(sel, 'host'), h, `${text} vs host`);
  }
  assert.equal(selectorMatches(parseSelector('host'), container({ id: 'host', runtime: 'host' })), true);
  assert.equal(selectorMatches(parseSelector('all'), container({ id: 'host', runtime: 'host' })), false);
});

test('hostile selector globs on 4096-character names, images, labels and cgroup paths: answered right', () => {
  // No clock: a backtracking matcher would not finish these; each answer is checked.
  for (const h of HOSTILE) {
    const c = container({ name: h.input, image: h.input, labels: { l: h.input }, cgroupPath: h.input });
    if (h.mode === 'plain') {
      for (const kind of ['name', 'image'])
        assert.equal(selectorMatches(parseSelector(`${kind}:${h.pattern}`), c), h.want, `${kind}:${h.pattern.slice(0, 20)}...`);
      assert.equal(selectorMatches(parseSelector(`label:l=${h.pattern}`), c), h.want, `label:l=${h.pattern.slice(0, 20)}...`);
    } else assert.equal(selectorMatches(parseSelector(`cgroup:${h.pattern}`), c), h.want, `cgroup:${h.pattern.slice(0, 20)}...`);
  }
});

test('bad selectors are refused with the selector and the column of the fault', () => {
  const table: Array<[string, number, RegExp]> = [
    ['', 1, /empty selector/],
    [' all', 1, /white space/],
    ['bogus', 1, /unknown selector/],
    ['pod:x', 1, /unknown kind "pod"/],
    ['host:x', 5, /takes no value/],
    ['id:', 4, /empty id/],
    ['id:ab/cd', 6, /cannot be in a container id/],
    ['name:', 6, /empty pattern/],
    ['name:web-[12', 10, /unterminated '\['/],
    ['image:x\\', 8, /trailing backslash/],
    ['cgroup:a\tb', 9, /control character/],
    ['label:tier', 11, /expected '='/],
    ['label:=x', 7, /empty label key/],
    ['label:ti er=x', 9, /cannot be in a label key/],
    ['=x', 1, /unknown selector/],
    ['k8s.namespace=[', 15, /unterminated/],
    ['name:[z-a]', 7, /reversed range z-a/],
  ];
  for (const [text, column, reason] of table) {
    assert.throws(
      () => parseSelector(text),
      (err: unknown) => {
        assert.ok(err instanceof SelectorError, text);
        assert.equal(err.code, 'VIGIL_CONFIG');
        assert.equal(err.selector, text);
        assert.equal(err.column, column, `${JSON.stringify(text)}: ${err.message}`);
        assert.match(err.message, reason);
        assert.ok(err.message.includes(JSON.stringify(text)), err.message);
        return true;
      },
    );
  }
});

test('batch files: comments, options, and every fault with file:line:column', () => {
  const specs = parseTargetFile(
    [
      '# production',
      'k8s.namespace=prod   metrics=cpu_usage_cores,memory_usage_bytes # the pods',
      '',
      'host rules=escape.release_agent',
      '  name:web-*  ',
    ].join('\n'),
    'targets.txt',
  );
  assert.deepEqual(specs, [
    { selector: 'k8s.namespace=prod', metrics: ['cpu_usage_cores', 'memory_usage_bytes'] },
    { selector: 'host', rules: ['escape.release_agent'] },
    { selector: 'name:web-*' },
  ]);
  assert.throws(
    () => parseTargetFile(['all', '  name:web-[1', 'host metrics=cpu_usage_cores,nope', 'id:abc extra', 'label:x=y'].join('\n'), 'targets.txt'),
    (err: unknown) => {
      assert.ok(err instanceof TargetBatchError);
      assert.deepEqual(
        err.errors.map((e) => e.message.split(': ')[0]),
        ['targets.txt:2:12', 'targets.txt:3:30', 'targets.txt:4:8'],
      );
      assert.match(err.message, /3 errors, nothing applied/);
      assert.match(err.message, /targets.txt:3:30: bad selector "host": unknown metric "nope"/);
      return true;
    },
  );
});

test('TargetSet: batches apply whole or not at all, persist, and reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-targets-'));
  try {
    let store = await Store.open({ dir });
    let set = await TargetSet.open(store);
    assert.equal(set.matches(web), false, 'nothing is monitored at first');

    const added = await set.addBatch(['name:web-*', { selector: 'k8s.namespace=prod', metrics: ['memory_usage_bytes'], rules: ['escape.mount'] }, 'host']);
    assert.deepEqual(
      added.map((t) => t.id),
      ['name:web-*', 'label:k8s.namespace=prod', 'host'],
    );
    assert.deepEqual(
      set.list().map((t) => t.id),
      ['host', 'label:k8s.namespace=prod', 'name:web-*'],
    );
    assert.equal(set.matches(web), true);
    assert.equal(set.matches(db), true);
    assert.equal(set.matches('host'), true);
    assert.equal(set.metricsFor(web), 'all');
    assert.deepEqual(set.metricsFor(db), new Set(['memory_usage_bytes']));
    assert.deepEqual(set.rulesFor(db), new Set(['escape.mount']));
    assert.deepEqual(set.metricsFor(container({ name: 'other' })), new Set());

    // Scoping of alerts and samples (the daemon asks these at each match and each sweep).
    const other = container({ id: 'o', name: 'other' });
    assert.equal(set.ruleInScope({ name: 'escape.mount', tags: [] }, db), true, 'named by its target');
    assert.equal(set.ruleInScope({ name: 'fork.bomb', tags: ['dos'] }, db), false, 'its target lists other rules');
    assert.equal(set.ruleInScope({ name: 'x', tags: ['escape.mount'] }, db), true, 'a tag counts as a name');
    assert.equal(set.ruleInScope({ name: 'fork.bomb', tags: [] }, web), true, 'a target without rules: all');
    assert.equal(set.ruleInScope({ name: 'fork.bomb', tags: [] }, other), true, 'unmonitored: detection stays on');
    assert.equal(set.ruleInScope({ name: 'fork.bomb', tags: [] }, undefined), true, 'unknown container');
    const byId = new Map([web, db, other].map((c) => [c.id, c]));
    const sample = (target: string, metric: 'memory_usage_bytes' | 'pids_current') => ({ target, metric, time: 0, value: 1 });
    const kept = set.samplesInScope(
      [
        sample(db.id, 'memory_usage_bytes'),
        sample(db.id, 'pids_current'),
        sample(web.id, 'pids_current'),
        sample('o', 'pids_current'),
        sample('gone', 'pids_current'),
        sample('host', 'pids_current'),
      ],
      (id) => byId.get(id),
    );
    assert.deepEqual(
      kept.map((s) => `${s.target}/${s.metric}`),
      [`${db.id}/memory_usage_bytes`, `${web.id}/pids_current`, 'o/pids_current', 'gone/pids_current', 'host/pids_current'],
    );

    // One bad selector: nothing of the batch is applied, and the error names each bad one.
    await assert.rejects(set.addBatch(['image:redis*', 'name:[x', 'id:a b', { selector: 'all', metrics: ['nope'] }]), (err: unknown) => {
      assert.ok(err instanceof TargetBatchError);
      assert.equal(err.errors.length, 3);
      assert.match(err.message, /"name:\[x"/);
      assert.match(err.message, /"id:a b"/);
      assert.match(err.message, /unknown metric "nope"/);
      return true;
    });
    await assert.rejects(set.addBatch(['all', 'all']), /appears twice/);
    assert.equal(set.size, 3);
    assert.equal(
      set.list().some((t) => t.id === 'image:redis*'),
      false,
    );

    // Removal: by canonical id or any spelling of the selector; an unknown target refuses the batch.
    await assert.rejects(
      set.removeBatch(['host', 'name:nope']),
      (err: unknown) => err instanceof TargetBatchError && /"name:nope".*no such target/.test(err.message),
    );
    assert.equal(set.size, 3);
    const removed = await set.removeBatch(['k8s.namespace=prod', 'host']);
    assert.deepEqual(removed.map((t) => t.id).sort(), ['host', 'label:k8s.namespace=prod']);
    assert.equal(set.matches(db), false);
    await set.addBatch([{ selector: 'id:aa11', rules: ['r1', 'r2'] }]);
    await store.close();

    store = await Store.open({ dir });
    set = await TargetSet.open(store);
    assert.deepEqual(
      set.list().map((t) => [t.id, t.rules]),
      [
        ['id:aa11', ['r1', 'r2']],
        ['name:web-*', undefined],
      ],
    );
    assert.equal(set.matches(db), true);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TargetSet: a batch from a file; an unreadable stored target is counted and skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-targets-'));
  try {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, 'name:web-*\nimage:postgres:*  # databases\n');
    const store = await Store.open({ dir: join(dir, 'db') });
    let set = await TargetSet.open(store);
    await set.addBatch(await readTargetFile(file));
    await assert.rejects(readTargetFile(join(dir, 'missing.txt')), (err: unknown) => err instanceof Error && /missing\.txt/.test(err.message));
    await store.keyspace('targets').put(Buffer.from('name:x'), Buffer.from('garbage'));
    await store.keyspace('targets').put(Buffer.from('name:y'), sealRecord(Buffer.from('{"v":1,"id":"name:[","addedAt":"x"}')));
    set = await TargetSet.open(store);
    assert.deepEqual(
      set.list().map((t) => t.id),
      ['image:postgres:*', 'name:web-*'],
    );
    assert.equal(set.stats.corrupt, 2);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
