// `vigild trace` and `vigild`: usage errors (exit 2), help, failures with their code (exit 1), live
// output over a fake addon, replay, filters, EPIPE, and the compact format (events and lifecycle lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../core/log.js';
import { main } from './main.js';
import { CaptureWriter } from '../sensor/capture.js';
import { Kind, VG_KIND_MAX } from '../sensor/layout.js';
import type { BatchCallback, NativeModule, NativeSensor } from '../sensor/native.js';
import { buildBatch, buildRecord } from '../../test/record-builder.js';
import { type DecodeContext, BatchDecoder } from '../sensor/decode.js';
import { syscallTable } from '../sensor/syscalls.js';
import { BootClock } from '../core/clock.js';
import type { VigilEvent } from '../sensor/events.js';
import { parseTraceArgs, pidFilter, runTrace, traceColour, type TraceColour, type TraceIo } from './trace.js';
import type { ContainerInfo, ContainerLifecycleEvent, Posture } from '../containers/container-info.js';
import { formatCompact, formatLifecycle } from './trace-format.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Harness {
  io: TraceIo;
  out: Capture;
  err: Capture;
  stop: () => void;
  native?: FakeNative;
}

class FakeNative implements NativeSensor {
  cb: BatchCallback | undefined;
  closed = false;
  open() {
    return [{ object: 'process', program: 'vg_exec', section: 'tp_btf/sched_process_exec', attached: true, reason: '' }];
  }
  setSyscalls(): void {}
  setWatches(): void {}
  setIgnoredPids(): void {}
  setConfigFlags(): void {}
  start(cb: BatchCallback): void {
    this.cb = cb;
  }
  drain(): number {
    return 0;
  }
  stats() {
    const zeros = (): bigint[] => new Array<bigint>(VG_KIND_MAX).fill(0n);
    return { emitted: zeros(), dropped: zeros(), shed: zeros(), coalesced: zeros(), ringUsedBytes: 0, ringSizeBytes: 0 };
  }
  close(): void {
    this.closed = true;
  }
}

function harness(over: Partial<TraceIo> = {}): Harness {
  const out = new Capture();
  const err = new Capture();
  let signal: ((s: NodeJS.Signals) => void) | undefined;
  const native = new FakeNative();
  const mod: NativeModule = { createSensor: () => native, objects: () => ['process'], trimMemory: () => false, releaseExecutablePages: () => 0 };
  const io: TraceIo = {
    stdout: out,
    stderr: err,
    loadNative: () => mod,
    onSignal: (h) => {
      signal = h;
      return () => (signal = undefined);
    },
    getuid: () => 0,
    btfPresent: () => true,
    logger: silentLogger(),
    ...over,
  };
  return { io, out, err, native, stop: () => signal?.('SIGTERM') };
}

const H = { pid: 300, tid: 300, ppid: 1, ktime_ns: 1_000n, comm: 'sh', ns: [1, 2, 3, 4, 5, 6, 7] };

test('usage errors exit 2 with a one-line reason', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['-o', 'xml'], /-o must be json or compact/],
    [['--duration', '0'], /--duration must be a positive number/],
    [['--duration', 'soon'], /--duration must be a positive number/],
    [['--kinds', 'exec,bogus'], /--kinds: unknown kind "bogus"/],
    [['--pid', 'me'], /--pid must be a process id/],
    [['--watch', '/etc/passwd'], /--watch: watch "\/etc\/passwd": expected exact/],
    [['--watch', 'exact:relative'], /--watch: .*absolute/],
    [['--record', 'a', '--replay', 'b'], /cannot be used together/],
    [['extra'], /unexpected argument "extra"/],
    [['--log-level', 'loud'], /--log-level: unknown level/],
    [['--duration'], /argument missing|requires|--duration/i],
    [['--color', 'yes'], /--color must be auto, always or never, not "yes"/],
  ];
  for (const [argv, msg] of cases) {
    const h = harness();
    assert.equal(await runTrace(argv, h.io), 2, argv.join(' '));
    assert.match(h.err.text, msg, argv.join(' '));
    assert.match(h.err.text, /^vigild trace: .*\nTry 'vigild trace --help'\.\n$/);
    assert.equal(h.out.text, '');
  }
});

test('option parsing: defaults and values', () => {
  const o = parseTraceArgs(['--kinds', 'exec,file', '--pid', '12', '--watch', 'name:x', '--watch', 'exact:/y', '--inet', '--duration', '1.5'], false);
  assert.equal(o.output, 'json', 'json when stdout is not a terminal');
  assert.deepEqual([...o.kinds!], ['exec', 'file']);
  assert.equal(o.pid, 12);
  assert.deepEqual(
    o.watches.map((w) => w.id),
    [1000, 1001],
  );
  assert.equal(o.configFlags, 1);
  assert.equal(o.durationMs, 1500);
  assert.equal(parseTraceArgs([], true).output, 'compact', 'compact on a terminal');
  assert.equal(o.colour, 'auto');
  assert.equal(parseTraceArgs(['--color', 'never'], true).colour, 'never');
});

test('colour of -o compact: auto on a terminal without NO_COLOR; always and never beat both', () => {
  const cases: Array<[TraceColour, boolean, NodeJS.ProcessEnv, boolean]> = [
    ['auto', true, {}, true],
    ['auto', false, {}, false],
    ['auto', true, { NO_COLOR: '1' }, false],
    ['auto', true, { TERM: 'dumb' }, false],
    ['always', false, { NO_COLOR: '1' }, true],
    ['never', true, {}, false],
  ];
  for (const [mode, tty, env, want] of cases) assert.equal(traceColour(mode, tty, env), want, `${mode} tty=${tty} ${JSON.stringify(env)}`);
});

test('help: vigild --help and vigild trace --help exit 0 on stdout', async () => {
  const h = harness();
  assert.equal(await runTrace(['--help'], h.io), 0);
  assert.match(h.out.text, /^Usage: vigild trace/);
  const out = new Capture();
  const err = new Capture();
  assert.equal(await main(['--help'], { stdout: out, stderr: err }), 0);
  assert.match(out.text, /Commands:\n  run .*\n  trace /);
  // No command runs the daemon; an unknown daemon option is a usage error.
  assert.equal(await main(['--no-such-option'], { stdout: out, stderr: err }), 2);
  assert.equal(await main(['fly'], { stdout: out, stderr: err }), 2);
  assert.match(err.text, /unknown command "fly"/);
});

test('failures exit 1 with the error code: not root, no BTF, addon failure', async () => {
  const cases: Array<[Partial<TraceIo>, RegExp]> = [
    [{ getuid: () => 1000 }, /^vigild trace: VIGIL_NOT_ROOT: vigild trace needs root/],
    [{ btfPresent: () => false }, /^vigild trace: VIGIL_BTF_MISSING: .*\/sys\/kernel\/btf\/vmlinux/],
    [
      {
        loadNative: () => ({
          objects: () => [],
          trimMemory: () => false,
          releaseExecutablePages: () => 0,
          createSensor: () => {
            const n = new FakeNative();
            n.open = () => {
              throw Object.assign(new Error('verifier said no'), { code: 'PROBE_LOAD_FAILED', step: 'load' });
            };
            return n;
          },
        }),
      },
      /^vigild trace: VIGIL_SENSOR: cannot start the sensor: verifier said no \(PROBE_LOAD_FAILED, step load\)/,
    ],
  ];
  for (const [over, msg] of cases) {
    const h = harness(over);
    assert.equal(await runTrace([], h.io), 1);
    assert.match(h.err.text, msg);
    assert.equal(h.err.text.split('\n').filter(Boolean).length, 1, 'one line');
  }
});

test('live: ready line, one JSON event a line, SIGTERM stops with exit 0 and a summary', async () => {
  const h = harness();
  const run = runTrace(['-o', 'json', '--kinds', 'exec,exit'], h.io);
  while (!h.native!.cb) await new Promise((r) => setTimeout(r, 5));
  assert.match(h.err.text, /^vigild trace: ready \(1 programs attached, 0 refused\)\n/);
  h.native!.cb(buildBatch([buildRecord(Kind.FORK, H, { child_pid: 301 }), buildRecord(Kind.EXIT, H, { exit_code: 4 })]), 2);
  await new Promise((r) => setImmediate(r));
  h.stop();
  assert.equal(await run, 0);
  const lines = h.out.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l.kind),
    ['exit'],
    '--kinds filters',
  );
  assert.equal(lines[0]!.exit_code, 4);
  assert.match(h.err.text, /vigild trace: stopped: 2 records \(fork 1, exit 1\); 0 corrupt; 0 queue drops/);
  assert.ok(h.native!.closed);
});

async function writeCapture(file: string, records: Buffer[], perBatch = 50): Promise<void> {
  const w = CaptureWriter.open(file, { arch: 'x86_64', bootToWallNs: 0n, createdMs: 0 });
  for (let i = 0; i < records.length; i += perBatch) w.write(buildBatch(records.slice(i, i + perBatch)), Math.min(perBatch, records.length - i));
  await w.close();
}

test('replay: prints the capture and exits 0 at its end; --pid keeps a process and its descendants', async () => {
  const file = join(dir, 'r.cap');
  await writeCapture(file, [
    buildRecord(Kind.FORK, H, { child_pid: 301 }),
    buildRecord(Kind.FORK, { ...H, pid: 301, tid: 301, ppid: 300 }, { child_pid: 302 }),
    buildRecord(Kind.EXIT, { ...H, pid: 302, tid: 302, ppid: 301 }),
    buildRecord(Kind.EXIT, { ...H, pid: 999, tid: 999 }),
  ]);
  const h = harness({ getuid: () => 1000, btfPresent: () => false, loadNative: () => assert.fail('replay loads no addon') });
  assert.equal(await runTrace(['--replay', file, '--pid', '301'], h.io), 0);
  assert.match(h.err.text, /ready \(0 programs attached, 0 refused; replaying /);
  const pids = h.out.text
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
  assert.deepEqual(pids, [300, 301, 302], 'the fork creating 301, then 301 and its child; not 999');
});

test('replay of a file that is not a capture: exit 1 with VIGIL_CAPTURE_FORMAT, no stack', async () => {
  const file = join(dir, 'junk.cap');
  writeFileSync(file, 'PK\u0003\u0004 not a capture');
  const h = harness();
  assert.equal(await runTrace(['--replay', file], h.io), 1);
  assert.equal(h.err.text, `vigild trace: VIGIL_CAPTURE_FORMAT: ${file}: not a vigil capture (no VGLCAP magic)\n`);
  const h2 = harness();
  assert.equal(await runTrace(['--replay', join(dir, 'missing.cap')], h2.io), 1);
  assert.match(h2.err.text, /^vigild trace: VIGIL_CAPTURE_IO: .*missing\.cap: ENOENT/);
});

test('EPIPE on stdout stops quietly with exit 0', async () => {
  const file = join(dir, 'pipe.cap');
  await writeCapture(
    file,
    Array.from({ length: 200 }, () => buildRecord(Kind.EXIT, H)),
  );
  const out = new PassThrough();
  let writes = 0;
  out.write = ((..._args: unknown[]): boolean => {
    if (++writes === 3) setImmediate(() => out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
    return true;
  }) as typeof out.write;
  const h = harness({ stdout: out });
  assert.equal(await runTrace(['--replay', file, '-o', 'json'], h.io), 0);
  assert.doesNotMatch(h.err.text, /stopped|EPIPE/);
});

test('the real binary: usage error exits 2, and `| head -n 1` ends quietly with 0', async () => {
  const r = spawnSync(join(ROOT, 'bin/vigild'), ['trace', '--nope'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--nope'/);
  const file = join(dir, 'big.cap');
  await writeCapture(
    file,
    Array.from({ length: 20000 }, () => buildRecord(Kind.EXIT, H)),
    1000,
  );
  const p = spawnSync(
    'bash',
    ['-c', `"${join(ROOT, 'bin/vigild')}" trace -o json --replay "${file}" | head -n 1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`],
    { encoding: 'utf8' },
  );
  assert.match(p.stdout, /status=0/);
  assert.doesNotMatch(p.stderr, /Error|at .*\.js/, p.stderr);
});

test('pid filter: the process, forks it makes, and events whose ancestors include it', () => {
  const f = pidFilter(10);
  const ev = (o: Partial<VigilEvent> & { kind: string; pid: number }): VigilEvent => o as unknown as VigilEvent;
  assert.equal(f(ev({ kind: 'exec', pid: 10 })), true);
  assert.equal(f(ev({ kind: 'fork', pid: 10, child_pid: 11 } as never)), true);
  assert.equal(f(ev({ kind: 'exit', pid: 11 })), true, 'child seen by its fork');
  assert.equal(f(ev({ kind: 'exit', pid: 12, proc: { exe: '/x', args: [], ancestors: [{ pid: 10, exe: '', comm: '' }] } })), true);
  assert.equal(f(ev({ kind: 'exit', pid: 13 })), false);
});

test('compact format: time, tag, process, details; colour only when asked', () => {
  const ctx: DecodeContext = { clock: new BootClock(1_700_000_000_000_000_000n), syscalls: syscallTable('x86_64') };
  const d = new BatchDecoder(ctx);
  const evs: VigilEvent[] = [];
  const exe = '/usr/bin/id';
  const args = Buffer.from('id\0-u\0');
  d.decodeBatch(
    buildBatch([
      buildRecord(
        Kind.EXEC,
        H,
        { path_len: exe.length, args_len: args.length, argc: 2, creds: { cap_effective: 0x1ffffffffffn } },
        Buffer.concat([Buffer.from(exe), args]),
      ),
      buildRecord(Kind.EXIT, H, { signal: 9 }),
      buildRecord(Kind.SYSCALL, H, { nr: 165, retval: -1n, args: [0, 0, 0, 0x2, 0, 0], str_len: [4, 4, 4] }, Buffer.from('none/mntproc')),
    ]),
    (e) => evs.push(e),
  );
  const lines = evs.map((e) => formatCompact(e, { colour: false }));
  assert.deepEqual(lines, [
    '22:13:20.000 exec    sh[300] /usr/bin/id -u (uid 0 euid 0 caps ALL)',
    '22:13:20.000 exit    sh[300] signal 9',
    '22:13:20.000 syscall sh[300] mount none on /mnt type proc MS_NOSUID = -1 (failed)',
  ]);
  assert.match(formatCompact(evs[0]!, { colour: true }), /\x1b\[32mexec/);
  assert.equal(formatCompact({ ...evs[1]!, runtime_setup: true }, { colour: false }), '22:13:20.000 exit    sh[300] (runtime setup) signal 9');
});

test('compact lifecycle lines: start, update (what changed, a posture mismatch), stop', () => {
  const posture: Posture = {
    privileged: false,
    hostPid: false,
    hostNet: false,
    hostIpc: false,
    hostMnt: false,
    hostUser: true,
    hostUts: false,
    sensitiveMounts: [],
    uidMap: '0 0 4294967295',
    capEffective: '0xa80425fb',
    sources: ['runtime'],
    mismatches: [],
  };
  const info: ContainerInfo = {
    id: 'c0ffee',
    name: 'c0ffee',
    runtime: 'runc',
    image: '',
    labels: {},
    cgroupId: 7,
    cgroupPath: '/vigil/c0ffee',
    startedAt: '2026-11-28T12:00:00.000Z',
    posture,
  };
  const kernel: Posture = { ...posture, hostNet: true, sources: ['runtime', 'kernel'], mismatches: ['hostNet: runtime false, kernel true'] };
  const lines: Array<[ContainerLifecycleEvent, string]> = [
    [{ kind: 'container_start', time: '2026-11-28T12:00:00.000Z', container: info }, '12:00:00.000 start   runc:c0ffee c0ffee cgroup /vigil/c0ffee'],
    [
      { kind: 'container_update', time: '2026-11-28T12:00:00.500Z', container: { ...info, name: 'web', posture: kernel }, changed: ['name', 'posture'] },
      '12:00:00.500 update  runc:web c0ffee changed name,posture cgroup /vigil/c0ffee host-net mismatch (hostNet: runtime false, kernel true)',
    ],
    [
      { kind: 'container_stop', time: '2026-11-28T12:00:09.000Z', container: { ...info, name: 'web', posture: kernel } },
      '12:00:09.000 stop    runc:web c0ffee cgroup /vigil/c0ffee host-net mismatch (hostNet: runtime false, kernel true)',
    ],
  ];
  for (const [ev, line] of lines) assert.equal(formatLifecycle(ev), line);
});
