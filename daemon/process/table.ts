// The process table: what the sensor knows of each live (and recently exited) process, to give events
// their `proc` context: executable, arguments and ancestors.
//
// Life cycle of an entry:
//  - created when seeded from /proc at start, on a fork event (the child starts as a copy of its
//    parent's exe and args), or on a miss (an event of an unknown pid: counted; the live sensor
//    looks it up in /proc once, and otherwise records what the event header says, with no exe);
//  - updated by exec (exe, args, comm) and by every event's header (ppid after re-parenting, comm);
//  - marked exited by an exit event, then kept `exitGraceNs` (kernel time) so that late events
//    (queued behind the exit, or of children naming it as parent) still resolve, then evicted;
//  - bounded: at most `maxEntries`; past that the oldest exited entry is evicted before its grace
//    ends, and only when none is left the least recently used live one (both counted). An exec flood
//    makes thousands of exits a second: its dead processes must not push out the live processes of
//    other containers, whose lineage would then be lost.
// Per cgroup, the table counts the live processes it saw forked (liveForked): a fork bomb makes that
// grow, a loop of short programs does not, however many it runs. Seeded and looked-up entries are not
// counted, so it is a lower bound; an entry leaves the count at its exit, eviction or pid reuse.
// Time is the kernel time of the events (not the wall clock), so replays evict like the live run.
import { Fifo } from '../core/queue.js';
import type { Ancestor, ProcInfo } from '../sensor/events.js';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Executable path; '' when unknown (kernel threads, entries made from a header alone). */
  exe: string;
  args: string[];
  comm: string;
  uid: number;
  /** Start time in ns of CLOCK_BOOTTIME (from /proc at seed, the event's time otherwise); 0 unknown. */
  startNs: bigint;
  /** cgroup path of /proc/PID/cgroup (seeded entries) or ''. */
  cgroup: string;
  cgroupId: number;
  /** Kernel time of the exit event, when exited. */
  exitedNs?: bigint;
  /** Made by a fork event and counted in liveForked until it exits or leaves the table. */
  forked?: boolean;
  /** Resolves since this entry was last moved to the most-recent end (see resolve()). */
  touchedAt?: number;
  /** procInfo() of this entry, valid while the table's lineage generation is `infoGen`. */
  info?: ProcInfo;
  infoGen?: number;
}

export interface ProcessTableOptions {
  /** Most entries kept (LRU beyond it). Default 32768. */
  maxEntries?: number;
  /** How long an exited process stays resolvable, in ns of kernel time. Default 30 s. */
  exitGraceNs?: bigint;
  /** Most ancestors reported per event. Default 8. */
  maxAncestors?: number;
  /** Looks a missing pid up (the live sensor reads /proc); undefined when it is gone too. */
  lookup?: (pid: number) => ProcessEntry | undefined;
}

export interface ProcessTableStats {
  entries: number;
  seeded: number;
  /** Events whose pid was not in the table. */
  misses: number;
  /** Misses that the lookup (/proc) resolved. */
  lookups: number;
  evictedExited: number;
  /** Exited entries evicted before their grace period ended, to make room (the table was full). */
  evictedExitedEarly: number;
  evictedLru: number;
}

/** The header fields the table reads from every event. */
export interface EventHead {
  pid: number;
  ppid: number;
  comm: string;
  uid: number;
  cgroup_id: number;
}

export class ProcessTable {
  private readonly entries = new Map<number, ProcessEntry>();
  /**
   * Exits in order, as pid and exit time (the entry's exitedNs): not the entries themselves, which
   * would stay in memory after leaving the table. With pid_max at 32768 an exec flood reuses each pid
   * every few seconds, so most exits of the grace period belong to entries replaced since.
   */
  private readonly exitedPids = new Fifo<number>();
  private readonly exitedAt = new Fifo<bigint>();
  private readonly maxEntries: number;
  private readonly exitGraceNs: bigint;
  private readonly maxAncestors: number;
  private readonly lookup: ((pid: number) => ProcessEntry | undefined) | undefined;
  private readonly counters = { seeded: 0, misses: 0, lookups: 0, evictedExited: 0, evictedExitedEarly: 0, evictedLru: 0 };
  /** cgroup id -> live entries made by fork events. */
  private readonly live = new Map<number, number>();

  constructor(options: ProcessTableOptions = {}) {
    this.maxEntries = options.maxEntries ?? 32768;
    this.touchEvery = Math.min(1024, Math.floor(this.maxEntries / 8));
    this.exitGraceNs = options.exitGraceNs ?? 30_000_000_000n;
    this.maxAncestors = options.maxAncestors ?? 8;
    this.lookup = options.lookup;
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): ProcessTableStats {
    return { entries: this.entries.size, ...this.counters };
  }

  /** Adds entries read at start (replaces any with the same pid). */
  seed(entries: Iterable<ProcessEntry>): void {
    for (const e of entries) {
      this.put(e);
      this.counters.seeded++;
    }
  }

  /** The entry of pid without touching its LRU position. */
  peek(pid: number): ProcessEntry | undefined {
    return this.entries.get(pid);
  }

  private resolves = 0;
  /**
   * Bumped by every change that can alter some process's exe, args or ancestry (exec, fork, exit,
   * a new or evicted entry, a changed parent): cached procInfo objects of an older generation are
   * rebuilt. A busy process sending many events between such changes reuses one object.
   */
  private gen = 0;
  private readonly touchEvery: number;

  private put(e: ProcessEntry): void {
    e.touchedAt = this.resolves;
    this.gen++;
    const old = this.entries.get(e.pid);
    if (old) this.uncount(old);
    this.entries.delete(e.pid);
    this.entries.set(e.pid, e);
    if (e.forked) this.live.set(e.cgroupId, (this.live.get(e.cgroupId) ?? 0) + 1);
    while (this.entries.size > this.maxEntries) {
      if (this.evictOldestExited()) {
        this.counters.evictedExitedEarly++;
        continue;
      }
      const oldest = this.entries.keys().next().value as number;
      this.uncount(this.entries.get(oldest)!);
      this.entries.delete(oldest);
      this.counters.evictedLru++;
    }
  }

  /** Takes a live forked entry out of its cgroup's count (at most once). */
  private uncount(e: ProcessEntry): void {
    if (!e.forked) return;
    e.forked = false;
    const n = (this.live.get(e.cgroupId) ?? 1) - 1;
    if (n > 0) this.live.set(e.cgroupId, n);
    else this.live.delete(e.cgroupId);
  }

  /** Live processes of the cgroup that the table saw forked (a lower bound of its process count). */
  liveForked(cgroupId: number): number {
    return this.live.get(cgroupId) ?? 0;
  }

  /** The entry of the event's process, created on a miss; refreshed from the header. */
  private resolve(h: EventHead, nowNs: bigint): ProcessEntry {
    let e = this.entries.get(h.pid);
    this.resolves++;
    if (e) {
      // Most recently used goes last (Map keeps insertion order). Moving an entry on every event
      // churns the Map (a busy process sends most events); moving it once per touchEvery resolves
      // (at most an eighth of the capacity) keeps eviction to entries that are truly old.
      if (this.resolves - (e.touchedAt ?? 0) >= this.touchEvery) {
        this.entries.delete(h.pid);
        this.entries.set(h.pid, e);
        e.touchedAt = this.resolves;
      }
      if (h.ppid !== 0 && e.ppid !== h.ppid) {
        e.ppid = h.ppid;
        this.gen++;
      }
      return e;
    }
    this.counters.misses++;
    e = this.lookup?.(h.pid);
    if (e) this.counters.lookups++;
    else e = { pid: h.pid, ppid: h.ppid, exe: '', args: [], comm: h.comm, uid: h.uid, startNs: nowNs, cgroup: '', cgroupId: h.cgroup_id };
    this.put(e);
    return e;
  }

  /** Evicts exited entries whose grace period ended before nowNs. */
  sweep(nowNs: bigint): void {
    while (this.exitedAt.length > 0 && this.exitedAt.peek()! + this.exitGraceNs <= nowNs) {
      if (this.evictExit(this.exitedPids.shift()!, this.exitedAt.shift()!)) this.counters.evictedExited++;
    }
  }

  /** Evicts the oldest exited entry still in the table; false when there is none. */
  private evictOldestExited(): boolean {
    while (this.exitedPids.length > 0) {
      if (this.evictExit(this.exitedPids.shift()!, this.exitedAt.shift()!)) return true;
    }
    return false;
  }

  /** Takes the entry of an exit out of the table, unless its pid now belongs to another process. */
  private evictExit(pid: number, at: bigint): boolean {
    const e = this.entries.get(pid);
    if (!e || e.exitedNs !== at) return false;
    this.entries.delete(pid);
    this.gen++;
    return true;
  }

  onExec(h: EventHead, nowNs: bigint, exe: string, args: string[]): void {
    const e = this.resolve(h, nowNs);
    e.exe = exe;
    e.args = args;
    e.comm = h.comm;
    e.uid = h.uid;
    this.gen++;
  }

  onFork(h: EventHead, nowNs: bigint, childPid: number): void {
    const parent = this.resolve(h, nowNs);
    this.put({
      pid: childPid,
      ppid: h.pid,
      exe: parent.exe,
      args: parent.args,
      comm: parent.comm,
      uid: parent.uid,
      startNs: nowNs,
      cgroup: parent.cgroup,
      cgroupId: h.cgroup_id,
      forked: true,
    });
  }

  onExit(h: EventHead, nowNs: bigint): void {
    const e = this.resolve(h, nowNs);
    this.uncount(e);
    e.exitedNs = nowNs;
    // Its events so far hold their own lineage; procInfo() builds the exit event's and any late one's afresh.
    e.info = undefined;
    e.infoGen = undefined;
    this.exitedPids.push(h.pid);
    this.exitedAt.push(nowNs);
  }

  /** Touches (or creates) the event's process; for kinds that do not change the table. */
  touch(h: EventHead, nowNs: bigint): ProcessEntry {
    return this.resolve(h, nowNs);
  }

  /** Parent first, bounded by maxAncestors, stopping at pid 0/1's parent or a loop. */
  ancestors(pid: number): Ancestor[] {
    const out: Ancestor[] = [];
    const seen = new Set<number>([pid]);
    let cur = this.entries.get(pid);
    while (cur && out.length < this.maxAncestors) {
      const ppid = cur.ppid;
      if (ppid === 0 || seen.has(ppid)) break;
      seen.add(ppid);
      const p = this.entries.get(ppid);
      if (!p) break;
      out.push({ pid: p.pid, exe: p.exe, comm: p.comm, args: p.args, uid: p.uid });
      cur = p;
    }
    return out;
  }

  /**
   * The `proc` field of an event of pid, or undefined when its exe is not known. The object is shared
   * by the events of that process until its lineage changes, so it is frozen: consumers copy, never
   * mutate.
   */
  procInfo(pid: number): ProcInfo | undefined {
    const e = this.entries.get(pid);
    if (!e || e.exe === '') return undefined;
    if (e.info && e.infoGen === this.gen) return e.info;
    const ancestors = this.ancestors(pid).map((a) => Object.freeze(a));
    const info: ProcInfo = Object.freeze({ exe: e.exe, args: e.args, ancestors: Object.freeze(ancestors) as Ancestor[] });
    // An exited process sends nothing after its exit event: a cached lineage would only hold memory
    // through the grace period, for every process of an exec flood.
    if (e.exitedNs === undefined) {
      e.info = info;
      e.infoGen = this.gen;
    }
    return info;
  }
}
