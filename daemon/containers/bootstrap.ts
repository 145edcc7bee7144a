// The container runtimes' own processes. runc starts a container by forking `runc init` (exec'd as
// /proc/self/exe, then re-exec'd from a memfd copy of itself), which forks twice while it sets up
// the namespaces and only then execs the container's first program. Until that exec the process is
// the runtime's: it holds every capability and, at first, the host's namespaces, and runc moves it
// into the container's cgroup while it runs, so it may be in that cgroup before or after its own
// execs depending on scheduling. A container starts at the exec that hands over from the runtime to
// its program, never at one of the runtime's execs.
//
// BootstrapTracker follows those processes by pid, from a runtime's exec through its forks to that
// hand-over exec (or the exit). It is bounded (oldest first) and forgets a pid after `ttlMs`, so a
// long-lived shim (containerd-shim, conmon) costs one entry at most and is picked up again at its
// next runtime exec.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecEvent, ForkEvent, VigilEvent } from '../sensor/events.js';

/** Executables of OCI runtimes and their shims (by base name). */
export const RUNTIME_EXECUTABLES: ReadonlySet<string> = new Set([
  'runc',
  'crun',
  'youki',
  'runsc',
  'kata-runtime',
  'runc-dmz',
  'conmon',
  'conmonrs',
  'containerd-shim',
  'containerd-shim-runc-v1',
  'containerd-shim-runc-v2',
  'containerd-shim-kata-v2',
  'docker-init',
]);

/** Task names (comm, 15 characters) of a runtime's processes before they hand over. */
const RUNTIME_COMMS: ReadonlySet<string> = new Set([...RUNTIME_EXECUTABLES].map((n) => n.slice(0, 15)));

/**
 * Could a process of this name (the event header's comm) still be a runtime's bootstrap? runc's
 * stages name themselves "runc:[0:PARENT]" to "runc:[2:INIT]"; before that the task is named after
 * what it exec'd: "exe" (/proc/self/exe), a descriptor number (its memfd copy, exec'd by fd), or the
 * runtime's own name. After the hand-over exec the name is the program's.
 */
export function isRuntimeComm(comm: string): boolean {
  return comm.startsWith('runc:[') || comm === 'exe' || /^\d+$/.test(comm) || RUNTIME_COMMS.has(comm);
}

function base(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Is this image (kernel-resolved path and argv) a runtime's? runc's bootstrap keeps argv
 * "runc init" when it re-executes itself through /proc/self/exe and from its memfd copy, whose path
 * the kernel cannot resolve to a file.
 */
export function isRuntimeImage(exe: string, args: readonly string[]): boolean {
  if (RUNTIME_EXECUTABLES.has(base(exe))) return true;
  return args[1] === 'init' && RUNTIME_EXECUTABLES.has(base(args[0] ?? ''));
}

/**
 * Does the process in /proc dir `dir` run a runtime's image (true) or a program the runtime handed
 * over to (false)? runc names its bootstrap stages "runc:[0:PARENT]", "runc:[1:CHILD]",
 * "runc:[2:INIT]"; its memfd copy reads back as "/memfd:runc_cloned:/proc/self/exe (deleted)".
 * Undefined when the process is gone.
 */
function runsRuntimeImage(dir: string): boolean | undefined {
  try {
    if (readFileSync(join(dir, 'comm'), 'utf8').startsWith('runc:[')) return true;
    let exe = '';
    try {
      exe = readlinkSync(join(dir, 'exe'));
    } catch {
      // a kernel thread or a process mid-exit: judged by its argv alone
    }
    if (exe.includes('memfd:runc_cloned')) return true;
    const args = readFileSync(join(dir, 'cmdline'), 'utf8').split('\0').filter(Boolean);
    return isRuntimeImage(exe.replace(/ \(deleted\)$/, ''), args);
  } catch {
    return undefined;
  }
}

/**
 * Is `pid` a runtime's process now, from /proc (the start-up walk, which has no exec events)? Only
 * processes in the host's mount namespace count, so a program inside a container cannot pass for
 * the runtime by its name.
 */
export function isRuntimeProcess(pid: number, procRoot: string, hostMnt: string | undefined): boolean {
  const dir = join(procRoot, String(pid));
  try {
    if (hostMnt === undefined || readlinkSync(join(dir, 'ns/mnt')) !== hostMnt) return false;
  } catch {
    return false;
  }
  return runsRuntimeImage(dir) === true;
}

/**
 * Has `pid` exec'd a program that is not the runtime's bootstrap (judged from /proc, in any mount
 * namespace: runc's init stages are in the container's own by then)? False when it is gone.
 */
export function hasHandedOver(pid: number, procRoot: string): boolean {
  return runsRuntimeImage(join(procRoot, String(pid))) === false;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), for "oldest". */
export function processStartTicks(pid: number, procRoot: string): number | undefined {
  try {
    const stat = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const t = Number(fields[19]);
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

export interface BootstrapTrackerOptions {
  /** Whether an exec comes from outside every container (the host's mount namespace, or none known to be a container's). */
  fromHost: (ev: VigilEvent) => boolean;
  max?: number;
  ttlMs?: number;
}

export class BootstrapTracker {
  private readonly pids = new Map<number, number>();
  private readonly fromHost: (ev: VigilEvent) => boolean;
  private readonly max: number;
  private readonly ttlMs: number;
  evictions = 0;
  /** Followed processes found handed over by their name, their hand-over exec's record lost. */
  handedOverUnseen = 0;

  constructor(o: BootstrapTrackerOptions) {
    this.fromHost = o.fromHost;
    this.max = o.max ?? 4096;
    this.ttlMs = o.ttlMs ?? 60_000;
  }

  get size(): number {
    return this.pids.size;
  }

  /**
   * Follows one event (every event, host ones too: the bootstrap may exec before it is moved into
   * the container's cgroup) and says whether it is the runtime's own. The hand-over exec itself is
   * not: it is the container's first program.
   */
  observe(ev: VigilEvent, now: number): boolean {
    const pid = ev.pid;
    switch (ev.kind) {
      case 'exec': {
        const x = ev as ExecEvent;
        if (x.retval < 0) return this.pids.has(pid);
        if (isRuntimeImage(x.exe, x.args) && this.fromHost(ev)) {
          this.add(pid, now);
          return true;
        }
        this.pids.delete(pid);
        return false;
      }
      case 'fork':
        if (!this.followed(ev)) return false;
        this.add((ev as ForkEvent).child_pid, now);
        return true;
      case 'exit':
        // One exit record per process (its last thread).
        return this.pids.delete(pid);
      default:
        return this.followed(ev);
    }
  }

  /**
   * Is the sender of ev a followed bootstrap process? One whose name is no longer a runtime's has
   * exec'd its program although that exec's record never came (shed or dropped behind a flood in its
   * container): it is the container's own from here on. Otherwise every act of a `runc exec` session
   * started during a flood would pass as the runtime's until the pid expired.
   */
  private followed(ev: VigilEvent): boolean {
    if (this.pids.size === 0 || !this.pids.has(ev.pid)) return false;
    if (isRuntimeComm(ev.comm)) return true;
    this.pids.delete(ev.pid);
    this.handedOverUnseen++;
    return false;
  }

  has(pid: number): boolean {
    return this.pids.has(pid);
  }

  /** Forgets pids followed for longer than the ttl. */
  expire(now: number): void {
    for (const [pid, t] of this.pids) {
      if (now - t < this.ttlMs) break; // insertion order is time order
      this.pids.delete(pid);
    }
  }

  private add(pid: number, now: number): void {
    this.pids.delete(pid);
    if (this.pids.size >= this.max) {
      const oldest = this.pids.keys().next();
      if (!oldest.done) {
        this.pids.delete(oldest.value);
        this.evictions++;
      }
    }
    this.pids.set(pid, now);
  }
}
