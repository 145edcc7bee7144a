// Security posture of a container, read once from its init process (/proc/<pid>):
//  - privileged: its effective capabilities hold the whole host bounding set (as `--privileged`);
//  - host namespaces: each of pid, net, ipc, mnt, user, uts compared with pid 1's inode numbers (the
//    daemon's own when pid 1's are not readable);
//  - sensitive mounts (mountinfo): host paths such as /, /proc, /etc, the runtimes' sockets bound in
//    (the host path is found through pid 1's mountinfo: same device, root under the host mount's
//    root), sysfs or cgroup file systems mounted writable, devtmpfs, a proc mounted outside /proc;
//  - the user namespace mapping (uid_map).
import { hostNsLink } from '../process/namespaces.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { unescapeMountinfo } from './cgroupfs.js';
import type { Posture } from './types.js';

export interface MountEntry {
  dev: string; // major:minor
  root: string;
  mountPoint: string;
  options: string[];
  fstype: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const l = line.slice(0, sep).split(' ');
    const r = line.slice(sep + 3).split(' ');
    if (l.length < 6 || r.length < 1) continue;
    out.push({
      dev: l[2]!,
      root: unescapeMountinfo(l[3]!),
      mountPoint: unescapeMountinfo(l[4]!),
      options: l[5]!.split(','),
      fstype: r[0]!,
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

/** Host paths that must not be bound into a container (exact paths). */
export const SENSITIVE_HOST_PATHS: readonly string[] = [
  '/', '/proc', '/sys', '/dev', '/etc', '/root', '/boot', '/lib/modules', '/run', '/var/run',
  '/var/lib/docker', '/var/lib/containerd', '/var/lib/kubelet', '/run/containerd', '/var/log', '/sys/fs/cgroup',
];
/** Runtime API sockets (any path ending so). */
const SOCKETS = /(?:^|\/)(?:docker|containerd|crio|podman|dockershim|cri-dockerd)\.sock$/;

/** The host path a container mount shows, when its device is mounted on the host. */
export function hostPathOf(m: MountEntry, host: readonly MountEntry[]): string | undefined {
  let best: { path: string; len: number } | undefined;
  for (const h of host) {
    if (h.dev !== m.dev) continue;
    const hr = h.root === '/' ? '' : h.root;
    if (m.root !== h.root && !m.root.startsWith(hr + '/')) continue;
    const rest = m.root.slice(hr.length);
    const path = (h.mountPoint === '/' ? '' : h.mountPoint) + rest || '/';
    // The host mount with the longest root is the most exact view of that subtree.
    if (!best || hr.length > best.len) best = { path, len: hr.length };
  }
  return best?.path;
}

/** Mount points inside the container that expose the host (sorted, unique). */
export function sensitiveMounts(container: readonly MountEntry[], host: readonly MountEntry[]): string[] {
  const found = new Set<string>();
  for (const m of container) {
    const rw = m.options.includes('rw');
    if (m.fstype === 'sysfs' && rw) found.add(m.mountPoint);
    else if ((m.fstype === 'cgroup' || m.fstype === 'cgroup2') && rw) found.add(m.mountPoint);
    else if (m.fstype === 'devtmpfs') found.add(m.mountPoint);
    else if (m.fstype === 'proc' && m.mountPoint !== '/proc' && !m.mountPoint.startsWith('/proc/')) found.add(m.mountPoint);
    else if (SOCKETS.test(m.mountPoint) || SOCKETS.test(m.root)) found.add(m.mountPoint);
    else {
      const hp = hostPathOf(m, host);
      if (hp !== undefined && (SENSITIVE_HOST_PATHS.includes(hp) || SOCKETS.test(hp)) && m.mountPoint !== '/') found.add(m.mountPoint);
      // A container whose root is the host's root directory.
      else if (hp === '/' && m.mountPoint === '/') found.add('/');
    }
  }
  return [...found].sort();
}

const NS_FILES = { hostPid: 'pid', hostNet: 'net', hostIpc: 'ipc', hostMnt: 'mnt', hostUser: 'user', hostUts: 'uts' } as const;

function nsLink(procRoot: string, pid: number | 'self' | 1, ns: string): string | undefined {
  try {
    return readlinkSync(join(procRoot, String(pid), 'ns', ns));
  } catch {
    return undefined;
  }
}

function statusField(status: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status);
  return m?.[1];
}

/**
 * Reads the posture of process `pid`; undefined when the process is gone (or /proc unreadable).
 * Host references come from pid 1 of the same /proc.
 */
export function readPosture(pid: number, procRoot = '/proc'): Posture | undefined {
  let status: string;
  let mountinfo: string;
  try {
    status = readFileSync(join(procRoot, String(pid), 'status'), 'utf8');
    mountinfo = readFileSync(join(procRoot, String(pid), 'mountinfo'), 'utf8');
  } catch {
    return undefined;
  }
  let hostStatus = '';
  let hostMountinfo = '';
  try {
    hostStatus = readFileSync(join(procRoot, '1/status'), 'utf8');
    hostMountinfo = readFileSync(join(procRoot, '1/mountinfo'), 'utf8');
  } catch {
    // pid 1 unreadable: no host reference; namespaces compare as not shared, no host paths
  }
  const capEff = statusField(status, 'CapEff') ?? '0';
  const hostBnd = statusField(hostStatus, 'CapBnd');
  const eff = BigInt('0x' + capEff);
  const bnd = hostBnd !== undefined ? BigInt('0x' + hostBnd) : undefined;
  let uidMap = '';
  try {
    uidMap = readFileSync(join(procRoot, String(pid), 'uid_map'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');
  } catch {
    // kept empty
  }
  const ns = {} as Record<keyof typeof NS_FILES, boolean>;
  for (const [field, file] of Object.entries(NS_FILES) as Array<[keyof typeof NS_FILES, string]>) {
    const mine = nsLink(procRoot, pid, file);
    const host = hostNsLink(procRoot, file);
    ns[field] = mine !== undefined && mine === host;
  }
  return {
    privileged: bnd !== undefined && bnd !== 0n && (eff & bnd) === bnd,
    ...ns,
    sensitiveMounts: sensitiveMounts(parseMountinfo(mountinfo), parseMountinfo(hostMountinfo)),
    uidMap,
    capEffective: '0x' + eff.toString(16),
  };
}
