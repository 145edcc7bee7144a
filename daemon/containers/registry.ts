// The container registry: cgroup id (each event's header) -> cgroup path -> container.
//
// State, all bounded:
//  - cgroups: v2 cgroup id -> path (and the container it belongs to, if any). Filled by a walk of the
//    v2 tree when the sensor opens, kept current by cgroup_mkdir/cgroup_rmdir events, and on a miss
//    by reading the event's process's cgroup (/proc/<pid>/cgroup, checked against the id) or, at most
//    once per retry interval, a new walk. A removed cgroup stays for the stop grace period (events
//    still in flight resolve), then goes. Over maxCgroups, removed cgroups go first, then the oldest.
//  - containers, by their own cgroup path: identity from the path (parse.ts) or the runtimes' state
//    (runtimes.ts), metadata from the runtimes' files, posture from the runtime's record confirmed by
//    the kernel's view of the init process (posture.ts). A container starts (container_start) at
//    its own first program: the first exec in its cgroup that is not the runtime's (bootstrap.ts:
//    runc init may exec inside the cgroup or outside it, by scheduling luck), whose process is
//    initPid; a container found by the start-up walk (or that never execs) starts from the oldest
//    process in its cgroup that is not the runtime's. The runtime's own events stay attributed to
//    the container by cgroup, marked runtime_setup, and are never its posture.
//  - it stops (container_stop) when its cgroup is removed, or has held no process for stopGraceMs;
//    never at the exit of one process. Stopped containers are kept stopGraceMs, then evicted; a
//    cgroup of an evicted container that still sends events makes it again. Over maxContainers,
//    stopped ones go first, then the oldest.
//  - a miss (an id no source names) is counted, the event gets runtime "unknown", and the id is looked
//    up again on its next event after the retry interval; never guessed as host.
//  - metadata not on disk yet (the runtime may write its state after the container's first exec) is
//    read again on later events of that container and at each sweep, at most once per retry
//    interval, for metadataRetryMs; what changed after container_start comes as container_update.
// v1-only hosts (no v2 hierarchy mounted: every task is in the v2 root): containers are found per
// process from its v1 path (/proc/<pid>/cgroup), cached per pid until its exit event.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Enricher, SensorSource } from '../sensor/enricher.js';
import type { CgroupEvent, VigilEvent } from '../sensor/events.js';
import { BootstrapTracker, hasHandedOver, isRuntimeProcess, processStartTicks } from './bootstrap.js';
import { cgroupIdOf, cgroupProcs, isDir, procV1Path, procV2Path, readCgroupMounts, walkCgroupTree, type CgroupMounts } from './cgroupfs.js';
import { CgroupPathParser, type CgroupMatch, type PathPattern } from './parse.js';
import { readHostReference, readPosture, runtimePosture, settlePosture, type HostReference } from './posture.js';
import { RuntimeReader, type RuntimeSpec, type RuntimeState } from './runtimes.js';
import type { ContainerInfo, ContainerLifecycleEvent, Posture } from './container-info.js';
import { HOST_CONTAINER, type ContainerRef } from '../core/container.js';

export interface ContainerRegistryOptions {
  /** cgroup mounts (default: this process's mountinfo). */
  mounts?: CgroupMounts;
  procRoot?: string;
  runtimes?: RuntimeReader;
  /** Extra cgroup path shapes from the configuration (tried before the built-in ones). */
  patterns?: readonly PathPattern[];
  maxCgroups?: number;
  maxContainers?: number;
  /** How long a stopped container (and a removed cgroup) stays resolvable, and how long an empty cgroup waits before its container stops. Default 30 s. */
  stopGraceMs?: number;
  /** Least time between two lookups for the same miss or metadata retry. Default 100 ms. */
  retryIntervalMs?: number;
  /** How long missing metadata is looked for again after a container is first seen. Default 10 s. */
  metadataRetryMs?: number;
  /** Read posture from the init process (default true). */
  posture?: boolean;
  /** Walk the tree when the sensor opens: default only for a live sensor (not a replay). */
  walk?: boolean;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** The container of an event whose cgroup could not be resolved (counted as a miss). */
export const UNKNOWN_CONTAINER: ContainerRef = Object.freeze({ id: 'unknown', name: 'unknown', runtime: 'unknown', image: '' });

interface CgroupNode {
  path: string;
  /** Key (container cgroup path) of the container it belongs to. */
  container?: string;
  removedAt?: number;
  /** Made while the daemon watched (mkdir event): runtime state may appear a little later. */
  createdAt?: number;
  lastCheck: number;
}

interface Entry {
  info: ContainerInfo;
  ref: ContainerRef;
  started: boolean;
  metadataDone: boolean;
  firstSeen: number;
  lastMetadataTry: number;
  /** Last try to start it from its cgroup's processes (no exec seen). */
  lastStartTry: number;
  stopAt?: number;
  /** The runtime's record of it and its init pid there (runc's state.json). */
  spec?: RuntimeSpec;
  stateInitPid?: number;
  /** The kernel's view of the init process, read once after the container's first exec. */
  kernelPosture?: Posture;
  /** The init process's mount namespace, when not the host's (a runtime exec from it is a container's). */
  mntNs?: number;
  /** Since when its cgroup has held no process (undefined: it held some at the last check). */
  emptySince?: number;
  lastEmptyCheck: number;
}

/** How often a running container's cgroup is checked for processes. */
const EMPTY_CHECK_MS = 2000;
/** How long the host reference (pid 1's namespaces, bounding set, mounts) is reused. */
const HOST_REFERENCE_MS = 5000;

export interface ContainerRegistryStats {
  cgroups: number;
  containers: number;
  running: number;
  hits: number;
  misses: number;
  missesResolved: number;
  walks: number;
  walkErrors: number;
  cgroupEvictions: number;
  containerEvictions: number;
  metadataReads: number;
  /** Containers whose start exec was not their init's (its record lost): initPid taken from the runtime's state. */
  initFromState: number;
  postureReads: number;
  started: number;
  updated: number;
  stopped: number;
  /** Events of a runtime's bootstrap inside a container's cgroup (marked runtime_setup). */
  runtimeSetupEvents: number;
  bootstrapTracked: number;
  bootstrapEvictions: number;
  /** Bootstrap processes found handed over by their name: their hand-over exec's record was lost. */
  bootstrapHandedOverUnseen: number;
}

/** `cause` is the event whose enrichment found the change (absent for the start-up walk). */
type Listener = (ev: ContainerLifecycleEvent, cause?: VigilEvent) => void;

export class ContainerRegistry implements Enricher {
  readonly name = 'containers';
  readonly mounts: CgroupMounts;
  readonly runtimes: RuntimeReader;
  private readonly procRoot: string;
  private readonly parser: CgroupPathParser;
  private readonly maxCgroups: number;
  private readonly maxContainers: number;
  private readonly graceMs: number;
  private readonly retryMs: number;
  private readonly metadataRetryMs: number;
  private readonly withPosture: boolean;
  private walkOption: boolean | undefined;
  private readonly now: () => number;
  private readonly cgroups = new Map<number, CgroupNode>();
  private readonly containers = new Map<string, Entry>();
  /** Container id -> keys of `containers` (cgroup paths) with that id: get(id) without a scan. */
  private readonly byId = new Map<string, Set<string>>();
  /** Misses: id -> time of the last lookup. */
  private readonly missed = new Map<number, number>();
  /** v1 mode: pid -> container key ('' for host). */
  private readonly pidPaths = new Map<number, string>();
  private readonly listeners = new Set<Listener>();
  private cause: VigilEvent | undefined;
  private offline = false;
  private lastWalk = -Infinity;
  private lastSweep = -Infinity;
  private stateIndex: { at: number; byPath: Map<string, RuntimeState> } | undefined;
  private readonly bootstrap: BootstrapTracker;
  /** Whether the event being enriched is a runtime bootstrap's. */
  private causeIsRuntime = false;
  /** Mount namespaces of started containers' init processes (reference counts). */
  private readonly containerMnts = new Map<number, number>();
  private hostRefCache: { at: number; ref: HostReference } | undefined;
  private hostNsIno: { mnt?: number; pid?: number } | undefined;
  private readonly counters = {
    hits: 0,
    misses: 0,
    missesResolved: 0,
    walks: 0,
    walkErrors: 0,
    cgroupEvictions: 0,
    containerEvictions: 0,
    metadataReads: 0,
    initFromState: 0,
    postureReads: 0,
    started: 0,
    updated: 0,
    stopped: 0,
    runtimeSetupEvents: 0,
  };

  constructor(o: ContainerRegistryOptions = {}) {
    this.procRoot = o.procRoot ?? '/proc';
    this.mounts = o.mounts ?? readCgroupMounts(this.procRoot);
    this.runtimes = o.runtimes ?? new RuntimeReader({ v2Mount: this.mounts.v2 });
    this.runtimes.v2Mount ??= this.mounts.v2;
    this.parser = new CgroupPathParser(o.patterns ?? []);
    this.maxCgroups = o.maxCgroups ?? 65536;
    this.maxContainers = o.maxContainers ?? 4096;
    this.graceMs = o.stopGraceMs ?? 30_000;
    this.retryMs = o.retryIntervalMs ?? 100;
    this.metadataRetryMs = o.metadataRetryMs ?? 10_000;
    this.withPosture = o.posture ?? true;
    this.walkOption = o.walk;
    this.now = o.now ?? Date.now;
    this.bootstrap = new BootstrapTracker({ fromHost: (ev) => this.execFromHost(ev) });
  }

  // ---- public API ------------------------------------------------------------------------------

  /** Lifecycle events (container_start, container_update, container_stop), delivered synchronously. Returns an unsubscribe. */
  onLifecycle(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The container of a v2 cgroup id, or undefined (host cgroup, or unknown id). No lookups on disk. */
  resolve(cgroupId: number): ContainerInfo | undefined {
    const key = this.cgroups.get(cgroupId)?.container;
    return key === undefined ? undefined : this.containers.get(key)?.info;
  }

  /**
   * The container of an id, running or stopped within the grace period. Should two cgroups carry the
   * same id (a container restarted under a new path while the old one is in its grace period), the
   * running one.
   */
  get(id: string): ContainerInfo | undefined {
    const keys = this.byId.get(id);
    if (!keys) return undefined;
    let found: ContainerInfo | undefined;
    for (const k of keys) {
      const info = this.containers.get(k)?.info;
      if (info && info.stoppedAt === undefined) return info;
      found ??= info;
    }
    return found;
  }

  /** Containers known now (running and stopped within the grace period). */
  list(): ContainerInfo[] {
    return [...this.containers.values()].map((e) => e.info);
  }

  /** Walks the v2 tree into the cgroup map; containers with processes are started. */
  scan(): void {
    const v2 = this.mounts.v2;
    if (!v2) return;
    this.lastWalk = this.now();
    this.counters.walks++;
    const { paths, errors } = walkCgroupTree(v2, this.maxCgroups);
    this.counters.walkErrors += errors;
    this.stateIndex = undefined;
    for (const [id, path] of paths) {
      if (this.cgroups.has(id)) continue;
      const node = this.addCgroup(id, path, undefined);
      if (node.container) {
        const e = this.containers.get(node.container);
        if (e && !e.started && node.path === e.info.cgroupPath) this.startFromCgroup(e);
      }
    }
  }

  // ---- Enricher ----------------------------------------------------------------------------------

  prepare(source: SensorSource): void {
    // A replay's cgroups and processes are not this host's: names come from the recorded paths only.
    this.offline = source === 'replay';
    this.walkOption ??= source === 'native';
    if (this.walkOption) this.scan();
  }

  enrich(ev: VigilEvent): void {
    const now = this.now();
    this.cause = ev;
    this.causeIsRuntime = this.bootstrap.observe(ev, now);
    if (now - this.lastSweep >= 1000) this.sweep(now);
    let cgroupId = ev.cgroup_id;
    if (ev.kind === 'cgroup_mkdir' || ev.kind === 'cgroup_rmdir') {
      const c = ev as CgroupEvent;
      cgroupId = c.task_cgroup_id;
      if (c.hierarchy_id === 0 && this.mounts.v2) {
        if (c.kind === 'cgroup_mkdir') this.onMkdir(c.cgroup_id, c.path, now);
        else this.onRmdir(c.cgroup_id, now);
      }
    }
    const ref = this.mounts.v2 ? this.refV2(cgroupId, ev.pid, now) : this.refV1(ev.pid, now);
    ev.container = ref;
    if (this.causeIsRuntime && ref !== HOST_CONTAINER && ref !== UNKNOWN_CONTAINER) {
      ev.runtime_setup = true;
      this.counters.runtimeSetupEvents++;
    }
    if (ev.kind === 'exit' && !this.mounts.v2) this.pidPaths.delete(ev.pid);
    this.cause = undefined;
  }

  stats(): Record<string, number> {
    const s: ContainerRegistryStats = {
      cgroups: this.cgroups.size,
      containers: this.containers.size,
      running: [...this.containers.values()].filter((e) => e.info.stoppedAt === undefined).length,
      ...this.counters,
      bootstrapTracked: this.bootstrap.size,
      bootstrapEvictions: this.bootstrap.evictions,
      bootstrapHandedOverUnseen: this.bootstrap.handedOverUnseen,
    };
    return { ...s };
  }

  // ---- cgroup map --------------------------------------------------------------------------------

  private onMkdir(id: number, path: string, now: number): void {
    const existing = this.cgroups.get(id);
    if (existing && existing.path === path) return;
    this.missed.delete(id);
    this.addCgroup(id, path, now);
  }

  private onRmdir(id: number, now: number): void {
    const node = this.cgroups.get(id);
    if (!node) return;
    node.removedAt = now;
    if (!node.container) return;
    const e = this.containers.get(node.container);
    if (e && e.info.cgroupPath === node.path && e.info.stoppedAt === undefined) this.stop(e, now);
  }

  private addCgroup(id: number, path: string, createdAt: number | undefined): CgroupNode {
    if (this.cgroups.size >= this.maxCgroups) this.evictCgroup();
    const node: CgroupNode = { path, lastCheck: this.now() };
    if (createdAt !== undefined) node.createdAt = createdAt;
    const m = this.classify(path);
    if (m) node.container = this.entryFor(m, id).info.cgroupPath;
    this.cgroups.set(id, node);
    return node;
  }

  private evictCgroup(): void {
    for (const [id, n] of this.cgroups) {
      if (n.removedAt !== undefined) {
        this.cgroups.delete(id);
        this.counters.cgroupEvictions++;
        return;
      }
    }
    const oldest = this.cgroups.keys().next();
    if (!oldest.done) {
      this.cgroups.delete(oldest.value);
      this.counters.cgroupEvictions++;
    }
  }

  /** Which container a path belongs to: its shape, else the runtimes' state naming it or an ancestor. */
  private classify(path: string): CgroupMatch | undefined {
    const m = this.parser.parse(path);
    if (this.offline) return m;
    if (m) {
      if (m.runtime === 'unknown') {
        const st = this.runtimes.stateDirOf(m.id);
        if (st) m.runtime = st.runtime;
      }
      return m;
    }
    if (path === '/' || path === '') return undefined;
    const parts = path.split('/').filter(Boolean);
    const index = this.states();
    for (let i = parts.length; i > 0; i--) {
      const prefix = '/' + parts.slice(0, i).join('/');
      const st = index.get(prefix);
      if (st) return { runtime: st.runtime, id: st.id, containerPath: prefix };
      // runc makes its state directory (named by the id) before the container's cgroup; its default
      // cgroup is /<id> (cgroupfs) and containerd's /<namespace>/<id>.
      const dir = this.runtimes.stateDirOf(parts[i - 1]!);
      if (dir) return { runtime: dir.runtime, id: parts[i - 1]!, containerPath: prefix };
    }
    return undefined;
  }

  /** The runtimes' states by cgroup path, re-read at most once per retry interval. */
  private states(): Map<string, RuntimeState> {
    const now = this.now();
    if (!this.stateIndex || now - this.stateIndex.at >= this.retryMs) {
      const byPath = new Map<string, RuntimeState>();
      for (const s of this.runtimes.all()) {
        if (s.v2Path) byPath.set(s.v2Path, s);
        if (s.cgroupsPath && !byPath.has(s.cgroupsPath)) byPath.set(s.cgroupsPath, s);
      }
      this.stateIndex = { at: now, byPath };
    }
    return this.stateIndex.byPath;
  }

  // ---- containers --------------------------------------------------------------------------------

  private entryFor(m: CgroupMatch, cgroupId: number): Entry {
    const key = m.containerPath;
    const have = this.containers.get(key);
    if (have && have.info.stoppedAt === undefined) return have;
    if (!have && this.containers.size >= this.maxContainers) this.evictContainer();
    const info: ContainerInfo = {
      id: m.id,
      name: m.name ?? (m.id.length === 64 ? m.id.slice(0, 12) : m.id),
      runtime: m.runtime,
      image: '',
      labels: {},
      cgroupId: 0,
      cgroupPath: key,
      startedAt: new Date(this.now()).toISOString(),
    };
    // The container's own cgroup id (the cgroup seen may be one below it).
    if (this.mounts.v2) info.cgroupId = cgroupIdOf(join(this.mounts.v2, key)) ?? (m.containerPath === key ? cgroupId : 0);
    const e: Entry = {
      info,
      ref: refOf(info),
      started: false,
      metadataDone: false,
      firstSeen: this.now(),
      lastMetadataTry: -Infinity,
      lastStartTry: -Infinity,
      lastEmptyCheck: this.now(),
    };
    this.setEntry(key, e);
    return e;
  }

  private evictContainer(): void {
    let victim: string | undefined;
    for (const [k, e] of this.containers) {
      if (e.info.stoppedAt !== undefined) {
        victim = k;
        break;
      }
    }
    victim ??= this.containers.keys().next().value;
    if (victim !== undefined) {
      this.deleteEntry(victim);
      this.counters.containerEvictions++;
    }
  }

  // Every change of `containers` goes through these two, so byId stays its index.
  private setEntry(key: string, e: Entry): void {
    const old = this.containers.get(key);
    if (old && old.info.id !== e.info.id) this.unindex(old.info.id, key);
    this.containers.set(key, e);
    let keys = this.byId.get(e.info.id);
    if (!keys) this.byId.set(e.info.id, (keys = new Set()));
    keys.add(key);
  }

  private deleteEntry(key: string): void {
    const e = this.containers.get(key);
    if (!e) return;
    this.containers.delete(key);
    this.unindex(e.info.id, key);
  }

  private unindex(id: string, key: string): void {
    const keys = this.byId.get(id);
    keys?.delete(key);
    if (keys?.size === 0) this.byId.delete(id);
  }

  /** Reads metadata from the runtimes' state; true when the state was found. */
  private readMetadata(e: Entry): boolean {
    this.counters.metadataReads++;
    e.lastMetadataTry = this.now();
    const info = e.info;
    let state = this.runtimes.findById(info.id);
    if (!state) {
      this.stateIndex = undefined; // this lookup is itself rate-limited; read the states as they are now
      state = this.states().get(info.cgroupPath);
    }
    const md = this.runtimes.metadata(info.id, state);
    if (!state && md.runtime === undefined) return false;
    if (md.runtime && (info.runtime === 'unknown' || info.runtime === 'runc')) info.runtime = md.runtime;
    if (md.name) info.name = md.name;
    if (md.image) info.image = md.image;
    if (md.pod) info.pod = md.pod;
    if (md.namespace) info.namespace = md.namespace;
    if (md.podUid) info.podUid = md.podUid;
    info.labels = md.labels;
    if (md.initPid !== undefined) e.stateInitPid = md.initPid;
    if (md.spec) e.spec = md.spec;
    e.ref = refOf(info);
    return true;
  }

  /**
   * Starts a container at its first program: `initPid` is the process of the exec that handed over
   * from the runtime (undefined for a replay, whose processes are not this host's).
   */
  private start(e: Entry, execPid: number | undefined, execMntNs?: number): void {
    e.started = true;
    this.counters.started++;
    if (this.offline) {
      this.emit({ kind: 'container_start', time: new Date(this.now()).toISOString(), container: e.info });
      return;
    }
    e.metadataDone = this.readMetadata(e);
    let initPid = execPid;
    let mntNs = execMntNs;
    if (initPid !== undefined && e.stateInitPid !== undefined && e.stateInitPid !== initPid && this.isHandedOverInit(e, e.stateInitPid)) {
      // The exec that started it was not the first program's: the hand-over exec's record was lost
      // (a ring overflow while the reader was behind) and a later exec, such as a `runc exec`, came
      // first. The runtime's state names the init; it is trusted once it runs the container's program.
      this.counters.initFromState++;
      initPid = e.stateInitPid;
      mntNs = nsInode(this.procRoot, initPid, 'mnt');
    }
    if (initPid !== undefined) e.info.initPid = initPid;
    if (mntNs !== undefined && mntNs !== this.hostNs().mnt) {
      e.mntNs = mntNs;
      this.containerMnts.set(mntNs, (this.containerMnts.get(mntNs) ?? 0) + 1);
    }
    this.settlePosture(e);
    this.emit({ kind: 'container_start', time: new Date(this.now()).toISOString(), container: e.info });
  }

  /**
   * Starts a container that no exec started (found by the start-up walk, or its first exec was not
   * seen) from its cgroup's processes: the runtime's recorded init when it is there and not the
   * runtime's own, else the oldest process that is not the runtime's. None yet: tried again later.
   */
  private startFromCgroup(e: Entry): void {
    e.lastStartTry = this.now();
    if (this.offline) {
      this.start(e, undefined);
      return;
    }
    const procs = this.procsOf(e.info.cgroupPath);
    if (procs.length === 0) return;
    const hostMnt = hostNsLinkText(this.hostReference());
    const candidates = procs.filter((pid) => !isRuntimeProcess(pid, this.procRoot, hostMnt));
    if (candidates.length === 0) return;
    if (!e.metadataDone) e.metadataDone = this.readMetadata(e);
    let init = e.stateInitPid !== undefined && candidates.includes(e.stateInitPid) ? e.stateInitPid : undefined;
    if (init === undefined) {
      let oldest = Infinity;
      for (const pid of candidates) {
        const t = processStartTicks(pid, this.procRoot) ?? Infinity;
        if (init === undefined || t < oldest) {
          init = pid;
          oldest = t;
        }
      }
    }
    this.start(e, init, init !== undefined ? nsInode(this.procRoot, init, 'mnt') : undefined);
  }

  /** Is `pid` in the container's cgroup and past the runtime's hand-over to the container's program? */
  private isHandedOverInit(e: Entry, pid: number): boolean {
    return this.procsOf(e.info.cgroupPath).includes(pid) && hasHandedOver(pid, this.procRoot);
  }

  /** Pids in a container's cgroup (the v2 tree, or the v1 hierarchy that names containers). */
  private procsOf(cgroupPath: string): number[] {
    const dir = this.cgroupDir(cgroupPath);
    return dir === undefined ? [] : cgroupProcs(dir);
  }

  private cgroupDir(cgroupPath: string): string | undefined {
    const mount = this.mounts.v2 ?? this.mounts.v1['name=systemd'] ?? Object.values(this.mounts.v1)[0];
    return mount === undefined ? undefined : join(mount, cgroupPath);
  }

  /** Is `pid` still in container `e`'s cgroup (not a reused pid elsewhere)? */
  private inContainer(pid: number, e: Entry): boolean {
    const path = this.mounts.v2 ? procV2Path(pid, this.procRoot) : procV1Path(pid, this.procRoot);
    const own = e.info.cgroupPath;
    return path !== undefined && (path === own || path.startsWith(own === '/' ? '/' : own + '/'));
  }

  /**
   * The posture from the runtime's record and the kernel's view of the init process, read once
   * while that process runs in the container; the kernel's view wins (posture.ts).
   */
  private settlePosture(e: Entry): void {
    if (!this.withPosture) return;
    const host = this.hostReference();
    const pid = e.info.initPid;
    if (e.kernelPosture === undefined && pid !== undefined && this.inContainer(pid, e)) {
      this.counters.postureReads++;
      e.kernelPosture = readPosture(pid, this.procRoot, host);
    }
    const p = settlePosture(e.spec ? runtimePosture(e.spec, host) : undefined, e.kernelPosture);
    if (p) e.info.posture = p;
  }

  /** Reads metadata (and settles posture) again; a started container's changes go out as container_update. */
  private refreshMetadata(e: Entry): void {
    const before = identityOf(e.info);
    e.metadataDone = this.readMetadata(e);
    if (!e.metadataDone) return;
    this.settlePosture(e);
    if (!e.started) return;
    const after = identityOf(e.info);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    if (changed.length === 0) return;
    this.counters.updated++;
    this.emit({ kind: 'container_update', time: new Date(this.now()).toISOString(), container: e.info, changed });
  }

  private hostReference(): HostReference {
    const now = this.now();
    if (!this.hostRefCache || now - this.hostRefCache.at >= HOST_REFERENCE_MS) this.hostRefCache = { at: now, ref: readHostReference(this.procRoot) };
    return this.hostRefCache.ref;
  }

  /** Inode numbers of the host's mount and pid namespaces (none for a replay). */
  private hostNs(): { mnt?: number; pid?: number } {
    if (this.hostNsIno) return this.hostNsIno;
    const ref = this.offline ? undefined : this.hostReference();
    const ino = (link: string | undefined): number | undefined => (link ? Number(/\[(\d+)\]/.exec(link)?.[1]) || undefined : undefined);
    const out: { mnt?: number; pid?: number } = {};
    const mnt = ino(ref?.ns.hostMnt);
    const pid = ino(ref?.ns.hostPid);
    if (mnt !== undefined) out.mnt = mnt;
    if (pid !== undefined) out.pid = pid;
    this.hostNsIno = out;
    return out;
  }

  /**
   * Could this exec be a runtime's bootstrap? Runtimes start from the host's mount namespace; where
   * one runs in a mount namespace of its own (a unit's), from the host's pid namespace and a mount
   * namespace that no container's init has. A program inside a container is neither.
   */
  private execFromHost(ev: VigilEvent): boolean {
    const host = this.hostNs();
    if (host.mnt !== undefined && ev.ns.mnt === host.mnt) return true;
    return (host.pid === undefined || ev.ns.pid === host.pid) && !this.containerMnts.has(ev.ns.mnt);
  }

  private stop(e: Entry, now: number): void {
    e.info.stoppedAt = new Date(now).toISOString();
    e.stopAt = now;
    if (e.mntNs !== undefined) {
      const n = (this.containerMnts.get(e.mntNs) ?? 1) - 1;
      if (n > 0) this.containerMnts.set(e.mntNs, n);
      else this.containerMnts.delete(e.mntNs);
    }
    if (!e.started) return;
    this.counters.stopped++;
    this.emit({ kind: 'container_stop', time: e.info.stoppedAt, container: e.info });
  }

  private emit(ev: ContainerLifecycleEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(ev, this.cause);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [id, n] of this.cgroups) if (n.removedAt !== undefined && now - n.removedAt >= this.graceMs) this.cgroups.delete(id);
    for (const [k, e] of this.containers) if (e.stopAt !== undefined && now - e.stopAt >= this.graceMs) this.deleteEntry(k);
    for (const [id, t] of this.missed) if (now - t >= this.graceMs) this.missed.delete(id);
    this.bootstrap.expire(now);
    if (this.offline) return;
    for (const e of this.containers.values()) {
      if (e.info.stoppedAt !== undefined) continue;
      if (e.started && !e.metadataDone && now - e.lastMetadataTry >= this.retryMs && now - e.firstSeen < this.metadataRetryMs) this.refreshMetadata(e);
      if (!e.started && now - e.firstSeen >= this.metadataRetryMs && now - e.lastStartTry >= 1000) this.startFromCgroup(e);
      if (now - e.lastEmptyCheck >= EMPTY_CHECK_MS) this.checkEmpty(e, now);
    }
  }

  /**
   * A container whose cgroup is gone (its removal not seen: v1-only hosts have no event for it) has
   * stopped; one whose cgroup has held no process for the grace period too.
   */
  private checkEmpty(e: Entry, now: number): void {
    e.lastEmptyCheck = now;
    const dir = this.cgroupDir(e.info.cgroupPath);
    if (dir === undefined) return;
    if (!isDir(dir)) {
      this.stop(e, now);
      return;
    }
    if (cgroupProcs(dir).length > 0) {
      delete e.emptySince;
      return;
    }
    e.emptySince ??= now;
    if (e.started && now - e.emptySince >= this.graceMs) this.stop(e, now);
  }

  // ---- per event ---------------------------------------------------------------------------------

  /**
   * The container of an event in a container's cgroup: started at its first program's exec,
   * metadata retried. A container evicted while its cgroup still sends events is made again.
   */
  private seen(key: string, pid: number, now: number): ContainerRef {
    let e = this.containers.get(key);
    if (!e) {
      const m = this.classify(key);
      if (!m || m.containerPath !== key) return HOST_CONTAINER;
      e = this.entryFor(m, 0);
    }
    if (!e.started) {
      const ev = this.cause;
      if (e.info.runtime === 'unknown' && !this.offline && now - e.lastMetadataTry >= this.retryMs) {
        // A shape that names no runtime (Kubernetes' cgroupfs one): the runtime's state directory
        // may have appeared since the cgroup was made.
        e.lastMetadataTry = now;
        const dir = this.runtimes.stateDirOf(e.info.id);
        if (dir) {
          e.info.runtime = dir.runtime;
          e.ref = refOf(e.info);
        }
      }
      if (ev?.kind === 'exec' && ev.retval >= 0 && !this.causeIsRuntime) this.start(e, pid, ev.ns.mnt);
      else if (now - e.firstSeen >= this.metadataRetryMs && now - e.lastStartTry >= Math.max(this.retryMs, 1000)) this.startFromCgroup(e);
    } else if (!e.metadataDone && !this.offline && now - e.lastMetadataTry >= this.retryMs && now - e.firstSeen < this.metadataRetryMs) this.refreshMetadata(e);
    this.counters.hits++;
    return e.ref;
  }

  private refV2(id: number, pid: number, now: number): ContainerRef {
    let node = this.cgroups.get(id);
    if (!node && this.offline) {
      this.counters.misses++;
      return UNKNOWN_CONTAINER;
    }
    if (!node) node = this.lookupMiss(id, pid, now);
    if (!node) return UNKNOWN_CONTAINER;
    if (
      node.container === undefined &&
      node.createdAt !== undefined &&
      now - node.createdAt < this.metadataRetryMs &&
      (now - node.lastCheck >= this.retryMs || this.cause?.kind === 'exec')
    ) {
      // A cgroup made while we watched whose shape named no container: the runtime's state may have
      // appeared since (plain runc writes it after making the cgroup). An exec is looked at at once:
      // it may be the container's first program, which must not pass as the host's.
      node.lastCheck = now;
      this.stateIndex = undefined;
      const m = this.classify(node.path);
      if (m) node.container = this.entryFor(m, id).info.cgroupPath;
    }
    if (node.container === undefined) {
      this.counters.hits++;
      return HOST_CONTAINER;
    }
    return this.seen(node.container, pid, now);
  }

  /** An id not in the map: the process's own cgroup file, then (rate-limited) a new walk. */
  private lookupMiss(id: number, pid: number, now: number): CgroupNode | undefined {
    const last = this.missed.get(id);
    if (last !== undefined && now - last < this.retryMs) {
      this.counters.misses++;
      return undefined;
    }
    const path = procV2Path(pid, this.procRoot);
    if (path !== undefined && this.mounts.v2 && cgroupIdOf(join(this.mounts.v2, path)) === id) {
      this.missed.delete(id);
      this.counters.missesResolved++;
      return this.addCgroup(id, path, now);
    }
    if (now - this.lastWalk >= Math.max(this.retryMs, 1000)) {
      this.scan();
      const node = this.cgroups.get(id);
      if (node) {
        this.missed.delete(id);
        this.counters.missesResolved++;
        return node;
      }
    }
    this.missed.set(id, now);
    this.counters.misses++;
    return undefined;
  }

  private refV1(pid: number, now: number): ContainerRef {
    if (this.offline) {
      this.counters.misses++;
      return UNKNOWN_CONTAINER;
    }
    let key = this.pidPaths.get(pid);
    if (key === undefined) {
      const path = procV1Path(pid, this.procRoot);
      if (path === undefined) {
        this.counters.misses++;
        return UNKNOWN_CONTAINER;
      }
      const m = this.classify(path);
      key = m ? this.entryFor(m, 0).info.cgroupPath : '';
      if (this.pidPaths.size >= this.maxCgroups) {
        const first = this.pidPaths.keys().next();
        if (!first.done) this.pidPaths.delete(first.value);
      }
      this.pidPaths.set(pid, key);
    }
    if (key === '') {
      this.counters.hits++;
      return HOST_CONTAINER;
    }
    return this.seen(key, pid, now);
  }
}

/** The fields whose change after container_start is a container_update, as comparable strings. */
function identityOf(info: ContainerInfo): Record<string, string> {
  return {
    name: info.name,
    image: info.image,
    runtime: info.runtime,
    pod: info.pod ?? '',
    namespace: info.namespace ?? '',
    podUid: info.podUid ?? '',
    labels: JSON.stringify(info.labels),
    initPid: String(info.initPid ?? ''),
    posture: JSON.stringify(info.posture ?? null),
  };
}

function hostNsLinkText(host: HostReference): string | undefined {
  return host.ns.hostMnt;
}

function nsInode(procRoot: string, pid: number, ns: string): number | undefined {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync(join(procRoot, String(pid), 'ns', ns)))?.[1]) || undefined;
  } catch {
    return undefined;
  }
}

function refOf(info: ContainerInfo): ContainerRef {
  const ref: ContainerRef = { id: info.id, name: info.name, runtime: info.runtime, image: info.image };
  if (info.pod !== undefined) ref.pod = info.pod;
  if (info.namespace !== undefined) ref.namespace = info.namespace;
  return Object.freeze(ref);
}
