// The cgroup file systems as the registry needs them: where the v2 hierarchy is mounted (pure v2 at
// /sys/fs/cgroup, hybrid at /sys/fs/cgroup/unified, none on v1-only hosts), a walk of that tree into
// id -> path (a v2 cgroup's id is the inode number of its directory), and a process's cgroup paths.
import { lstatSync, opendirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupMounts {
  /** Mount point of the v2 hierarchy, when there is one. */
  v2?: string;
  /** Mount points of v1 hierarchies, by controller list as mountinfo names them ("cpu,cpuacct", "name=systemd"). */
  v1: Record<string, string>;
}

/** Unescapes mountinfo's octal escapes (\040 for space, ...). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup mounts of a mountinfo text (of this process: /proc/self/mountinfo). */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const out: CgroupMounts = { v1: {} };
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMountinfo(left[4] ?? '');
    const root = left[3] ?? '';
    const fstype = right[0];
    // A bind of a subtree (root other than "/") is not the hierarchy's mount; the first full one wins.
    if (root !== '/') continue;
    if (fstype === 'cgroup2') {
      out.v2 ??= mountPoint;
    } else if (fstype === 'cgroup') {
      const opts = (right[2] ?? '').split(',');
      const ctl = opts.filter(
        (o) =>
          o !== 'rw' &&
          o !== 'ro' &&
          !o.startsWith('relatime') &&
          o !== 'nosuid' &&
          o !== 'nodev' &&
          o !== 'noexec' &&
          o !== 'clone_children' &&
          !o.startsWith('release_agent') &&
          o !== 'xattr',
      );
      const key = ctl.join(',');
      if (key && !(key in out.v1)) out.v1[key] = mountPoint;
    }
  }
  return out;
}

export function readCgroupMounts(procRoot = '/proc'): CgroupMounts {
  try {
    return parseCgroupMounts(readFileSync(join(procRoot, 'self/mountinfo'), 'utf8'));
  } catch {
    return { v1: {} };
  }
}

/** The id of a v2 cgroup directory: its inode number (what bpf_get_current_cgroup_id returns). */
export function cgroupIdOf(dir: string): number | undefined {
  try {
    return Number(statSync(dir, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

export interface WalkResult {
  /** cgroup id -> path relative to the mount ("/" for the root). */
  paths: Map<number, string>;
  /** Directories that could not be read (raced with an rmdir, or permissions). */
  errors: number;
  truncated: boolean;
}

/**
 * Walks the v2 tree under `mount` (iteratively, depth-first), recording each directory's id and path.
 * Bounded by `maxCgroups`; a directory removed while the walk runs is skipped and counted.
 */
export function walkCgroupTree(mount: string, maxCgroups = 65536): WalkResult {
  const paths = new Map<number, string>();
  let errors = 0;
  const stack: string[] = ['/'];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const dir = rel === '/' ? mount : join(mount, rel);
    const id = cgroupIdOf(dir);
    if (id === undefined) {
      errors++;
      continue;
    }
    if (paths.size >= maxCgroups) return { paths, errors, truncated: true };
    paths.set(id, rel);
    let d;
    try {
      d = opendirSync(dir);
    } catch {
      errors++;
      continue;
    }
    try {
      for (let e = d.readSync(); e !== null; e = d.readSync()) {
        if (e.isDirectory()) stack.push(rel === '/' ? `/${e.name}` : `${rel}/${e.name}`);
      }
    } catch {
      errors++;
    } finally {
      d.closeSync();
    }
  }
  return { paths, errors, truncated: false };
}

/** A process's cgroup lines: hierarchy id -> { controllers, path }. */
export interface ProcCgroup {
  hierarchy: number;
  controllers: string;
  path: string;
}

export function parseProcCgroup(text: string): ProcCgroup[] {
  const out: ProcCgroup[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    out.push({ hierarchy: Number(line.slice(0, a)), controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

/** The v2 path of a process ("0::" line), or undefined (no such process, or no v2 hierarchy). */
export function procV2Path(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const lines = parseProcCgroup(readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8'));
    return lines.find((l) => l.hierarchy === 0)?.path;
  } catch {
    return undefined;
  }
}

/**
 * The path of a process in a v1 hierarchy, for hosts without v2: name=systemd first (it follows every
 * unit and container), then the first controller that is not the root.
 */
export function procV1Path(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const lines = parseProcCgroup(readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8')).filter((l) => l.hierarchy !== 0);
    const sd = lines.find((l) => l.controllers === 'name=systemd');
    if (sd && sd.path !== '/') return sd.path;
    return lines.find((l) => l.path !== '/')?.path ?? sd?.path ?? lines[0]?.path;
  } catch {
    return undefined;
  }
}

/** Pids listed in a cgroup's cgroup.procs (empty when unreadable). */
export function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** True when `dir` exists and is a directory (not following a final symlink). */
export function isDir(dir: string): boolean {
  try {
    return lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}
