// Where the cgroup hierarchies are mounted and which one carries each controller.
//
// - v2 ("unified"): one cgroup2 mount, at /sys/fs/cgroup on pure-v2 hosts or /sys/fs/cgroup/unified in
//   systemd's hybrid mode; the controllers it carries are listed in the root's cgroup.controllers.
// - v1: one cgroup mount per hierarchy, its super options naming the controllers it carries
//   ("rw,cpu,cpuacct"), found in /proc/self/mountinfo.
// - hybrid: v1 controllers and a v2 tree, usually with no controller enabled in it. A controller comes
//   from whichever hierarchy carries it (a controller is bound to one hierarchy at a time); PSI files
//   exist in every v2 cgroup whatever its controllers, so hybrid hosts take PSI from the v2 tree.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type LayoutMode = 'v1' | 'v2' | 'hybrid' | 'none';

export interface CgroupLayout {
  mode: LayoutMode;
  /** Mount point of the cgroup2 hierarchy, when one is mounted. */
  v2Root?: string;
  /** Controllers of the v2 root (its cgroup.controllers). */
  v2Controllers: ReadonlySet<string>;
  /** v1 controller (cpu, cpuacct, memory, pids, blkio, ..., or name=systemd) -> mount point. */
  v1Roots: ReadonlyMap<string, string>;
}

export interface MountEntry {
  /** The path inside the file system that is mounted (`/` unless a cgroup namespace or bind mount). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Lines of /proc/<pid>/mountinfo (proc(5)): "id parent maj:min root mountpoint opts [optional...] - fstype source superopts". */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 6 || dash + 3 >= f.length) continue;
    out.push({
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      fsType: f[dash + 1]!,
      superOptions: (f[dash + 3] ?? '').split(','),
    });
  }
  return out;
}

/** The v1 super options that are not controller names. */
const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods']);

/** Where a v2 hierarchy is preferred when more than one cgroup2 mount is seen. */
const V2_PREFERRED = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/**
 * The layout from mount entries and the v2 root's cgroup.controllers text. Mounts of a sub-tree
 * (root other than `/`) are skipped: paths are relative to the hierarchy's root.
 */
export function layoutFromMounts(mounts: readonly MountEntry[], v2ControllersText = ''): CgroupLayout {
  const v1Roots = new Map<string, string>();
  let v2Root: string | undefined;
  for (const m of mounts) {
    if (m.root !== '/') continue;
    if (m.fsType === 'cgroup2') {
      const better =
        v2Root === undefined ||
        (V2_PREFERRED.indexOf(m.mountPoint) >= 0 && (V2_PREFERRED.indexOf(v2Root) < 0 || V2_PREFERRED.indexOf(m.mountPoint) < V2_PREFERRED.indexOf(v2Root)));
      if (better) v2Root = m.mountPoint;
    } else if (m.fsType === 'cgroup') {
      for (const opt of m.superOptions) {
        if (V1_NON_CONTROLLER_OPTIONS.has(opt) || opt.startsWith('release_agent=')) continue;
        if (!v1Roots.has(opt)) v1Roots.set(opt, m.mountPoint);
      }
    }
  }
  const v2Controllers = new Set(v2Root === undefined ? [] : v2ControllersText.trim().split(/\s+/).filter(Boolean));
  const v1Controllers = [...v1Roots.keys()].filter((c) => !c.startsWith('name='));
  const mode: LayoutMode = v2Root !== undefined ? (v1Controllers.length > 0 ? 'hybrid' : 'v2') : v1Roots.size > 0 ? 'v1' : 'none';
  return { mode, ...(v2Root !== undefined ? { v2Root } : {}), v2Controllers, v1Roots };
}

/** Reads /proc/self/mountinfo and the v2 root's cgroup.controllers (asynchronously). */
export async function detectCgroupLayout(procRoot = '/proc'): Promise<CgroupLayout> {
  const mounts = parseMountinfo(await readFile(join(procRoot, 'self/mountinfo'), 'utf8'));
  const first = layoutFromMounts(mounts);
  if (first.v2Root === undefined) return first;
  const controllers = await readFile(join(first.v2Root, 'cgroup.controllers'), 'utf8').catch(() => '');
  return layoutFromMounts(mounts, controllers);
}

/** A layout over directories laid out like cgroupfs (test fixtures): a v2 tree, v1 controller trees, or both. */
export function fixtureLayout(options: { v2Root?: string; v2Controllers?: readonly string[]; v1Roots?: Record<string, string> }): CgroupLayout {
  const v1Roots = new Map(Object.entries(options.v1Roots ?? {}));
  const v2Controllers = new Set(options.v2Controllers ?? []);
  const hasV1 = [...v1Roots.keys()].some((c) => !c.startsWith('name='));
  const mode: LayoutMode = options.v2Root !== undefined ? (hasV1 ? 'hybrid' : 'v2') : v1Roots.size > 0 ? 'v1' : 'none';
  return { mode, ...(options.v2Root !== undefined ? { v2Root: options.v2Root } : {}), v2Controllers, v1Roots };
}

/** One hierarchy that serves a controller: its version and its mount point. */
export interface Source {
  version: 1 | 2;
  root: string;
}

/** What the sampler reads, by v2 controller name; v1 names differ (cpuacct for usage, blkio for io). */
export type Resource = 'cpu' | 'cpuacct' | 'memory' | 'pids' | 'io';

/**
 * The hierarchy to read a resource from: the v2 tree when its root carries the controller, else the v1
 * hierarchy that carries it. cpu usage (`cpuacct`) falls back to the v2 tree's cpu.stat, whose
 * usage_usec is kept for every cgroup even with no cpu controller enabled.
 */
export function sourceOf(layout: CgroupLayout, resource: Resource): Source | undefined {
  const v2 = layout.v2Root;
  const v2Name = resource === 'cpuacct' ? 'cpu' : resource;
  if (v2 !== undefined && layout.v2Controllers.has(v2Name)) return { version: 2, root: v2 };
  const v1Name = resource === 'io' ? 'blkio' : resource;
  const v1 = layout.v1Roots.get(v1Name);
  if (v1 !== undefined) return { version: 1, root: v1 };
  if (resource === 'cpuacct' && v2 !== undefined) return { version: 2, root: v2 };
  return undefined;
}

/**
 * Hierarchies whose cgroup.procs list the target's processes, in order of preference: the v2 tree on
 * pure v2; on v1 and hybrid the v1 hierarchies first (a runtime always joins them; not every runtime
 * joins the v2 tree of a hybrid host), then the v2 tree.
 */
export function procsRoots(layout: CgroupLayout): string[] {
  const out: string[] = [];
  if (layout.mode === 'v2' && layout.v2Root !== undefined) out.push(layout.v2Root);
  for (const c of ['pids', 'memory', 'cpu', 'cpuacct', 'name=systemd']) {
    const r = layout.v1Roots.get(c);
    if (r !== undefined && !out.includes(r)) out.push(r);
  }
  if (layout.v2Root !== undefined && !out.includes(layout.v2Root)) out.push(layout.v2Root);
  return out;
}
