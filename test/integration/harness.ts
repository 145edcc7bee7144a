// Integration-test harness: runs `vigild trace` as a user does, collects its JSON lines, and runs the
// real actions (test/helpers/vigil-act, shell tools) whose events the tests then look for.
//
// One tracer per test file (it takes a moment to load and attach); every wait fails with the tracer's
// stderr so a timeout says why. BPF tests never skip themselves: a missing prerequisite fails the test
// with a message, unless VIGIL_ALLOW_NO_BPF=1 is set (then they skip, for machines without BPF).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs as dist/js/test/integration/harness.js. */
export const ROOT = process.env.VIGIL_ROOT ?? resolve(fileURLToPath(import.meta.url), '../../../../..');
export const VIGILD = join(ROOT, 'bin/vigild');
export const HELPERS = join(ROOT, 'dist/helpers');
export const ACT = join(HELPERS, 'vigil-act');

/** How long an event may take from the action to the tracer's stdout. */
export const EVENT_TIMEOUT_MS = 5000;
const READY_TIMEOUT_MS = 20000;

/** One event as `vigild trace -o json` prints it (docs/events.md). Fields are checked by the tests. */
export type TraceEvent = Record<string, unknown> & { kind: string; pid: number };

export interface Prerequisites {
  /** Set when the tests may not run; the tests fail with it, or skip under VIGIL_ALLOW_NO_BPF=1. */
  missing?: string;
}

/** What the BPF integration tests need, checked once. */
export function prerequisites(): Prerequisites {
  const missing: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('not running as root');
  if (!existsSync('/sys/kernel/btf/vmlinux')) missing.push('no /sys/kernel/btf/vmlinux (kernel BTF)');
  if (!existsSync(join(ROOT, 'dist/js/daemon/cli/main.js'))) missing.push(`${join(ROOT, 'dist/js/daemon/cli/main.js')} not built (make build)`);
  if (!existsSync(ACT)) missing.push(`${ACT} not built (make helpers)`);
  return missing.length > 0 ? { missing: missing.join('; ') } : {};
}

/**
 * Options for each node:test test: { skip } only when the prerequisites are missing AND the
 * environment allows it; otherwise starting the tracer throws the reason and the tests fail. Given to
 * each test rather than to the describe so that a skip is counted ("skipped N") where CI looks.
 */
export function bpfTestOptions(): { skip?: string } {
  const { missing } = prerequisites();
  if (missing && process.env.VIGIL_ALLOW_NO_BPF === '1') return { skip: `VIGIL_ALLOW_NO_BPF=1: ${missing}` };
  return {};
}
export const BPF = bpfTestOptions();

export function assertPrerequisites(): void {
  const { missing } = prerequisites();
  if (missing) throw new Error(`BPF integration tests cannot run: ${missing} (set VIGIL_ALLOW_NO_BPF=1 to skip)`);
}

export type EventPredicate = (e: TraceEvent) => boolean;

export class Tracer {
  readonly events: TraceEvent[] = [];
  stderr = '';
  /** Lines of stdout that were not JSON objects (reported on failure). */
  readonly badLines: string[] = [];
  private readonly proc: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private partial = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly args: readonly string[]) {
    this.proc = spawn(VIGILD, ['trace', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
      this.wake();
    });
    this.exitPromise = new Promise((res) => {
      // 'close', not 'exit': by then every stdout line has been parsed.
      this.proc.on('close', (code, signal) => {
        this.exited = { code, signal };
        this.wake();
        res(this.exited);
      });
      this.proc.on('error', (err) => {
        this.stderr += `\n[harness] spawn failed: ${err.message}`;
        this.exited = { code: -1, signal: null };
        this.wake();
        res(this.exited);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Start `vigild trace ARGS` without waiting for anything (e.g. a --replay that ends by itself). */
  static spawn(args: readonly string[]): Tracer {
    assertPrerequisites();
    return new Tracer(args);
  }

  /** Start `vigild trace ARGS` and wait for its "ready" line on stderr. */
  static async start(args: readonly string[], readyTimeoutMs = READY_TIMEOUT_MS): Promise<Tracer> {
    assertPrerequisites();
    const t = new Tracer(args);
    try {
      await t.until(() => /vigild trace: ready/.test(t.stderr), readyTimeoutMs, 'the "vigild trace: ready" line');
    } catch (err) {
      await t.stop('SIGKILL');
      throw err;
    }
    return t;
  }

  private onStdout(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const v: unknown = JSON.parse(line);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) this.events.push(v as TraceEvent);
        else this.badLines.push(line);
      } catch {
        if (this.badLines.length < 20) this.badLines.push(line);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve when cond() holds; reject after timeoutMs, or when the tracer exits first. */
  until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((res, rej) => {
      const check = (): void => {
        if (cond()) {
          done();
          res();
        } else if (this.exited) {
          done();
          rej(this.failure(`tracer exited (code ${this.exited.code}, signal ${this.exited.signal}) before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        rej(this.failure(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first event (already seen or still to come) matching pred. */
  async waitFor(pred: EventPredicate, what: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<TraceEvent> {
    let found: TraceEvent | undefined;
    await this.until(() => (found = this.events.find(pred)) !== undefined, timeoutMs, what);
    return found!;
  }

  /** Events of a process, of one kind, optionally filtered further. */
  find(pid: number, kind: string, pred: EventPredicate = () => true): TraceEvent[] {
    return this.events.filter((e) => e.pid === pid && e.kind === kind && pred(e));
  }

  /** Wait for an event of pid and kind that matches pred; the failure lists what that pid did emit. */
  async waitForPid(pid: number, kind: string, pred: EventPredicate = () => true, what = ''): Promise<TraceEvent> {
    const desc = `a ${kind} event of pid ${pid}${what ? ` (${what})` : ''}`;
    try {
      return await this.waitFor((e) => e.pid === pid && e.kind === kind && pred(e), desc);
    } catch (err) {
      const seen = this.events.filter((e) => e.pid === pid);
      const summary = seen.map((e) => JSON.stringify(e)).join('\n  ');
      (err as Error).message += `\nevents of pid ${pid} seen (${seen.length}):\n  ${summary || '(none)'}`;
      throw err;
    }
  }

  private failure(message: string): Error {
    const bad = this.badLines.length ? `\nnon-JSON stdout lines:\n  ${this.badLines.slice(0, 5).join('\n  ')}` : '';
    return new Error(
      `vigild trace ${this.args.join(' ')}: ${message}\n` +
        `events received: ${this.events.length}${bad}\n--- tracer stderr ---\n${this.stderr.slice(-4000) || '(empty)'}`,
    );
  }

  /** Signal the tracer and wait for it to exit (SIGKILL after timeoutMs). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exited) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const r = await this.exitPromise;
    clearTimeout(timer);
    return r;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exited;
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitPromise;
  }
}

export interface RunResult {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a program to completion (no shell). Rejects on spawn failure or after timeoutMs. */
export function run(file: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`${file} ${args.join(' ')}: still running after ${opts.timeoutMs ?? 10000} ms`));
    }, opts.timeoutMs ?? 10000);
    p.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (p.pid === undefined) rej(new Error(`${file}: no pid`));
      else res({ pid: p.pid, code, signal, stdout, stderr });
    });
  });
}

/** Run a program that must exit 0. */
export async function runOk(file: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r;
}

export interface ActResult extends RunResult {
  /** The helper's JSON line ({op, pid, ret, ...}). */
  out: Record<string, number | string>;
}

/** Run test/helpers/vigil-act; it must exit 0 and print one JSON line. */
export async function act(args: readonly string[], opts: { cwd?: string } = {}): Promise<ActResult> {
  const r = await runOk(ACT, args, opts);
  const line = r.stdout.trim().split('\n')[0] ?? '';
  let out: Record<string, number | string>;
  try {
    out = JSON.parse(line) as Record<string, number | string>;
  } catch {
    throw new Error(`vigil-act ${args.join(' ')}: expected a JSON line, got ${JSON.stringify(r.stdout)}`);
  }
  return { ...r, out };
}

/** Inode number of a namespace of a process (what /proc/PID/ns/NAME links to). */
export function nsInode(pid: number | 'self', ns: string): number {
  return statSync(`/proc/${pid}/ns/${ns}`).ino;
}

/** A fresh temporary directory, realpath'd (events carry kernel-resolved paths). */
export function tempDir(prefix = 'vigil-it-'): { path: string; remove: () => void } {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Loaded BPF programs (id and name), from bpftool -j prog show. */
export function bpfPrograms(): Array<{ id: number; name: string }> {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  if (r.error) throw new Error(`bpftool: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`bpftool -j prog show exited ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout || '[]') as Array<{ id: number; name?: string }>).map((p) => ({ id: p.id, name: p.name ?? '' }));
}

/** Ids of the BPF programs a process holds through its fds (program and link fds name a prog_id). */
export function heldProgramIds(pid: number): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const m = /^prog_id:\s*(\d+)/m.exec(text);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** Parse an RFC 3339 time with nanoseconds into milliseconds since the epoch (NaN if malformed). */
export function parseTime(s: unknown): number {
  if (typeof s !== 'string') return NaN;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return Date.parse(`${m[1]}${frac}${m[3]}`);
}

/** A field as a number; numbers above 2^53 come as decimal strings, flags as hex strings. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return NaN;
}

const NS_NAMES = ['mnt', 'pid', 'net', 'user', 'uts', 'ipc', 'cgroup'] as const;

/** The namespace inodes of a process as the `ns` object of events carries them. */
export function nsObject(pid: number | 'self'): Record<string, number> {
  const o: Record<string, number> = {};
  for (const n of NS_NAMES) o[n] = nsInode(pid, n === 'pid' ? 'pid' : n);
  return o;
}

/**
 * Problems with the fields every event carries (docs/events.md, "Common fields"); empty when fine.
 * The caller asserts the list is empty, so one failure names every wrong field at once.
 */
export function commonFieldProblems(e: TraceEvent, expect: { pid: number; ppid?: number; uid?: number }): string[] {
  const p: string[] = [];
  if (e.pid !== expect.pid) p.push(`pid ${String(e.pid)} != ${expect.pid}`);
  if (expect.ppid !== undefined && e.ppid !== expect.ppid) p.push(`ppid ${String(e.ppid)} != ${expect.ppid}`);
  if (expect.uid !== undefined && e.uid !== expect.uid) p.push(`uid ${String(e.uid)} != ${expect.uid}`);
  for (const f of ['tid', 'vpid', 'uid', 'gid', 'loginuid']) if (typeof e[f] !== 'number') p.push(`${f} not a number`);
  if (typeof e.comm !== 'string' || e.comm.length === 0 || e.comm.length > 15) p.push(`comm ${JSON.stringify(e.comm)}`);
  const t = parseTime(e.time);
  if (!Number.isFinite(t)) p.push(`time ${JSON.stringify(e.time)} is not RFC 3339`);
  else if (Math.abs(Date.now() - t) > 60_000) p.push(`time ${String(e.time)} is more than a minute from now`);
  const ns = e.ns as Record<string, unknown> | undefined;
  if (!ns || typeof ns !== 'object') p.push('no ns object');
  else for (const n of NS_NAMES) if (typeof ns[n] !== 'number' || (ns[n] as number) <= 0) p.push(`ns.${n} ${String(ns[n])}`);
  return p;
}
