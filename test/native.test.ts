// The native addon against the real kernel: load and attach, argument checks, records through the
// ring buffer (batched, by uv_poll and by drain), counters, ignored pids, and that nothing of ours
// stays attached after close(), after SIGKILL, or after a worker thread that held the sensor ends.
// These tests need root and kernel BTF; they never skip (CI runs them as root on a BPF host).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';

import { loadNative } from '../daemon/sensor/addon.js';
import { vg_exec } from '../daemon/sensor/layout.js';
import type { NativeError, NativeSensor, ProgramState } from '../daemon/sensor/native.js';

/** This file runs as dist/js/test/native.test.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ADDON_JS = join(ROOT, 'dist/js/daemon/sensor/addon.js');
const RING_BYTES = 1 << 22;
const POLL = { maxRecords: 256, maxBytes: 1 << 16 };

// probes/common.h
const VG_KIND_EXEC = 1;
const VG_KIND_FORK = 2;
const VG_KIND_FILE = 7;
const FILE_WATCH_ID_OFFSET = 96 + 24; // probes/syscalls.h struct vg_file.watch_id
// The architecture's openat number; its probe handler is VG_H_OPENAT (probes/syscalls.h).
const NR_OPENAT = process.arch === 'arm64' ? 56 : 257;
const VG_H_OPENAT = 25;
const VG_KIND_MAX = 16;
const HEADER_BYTES = 96;

const native = loadNative();

interface Header {
  kind: number;
  size: number;
  pid: number;
  /** File records only: the watch entry that matched. */
  watchId?: number;
}

/** Walks one batch as native.ts describes it, checking the framing, and returns the headers. */
function headers(batch: Buffer, count: number): Header[] {
  const out: Header[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    assert.equal(offset % 8, 0, 'each record starts at an 8-byte aligned offset');
    assert.ok(offset + HEADER_BYTES <= batch.length, 'a whole header fits in the batch');
    const size = batch.readUInt16LE(offset + 2);
    assert.ok(size >= HEADER_BYTES && offset + size <= batch.length, `record size ${size} fits the batch`);
    const h: Header = { kind: batch.readUInt16LE(offset), size, pid: batch.readUInt32LE(offset + 16) };
    if (h.kind === VG_KIND_FILE) h.watchId = batch.readUInt32LE(offset + FILE_WATCH_ID_OFFSET);
    out.push(h);
    offset += (size + 7) & ~7;
  }
  assert.equal(offset, batch.length, 'the batch ends after its last record');
  return out;
}

class Collector {
  readonly records: Header[] = [];
  batches = 0;
  largest = 0;
  /** Thrown by the next call of the callback. */
  failNext: Error | undefined;
  readonly callback = (batch: Buffer, count: number): void => {
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    assert.ok(count > 0, 'no empty batch is handed over');
    assert.ok(count <= POLL.maxRecords && batch.length <= POLL.maxBytes, 'a batch keeps to its bounds');
    this.batches++;
    this.largest = Math.max(this.largest, count);
    this.records.push(...headers(batch, count));
  };
  find(kind: number, pid: number): Header | undefined {
    return this.records.find((h) => h.kind === kind && h.pid === pid);
  }
  clear(): void {
    this.records.length = 0;
  }
}

/** The BPF program ids behind the fds of a process (its loaded programs and its links' programs). */
function programIdsOf(pid: number | 'self'): Set<number> {
  const ids = new Set<number>();
  const fdDir = `/proc/${pid}/fd`;
  for (const fd of readdirSync(fdDir)) {
    let target: string;
    try {
      target = readlinkSync(join(fdDir, fd));
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:bpf-prog' && target !== 'anon_inode:bpf_link') continue;
    const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    const m = /^prog_id:\s*(\d+)/m.exec(info);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

/** Programs named vg_* that the kernel has loaded, by id, and the program ids with a link. */
function kernelVgPrograms(): { programs: Map<number, string>; linked: Set<number> } {
  const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as { id: number; name?: string }[];
  const links = JSON.parse(execFileSync('bpftool', ['link', 'show', '-j'], { encoding: 'utf8' })) as { prog_id?: number }[];
  const programs = new Map<number, string>();
  for (const p of progs) if (p.name?.startsWith('vg_')) programs.set(p.id, p.name);
  return { programs, linked: new Set(links.map((l) => l.prog_id ?? -1)) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Programs are freed after their last reference goes (RCU, work queues): poll for a few seconds. */
async function waitGone(ids: Set<number>, timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { programs, linked } = kernelVgPrograms();
    const left = [...ids].filter((id) => programs.has(id) || linked.has(id));
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(100);
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function assertNativeError(fn: () => unknown, code: string, step?: string): NativeError {
  try {
    fn();
  } catch (err) {
    const e = err as NativeError;
    assert.ok(e instanceof Error, 'a NativeError is an Error');
    assert.equal(e.code, code, `code of: ${e.message}`);
    assert.equal(typeof e.step, 'string');
    if (step !== undefined) assert.equal(e.step, step);
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** The programs each probe object declares, from its generated skeleton (dist/probes/<name>.skel.h). */
function skeletonPrograms(object: string): string[] {
  const skel = readFileSync(join(ROOT, 'dist/probes', `${object}.skel.h`), 'utf8');
  const block = /struct \{\n((?:\s*struct bpf_program \*\w+;\n)+)\s*\} progs;/.exec(skel);
  assert.ok(block, `${object}.skel.h lists its programs`);
  return [...block[1]!.matchAll(/\*(\w+);/g)].map((m) => m[1]!).sort();
}

test('objects() names the compiled-in probe objects: one per probes/*.bpf.c', () => {
  const probes = readdirSync(join(ROOT, 'probes'))
    .filter((f) => f.endsWith('.bpf.c'))
    .map((f) => f.slice(0, -'.bpf.c'.length));
  assert.deepEqual([...native.objects()].sort(), probes.sort(), 'native/src/probes.cc lists every probe');
  assert.deepEqual(native.objects().slice(0, 2), ['process', 'syscalls'], 'in load order');
});

test('open() rejects bad options with a TypeError before touching the kernel', () => {
  const bad: [string, unknown][] = [
    ['no options', undefined],
    ['options not an object', 42],
    ['ringBufferBytes missing', {}],
    ['ringBufferBytes a string', { ringBufferBytes: '4096' }],
    ['ringBufferBytes not an integer', { ringBufferBytes: 4096.5 }],
    ['ringBufferBytes not a power of two', { ringBufferBytes: 3 * 4096 }],
    ['ringBufferBytes below a page', { ringBufferBytes: 2048 }],
    ['ringBufferBytes negative', { ringBufferBytes: -4096 }],
    ['objects not an array', { ringBufferBytes: RING_BYTES, objects: 'process' }],
    ['objects empty', { ringBufferBytes: RING_BYTES, objects: [] }],
    ['objects with a non-string', { ringBufferBytes: RING_BYTES, objects: [1] }],
    ['objects with an unknown name', { ringBufferBytes: RING_BYTES, objects: ['process', 'nope'] }],
  ];
  const sensor = native.createSensor();
  for (const [name, options] of bad) {
    assert.throws(() => sensor.open(options as never), TypeError, name);
  }
  // None of them opened anything: a sensor can still be opened (and closed) in this process.
  sensor.close();
  const other = native.createSensor();
  other.open({ ringBufferBytes: RING_BYTES, objects: ['process'] });
  other.close();
});

/** The mappings of this process's executable in /proc/self/smaps: perms, resident and anonymous kB. */
function executableMappings(): Array<{ range: string; perms: string; rssKb: number; anonKb: number }> {
  const exe = readlinkSync('/proc/self/exe');
  const out: Array<{ range: string; perms: string; rssKb: number; anonKb: number }> = [];
  let current: (typeof out)[number] | undefined;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+-[0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = head[3] === exe ? { range: head[1]!, perms: head[2]!, rssKb: 0, anonKb: 0 } : undefined;
      if (current) out.push(current);
      continue;
    }
    const kv = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (current && kv) current[kv[1] === 'Rss' ? 'rssKb' : 'anonKb'] = Number(kv[2]);
  }
  return out;
}

test("releaseExecutablePages drops the executable's clean mappings, keeps its relocated and writable ones, and the process goes on", () => {
  const before = executableMappings();
  const clean = (m: { perms: string; anonKb: number }): boolean => !m.perms.includes('w') && m.perms.endsWith('p') && m.anonKb === 0;
  const cleanBefore = before.filter(clean).reduce((s, m) => s + m.rssKb, 0);
  assert.ok(cleanBefore > 1024, `the executable has resident clean mappings (${cleanBefore} kB)`);
  const kept = before.filter((m) => !clean(m));
  assert.ok(
    kept.some((m) => m.anonKb > 0),
    'node has relocated or written mappings to keep',
  );
  const released = native.releaseExecutablePages();
  const after = executableMappings();
  assert.ok(released > cleanBefore * 1024 * 0.5, `released ${released} bytes of ${cleanBefore} kB`);
  assert.ok(after.filter(clean).reduce((s, m) => s + m.rssKb, 0) < cleanBefore / 2, 'the clean mappings are no longer resident');
  for (const m of kept) {
    const now = after.find((a) => a.range === m.range);
    assert.ok(now && now.anonKb >= m.anonKb, `${m.range} ${m.perms} kept its ${m.anonKb} kB of anonymous pages`);
  }
  // The process goes on: code and data of the executable come back as they are touched.
  assert.equal(zlib.gunzipSync(zlib.gzipSync(Buffer.from('vigil'.repeat(1000)))).toString(), 'vigil'.repeat(1000));
  assert.match(new Intl.DateTimeFormat('en', { month: 'long', timeZone: 'UTC' }).format(new Date(0)), /January/);
});

describe('an open sensor', () => {
  let sensor: NativeSensor;
  let states: ProgramState[];
  let before_: Set<number>;
  let ours: Set<number>;
  const seen = new Collector();

  before(() => {
    before_ = new Set(kernelVgPrograms().programs.keys());
    sensor = native.createSensor();
    states = sensor.open({ ringBufferBytes: RING_BYTES });
    ours = programIdsOf('self');
  });
  after(() => sensor.close());

  test('open() loads and attaches every program of every object but enforcement (loaded only on request)', () => {
    for (const object of native.objects().filter((o) => !o.startsWith('enforce'))) {
      const got = states
        .filter((s) => s.object === object)
        .map((s) => s.program)
        .sort();
      assert.deepEqual(got, skeletonPrograms(object), `programs of ${object}`);
    }
    for (const s of states) {
      assert.equal(s.attached, true, `${s.object}/${s.program} (${s.section}) attached: ${s.reason}`);
      assert.equal(s.reason, '');
      assert.match(s.section, /^[\w.]+\//, 'a section such as tp_btf/sys_enter');
    }
    // The kernel shows them as new vg_ programs, each with a link, held by this process.
    const { programs, linked } = kernelVgPrograms();
    assert.equal(ours.size, states.length, 'one program per state behind this process fds');
    for (const id of ours) {
      assert.ok(programs.has(id) && !before_.has(id), `program ${id} is a new vg_ program`);
      assert.ok(linked.has(id), `program ${id} is attached through a link`);
    }
  });

  test('a second open() throws INVALID_STATE, on this sensor or another', () => {
    assertNativeError(() => sensor.open({ ringBufferBytes: RING_BYTES }), 'INVALID_STATE', 'open');
    assertNativeError(() => native.createSensor().open({ ringBufferBytes: RING_BYTES }), 'INVALID_STATE', 'open');
  });

  test('drain() before start() throws INVALID_STATE', () => {
    assertNativeError(() => sensor.drain(), 'INVALID_STATE', 'drain');
  });

  test('the setters reject bad arguments with a TypeError', () => {
    const long = '/' + 'a'.repeat(255); // 256 bytes: one more than VG_WATCH_PATH_MAX - 1
    const cases: [string, () => void][] = [
      ['setSyscalls: not an array', () => sensor.setSyscalls({} as never)],
      ['setSyscalls: nr too large', () => sensor.setSyscalls([{ nr: 512, handler: 25 }])],
      ['setSyscalls: nr negative', () => sensor.setSyscalls([{ nr: -1, handler: 25 }])],
      ['setSyscalls: handler 0', () => sensor.setSyscalls([{ nr: 257, handler: 0 }])],
      ['setSyscalls: handler 64', () => sensor.setSyscalls([{ nr: 257, handler: 64 }])],
      [
        'setSyscalls: nr repeated',
        () =>
          sensor.setSyscalls([
            { nr: 257, handler: 25 },
            { nr: 257, handler: 24 },
          ]),
      ],
      ['setWatches: relative exact path', () => sensor.setWatches([{ kind: 'exact', path: 'etc/shadow', id: 1 }])],
      ['setWatches: prefix too long', () => sensor.setWatches([{ kind: 'prefix', path: long, id: 1 }])],
      ['setWatches: name with a slash', () => sensor.setWatches([{ kind: 'name', path: 'a/b', id: 1 }])],
      ['setWatches: empty name', () => sensor.setWatches([{ kind: 'name', path: '', id: 1 }])],
      ['setWatches: name too long', () => sensor.setWatches([{ kind: 'name', path: 'n'.repeat(64), id: 1 }])],
      ['setWatches: unknown kind', () => sensor.setWatches([{ kind: 'glob' as never, path: '/x', id: 1 }])],
      ['setWatches: id not an integer', () => sensor.setWatches([{ kind: 'exact', path: '/x', id: 1.5 }])],
      [
        'setWatches: path repeated',
        () =>
          sensor.setWatches([
            { kind: 'exact', path: '/x', id: 1 },
            { kind: 'prefix', path: '/x', id: 2 },
          ]),
      ],
      ['setIgnoredPids: more than 64', () => sensor.setIgnoredPids(Array.from({ length: 65 }, (_, i) => i + 1))],
      ['setIgnoredPids: zero', () => sensor.setIgnoredPids([0])],
      ['setIgnoredPids: not an integer', () => sensor.setIgnoredPids([1.5])],
      ['setConfigFlags: negative', () => sensor.setConfigFlags(-1)],
      ['setConfigFlags: beyond 32 bits', () => sensor.setConfigFlags(2 ** 32)],
      ['start: no function', () => sensor.start(undefined as never, POLL)],
      ['start: maxRecords 0', () => sensor.start(() => {}, { maxRecords: 0, maxBytes: 65536 })],
      ['start: maxBytes below a page', () => sensor.start(() => {}, { maxRecords: 1, maxBytes: 100 })],
    ];
    for (const [name, fn] of cases) assert.throws(fn, TypeError, name);
  });

  test('setSyscalls, setIgnoredPids and setConfigFlags accept good tables', () => {
    sensor.setSyscalls([
      { nr: 257, handler: 25 }, // openat: VG_H_OPENAT
      { nr: 59, handler: 2 }, // execve: VG_H_EXECVE
    ]);
    sensor.setSyscalls([]);
    sensor.setIgnoredPids([1, 2, 2]);
    sensor.setIgnoredPids([]);
    sensor.setConfigFlags(0);
  });

  test('start() delivers exec records in batches through uv_poll', async () => {
    sensor.start(seen.callback, POLL);
    assertNativeError(() => sensor.start(seen.callback, POLL), 'INVALID_STATE', 'start');
    const child = spawnSync('/bin/true');
    assert.equal(child.status, 0);
    // No drain: the event loop sees the ring buffer readable and calls back.
    await waitFor(`the exec record of pid ${child.pid}`, () => seen.find(VG_KIND_EXEC, child.pid!) !== undefined);
    assert.ok(seen.batches > 0);
  });

  test('drain() hands over what is in the ring buffer now, and stats() sees it first', () => {
    seen.clear();
    const before = sensor.stats();
    const pids: number[] = [];
    for (let i = 0; i < 5; i++) pids.push(spawnSync('/bin/true').pid!);
    const full = sensor.stats();
    assert.equal(full.ringSizeBytes, RING_BYTES);
    assert.ok(full.ringUsedBytes > 0, 'the records wait in the ring buffer until they are consumed');
    assert.ok(full.ringUsedBytes <= RING_BYTES);
    assert.equal(full.malformedRecords, 0, 'no record had an inconsistent size');
    const read = sensor.drain();
    assert.ok(read >= pids.length, `drain() returns the records read (${read})`);
    for (const pid of pids) assert.ok(seen.find(VG_KIND_EXEC, pid), `exec record of pid ${pid}`);
    assert.ok(sensor.stats().ringUsedBytes < full.ringUsedBytes, 'drain() consumed the ring buffer');

    // The counters: per kind, summed over CPUs, as bigints.
    assert.equal(full.emitted.length, VG_KIND_MAX);
    assert.equal(full.dropped.length, VG_KIND_MAX);
    for (const v of [...full.emitted, ...full.dropped]) assert.equal(typeof v, 'bigint');
    assert.ok(full.emitted[VG_KIND_EXEC]! - before.emitted[VG_KIND_EXEC]! >= BigInt(pids.length), 'emitted execs counted');
  });

  test('setIgnoredPids drops the ignored process events in the kernel', () => {
    // A fork record describes the parent: spawning from this process makes one with our pid.
    seen.clear();
    sensor.setIgnoredPids([process.pid]);
    const ignored = spawnSync('/bin/true');
    sensor.drain();
    assert.equal(seen.find(VG_KIND_FORK, process.pid), undefined, 'no fork record of the ignored process');
    assert.ok(seen.find(VG_KIND_EXEC, ignored.pid!), 'the child itself is not ignored');

    seen.clear();
    sensor.setIgnoredPids([]);
    spawnSync('/bin/true');
    sensor.drain();
    assert.ok(seen.find(VG_KIND_FORK, process.pid), 'fork records of this process again once it is not ignored');
  });

  test('a watched file opened by a child gives a file record with its pid and watch id', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vigil-native-')));
    const name = `watched-${process.pid}.txt`;
    const file = join(dir, name);
    writeFileSync(file, 'x');
    try {
      sensor.setSyscalls([{ nr: NR_OPENAT, handler: VG_H_OPENAT }]);
      const cases: [string, { kind: 'exact' | 'prefix' | 'name'; path: string; id: number }][] = [
        ['name', { kind: 'name', path: name, id: 41 }],
        ['exact', { kind: 'exact', path: file, id: 42 }],
        ['prefix', { kind: 'prefix', path: dir, id: 43 }],
      ];
      for (const [what, watch] of cases) {
        sensor.setWatches([watch]);
        sensor.drain();
        seen.clear();
        const child = spawnSync('/bin/cat', [file]);
        assert.equal(child.status, 0);
        sensor.drain();
        const rec = seen.find(VG_KIND_FILE, child.pid!);
        assert.ok(rec, `a file record for the ${what} watch, pid ${child.pid}`);
        assert.equal(rec.watchId, watch.id, `the ${what} entry matched`);
      }

      // Opens by this process are seen, until its pid is ignored in the kernel.
      seen.clear();
      closeSync(openSync(file, 'r'));
      sensor.drain();
      assert.ok(seen.find(VG_KIND_FILE, process.pid), 'this process open of the watched file');
      sensor.setIgnoredPids([process.pid]);
      seen.clear();
      closeSync(openSync(file, 'r'));
      const child = spawnSync('/bin/cat', [file]);
      sensor.drain();
      assert.equal(seen.find(VG_KIND_FILE, process.pid), undefined, 'no record of the ignored process');
      assert.ok(seen.find(VG_KIND_FILE, child.pid!), 'the child open is still seen');
      sensor.setIgnoredPids([]);

      // An emptied watch table matches nothing any more.
      sensor.setWatches([]);
      seen.clear();
      const after = spawnSync('/bin/cat', [file]);
      sensor.drain();
      assert.equal(seen.find(VG_KIND_FILE, after.pid!), undefined, 'no file record once the watch is gone');
    } finally {
      sensor.setSyscalls([]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the traversal class sends an open whose argument has "../" at any offset, and no other', () => {
    // The probe scans the argument a word (8 bytes) at a time: "../" is placed at every offset within
    // a word and across word boundaries, and arguments with dots but no "../" must stay in the kernel.
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vigil-native-')));
    writeFileSync(join(dir, 'f'), 'x');
    try {
      sensor.setSyscalls([{ nr: NR_OPENAT, handler: VG_H_OPENAT }]);
      sensor.setWatches([{ kind: 'traversal', path: '../', id: 61 }]);
      const open = (arg: string): boolean => {
        sensor.drain();
        seen.clear();
        const child = spawnSync('/bin/cat', [arg], { cwd: dir });
        assert.equal(child.status, 0, `cat ${arg}: ${child.stderr}`);
        sensor.drain();
        return seen.find(VG_KIND_FILE, child.pid!)?.watchId === 61;
      };
      for (let k = 1; k <= 17; k++) {
        const sub = 'd'.repeat(k);
        mkdirSync(join(dir, sub), { recursive: true });
        assert.ok(open(`${sub}/../f`), `"../" at offset ${k + 1}`);
        assert.ok(open(`${dir}/${sub}/../f`), `"../" at offset ${dir.length + k + 2}`);
      }
      mkdirSync(join(dir, 'a..b'));
      writeFileSync(join(dir, 'a..b', 'f..'), 'x');
      mkdirSync(join(dir, '..x'));
      writeFileSync(join(dir, '..x', 'f'), 'x');
      for (const arg of ['a..b/f..', `${dir}/a..b/f..`, './..x/f', `${dir}/..x/./f`, 'f']) assert.equal(open(arg), false, `no "../" in ${arg}: not sent`);
    } finally {
      sensor.setWatches([]);
      sensor.setSyscalls([]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an exception thrown by the batch callback reaches the drain() caller', () => {
    const boom = new Error('boom');
    seen.failNext = boom;
    spawnSync('/bin/true');
    assert.throws(
      () => sensor.drain(),
      (e) => e === boom,
    );
    // The sensor still works afterwards.
    seen.clear();
    const child = spawnSync('/bin/true');
    sensor.drain();
    assert.ok(seen.find(VG_KIND_EXEC, child.pid!));
  });

  test('close() detaches and frees every program; it is idempotent; later calls are INVALID_STATE', async () => {
    sensor.close();
    sensor.close();
    assert.equal(programIdsOf('self').size, 0, 'no BPF fd left in this process');
    const left = await waitGone(ours);
    assert.deepEqual(left, [], 'none of our programs is loaded or linked after close()');
    assertNativeError(() => sensor.stats(), 'INVALID_STATE', 'stats');
    assertNativeError(() => sensor.setSyscalls([]), 'INVALID_STATE', 'setSyscalls');
    assertNativeError(() => sensor.drain(), 'INVALID_STATE', 'drain');
    assertNativeError(() => sensor.open({ ringBufferBytes: RING_BYTES }), 'INVALID_STATE', 'open');
  });
});

test('open({objects}) loads only the named objects; setSyscalls needs the syscalls object', () => {
  const sensor = native.createSensor();
  try {
    const states = sensor.open({ ringBufferBytes: 1 << 16, objects: ['process'] });
    assert.ok(states.length > 0 && states.every((s) => s.object === 'process' && s.attached));
    assertNativeError(() => sensor.setSyscalls([{ nr: 257, handler: 25 }]), 'INVALID_STATE', 'setSyscalls');
    assert.equal(sensor.stats().ringSizeBytes, 1 << 16);
  } finally {
    sensor.close();
  }
});

test('batches keep to maxRecords and maxBytes, and a burst spans several batches', () => {
  const limits = [
    { maxRecords: 3, maxBytes: 1 << 20 },
    { maxRecords: 100000, maxBytes: 4096 },
  ];
  for (const limit of limits) {
    const sensor = native.createSensor();
    try {
      sensor.open({ ringBufferBytes: RING_BYTES, objects: ['process'] });
      const batches: { count: number; bytes: number }[] = [];
      let records = 0;
      sensor.start((batch, count) => {
        headers(batch, count);
        batches.push({ count, bytes: batch.length });
        records += count;
      }, limit);
      for (let i = 0; i < 20; i++) spawnSync('/bin/true');
      const read = sensor.drain();
      assert.equal(read, records, 'drain() returns the records handed over');
      const total = batches.reduce((n, b) => n + b.bytes, 0);
      for (const b of batches) {
        assert.ok(b.count <= limit.maxRecords, `batch of ${b.count} records within ${limit.maxRecords}`);
        assert.ok(b.bytes <= limit.maxBytes, `batch of ${b.bytes} bytes within ${limit.maxBytes}`);
      }
      const needed = Math.max(Math.ceil(records / limit.maxRecords), Math.ceil(total / limit.maxBytes));
      assert.ok(records >= 60, `at least exec, fork and exit of 20 children (${records})`);
      assert.ok(batches.length >= needed && batches.length > 1, `${batches.length} batches for ${records} records`);
    } finally {
      sensor.close();
    }
  }
});

test('records that wrap around the end of a one-page ring arrive whole', () => {
  // The consumer maps the data area once (not twice as libbpf does), so a record that runs past the
  // end is copied in two pieces. Exec records of about 800 bytes (long arguments) in a 4 KiB ring:
  // most wraps fall inside one of them, and every byte of their arguments is checked.
  const ARGS = Array.from({ length: 12 }, (_, i) => `vigil-wrap-${i}-${'x'.repeat(40)}`);
  const want = ['/bin/true', ...ARGS].join('\0') + '\0';
  const sensor = native.createSensor();
  try {
    sensor.open({ ringBufferBytes: 4096, objects: ['process'] });
    const args: string[] = [];
    sensor.start(
      (batch, count) => {
        let offset = 0;
        for (const h of headers(batch, count)) {
          if (h.kind === VG_KIND_EXEC) {
            const pathLen = batch.readUInt16LE(offset + vg_exec.fields.path_len!.offset);
            const argsLen = batch.readUInt16LE(offset + vg_exec.fields.args_len!.offset);
            const start = offset + vg_exec.size + pathLen;
            const text = batch.toString('latin1', start, start + argsLen);
            if (text.includes('vigil-wrap-')) args.push(text);
          }
          offset += (h.size + 7) & ~7;
        }
      },
      { maxRecords: 1000, maxBytes: 1 << 20 },
    );
    // Drained after each child, so the ring (other processes on the host share it) seldom fills.
    for (let i = 0; i < 60; i++) {
      spawnSync('/bin/true', ARGS);
      sensor.drain();
    }
    const stats = sensor.stats() as { malformedRecords: number; ringSizeBytes: number };
    assert.equal(stats.ringSizeBytes, 4096);
    assert.equal(stats.malformedRecords, 0);
    assert.ok(args.length >= 50, `${args.length} of 60 execs arrived`);
    for (const a of args) assert.equal(a, want, 'the arguments of an exec read across the wrap');
  } finally {
    sensor.close();
  }
});

/** Runs an ES module script in a child node; returns its exit status and output. */
function runScript(script: string, wrap: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const argv = [...wrap, process.execPath, '--input-type=module', '-e', script];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('open() needs neither bpffs nor tracefs mounted', () => {
  // A private mount namespace without /sys/fs/bpf and tracefs (umount fails harmlessly when absent).
  const shell = [
    'for m in /sys/fs/bpf /sys/kernel/tracing /sys/kernel/debug/tracing; do umount -l "$m" 2>/dev/null; done',
    "if grep -Eq ' (bpf|tracefs) ' /proc/self/mounts; then echo 'still mounted' >&2; exit 3; fi",
    'exec "$@"',
  ].join('; ');
  const script = `
    import { loadNative } from ${JSON.stringify(ADDON_JS)};
    const sensor = loadNative().createSensor();
    const states = sensor.open({ ringBufferBytes: ${1 << 16} });
    sensor.close();
    console.log(states.filter((s) => s.attached).length + '/' + states.length);
  `;
  const r = runScript(script, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', shell, 'sh']);
  assert.equal(r.status, 0, r.stderr);
  const [attached, total] = r.stdout.trim().split('/').map(Number);
  assert.ok(total! > 0 && attached === total, `every program attached without bpffs/tracefs: ${r.stdout}`);
  assert.equal(r.stderr, '', 'libbpf prints nothing by default');
});

test('close() from inside the batch callback stops delivery and frees everything', async () => {
  const sensor = native.createSensor();
  sensor.open({ ringBufferBytes: RING_BYTES, objects: ['process'] });
  const ids = programIdsOf('self');
  let calls = 0;
  sensor.start(
    () => {
      calls++;
      sensor.close();
    },
    { maxRecords: 1, maxBytes: 4096 },
  );
  for (let i = 0; i < 3; i++) spawnSync('/bin/true');
  await waitFor('the first batch', () => calls > 0);
  await sleep(50);
  assert.equal(calls, 1, 'no batch after close()');
  assert.equal(programIdsOf('self').size, 0);
  assert.deepEqual(await waitGone(ids), []);
});

test('an exception thrown by the callback on the event loop becomes an uncaught exception', () => {
  const script = `
    import { spawnSync } from 'node:child_process';
    import { loadNative } from ${JSON.stringify(ADDON_JS)};
    const sensor = loadNative().createSensor();
    sensor.open({ ringBufferBytes: ${1 << 20}, objects: ['process'] });
    process.on('uncaughtException', (err) => {
      console.log('uncaught: ' + err.message);
      sensor.close();
      process.exit(0);
    });
    sensor.start(() => { throw new Error('from the batch callback'); }, { maxRecords: 16, maxBytes: 4096 });
    spawnSync('/bin/true');
    setTimeout(() => { console.log('no exception'); process.exit(1); }, 5000);
  `;
  const r = runScript(script);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /uncaught: from the batch callback/);
});

test('a process killed with SIGKILL leaves none of its programs behind', async () => {
  const script = `
    import { loadNative } from ${JSON.stringify(ADDON_JS)};
    const sensor = loadNative().createSensor();
    sensor.open({ ringBufferBytes: ${RING_BYTES} });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    await new Promise<void>((resolveReady, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolveReady());
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before opening: ${stderr}`)));
    });
    const ids = programIdsOf(child.pid!);
    assert.ok(ids.size > 0, 'the child holds programs');
    const { programs, linked } = kernelVgPrograms();
    for (const id of ids) assert.ok(programs.has(id) && linked.has(id), `program ${id} loaded and linked`);
    child.kill('SIGKILL');
    await exited;
    assert.deepEqual(await waitGone(ids), [], 'the kernel freed the killed process programs and links');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a worker thread that ends with its sensor open leaves nothing attached (env cleanup hook)', async () => {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(ADDON_JS)}).then(({ loadNative }) => {
      const sensor = loadNative().createSensor();
      sensor.open({ ringBufferBytes: ${1 << 16} });
      parentPort.postMessage('open');
      setInterval(() => {}, 1000);
    }, (err) => parentPort.postMessage(String(err)));
  `;
  const before = programIdsOf('self');
  const worker = new Worker(code, { eval: true });
  const message = await new Promise<unknown>((r) => worker.once('message', r));
  assert.equal(message, 'open');
  const ids = new Set([...programIdsOf('self')].filter((id) => !before.has(id)));
  assert.ok(ids.size > 0, 'the worker holds programs in this process');
  await worker.terminate();
  assert.deepEqual(
    [...programIdsOf('self')].filter((id) => ids.has(id)),
    [],
    'the cleanup hook closed the fds',
  );
  assert.deepEqual(await waitGone(ids), [], 'and the kernel freed the programs');
  // The process-wide "one sensor" slot is free again.
  const sensor = native.createSensor();
  sensor.open({ ringBufferBytes: 1 << 16, objects: ['process'] });
  sensor.close();
});
