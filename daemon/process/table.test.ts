// Process table: lineage, exec/fork/exit updates, exited-entry grace period, LRU cap, misses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTable, type EventHead, type ProcessEntry } from './table.js';
import { parseStat, readAllProcesses, readProcess } from './procfs.js';

const S = 1_000_000_000n;

function entry(pid: number, ppid: number, exe: string): ProcessEntry {
  return { pid, ppid, exe, args: [exe], comm: exe.split('/').pop()!, uid: 0, startNs: 0n, cgroup: '', cgroupId: 0 };
}
function head(pid: number, ppid: number, comm = 'x'): EventHead {
  return { pid, ppid, comm, uid: 0, cgroup_id: 1 };
}

test('lineage: ancestors nearest first, bounded, stops at pid 0 and at loops', () => {
  const t = new ProcessTable({ maxAncestors: 3 });
  t.seed([entry(1, 0, '/sbin/init'), entry(10, 1, '/usr/sbin/sshd'), entry(20, 10, '/bin/bash'), entry(30, 20, '/usr/bin/sudo'), entry(40, 30, '/bin/sh')]);
  assert.deepEqual(
    t.ancestors(30).map((a) => a.pid),
    [20, 10, 1],
  );
  assert.deepEqual(
    t.ancestors(40).map((a) => a.pid),
    [30, 20, 10],
    'bounded at maxAncestors',
  );
  assert.deepEqual(t.ancestors(1), []);
  assert.deepEqual(t.ancestors(20)[0], { pid: 10, exe: '/usr/sbin/sshd', comm: 'sshd', args: ['/usr/sbin/sshd'], uid: 0 });
  const loop = new ProcessTable();
  loop.seed([entry(5, 6, '/a'), entry(6, 5, '/b')]);
  assert.deepEqual(
    loop.ancestors(5).map((a) => a.pid),
    [6],
  );
  assert.equal(t.stats().seeded, 5);
});

test('fork copies the parent, exec replaces exe and args, procInfo reports both', () => {
  const t = new ProcessTable();
  t.seed([entry(1, 0, '/sbin/init'), entry(100, 1, '/bin/bash')]);
  t.onFork(head(100, 1, 'bash'), 1n * S, 101);
  assert.equal(t.peek(101)!.exe, '/bin/bash');
  assert.equal(t.peek(101)!.ppid, 100);
  t.onExec(head(101, 100, 'ls'), 2n * S, '/usr/bin/ls', ['ls', '-l']);
  assert.deepEqual(t.procInfo(101), {
    exe: '/usr/bin/ls',
    args: ['ls', '-l'],
    ancestors: [
      { pid: 100, exe: '/bin/bash', comm: 'bash', args: ['/bin/bash'], uid: 0 },
      { pid: 1, exe: '/sbin/init', comm: 'init', args: ['/sbin/init'], uid: 0 },
    ],
  });
  assert.equal(t.stats().misses, 0);
});

test('a miss is counted; the lookup resolves it, else the header makes an entry without exe', () => {
  const known = entry(500, 1, '/usr/bin/found');
  const t = new ProcessTable({ lookup: (pid) => (pid === 500 ? { ...known } : undefined) });
  t.touch(head(500, 1), 1n);
  assert.equal(t.procInfo(500)!.exe, '/usr/bin/found');
  t.touch(head(600, 500, 'ghost'), 1n);
  assert.equal(t.procInfo(600), undefined, 'no guessed exe');
  assert.equal(t.peek(600)!.comm, 'ghost');
  assert.deepEqual(
    t.ancestors(600).map((a) => a.pid),
    [500],
    'lineage still links through the header ppid',
  );
  assert.deepEqual({ misses: t.stats().misses, lookups: t.stats().lookups }, { misses: 2, lookups: 1 });
});

test('re-parenting: the header ppid wins', () => {
  const t = new ProcessTable();
  t.seed([entry(1, 0, '/sbin/init'), entry(7, 3, '/bin/orphan')]);
  t.touch(head(7, 1), 1n);
  assert.equal(t.peek(7)!.ppid, 1);
});

test('exited processes stay resolvable for the grace period, then are evicted', () => {
  const t = new ProcessTable({ exitGraceNs: 30n * S });
  t.seed([entry(1, 0, '/sbin/init'), entry(50, 1, '/bin/short')]);
  t.onExit(head(50, 1), 100n * S);
  t.sweep(129n * S);
  assert.ok(t.peek(50), 'still there within the grace period');
  assert.equal(t.procInfo(50)!.exe, '/bin/short');
  t.sweep(130n * S);
  assert.equal(t.peek(50), undefined, 'evicted after it');
  assert.equal(t.stats().evictedExited, 1);
});

test('a reused pid is not evicted by the exit of its previous owner', () => {
  const t = new ProcessTable({ exitGraceNs: 10n * S });
  t.seed([entry(1, 0, '/sbin/init'), entry(60, 1, '/bin/old')]);
  t.onExit(head(60, 1), 1n * S);
  t.seed([entry(60, 1, '/bin/new')]); // a new process with the same pid
  t.sweep(100n * S);
  assert.equal(t.peek(60)!.exe, '/bin/new');
  assert.equal(t.stats().evictedExited, 0);
});

test('LRU cap: the least recently used entry goes first', () => {
  const t = new ProcessTable({ maxEntries: 3 });
  t.seed([entry(1, 0, '/a'), entry(2, 1, '/b'), entry(3, 1, '/c')]);
  t.touch(head(1, 0), 1n); // 1 becomes most recent: order 2, 3, 1
  t.onFork(head(3, 1), 2n, 4); // adds 4: evicts 2
  assert.equal(t.peek(2), undefined);
  assert.ok(t.peek(1) && t.peek(3) && t.peek(4));
  assert.equal(t.size, 3);
  assert.equal(t.stats().evictedLru, 1);
});

test('a full table evicts exited entries before live ones, oldest exit first, whatever the LRU order', () => {
  const t = new ProcessTable({ maxEntries: 4, exitGraceNs: 30n * S });
  t.seed([entry(1, 0, '/sbin/init'), entry(2, 1, '/usr/bin/idle')]);
  // A loop of short programs: each is forked, runs and exits, and is used more recently than pid 2.
  t.onFork(head(1, 0), 1n * S, 10);
  t.onExit(head(10, 1), 2n * S);
  t.onFork(head(1, 0), 3n * S, 11);
  t.onExit(head(11, 1), 4n * S);
  t.onFork(head(1, 0), 5n * S, 12);
  assert.equal(t.peek(10), undefined, 'the oldest exit went');
  t.onFork(head(1, 0), 6n * S, 13);
  assert.equal(t.peek(11), undefined, 'then the next');
  assert.ok(t.peek(2) && t.peek(1) && t.peek(12) && t.peek(13), 'the idle live process stays');
  assert.deepEqual([t.stats().evictedExitedEarly, t.stats().evictedLru], [2, 0]);
  // No exited entry left: the least recently used live one goes.
  t.onFork(head(1, 0), 7n * S, 14);
  assert.equal(t.peek(2), undefined);
  assert.equal(t.stats().evictedLru, 1);
  // The grace sweep has nothing left to evict for the early ones.
  t.sweep(100n * S);
  assert.equal(t.stats().evictedExited, 0);
});

test('/proc parsing: stat with odd comm, and a fake procfs tree', () => {
  assert.deepEqual(parseStat('42 (a b) c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1000 100'), {
    comm: 'a b) c)',
    ppid: 7,
    startTicks: 12345n,
  });
  assert.equal(parseStat('garbage'), undefined);
  const root = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  try {
    mkdirSync(join(root, '77'));
    writeFileSync(join(root, '77/stat'), '77 (worker) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0');
    writeFileSync(join(root, '77/cmdline'), 'worker\0--flag\0');
    writeFileSync(join(root, '77/status'), 'Name:\tworker\nUid:\t1000\t1000\t1000\t1000\n');
    writeFileSync(join(root, '77/cgroup'), '12:pids:/docker/abc\n0::/system.slice/x.service\n');
    symlinkSync('/usr/bin/worker', join(root, '77/exe'));
    mkdirSync(join(root, 'self'));
    assert.deepEqual(readProcess(77, root), {
      pid: 77,
      ppid: 1,
      exe: '/usr/bin/worker',
      args: ['worker', '--flag'],
      comm: 'worker',
      uid: 1000,
      startNs: 5_000_000_000n,
      cgroup: '/system.slice/x.service',
      cgroupId: 0,
    });
    assert.deepEqual(
      readAllProcesses(root).map((e) => e.pid),
      [77],
    );
    assert.equal(readProcess(78, root), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the real /proc: this process is there with its exe and parent', () => {
  const me = readAllProcesses().find((e) => e.pid === process.pid);
  assert.ok(me);
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.exe, process.execPath);
});

test('procInfo is one frozen object per process until its lineage changes', () => {
  const t = new ProcessTable();
  t.seed([entry(1, 0, '/sbin/init'), entry(100, 1, '/bin/bash'), entry(200, 100, '/usr/bin/make')]);
  const a = t.procInfo(200)!;
  t.touch(head(200, 100), 1n * S);
  assert.equal(t.procInfo(200), a, 'events of a busy process share it');
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.ancestors) && Object.isFrozen(a.ancestors[0]));
  // An exec of the parent changes the child's ancestry: a new object with the new exe.
  t.onExec(head(100, 1, 'zsh'), 2n * S, '/bin/zsh', ['zsh']);
  const b = t.procInfo(200)!;
  assert.notEqual(b, a);
  assert.equal(b.ancestors[0]!.exe, '/bin/zsh');
  assert.equal(a.ancestors[0]!.exe, '/bin/bash', 'an event already delivered keeps what was true then');
  // A changed parent (reparenting after the parent exited) is seen too.
  t.touch(head(200, 1), 3n * S);
  assert.deepEqual(
    t.procInfo(200)!.ancestors.map((x) => x.pid),
    [1],
  );
});

test("liveForked counts a cgroup's live forked processes: up on fork, down on exit, LRU eviction and pid reuse", () => {
  const t = new ProcessTable({ maxEntries: 6 });
  t.seed([entry(1, 0, '/sbin/init'), entry(100, 1, '/bin/sh')]);
  const inCg = (pid: number, ppid: number, cg: number): EventHead => ({ pid, ppid, comm: 'sh', uid: 0, cgroup_id: cg });
  // A loop of short programs: each child exits before the next fork.
  for (let i = 0; i < 50; i++) {
    t.onFork(inCg(100, 1, 7), BigInt(i) * S, 200 + i);
    assert.equal(t.liveForked(7), 1);
    t.onExit(inCg(200 + i, 100, 7), BigInt(i) * S);
  }
  assert.equal(t.liveForked(7), 0, 'seeded processes are not counted');
  t.onFork(inCg(100, 1, 7), 60n * S, 300);
  t.onFork(inCg(300, 100, 7), 60n * S, 301);
  t.onFork(inCg(100, 1, 8), 60n * S, 400);
  assert.deepEqual([t.liveForked(7), t.liveForked(8)], [2, 1]);
  t.onExit(inCg(301, 300, 7), 61n * S);
  t.onExit(inCg(301, 300, 7), 61n * S);
  assert.equal(t.liveForked(7), 1, 'a second exit of the same process counts once');
  // Pid 300 reused by a fork whose exit of the old process was lost: the old one leaves the count.
  t.onFork(inCg(100, 1, 8), 62n * S, 300);
  assert.deepEqual([t.liveForked(7), t.liveForked(8)], [0, 2]);
  // Past maxEntries the least recently used entries go, and their counts with them.
  for (let i = 0; i < 6; i++) t.onFork(inCg(100, 1, 9), 63n * S, 500 + i);
  assert.equal(t.size, 6);
  assert.deepEqual([t.liveForked(8), t.liveForked(9)], [0, 5]);
});
