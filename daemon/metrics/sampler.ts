// The sampler: reads one target's cgroup files (and a few procfs files) and turns them into Samples
// named as in core/metric-names.ts. A target is a container (its cgroup path, relative to every hierarchy's root)
// or the host (cgroup path '' or '/').
//
// Per target the sampler keeps a plan (which files exist, in which hierarchy: see cgroup-layout.ts), the
// previous CPU reading (cpu_usage_cores is the usage delta over the wall-clock delta between two
// samples of that target) and, through FileReader, the open handles of its files.
//
// Where figures come from:
// - CPU usage: v2 cpu.stat usage_usec, or v1 cpuacct.usage (ns). Quota: v2 cpu.max, or v1
//   cpu.cfs_quota_us / cpu.cfs_period_us. Throttling: cpu.stat nr_periods, nr_throttled, and
//   throttled_usec (v2) or throttled_time (v1, ns).
// - Memory: usage is v2 memory.current or v1 memory.usage_in_bytes; the working set is usage minus
//   inactive file pages (memory.stat inactive_file, v1 total_inactive_file), floored at 0, as cAdvisor
//   and the kubelet compute it. failcnt: v2 memory.events "max" (times usage hit the limit), v1
//   memory.failcnt. OOM: v2 memory.events "oom" and "oom_kill" (hierarchical); v1 has only
//   memory.oom_control "oom_kill", so memory_oom_events_total is absent on v1.
// - pids.current, pids.max (same format in v1 and v2).
// - Block I/O: v2 io.stat; v1 blkio.throttle.io_service_bytes_recursive and io_serviced_recursive.
//   Kernels from 6.11 keep those v1 counters only on devices where a throttle rule was ever set (the
//   throttle state is created lazily), so they read "Total 0" on a v1 host that never throttled. The
//   sampler notices that at start (the v1 root's recursive total is 0) and then reads each process's
//   /proc/<pid>/io instead: read_bytes and write_bytes of the live processes, which include what their
//   reaped children did. That source has no operation counts: blkio_*_ops_total are then absent.
// - PSI: the target's cpu/memory/io.pressure in the v2 tree when they exist (also on hybrid hosts).
// - Network: /proc/<pid>/net/dev of one process of the container, all interfaces except lo by default
//   (loopback traffic never leaves the container and costs no host network; cAdvisor leaves it out
//   too). Nothing when that process shares the daemon's network namespace: the figures would be the
//   host's.
// - fds_open: entries of /proc/<pid>/fd over the pids in cgroup.procs of the target and its
//   descendant cgroups. fds_process_open and fds_process_limit: the process nearest its own
//   descriptor limit (open fds over the soft RLIMIT_NOFILE of /proc/<pid>/limits), since EMFILE is a
//   per-process limit that a container sum never shows. Limits are read for the process holding the
//   most descriptors and for every process holding FD_LIMIT_FLOOR or more (a handful of extra reads:
//   a process with fewer is near no real limit); when none can be read, the one holding the most.
// - Host: CPU from the root cgroup (or /proc/stat), memory from /proc/meminfo (usage = MemTotal -
//   MemFree, working set = MemTotal - MemAvailable, limit = MemTotal), OOM kills from /proc/vmstat,
//   pids from /proc/loadavg and kernel.pid_max, I/O from the v2 root's io.stat or /proc/diskstats
//   (whole disks), PSI from /proc/pressure, network from /proc/net/dev (the daemon's own network
//   namespace: it runs in the host's), fds from fs.file-nr.
import { hostNsLink } from '../process/namespaces.js';
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { silentLogger, type Logger } from '../core/log.js';
import { detectCgroupLayout, procsRoots, sourceOf, type CgroupLayout } from './cgroup-layout.js';
import {
  cpuQuotaV1,
  parseBlkioRwstat,
  parseCpuMax,
  parseDiskstats,
  parseFileNr,
  parseFlatKeyed,
  parseIoStat,
  parseLimit,
  parseLoadavgTasks,
  parseMeminfo,
  parseNetDev,
  parseNofileLimit,
  parsePids,
  parsePressure,
  parseProcIo,
  parseProcStatCpu,
  parseSingle,
  type Limit,
} from './parse.js';
import { FileReader, isGone } from './reader.js';
import type { MetricName, Sample } from '../core/metric-names.js';

/** What to sample: a container (or any cgroup) or, with cgroupPath '' or '/', the host. */
export interface MetricsTarget {
  /** The Sample's target: container id, or 'host'. */
  key: string;
  /** cgroup path relative to the root of every hierarchy, e.g. '/vigil/abc' ('' or '/' for the host). */
  cgroupPath: string;
  /** Processes known to be in the target (e.g. its init pid): used for the network namespace when given. */
  pids?: readonly number[];
}

export type V1BlockIoSource = 'auto' | 'blkio' | 'proc';

export interface SamplerOptions {
  /** Detected from /proc/self/mountinfo when absent. */
  layout?: CgroupLayout;
  /** procfs mount ('/proc'). */
  procRoot?: string;
  /** Where whole disks are listed for the host's I/O ('/sys/block'). */
  sysBlock?: string;
  /** Keep file handles open between sweeps (default true). */
  reuseHandles?: boolean;
  maxHandles?: number;
  /**
   * Count the loopback interface in net_*. Default: yes for containers (their own network namespace:
   * traffic between their processes is theirs), no for the host (lo there is every local service).
   */
  includeLoopback?: boolean;
  /** Count open file descriptors (default true). */
  fds?: boolean;
  /** v1 block I/O from blkio files, from /proc/<pid>/io, or chosen at start (default 'auto'). */
  v1BlockIo?: V1BlockIoSource;
  logger?: Logger;
}

export interface TargetResult {
  samples: Sample[];
  /** The target's cgroup is gone (container stopped): no samples, not an error. */
  vanished: boolean;
  /** Reads or parses that failed for another reason; the other figures are still sampled. */
  errors: Error[];
}

/** Figures of one sample of a target, before they become Samples. Limits: null = unlimited. */
interface Readings {
  cpuUsage?: number;
  cpuQuota?: Limit;
  cpuQuotaUsText?: string;
  cpuPeriodUsText?: string;
  cpuPeriods?: number;
  cpuThrottledPeriods?: number;
  cpuThrottled?: number;
  memUsage?: number;
  memInactiveFile?: number;
  memWorkingSet?: number;
  memLimit?: Limit;
  memFailcnt?: number;
  memOom?: number;
  memOomKill?: number;
  pidsCurrent?: number;
  pidsMax?: Limit;
  ioReadBytes?: number;
  ioWriteBytes?: number;
  ioReadOps?: number;
  ioWriteOps?: number;
  psi: Partial<Record<'cpu' | 'memory' | 'io', { some?: number; full?: number }>>;
  netRxBytes?: number;
  netTxBytes?: number;
  netRxPackets?: number;
  netTxPackets?: number;
  fds?: number;
  fdsProcessOpen?: number;
  fdsProcessLimit?: number;
}

/** One file of a plan and what its text sets. */
interface Probe {
  path: string;
  apply(text: string, r: Readings): void;
}

interface Plan {
  host: boolean;
  probes: Probe[];
  /** Directories of the target in each hierarchy (to tell a vanished cgroup from a missing file). */
  dirs: string[];
  /** The directory whose cgroup.procs (and descendants') list the target's processes. */
  procsDir?: string;
  /** Block I/O from /proc/<pid>/io. */
  blockFromProc: boolean;
}

interface TargetState {
  plan: Plan;
  prevCpu?: { usage: number; at: number };
  /** Network namespace check of the pid last used for net/dev. */
  net?: { pid: number; hostNs: boolean };
  /** Re-plan at the next sample (a file went away but the cgroup is still there). */
  replan: boolean;
}

const PSI_RESOURCES = ['cpu', 'memory', 'io'] as const;

/** Processes holding at least this many descriptors have their RLIMIT_NOFILE read (see the header). */
export const FD_LIMIT_FLOOR = 64;

function setPressure(resource: 'cpu' | 'memory' | 'io') {
  return (text: string, r: Readings): void => {
    const p = parsePressure(text);
    r.psi[resource] = {
      ...(p.some ? { some: p.some.avg10 } : {}),
      ...(p.full ? { full: p.full.avg10 } : {}),
    };
  };
}

function setIo(totals: { readBytes: number; writeBytes: number; readOps: number; writeOps: number }, r: Readings): void {
  r.ioReadBytes = totals.readBytes;
  r.ioWriteBytes = totals.writeBytes;
  r.ioReadOps = totals.readOps;
  r.ioWriteOps = totals.writeOps;
}

/** The probes of a container target: every file that may exist, per hierarchy; the plan keeps those that do. */
function containerCandidates(layout: CgroupLayout, pathIn: (root: string) => string, blockFromProc: boolean): { probes: Probe[]; dirs: string[] } {
  const probes: Probe[] = [];
  const dirs = new Set<string>();
  const at = (root: string, file: string): string => join(root, pathIn(root), file);
  const add = (path: string, apply: Probe['apply']): void => {
    probes.push({ path, apply });
  };

  const acct = sourceOf(layout, 'cpuacct');
  const cpu = sourceOf(layout, 'cpu');
  if (acct?.version === 2 || cpu?.version === 2) {
    const root = acct?.version === 2 ? acct.root : cpu!.root;
    dirs.add(join(root, pathIn(root)));
    add(at(root, 'cpu.stat'), (t, r) => {
      const s = parseFlatKeyed(t);
      const usage = s.get('usage_usec');
      if (usage !== undefined && acct?.version === 2) r.cpuUsage = usage / 1e6;
      if (cpu?.version === 2) {
        r.cpuPeriods = s.get('nr_periods');
        r.cpuThrottledPeriods = s.get('nr_throttled');
        const th = s.get('throttled_usec');
        if (th !== undefined) r.cpuThrottled = th / 1e6;
      }
    });
  }
  if (cpu?.version === 2) add(at(cpu.root, 'cpu.max'), (t, r) => (r.cpuQuota = parseCpuMax(t)));
  if (acct?.version === 1) {
    dirs.add(join(acct.root, pathIn(acct.root)));
    add(at(acct.root, 'cpuacct.usage'), (t, r) => {
      const ns = parseSingle(t);
      if (ns !== undefined) r.cpuUsage = ns / 1e9;
    });
  }
  if (cpu?.version === 1) {
    dirs.add(join(cpu.root, pathIn(cpu.root)));
    add(at(cpu.root, 'cpu.cfs_quota_us'), (t, r) => (r.cpuQuotaUsText = t));
    add(at(cpu.root, 'cpu.cfs_period_us'), (t, r) => (r.cpuPeriodUsText = t));
    add(at(cpu.root, 'cpu.stat'), (t, r) => {
      const s = parseFlatKeyed(t);
      r.cpuPeriods = s.get('nr_periods');
      r.cpuThrottledPeriods = s.get('nr_throttled');
      const th = s.get('throttled_time');
      if (th !== undefined) r.cpuThrottled = th / 1e9;
    });
  }

  const mem = sourceOf(layout, 'memory');
  if (mem) dirs.add(join(mem.root, pathIn(mem.root)));
  if (mem?.version === 2) {
    add(at(mem.root, 'memory.current'), (t, r) => (r.memUsage = parseSingle(t)));
    add(at(mem.root, 'memory.max'), (t, r) => (r.memLimit = parseLimit(t)));
    add(at(mem.root, 'memory.stat'), (t, r) => (r.memInactiveFile = parseFlatKeyed(t).get('inactive_file')));
    add(at(mem.root, 'memory.events'), (t, r) => {
      const e = parseFlatKeyed(t);
      r.memFailcnt = e.get('max');
      r.memOom = e.get('oom');
      r.memOomKill = e.get('oom_kill');
    });
  } else if (mem?.version === 1) {
    add(at(mem.root, 'memory.usage_in_bytes'), (t, r) => (r.memUsage = parseSingle(t)));
    add(at(mem.root, 'memory.limit_in_bytes'), (t, r) => (r.memLimit = parseLimit(t)));
    add(at(mem.root, 'memory.stat'), (t, r) => {
      const s = parseFlatKeyed(t);
      r.memInactiveFile = s.get('total_inactive_file') ?? s.get('inactive_file');
    });
    add(at(mem.root, 'memory.failcnt'), (t, r) => (r.memFailcnt = parseSingle(t)));
    add(at(mem.root, 'memory.oom_control'), (t, r) => (r.memOomKill = parseFlatKeyed(t).get('oom_kill')));
  }

  const pids = sourceOf(layout, 'pids');
  if (pids) {
    dirs.add(join(pids.root, pathIn(pids.root)));
    add(at(pids.root, 'pids.current'), (t, r) => (r.pidsCurrent = parseSingle(t)));
    add(at(pids.root, 'pids.max'), (t, r) => (r.pidsMax = parseLimit(t)));
  }

  const io = sourceOf(layout, 'io');
  if (io?.version === 2) {
    dirs.add(join(io.root, pathIn(io.root)));
    add(at(io.root, 'io.stat'), (t, r) => setIo(parseIoStat(t), r));
  } else if (io?.version === 1 && !blockFromProc) {
    dirs.add(join(io.root, pathIn(io.root)));
    // The _recursive files count descendant cgroups too; the plain ones are the fallback (old kernels).
    for (const suffix of ['_recursive', '']) {
      add(at(io.root, `blkio.throttle.io_service_bytes${suffix}`), (t, r) => {
        const b = parseBlkioRwstat(t);
        r.ioReadBytes = b.read;
        r.ioWriteBytes = b.write;
      });
      add(at(io.root, `blkio.throttle.io_serviced${suffix}`), (t, r) => {
        const b = parseBlkioRwstat(t);
        r.ioReadOps = b.read;
        r.ioWriteOps = b.write;
      });
    }
  }

  if (layout.v2Root !== undefined) {
    for (const res of PSI_RESOURCES) add(at(layout.v2Root, `${res}.pressure`), setPressure(res));
  }
  return { probes, dirs: [...dirs] };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

const HOST_PATHS = new Set(['', '/']);

export class Sampler {
  readonly layout: CgroupLayout;
  readonly reader: FileReader;
  private readonly procRoot: string;
  private readonly sysBlock: string;
  private readonly includeLoopback: boolean | undefined;
  private readonly countFds: boolean;
  private readonly blockFromProc: boolean;
  private readonly log: Logger;
  private readonly states = new Map<string, TargetState>();
  private hostNetNs: Promise<string | undefined> | undefined;
  private hostDisks: Promise<Set<string>> | undefined;

  private constructor(layout: CgroupLayout, blockFromProc: boolean, options: SamplerOptions) {
    this.layout = layout;
    this.reader = new FileReader({
      ...(options.reuseHandles !== undefined ? { reuseHandles: options.reuseHandles } : {}),
      ...(options.maxHandles !== undefined ? { maxHandles: options.maxHandles } : {}),
    });
    this.procRoot = options.procRoot ?? '/proc';
    this.sysBlock = options.sysBlock ?? '/sys/block';
    this.includeLoopback = options.includeLoopback;
    this.countFds = options.fds ?? true;
    this.blockFromProc = blockFromProc;
    this.log = options.logger ?? silentLogger();
  }

  /** Detects the layout (unless given) and, on v1, where block I/O can be read from. */
  static async create(options: SamplerOptions = {}): Promise<Sampler> {
    const layout = options.layout ?? (await detectCgroupLayout(options.procRoot ?? '/proc'));
    const io = sourceOf(layout, 'io');
    let blockFromProc = false;
    if (io?.version === 1) {
      const choice = options.v1BlockIo ?? 'auto';
      if (choice === 'proc') blockFromProc = true;
      else if (choice === 'auto') blockFromProc = await v1BlkioInactive(io.root);
    }
    const sampler = new Sampler(layout, blockFromProc, options);
    sampler.log.info(
      {
        mode: layout.mode,
        v2Root: layout.v2Root,
        v2Controllers: [...layout.v2Controllers],
        v1: Object.fromEntries(layout.v1Roots),
        blockIo: io === undefined ? 'none' : io.version === 2 ? 'io.stat' : blockFromProc ? '/proc/<pid>/io' : 'blkio.throttle',
      },
      'cgroup layout',
    );
    return sampler;
  }

  /** Whether v1 block I/O is read from /proc/<pid>/io (see the header). */
  get v1BlockIoFromProc(): boolean {
    return this.blockFromProc;
  }

  /** The Samples of one target; none when its cgroup is gone. */
  async sampleTarget(target: MetricsTarget, now = Date.now()): Promise<Sample[]> {
    return (await this.sample(target, now)).samples;
  }

  /** Samples, plus whether the target vanished and which reads failed. */
  async sample(target: MetricsTarget, now = Date.now()): Promise<TargetResult> {
    let state = this.states.get(target.key);
    if (state === undefined || state.replan) {
      const plan = await this.plan(target);
      if (plan === undefined) {
        this.forget(target.key);
        return { samples: [], vanished: true, errors: [] };
      }
      state = { ...(state ?? {}), plan, replan: false };
      this.states.set(target.key, state);
    }
    const { plan } = state;
    const r: Readings = { psi: {} };
    const errors: Error[] = [];
    let gone = false;

    const fileReads = plan.probes.map(async (p) => {
      let text: string;
      try {
        text = await this.reader.read(p.path);
      } catch (err) {
        if (isGone(err)) gone = true;
        else errors.push(err as Error);
        return;
      }
      try {
        p.apply(text, r);
      } catch (err) {
        errors.push(new Error(`${p.path}: ${(err as Error).message}`, { cause: err }));
      }
    });
    const cpuAt = performance.now();
    const processReads = plan.host ? Promise.resolve() : this.readProcesses(target, state, r, errors);
    await Promise.all([...fileReads, processReads]);

    if (gone) {
      // The host never vanishes; a container has when one of its cgroup directories is gone.
      const stillThere = plan.host || (plan.dirs.length > 0 && (await Promise.all(plan.dirs.map(exists))).every(Boolean));
      if (!stillThere) {
        this.forget(target.key);
        return { samples: [], vanished: true, errors: [] };
      }
      // A file went away with its cgroup still there (a v2 controller disabled): plan again next time.
      state.replan = true;
    }
    return { samples: this.toSamples(target.key, state, r, now, cpuAt), vanished: false, errors };
  }

  /** Drops a target's state and closes its handles (a container that stopped, or is no longer monitored). */
  forget(key: string): void {
    const state = this.states.get(key);
    if (state === undefined) return;
    this.states.delete(key);
    for (const p of state.plan.probes) this.reader.forget(p.path);
    if (state.net) this.reader.forget(join(this.procRoot, String(state.net.pid), 'net/dev'));
  }

  /** Keys with state (sampled and not forgotten). */
  keys(): string[] {
    return [...this.states.keys()];
  }

  async close(): Promise<void> {
    this.states.clear();
    await this.reader.close();
  }

  private async plan(target: MetricsTarget): Promise<Plan | undefined> {
    if (HOST_PATHS.has(target.cgroupPath)) return this.hostPlan();
    const pathIn = await this.hierarchyPaths(target);
    const { probes, dirs } = containerCandidates(this.layout, pathIn, this.blockFromProc);
    const [present, dirPresent] = await Promise.all([Promise.all(probes.map((p) => exists(p.path))), Promise.all(dirs.map(exists))]);
    if (dirs.length === 0 || !dirPresent.some(Boolean)) return undefined;
    // Of the v1 blkio pairs keep the _recursive files when they exist, else the plain ones.
    const paths = new Set(probes.filter((_, i) => present[i]).map((p) => p.path));
    const kept = probes.filter((p) => paths.has(p.path) && !paths.has(`${p.path}_recursive`));
    let procsDir: string | undefined;
    for (const root of procsRoots(this.layout)) {
      const dir = join(root, pathIn(root));
      if (await exists(join(dir, 'cgroup.procs'))) {
        procsDir = dir;
        break;
      }
    }
    return {
      host: false,
      probes: kept,
      dirs: dirs.filter((_, i) => dirPresent[i]),
      ...(procsDir !== undefined ? { procsDir } : {}),
      blockFromProc: this.blockFromProc && sourceOf(this.layout, 'io')?.version === 1,
    };
  }

  /**
   * The target's path in each hierarchy. On v1 and hybrid hosts a container's path can differ per
   * controller (runc nests a relative cgroupsPath under its caller's cgroup of each controller), so
   * when a process of the target is known its /proc/<pid>/cgroup decides; otherwise cgroupPath.
   */
  private async hierarchyPaths(target: MetricsTarget): Promise<(root: string) => string> {
    const byRoot = new Map<string, string>();
    const pid = target.pids?.[0];
    if (pid !== undefined && this.layout.v1Roots.size > 0) {
      const text = await readFile(join(this.procRoot, String(pid), 'cgroup'), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        const m = /^\d+:([^:]*):(.*)$/.exec(line);
        if (!m) continue;
        if (m[1] === '') {
          if (this.layout.v2Root !== undefined) byRoot.set(this.layout.v2Root, m[2]!);
          continue;
        }
        for (const ctrl of m[1]!.split(',')) {
          const root = this.layout.v1Roots.get(ctrl);
          if (root !== undefined) byRoot.set(root, m[2]!);
        }
      }
    }
    return (root) => byRoot.get(root) ?? target.cgroupPath;
  }

  private async hostPlan(): Promise<Plan> {
    const proc = this.procRoot;
    const probes: Probe[] = [];
    const add = (path: string, apply: Probe['apply']): void => {
      probes.push({ path, apply });
    };
    const acct = sourceOf(this.layout, 'cpuacct');
    if (acct?.version === 2 && (await exists(join(acct.root, 'cpu.stat')))) {
      add(join(acct.root, 'cpu.stat'), (t, r) => {
        const u = parseFlatKeyed(t).get('usage_usec');
        if (u !== undefined) r.cpuUsage = u / 1e6;
      });
    } else if (acct?.version === 1 && (await exists(join(acct.root, 'cpuacct.usage')))) {
      add(join(acct.root, 'cpuacct.usage'), (t, r) => {
        const ns = parseSingle(t);
        if (ns !== undefined) r.cpuUsage = ns / 1e9;
      });
    } else {
      add(join(proc, 'stat'), (t, r) => (r.cpuUsage = parseProcStatCpu(t)));
    }
    add(join(proc, 'meminfo'), (t, r) => {
      const m = parseMeminfo(t);
      const total = m.get('MemTotal');
      const free = m.get('MemFree');
      const avail = m.get('MemAvailable');
      if (total === undefined) return;
      r.memLimit = total;
      if (free !== undefined) r.memUsage = total - free;
      if (avail !== undefined) r.memWorkingSet = Math.max(0, total - avail);
    });
    add(join(proc, 'vmstat'), (t, r) => (r.memOomKill = parseFlatKeyed(t).get('oom_kill')));
    add(join(proc, 'loadavg'), (t, r) => (r.pidsCurrent = parseLoadavgTasks(t)));
    add(join(proc, 'sys/kernel/pid_max'), (t, r) => (r.pidsMax = parseLimit(t)));
    const io = sourceOf(this.layout, 'io');
    if (io?.version === 2 && (await exists(join(io.root, 'io.stat')))) {
      add(join(io.root, 'io.stat'), (t, r) => setIo(parseIoStat(t), r));
    } else {
      const disks = await this.disks();
      add(join(proc, 'diskstats'), (t, r) => setIo(parseDiskstats(t, disks), r));
    }
    for (const res of PSI_RESOURCES) {
      const p = join(proc, 'pressure', res);
      if (await exists(p)) add(p, setPressure(res));
    }
    add(join(proc, 'net/dev'), (t, r) => this.setNet(t, r, true));
    if (this.countFds) add(join(proc, 'sys/fs/file-nr'), (t, r) => (r.fds = parseFileNr(t)));
    const present = await Promise.all(probes.map((p) => exists(p.path)));
    return { host: true, probes: probes.filter((_, i) => present[i]), dirs: [], blockFromProc: false };
  }

  /** Whole disks: /sys/block entries backed by a device (not loop, ram, zram, dm, md). */
  private disks(): Promise<Set<string>> {
    this.hostDisks ??= (async () => {
      const names = await readdir(this.sysBlock).catch(() => [] as string[]);
      const real = await Promise.all(names.map((n) => exists(join(this.sysBlock, n, 'device'))));
      return new Set(names.filter((_, i) => real[i]));
    })();
    return this.hostDisks;
  }

  private setNet(text: string, r: Readings, host: boolean): void {
    const n = parseNetDev(text, this.includeLoopback ?? !host);
    r.netRxBytes = n.rxBytes;
    r.netTxBytes = n.txBytes;
    r.netRxPackets = n.rxPackets;
    r.netTxPackets = n.txPackets;
  }

  /** Pids of the target and its descendant cgroups. */
  private async listPids(dir: string): Promise<number[]> {
    const [procs, entries] = await Promise.all([this.reader.read(join(dir, 'cgroup.procs'), { keep: false }), readdir(dir, { withFileTypes: true })]);
    const pids = parsePids(procs);
    const children = entries.filter((e) => e.isDirectory());
    if (children.length > 0) {
      const nested = await Promise.all(
        children.map((c) =>
          this.listPids(join(dir, c.name)).catch((err: unknown) => {
            if (isGone(err)) return [] as number[];
            throw err;
          }),
        ),
      );
      for (const n of nested) pids.push(...n);
    }
    return pids;
  }

  /** fds, per-process block I/O and the network of a container target. */
  private async readProcesses(target: MetricsTarget, state: TargetState, r: Readings, errors: Error[]): Promise<void> {
    const { plan } = state;
    let pids: number[] = [];
    if (plan.procsDir !== undefined) {
      try {
        pids = await this.listPids(plan.procsDir);
      } catch (err) {
        if (!isGone(err)) errors.push(err as Error);
        return;
      }
    } else if (target.pids) {
      pids = [...target.pids];
    }
    const perPid = pids.map(async (pid) => {
      const [fds, io] = await Promise.all([
        this.countFds
          ? readdir(join(this.procRoot, String(pid), 'fd')).then(
              (e) => e.length,
              () => undefined,
            )
          : undefined,
        plan.blockFromProc ? this.reader.read(join(this.procRoot, String(pid), 'io')).then(parseProcIo, () => undefined) : undefined,
      ]);
      return { pid, fds, io };
    });
    const netPid = target.pids?.find((p) => pids.length === 0 || pids.includes(p)) ?? pids[0];
    const [results] = await Promise.all([Promise.all(perPid), netPid !== undefined ? this.readNet(netPid, state, r) : undefined]);
    if (this.countFds) {
      let fds = 0;
      let seen = false;
      for (const x of results) if (x.fds !== undefined) (fds += x.fds), (seen = true);
      if (seen || pids.length === 0) r.fds = fds;
      if (pids.length === 0) r.fdsProcessOpen = 0;
      else await this.nearestFdLimit(results, r);
    }
    if (plan.blockFromProc) {
      let rb = 0;
      let wb = 0;
      for (const x of results) if (x.io) (rb += x.io.readBytes), (wb += x.io.writeBytes);
      r.ioReadBytes = rb;
      r.ioWriteBytes = wb;
    }
  }

  /** fds_process_open and fds_process_limit: the process whose descriptors fill most of its RLIMIT_NOFILE. */
  private async nearestFdLimit(results: ReadonlyArray<{ pid: number; fds: number | undefined }>, r: Readings): Promise<void> {
    let top: { pid: number; fds: number } | undefined;
    for (const x of results) if (x.fds !== undefined && (top === undefined || x.fds > top.fds)) top = { pid: x.pid, fds: x.fds };
    if (top === undefined) return;
    const candidates = results.filter((x): x is { pid: number; fds: number } => x.fds !== undefined && (x.pid === top.pid || x.fds >= FD_LIMIT_FLOOR));
    const limits = await Promise.all(
      candidates.map((x) => this.reader.read(join(this.procRoot, String(x.pid), 'limits'), { keep: false }).then(parseNofileLimit, () => undefined)),
    );
    let best: { open: number; limit?: number; fill: number } = { open: top.fds, fill: -1 };
    candidates.forEach((x, i) => {
      const limit = limits[i];
      if (typeof limit !== 'number' || limit <= 0) return;
      const fill = x.fds / limit;
      if (fill > best.fill) best = { open: x.fds, limit, fill };
    });
    r.fdsProcessOpen = best.open;
    if (best.limit !== undefined) r.fdsProcessLimit = best.limit;
  }

  private async readNet(pid: number, state: TargetState, r: Readings): Promise<void> {
    const path = join(this.procRoot, String(pid), 'net/dev');
    if (state.net?.pid !== pid) {
      if (state.net) this.reader.forget(join(this.procRoot, String(state.net.pid), 'net/dev'));
      // A container in the host's network namespace has no network figures of its own. Read once.
      this.hostNetNs ??= Promise.resolve(hostNsLink(this.procRoot, 'net'));
      const [host, theirs] = await Promise.all([this.hostNetNs, readlink(join(this.procRoot, String(pid), 'ns/net')).catch(() => undefined)]);
      if (theirs === undefined) return;
      state.net = { pid, hostNs: host !== undefined && host === theirs };
    }
    if (state.net.hostNs) return;
    try {
      this.setNet(await this.reader.read(path), r, false);
    } catch {
      // The process exited between listing and reading; the next sweep picks another.
      this.reader.forget(path);
      delete state.net;
    }
  }

  private toSamples(key: string, state: TargetState, r: Readings, time: number, cpuAt: number): Sample[] {
    const out: Sample[] = [];
    const put = (metric: MetricName, value: number | null | undefined): void => {
      if (value !== undefined && value !== null && Number.isFinite(value)) out.push({ target: key, metric, time, value });
    };
    if (r.cpuUsage !== undefined) {
      put('cpu_usage_seconds_total', r.cpuUsage);
      const prev = state.prevCpu;
      if (prev && r.cpuUsage >= prev.usage && cpuAt > prev.at) put('cpu_usage_cores', (r.cpuUsage - prev.usage) / ((cpuAt - prev.at) / 1000));
      state.prevCpu = { usage: r.cpuUsage, at: cpuAt };
    }
    if (r.cpuQuota === undefined && r.cpuQuotaUsText !== undefined && r.cpuPeriodUsText !== undefined)
      r.cpuQuota = cpuQuotaV1(r.cpuQuotaUsText, r.cpuPeriodUsText);
    put('cpu_quota_cores', r.cpuQuota);
    put('cpu_periods_total', r.cpuPeriods);
    put('cpu_throttled_periods_total', r.cpuThrottledPeriods);
    put('cpu_throttled_seconds_total', r.cpuThrottled);
    put('memory_usage_bytes', r.memUsage);
    const ws = r.memWorkingSet ?? (r.memUsage !== undefined ? Math.max(0, r.memUsage - (r.memInactiveFile ?? 0)) : undefined);
    put('memory_working_set_bytes', ws);
    put('memory_limit_bytes', r.memLimit);
    put('memory_failcnt_total', r.memFailcnt);
    put('memory_oom_events_total', r.memOom);
    put('memory_oom_kill_events_total', r.memOomKill);
    put('pids_current', r.pidsCurrent);
    put('pids_max', r.pidsMax);
    put('blkio_read_bytes_total', r.ioReadBytes);
    put('blkio_write_bytes_total', r.ioWriteBytes);
    put('blkio_read_ops_total', r.ioReadOps);
    put('blkio_write_ops_total', r.ioWriteOps);
    put('psi_cpu_some_avg10', r.psi.cpu?.some);
    put('psi_cpu_full_avg10', r.psi.cpu?.full);
    put('psi_memory_some_avg10', r.psi.memory?.some);
    put('psi_memory_full_avg10', r.psi.memory?.full);
    put('psi_io_some_avg10', r.psi.io?.some);
    put('psi_io_full_avg10', r.psi.io?.full);
    put('net_rx_bytes_total', r.netRxBytes);
    put('net_tx_bytes_total', r.netTxBytes);
    put('net_rx_packets_total', r.netRxPackets);
    put('net_tx_packets_total', r.netTxPackets);
    put('fds_open', r.fds);
    put('fds_process_open', r.fdsProcessOpen);
    put('fds_process_limit', r.fdsProcessLimit);
    return out;
  }
}

/** True when the v1 blkio root counts nothing (kernel 6.11+ with no throttle rule ever set): see the header. */
async function v1BlkioInactive(root: string): Promise<boolean> {
  for (const f of ['blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes']) {
    try {
      const b = parseBlkioRwstat(await readFile(join(root, f), 'utf8'));
      return b.read + b.write === 0;
    } catch {
      // try the next
    }
  }
  return true;
}
