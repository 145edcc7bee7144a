// The container registry: cgroup id (each event's header) -> cgroup path -> container.
//
// State, all bounded:
//  - cgroups: v2 cgroup id -> path (and the container it belongs to, if any). Filled by a walk of the
//    v2 tree when the sensor opens, kept current by cgroup_mkdir/cgroup_rmdir events, and on a miss
//    by reading the event's process's cgroup (/proc/<pid>/cgroup, checked against the id) or, at most
//    once per retry interval, a new walk. A removed cgroup stays for the stop grace period (events
//    still in flight resolve), then goes. Over maxCgroups, removed cgroups go first, then the oldest.
//  - containers, by their own cgroup path: identity from the path (parse.ts) or the runtimes' state
//    (runtimes.ts), metadata from the runtimes' files, posture from the init process. A container is
//    "started" (container_start) when first seen with a process: its first successful exec (events
//    before it are the runtime's set-up, attributed to the container but not yet its posture), or
//    processes in its cgroup at the start-up walk. Its cgroup's removal stops it (container_stop); stopped containers
//    are kept stopGraceMs, then evicted. Over maxContainers, stopped ones go first, then the oldest.
//  - a miss (an id no source names) is counted, the event gets runtime "unknown", and the id is looked
//    up again on its next event after the retry interval; never guessed as host.
//  - metadata not on disk yet (runc writes state.json after it makes the cgroup) is read again on
//    later events of that container, at most once per retry interval, for metadataRetryMs.
// v1-only hosts (no v2 hierarchy mounted: every task is in the v2 root): containers are found per
// process from its v1 path (/proc/<pid>/cgroup), cached per pid until its exit event.
import { join } from 'node:path';
import type { Enricher, SensorSource } from '../sensor/enricher.js';
import type { CgroupEvent, VigilEvent } from '../sensor/events.js';
import { cgroupIdOf, cgroupProcs, isDir, procV1Path, procV2Path, readCgroupMounts, walkCgroupTree, type CgroupMounts } from './cgroupfs.js';
import { CgroupPathParser, type CgroupMatch, type PathPattern } from './parse.js';
import { readPosture } from './posture.js';
import { RuntimeReader, type RuntimeState } from './runtimes.js';
import { HOST_CONTAINER, type ContainerInfo, type ContainerLifecycleEvent, type ContainerRef, type Posture } from './types.js';

export interface ContainerRegistryOptions {
  /** cgroup mounts (default: this process's mountinfo). */
  mounts?: CgroupMounts;
  procRoot?: string;
  runtimes?: RuntimeReader;
  /** Extra cgroup path shapes from the configuration (tried before the built-in ones). */
  patterns?: readonly PathPattern[];
  maxCgroups?: number;
  maxContainers?: number;
  /** How long a stopped container (and a removed cgroup) stays resolvable. Default 30 s. */
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
  stopAt?: number;
}

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
  postureReads: number;
  started: number;
  stopped: number;
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
  private readonly counters = {
    hits: 0, misses: 0, missesResolved: 0, walks: 0, walkErrors: 0, cgroupEvictions: 0, containerEvictions: 0,
    metadataReads: 0, postureReads: 0, started: 0, stopped: 0,
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
  }

  // ---- public API ------------------------------------------------------------------------------

  /** Lifecycle events (container_start, container_stop), delivered synchronously. Returns an unsubscribe. */
  onLifecycle(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The container of a v2 cgroup id, or undefined (host cgroup, or unknown id). No lookups on disk. */
  resolve(cgroupId: number): ContainerInfo | undefined {
    const key = this.cgroups.get(cgroupId)?.container;
    return key === undefined ? undefined : this.containers.get(key)?.info;
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
        if (e && !e.started && node.path === e.info.cgroupPath) {
          const procs = cgroupProcs(join(v2, path));
          if (procs.length > 0) this.start(e, procs[0]);
        }
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
    ev.container = this.mounts.v2 ? this.refV2(cgroupId, ev.pid, now) : this.refV1(ev.pid, now);
    if (ev.kind === 'exit' && !this.mounts.v2) this.pidPaths.delete(ev.pid);
    this.cause = undefined;
  }

  stats(): Record<string, number> {
    const s: ContainerRegistryStats = {
      cgroups: this.cgroups.size,
      containers: this.containers.size,
      running: [...this.containers.values()].filter((e) => e.info.stoppedAt === undefined).length,
      ...this.counters,
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
    const e: Entry = { info, ref: refOf(info), started: false, metadataDone: false, firstSeen: this.now(), lastMetadataTry: -Infinity };
    this.containers.set(key, e);
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
      this.containers.delete(victim);
      this.counters.containerEvictions++;
    }
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
    if (md.initPid !== undefined) info.initPid = md.initPid;
    e.ref = refOf(info);
    return true;
  }

  private start(e: Entry, pid: number | undefined): void {
    e.started = true;
    if (this.offline) {
      this.counters.started++;
      this.emit({ kind: 'container_start', time: new Date(this.now()).toISOString(), container: e.info });
      return;
    }
    e.metadataDone = this.readMetadata(e);
    if (e.info.initPid === undefined && this.mounts.v2) {
      const procs = cgroupProcs(join(this.mounts.v2, e.info.cgroupPath));
      if (procs.length > 0) e.info.initPid = Math.min(...procs);
    }
    if (e.info.initPid === undefined && pid !== undefined) e.info.initPid = pid;
    if (this.withPosture && e.info.initPid !== undefined) {
      this.counters.postureReads++;
      const p: Posture | undefined = readPosture(e.info.initPid, this.procRoot);
      if (p) e.info.posture = p;
    }
    this.counters.started++;
    this.emit({ kind: 'container_start', time: new Date(this.now()).toISOString(), container: e.info });
  }

  private stop(e: Entry, now: number): void {
    e.info.stoppedAt = new Date(now).toISOString();
    e.stopAt = now;
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
    for (const [k, e] of this.containers) if (e.stopAt !== undefined && now - e.stopAt >= this.graceMs) this.containers.delete(k);
    for (const [id, t] of this.missed) if (now - t >= this.graceMs) this.missed.delete(id);
    if (!this.mounts.v2) this.sweepV1(now);
  }

  // ---- per event ---------------------------------------------------------------------------------

  /** The container of an event in a container's cgroup: started on first sight, metadata retried. */
  private seen(key: string, pid: number, now: number): ContainerRef {
    const e = this.containers.get(key);
    if (!e) return HOST_CONTAINER;
    if (!e.started) {
      // Started at its first program: before that, the events are the runtime's own set-up (runc
      // init still holds every capability, the state file may not exist yet). A container that
      // never execs is started after the metadata retry period.
      const ev = this.cause;
      if ((ev?.kind === 'exec' && ev.retval >= 0) || now - e.firstSeen >= this.metadataRetryMs) this.start(e, pid);
    } else if (!e.metadataDone && !this.offline && now - e.lastMetadataTry >= this.retryMs && now - e.firstSeen < this.metadataRetryMs) e.metadataDone = this.readMetadata(e);
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
    if (node.container === undefined && node.createdAt !== undefined && now - node.createdAt < this.metadataRetryMs && now - node.lastCheck >= this.retryMs) {
      // A cgroup made while we watched whose shape named no container: the runtime's state may have
      // appeared since (plain runc writes it after making the cgroup).
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

  /** v1 only: a container whose cgroup directory is gone (in any v1 hierarchy mounted) stopped. */
  private sweepV1(now: number): void {
    const mount = this.mounts.v1['name=systemd'] ?? Object.values(this.mounts.v1)[0];
    if (!mount) return;
    for (const e of this.containers.values()) {
      if (e.info.stoppedAt === undefined && !isDir(join(mount, e.info.cgroupPath))) this.stop(e, now);
    }
  }
}

function refOf(info: ContainerInfo): ContainerRef {
  const ref: ContainerRef = { id: info.id, name: info.name, runtime: info.runtime, image: info.image };
  if (info.pod !== undefined) ref.pod = info.pod;
  if (info.namespace !== undefined) ref.namespace = info.namespace;
  return Object.freeze(ref);
}
