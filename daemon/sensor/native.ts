// The surface of the native addon (native/src/addon.cc). The sensor depends on this interface only,
// so unit tests hand in a fake and integration tests the real addon.
import type { EnforceEntry } from '../core/enforce.js';

export type WatchKind =
  | 'exact'
  | 'prefix'
  | 'name'
  | 'fs-exact'
  | 'fs-prefix'
  | 'fs-name'
  | 'suffix'
  | 'traversal'
  | 'write-exact'
  | 'write-prefix'
  | 'proc-link';

export interface WatchEntry {
  /**
   * exact: the whole absolute path; prefix: any path under it; name: the last path component.
   * fs-*: the same on a file's identity, the path within its own filesystem (opens only), whatever
   * path the process used to reach it. suffix: the path ends with it (up to VG_NAME_MAX bytes).
   * traversal: path "../", the open class of arguments containing it (sent with the argument as written).
   * write-exact, write-prefix: as exact and prefix, for opens with write intent (O_WRONLY, O_RDWR,
   * O_TRUNC, O_APPEND, O_CREAT) and rename/link/symlink/unlink only; reads below them stay in the kernel.
   * proc-link: path "/proc/", the open class of write-intent opens whose argument starts with it (a
   * file reached through /proc/<pid>/fd/N or /proc/<pid>/exe), sent with the argument as written.
   */
  kind: WatchKind;
  path: string;
  /** Echoed back in file and connect records as watch_id. */
  id: number;
  /** fs-* kinds: superblock magic of the filesystem; 0 or absent for any. */
  magic?: number;
}

export interface SyscallEntry {
  nr: number;
  /** probes/syscalls.h enum vg_sc_handler; nonzero. */
  handler: number;
}

/** The enforce probe's counters (probes/enforce.h vg_enforce_counters), summed over CPUs. */
export interface EnforceCounters {
  signalled: bigint;
  signalFailed: bigint;
  spoiled: bigint;
  spoilFailed: bigint;
}

export interface ProgramState {
  /** Probe object (process, syscalls, ...). */
  object: string;
  /** BPF program name in that object. */
  program: string;
  /** Section, e.g. tp_btf/sys_enter. */
  section: string;
  attached: boolean;
  /** Why it was not attached (feature missing, verifier refusal, permission); empty when attached. */
  reason: string;
}

export interface OpenOptions {
  /** Ring buffer size in bytes: a power of two, at least one page. */
  ringBufferBytes: number;
  /** Probe objects to load, by name; when absent, all compiled-in objects except 'enforce' (loaded
   * only when named here). */
  objects?: string[];
  /** Also load the 'enforce' object (to the listed objects, or to the default set). */
  enforce?: boolean;
}

export interface KindCounters {
  /** Indexed by record kind (probes/common.h enum vg_kind), summed over CPUs. */
  emitted: bigint[];
  dropped: bigint[];
  /** The part of dropped that the probes shed (a kind's share of the ring, a cgroup's budget). */
  shed: bigint[];
  /** Records not sent because they repeated one sent within the window (probes/common.h VG_COALESCE_*). */
  coalesced: bigint[];
}

export interface NativeStats extends KindCounters {
  /** Bytes written by the kernel and not yet consumed. */
  ringUsedBytes: number;
  ringSizeBytes: number;
  /** Records skipped by the addon because their header's size disagreed with the ring's record length. */
  malformedRecords?: number;
  /** Present when the enforce object is loaded. */
  enforce?: EnforceCounters;
  /** [cgroup id (v2, as in record headers), records dropped] of each cgroup whose records were dropped. */
  droppedByCgroup?: Array<[bigint, bigint]>;
}

export interface PollOptions {
  /** Most records handed over in one batch. */
  maxRecords: number;
  /** Most bytes handed over in one batch. */
  maxBytes: number;
}

/**
 * One batch: records back to back, each starting at an 8-byte aligned offset. A record's length is
 * its header's size field; the next record starts at that length rounded up to 8.
 */
export type BatchCallback = (batch: Buffer, count: number) => void;

export interface NativeSensor {
  /** Open, load and attach the probes. Throws NativeError on failure of a required step. */
  open(options: OpenOptions): ProgramState[];
  /**
   * Replace the interesting-syscalls table: for each syscall number, the probe handler that treats it
   * (probes/syscalls.h enum vg_sc_handler). Numbers not listed are ignored in the kernel.
   */
  setSyscalls(entries: readonly SyscallEntry[]): void;
  /** Replace the watch table (files and unix sockets) and bump vg_config.watch_gen. */
  setWatches(entries: readonly WatchEntry[]): void;
  /** Replace the set of process ids (tgids) whose events are dropped in the kernel. */
  setIgnoredPids(pids: readonly number[]): void;
  /** vg_config.flags (probes/common.h VG_CFG_*); watch_gen is kept. */
  setConfigFlags(flags: number): void;
  /**
   * Replace the enforcement table (probes/enforce.h vg_enforce): calls not listed are not enforced.
   * Throws INVALID_STATE unless the 'enforce' object was opened. Optional so that fakes need not have it.
   */
  setEnforce?(entries: readonly EnforceEntry[]): void;
  /**
   * Replace the set of container cgroups (v2 ids) in which VG_ENF_CONTAINERS_ONLY entries are
   * enforced (probes/enforce.bpf.c vg_enforce_cgroups). The daemon adds a container's cgroup once it
   * has started. Throws INVALID_STATE unless the enforce object was opened.
   */
  setEnforceCgroups?(ids: readonly (number | bigint)[]): void;
  /** Start calling back on the main thread whenever the ring buffer has records. */
  start(callback: BatchCallback, options: PollOptions): void;
  /** Drain what is in the ring buffer now, synchronously, through the callback. Returns records read. */
  drain(): number;
  stats(): NativeStats;
  /** Detach and free everything; idempotent. Also done at process exit. */
  close(): void;
}

/** Stable codes of errors thrown by the addon. `step` names what failed (open, load, attach, ...). */
export type NativeErrorCode =
  | 'PROBE_LOAD_FAILED'
  | 'PROBE_ATTACH_FAILED'
  | 'BTF_MISSING'
  | 'NOT_PERMITTED'
  | 'MAP_UPDATE_FAILED'
  | 'RINGBUF_FAILED'
  | 'INVALID_STATE';

export interface NativeError extends Error {
  code: NativeErrorCode;
  step: string;
  /** errno of the failing call, when there was one. */
  errno?: number;
  /** The verifier's last lines, for PROBE_LOAD_FAILED. */
  verifierLog?: string;
}

export interface NativeModule {
  /** Creates a sensor. Only one may be open per process. */
  createSensor(): NativeSensor;
  /** Names of the compiled-in probe objects. */
  objects(): string[];
  /** glibc's malloc_trim(0): returns free malloc pages of every arena to the system; true when some were. */
  trimMemory(): boolean;
  /**
   * Drops the page mappings of the node executable's clean read-only and text mappings (the
   * pages stay in the page cache and come back on the next touch): the resident bytes released.
   */
  releaseExecutablePages(): number;
}
