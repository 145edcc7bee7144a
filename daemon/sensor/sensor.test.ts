// The sensor over a fake NativeSensor: configuration order, decode + enrich + deliver, bounded
// queues, corrupt input, native failures, stats, logs, and record -> replay.
import { ProcessEnricher } from '../process/process-enricher.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { CaptureFormatError, SensorError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { ProcessTable } from '../process/table.js';
import type { BatchCallback, NativeSensor, NativeStats, OpenOptions, PollOptions, ProgramState, SyscallEntry, WatchEntry } from './native.js';
import { Kind, VG_KIND_MAX } from './layout.js';
import { buildBatch, buildRecord } from '../../test/record-builder.js';
import { Sensor } from './sensor.js';
import type { VigilEvent } from './events.js';
import { DEFAULT_WATCHES } from './watches.js';
import { syscallTable } from './syscalls.js';
import { BootClock } from '../core/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sensor-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

class FakeNative implements NativeSensor {
  calls: string[] = [];
  syscalls: SyscallEntry[] = [];
  watches: WatchEntry[] = [];
  ignored: number[] = [];
  flags = -1;
  callback: BatchCallback | undefined;
  pending: Buffer[] = [];
  closed = false;
  constructor(
    private readonly programs: ProgramState[] = [
      { object: 'process', program: 'vg_exec', section: 'tp_btf/sched_process_exec', attached: true, reason: '' },
      { object: 'syscalls', program: 'vg_fentry', section: 'fentry/x', attached: false, reason: 'fentry not supported (EPERM)' },
    ],
    private readonly failAt?: string,
  ) {}
  private step(name: string): void {
    this.calls.push(name);
    if (this.failAt === name) throw Object.assign(new Error('Operation not permitted'), { code: 'NOT_PERMITTED', step: name, errno: 1 });
  }
  open(_o: OpenOptions): ProgramState[] {
    this.step('open');
    return this.programs;
  }
  setSyscalls(e: readonly SyscallEntry[]): void {
    this.step('setSyscalls');
    this.syscalls = [...e];
  }
  setWatches(e: readonly WatchEntry[]): void {
    this.step('setWatches');
    this.watches = [...e];
  }
  setIgnoredPids(p: readonly number[]): void {
    this.step('setIgnoredPids');
    this.ignored = [...p];
  }
  setConfigFlags(f: number): void {
    this.step('setConfigFlags');
    this.flags = f;
  }
  start(cb: BatchCallback, _o: PollOptions): void {
    this.step('start');
    this.callback = cb;
  }
  drain(): number {
    this.calls.push('drain');
    const n = this.pending.length;
    for (const b of this.pending.splice(0)) this.callback?.(b, 1);
    return n;
  }
  stats(): NativeStats {
    const emitted = new Array<bigint>(VG_KIND_MAX).fill(0n);
    const dropped = new Array<bigint>(VG_KIND_MAX).fill(0n);
    emitted[Kind.EXEC] = 10n;
    dropped[Kind.FILE] = 2n;
    const shed = new Array<bigint>(VG_KIND_MAX).fill(0n);
    shed[Kind.FILE] = 1n;
    const coalesced = new Array<bigint>(VG_KIND_MAX).fill(0n);
    coalesced[Kind.FILE] = 7n;
    return { emitted, dropped, shed, coalesced, ringUsedBytes: 0, ringSizeBytes: 1 << 20 };
  }
  close(): void {
    this.calls.push('close');
    this.closed = true;
  }
  /** The kernel hands over a batch. */
  feed(batch: Buffer, count = 1): void {
    this.callback!(batch, count);
  }
}

function seededTable(): ProcessTable {
  const t = new ProcessTable();
  t.seed([
    { pid: 1, ppid: 0, exe: '/sbin/init', args: ['init'], comm: 'init', uid: 0, startNs: 0n, cgroup: '', cgroupId: 0 },
    { pid: 100, ppid: 1, exe: '/bin/bash', args: ['bash'], comm: 'bash', uid: 0, startNs: 0n, cgroup: '', cgroupId: 0 },
  ]);
  return t;
}

const H = { pid: 100, tid: 100, ppid: 1, ktime_ns: 1_000n, comm: 'bash', ns: [1, 2, 3, 4, 5, 6, 7] };
const execOf = (pid: number, ppid: number, exe: string, ktime = 2_000n): Buffer => {
  const args = Buffer.from(`${exe}\0`);
  return buildRecord(
    Kind.EXEC,
    { ...H, pid, tid: pid, ppid, ktime_ns: ktime, comm: 'x' },
    { path_len: exe.length, args_len: args.length, argc: 1 },
    Buffer.concat([Buffer.from(exe), args]),
  );
};

function logSink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('open: ignores itself first, then watches, syscalls (the default set), flags, and starts', async () => {
  const native = new FakeNative();
  const sink = logSink();
  const sensor = Sensor.live(native, {
    watches: [{ kind: 'exact', path: '/x', id: 1000 }],
    ignorePids: [42],
    configFlags: 3,
    logger: createLogger({ destination: sink.stream, level: 'info' }),
  });
  const ready = await sensor.open();
  assert.deepEqual(native.calls, ['open', 'setIgnoredPids', 'setWatches', 'setSyscalls', 'setConfigFlags', 'start']);
  assert.deepEqual(native.ignored, [process.pid, 42]);
  assert.deepEqual(native.syscalls, syscallTable('x86_64').defaults());
  // the defaults (less the exact entry below the /proc/sys/ prefix, watches.ts withoutCovered) and /x
  assert.equal(native.watches.length, DEFAULT_WATCHES.length);
  assert.ok(native.watches.some((w) => w.path === '/x' && w.id === 1000));
  assert.equal(native.flags, 3 | 4, 'the given flags, plus batched wakeups with the periodic drain');
  assert.equal(ready.attached, 1);
  assert.deepEqual(
    ready.refused.map((p) => p.program),
    ['vg_fentry'],
  );
  const warn = sink.lines().find((l) => l.msg === 'program not attached');
  assert.ok(warn, 'a refused program is logged');
  assert.equal(warn.level, 40);
  assert.equal(warn.reason, 'fentry not supported (EPERM)');
  await sensor.close();
  assert.ok(native.closed);
});

test('batches are decoded, enriched from the process table and delivered after the callback returns', async () => {
  const native = new FakeNative();
  const sensor = Sensor.live(native, { enrichers: [new ProcessEnricher({ procfs: false, table: seededTable() })], clock: new BootClock(0n) });
  await sensor.open();
  const got: VigilEvent[] = [];
  sensor.subscribe((e) => got.push(e));
  native.feed(
    buildBatch([
      buildRecord(Kind.FORK, H, { child_pid: 101, child_vpid: 101 }),
      execOf(101, 100, '/usr/bin/id'),
      buildRecord(Kind.EXIT, { ...H, pid: 101, tid: 101, ktime_ns: 3_000n }, { exit_code: 0 }),
    ]),
    3,
  );
  assert.equal(got.length, 0, 'delivery is not inside the ingest callback');
  await tick();
  assert.deepEqual(
    got.map((e) => e.kind),
    ['fork', 'exec', 'exit'],
  );
  assert.deepEqual(got[0]!.proc, { exe: '/bin/bash', args: ['bash'], ancestors: [{ pid: 1, exe: '/sbin/init', comm: 'init', args: ['init'], uid: 0 }] });
  assert.equal(got[1]!.proc!.exe, '/usr/bin/id');
  assert.deepEqual(
    got[1]!.proc!.ancestors.map((a) => a.pid),
    [100, 1],
  );
  assert.equal(got[2]!.proc!.exe, '/usr/bin/id', 'an exited process still resolves');
  assert.equal(got[0]!.time, '1970-01-01T00:00:00.000001000Z');
  const s = sensor.stats();
  assert.equal(s.decoded.exec, 1);
  assert.equal(s.delivered, 3);
  assert.deepEqual(s.native!.emitted, { exec: 10 });
  assert.deepEqual(s.native!.dropped, { file: 2 });
  assert.deepEqual(s.native!.shed, { file: 1 });
  assert.deepEqual(s.native!.coalesced, { file: 7 });
  await sensor.close();
});

test('a full subscriber queue drops and counts its own events only', async () => {
  const native = new FakeNative();
  const sensor = Sensor.live(native, {});
  await sensor.open();
  const small: VigilEvent[] = [];
  const big: VigilEvent[] = [];
  const s1 = sensor.subscribe((e) => small.push(e), { capacity: 2 });
  sensor.subscribe((e) => big.push(e));
  const rec = buildRecord(Kind.EXIT, H, { exit_code: 1 });
  native.feed(buildBatch([rec, rec, rec, rec, rec]), 5);
  await tick();
  assert.equal(small.length, 2);
  assert.equal(big.length, 5);
  assert.equal(s1.dropped, 3);
  assert.equal(sensor.stats().queueDrops, 3);
  s1.unsubscribe();
  assert.equal(sensor.stats().queueDrops, 3, 'drops of a gone subscriber still count');
  await sensor.close();
});

test('subscriber filters: filtered events are neither queued nor dropped', async () => {
  const native = new FakeNative();
  const sensor = Sensor.live(native, {});
  await sensor.open();
  const got: VigilEvent[] = [];
  sensor.subscribe((e) => got.push(e), { capacity: 1, filter: (e) => e.kind === 'fork' });
  native.feed(buildBatch([buildRecord(Kind.EXIT, H), buildRecord(Kind.EXIT, H), buildRecord(Kind.FORK, H, { child_pid: 5 })]), 3);
  await tick();
  assert.deepEqual(
    got.map((e) => e.kind),
    ['fork'],
  );
  assert.equal(sensor.stats().queueDrops, 0);
  await sensor.close();
});

test('corrupt batches are counted and never throw out of the batch callback', async () => {
  const native = new FakeNative();
  const sensor = Sensor.live(native, {});
  await sensor.open();
  sensor.subscribe(() => undefined);
  assert.doesNotThrow(() =>
    native.feed(Buffer.from('definitely not records, but long enough to hold a header or so......................................................')),
  );
  assert.doesNotThrow(() => native.feed(Buffer.alloc(3)));
  assert.doesNotThrow(() => native.feed(buildRecord(Kind.EXEC, { ...H, size: 60000 })));
  const c = sensor.stats().corrupt;
  assert.ok(c.truncated_header + c.beyond_batch + c.unknown_kind >= 3, JSON.stringify(c));
  await sensor.close();
});

test('a throwing subscriber is logged and does not stop delivery to others', async () => {
  const native = new FakeNative();
  const sink = logSink();
  const sensor = Sensor.live(native, { logger: createLogger({ destination: sink.stream }) });
  await sensor.open();
  let n = 0;
  sensor.subscribe(() => {
    throw new Error('subscriber bug');
  });
  sensor.subscribe(() => n++);
  native.feed(buildBatch([buildRecord(Kind.EXIT, H), buildRecord(Kind.EXIT, H)]), 2);
  await tick();
  assert.equal(n, 2);
  assert.ok(sink.lines().some((l) => l.msg === 'subscriber threw; event skipped' && l.level === 50));
  await sensor.close();
});

test('a native failure becomes a SensorError with the stable code and step; the addon is closed', async () => {
  const native = new FakeNative(undefined, 'setSyscalls');
  const sensor = Sensor.live(native, {});
  await assert.rejects(sensor.open(), (err: unknown) => {
    assert.ok(err instanceof SensorError);
    assert.equal(err.code, 'VIGIL_NOT_ROOT');
    assert.equal(err.nativeCode, 'NOT_PERMITTED');
    assert.equal(err.step, 'setSyscalls');
    assert.match(err.message, /Operation not permitted \(NOT_PERMITTED, step setSyscalls\)/);
    return true;
  });
  assert.ok(native.closed);
});

test('close drains the kernel and delivers what was pending', async () => {
  const native = new FakeNative();
  const sensor = Sensor.live(native, {});
  await sensor.open();
  const got: VigilEvent[] = [];
  sensor.subscribe((e) => got.push(e));
  native.pending.push(buildRecord(Kind.EXIT, H));
  await sensor.close();
  assert.equal(got.length, 1);
  assert.ok(native.calls.indexOf('drain') < native.calls.indexOf('close'));
  await sensor.close(); // idempotent
});

test('record, then replay: the same events (times included) come back', async () => {
  const file = join(dir, 'rec.cap');
  const native = new FakeNative();
  const live = Sensor.live(native, { record: file, clock: new BootClock(1_700_000_000_000_000_000n) });
  await live.open();
  const liveEvents: string[] = [];
  live.subscribe((e) => liveEvents.push(JSON.stringify({ ...e, proc: undefined })));
  native.feed(buildBatch([execOf(200, 1, '/bin/true'), buildRecord(Kind.EXIT, { ...H, pid: 200 })]), 2);
  native.feed(buildRecord(Kind.FORK, H, { child_pid: 201 }), 1);
  await live.close();
  assert.equal(live.stats().capture!.batches, 2);

  const replay = Sensor.replay(file);
  await replay.open();
  const replayed: string[] = [];
  replay.subscribe((e) => replayed.push(JSON.stringify({ ...e, proc: undefined })));
  await replay.done;
  assert.deepEqual(replayed, liveEvents);
  assert.equal(replay.stats().replay!.batches, 2);
  assert.equal(replay.stats().source, 'replay');
  await replay.close();

  // Cut inside the last batch: the first batch replays, the cut one is counted.
  const cut = join(dir, 'cut.cap');
  const bytes = readFileSync(file);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
  const r2 = Sensor.replay(cut);
  await r2.open();
  let n = 0;
  r2.subscribe(() => n++);
  await r2.done;
  assert.equal(n, 2);
  assert.equal(r2.stats().replay!.truncated, 1);
  await r2.close();
});

test('replay of something that is not a capture fails at open with CaptureFormatError', async () => {
  const file = join(dir, 'bad.cap');
  writeFileSync(file, 'nope');
  await assert.rejects(Sensor.replay(file).open(), CaptureFormatError);
});
