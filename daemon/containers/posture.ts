// Security posture of a container, from two sources:
//  - the runtime's record (runc's state.json: the namespaces, capabilities and mounts it was told to
//    give the container), readable as soon as the runtime wrote it;
//  - the kernel's view of the container's first program (/proc/<initPid>), once that program runs:
//    never of a runtime process, which still holds the host's namespaces and every capability.
// settlePosture joins them: the kernel's view wins, and each field where they disagree is named.
// What is read:
//  - privileged: the effective capabilities hold the whole host bounding set (as `--privileged`);
//  - host namespaces: each of pid, net, ipc, mnt, user, uts compared with pid 1's (the daemon's own
//    when pid 1's are not readable);
//  - sensitive mounts: host paths such as /, /proc, /etc, the runtimes' sockets bound in (in
//    mountinfo the host path is found through pid 1's mountinfo: same device, root under the host
//    mount's root), sysfs or cgroup file systems mounted writable, devtmpfs, a proc mounted outside /proc;
//  - the user namespace mapping (uid_map).
import { hostNsLink } from '../process/namespaces.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { unescapeMountinfo } from './cgroupfs.js';
import { CAPABILITIES } from '../sensor/names.js';
import type { RuntimeSpec } from './runtimes.js';
import type { Posture } from './container-info.js';

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
  '/',
  '/proc',
  '/sys',
  '/dev',
  '/etc',
  '/root',
  '/boot',
  '/lib/modules',
  '/run',
  '/var/run',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/kubelet',
  '/run/containerd',
  '/var/log',
  '/sys/fs/cgroup',
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
type NsField = keyof typeof NS_FILES;
const NS_FIELDS = Object.keys(NS_FILES) as NsField[];
/** libcontainer's namespace type of each field. */
const NS_TYPES: Record<NsField, string> = { hostPid: 'NEWPID', hostNet: 'NEWNET', hostIpc: 'NEWIPC', hostMnt: 'NEWNS', hostUser: 'NEWUSER', hostUts: 'NEWUTS' };

/** What a container is compared with: the host's namespaces, bounding set and mounts (pid 1's). */
export interface HostReference {
  procRoot: string;
  ns: Record<NsField, string | undefined>;
  capBnd: bigint | undefined;
  mounts: MountEntry[];
}

export function readHostReference(procRoot = '/proc'): HostReference {
  const ns = {} as Record<NsField, string | undefined>;
  for (const f of NS_FIELDS) ns[f] = hostNsLink(procRoot, NS_FILES[f]);
  let capBnd: bigint | undefined;
  let mounts: MountEntry[] = [];
  try {
    const bnd = statusField(readFileSync(join(procRoot, '1/status'), 'utf8'), 'CapBnd');
    if (bnd !== undefined) capBnd = BigInt('0x' + bnd);
    mounts = parseMountinfo(readFileSync(join(procRoot, '1/mountinfo'), 'utf8'));
  } catch {
    // pid 1 unreadable: no host reference; nothing compares as privileged, no host paths
  }
  return { procRoot, ns, capBnd, mounts };
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function statusField(status: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status);
  return m?.[1];
}

function holdsAll(eff: bigint, bnd: bigint | undefined): boolean {
  return bnd !== undefined && bnd !== 0n && (eff & bnd) === bnd;
}

/** Users in no user namespace of their own see the whole range mapped to itself. */
const IDENTITY_UID_MAP = '0 0 4294967295';

/**
 * The kernel's view of process `pid` (the container's first program); undefined when the process is
 * gone (or /proc unreadable).
 */
export function readPosture(pid: number, procRoot = '/proc', host: HostReference = readHostReference(procRoot)): Posture | undefined {
  let status: string;
  let mountinfo: string;
  try {
    status = readFileSync(join(procRoot, String(pid), 'status'), 'utf8');
    mountinfo = readFileSync(join(procRoot, String(pid), 'mountinfo'), 'utf8');
  } catch {
    return undefined;
  }
  const eff = BigInt('0x' + (statusField(status, 'CapEff') ?? '0'));
  let uidMap = '';
  try {
    uidMap = readFileSync(join(procRoot, String(pid), 'uid_map'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' '))
      .join('\n');
  } catch {
    // kept empty
  }
  const ns = {} as Record<NsField, boolean>;
  for (const f of NS_FIELDS) {
    const mine = readLink(join(procRoot, String(pid), 'ns', NS_FILES[f]));
    ns[f] = mine !== undefined && mine === host.ns[f];
  }
  return {
    privileged: holdsAll(eff, host.capBnd),
    ...ns,
    sensitiveMounts: sensitiveMounts(parseMountinfo(mountinfo), host.mounts),
    uidMap,
    capEffective: '0x' + eff.toString(16),
    sources: ['kernel'],
    mismatches: [],
  };
}

const MS_RDONLY = 1;

function capMask(list: readonly string[]): bigint {
  let m = 0n;
  for (const name of list) {
    const i = (CAPABILITIES as readonly string[]).indexOf(name.replace(/^CAP_/, ''));
    if (i >= 0) m |= 1n << BigInt(i);
  }
  return m;
}

/** Mount destinations of a runtime's configuration that expose the host (the mountinfo rules, on sources). */
export function sensitiveSpecMounts(spec: RuntimeSpec): string[] {
  const found = new Set<string>();
  for (const m of spec.mounts) {
    const rw = (m.flags & MS_RDONLY) === 0;
    const bind = m.device === 'bind';
    if (m.device === 'sysfs' && rw) found.add(m.destination);
    else if ((m.device === 'cgroup' || m.device === 'cgroup2') && rw) found.add(m.destination);
    else if (m.device === 'devtmpfs') found.add(m.destination);
    else if (m.device === 'proc' && m.destination !== '/proc' && !m.destination.startsWith('/proc/')) found.add(m.destination);
    else if (SOCKETS.test(m.destination) || (bind && SOCKETS.test(m.source))) found.add(m.destination);
    else if (bind && SENSITIVE_HOST_PATHS.includes(m.source.replace(/(.)\/+$/, '$1'))) found.add(m.destination);
  }
  if (spec.rootfs === '/') found.add('/');
  return [...found].sort();
}

/** The posture a runtime's configuration gives (namespaces it does not create are the host's). */
export function runtimePosture(spec: RuntimeSpec, host: HostReference): Posture {
  const ns = {} as Record<NsField, boolean>;
  for (const f of NS_FIELDS) {
    const entry = spec.namespaces.find((n) => n.type === NS_TYPES[f]);
    // A namespace joined by path is the host's when the path names the host's.
    ns[f] = entry === undefined || (entry.path !== '' && readLink(entry.path) === host.ns[f] && host.ns[f] !== undefined);
  }
  const eff = capMask(spec.effective);
  return {
    privileged: holdsAll(eff, host.capBnd),
    ...ns,
    sensitiveMounts: sensitiveSpecMounts(spec),
    uidMap: spec.uidMappings.length > 0 ? spec.uidMappings.join('\n') : IDENTITY_UID_MAP,
    capEffective: '0x' + eff.toString(16),
    sources: ['runtime'],
    mismatches: [],
  };
}

/**
 * One posture from the runtime's record and the kernel's view: the kernel's fields, both sources,
 * and a mismatch for each field where the record says otherwise. Effective capabilities are not
 * compared (a non-root user's are not the configured set), and mounts that the kernel shows below a
 * configured sensitive mount (an rbind brings the host's submounts) are that mount's.
 */
export function settlePosture(runtime: Posture | undefined, kernel: Posture | undefined): Posture | undefined {
  if (!runtime || !kernel) return kernel ?? runtime;
  const mismatches: string[] = [];
  for (const f of ['privileged', ...NS_FIELDS, 'uidMap'] as const) {
    if (runtime[f] !== kernel[f]) mismatches.push(`${f}: runtime ${JSON.stringify(runtime[f])}, kernel ${JSON.stringify(kernel[f])}`);
  }
  const configured = runtime.sensitiveMounts;
  const below = (m: string): boolean => configured.some((c) => c === '/' || m === c || m.startsWith(c + '/'));
  const missing = configured.filter((c) => !kernel.sensitiveMounts.includes(c));
  const extra = kernel.sensitiveMounts.filter((m) => !below(m));
  if (missing.length > 0 || extra.length > 0)
    mismatches.push(`sensitiveMounts: runtime ${JSON.stringify(configured)}, kernel ${JSON.stringify(kernel.sensitiveMounts)}`);
  return { ...kernel, sources: ['runtime', 'kernel'], mismatches };
}
