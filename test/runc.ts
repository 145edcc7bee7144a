// Real containers for tests: runc with a busybox-static root filesystem, no container engine needed.
//
//   const c = startContainer({ args: ['sleep', '60'], cgroupsPath: '/vigiltest/docker-<hex>.scope' });
//   try { c.exec(['cat', '/proc/self/status']); } finally { c.delete(); }
//
// Each container gets its own bundle in a temp dir (rootfs with /bin/busybox and its applet links,
// config.json from `runc spec` plus the options), is started detached with `runc run -d --pid-file`
// under runc's default root (/run/runc, where the container registry reads state.json) and is always
// removed: on delete(), on a failed start, and at process exit for any container a test forgot.
// Ids are unique per run and start with "vgt-" so leftovers are easy to spot (`runc list`).
//
// `bootstrap: 'in-cgroup'` forces one side of the race a monitor must survive: runc moves its
// bootstrap process (runc init) into the container's cgroup while that process execs itself, so
// the execs land inside or outside the cgroup by scheduling. A wrapper shell puts itself into the
// container's cgroups (every hierarchy) and then execs runc, so runc init is born inside and all
// its execs happen there. 'plain' is the ordinary `runc run`, where they usually happen outside.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RUNC = process.env.VIGIL_RUNC ?? 'runc';
export const BUSYBOX = process.env.VIGIL_BUSYBOX ?? '/bin/busybox';

/** Applets linked in /bin of the root filesystem (busybox --install is not used: it needs /proc). */
const APPLETS = [
  'sh',
  'ash',
  'sleep',
  'cat',
  'yes',
  'dd',
  'echo',
  'ls',
  'mkdir',
  'rm',
  'touch',
  'head',
  'tail',
  'true',
  'false',
  'kill',
  'ps',
  'id',
  'env',
  'grep',
  'wc',
  'cp',
  'mv',
  'ln',
  'chmod',
  'mount',
  'umount',
  'nc',
  'wget',
  'hostname',
  'uname',
  'stat',
  'readlink',
  'date',
  'seq',
  'tr',
  'sed',
  'awk',
  'find',
  'xargs',
  'sync',
  'nproc',
  'timeout',
  'unshare',
  'nsenter',
  'chroot',
  'md5sum',
  'sha256sum',
  'base64',
  'od',
];

/** Capability names by number; `privileged` grants those in this process's bounding set (as docker does). */
const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

export interface Mount {
  destination: string;
  source: string;
  /** "bind" (default) or a filesystem type. */
  type?: string;
  /** Default for bind mounts: ["rbind", "rw"]. */
  options?: string[];
}

export type BootstrapMode = 'plain' | 'in-cgroup';
export const BOOTSTRAP_MODES: readonly BootstrapMode[] = ['plain', 'in-cgroup'];

export interface ContainerOptions {
  /** runc container id; default a unique "vgt-..." id. */
  id?: string;
  /** Where runc's bootstrap execs: wherever scheduling puts it (default), or inside the container's cgroup. */
  bootstrap?: BootstrapMode;
  /** runc's state root (default /run/runc); containerd runs runc with /run/containerd/runc/<namespace>. */
  root?: string;
  /** The container's process; default ['sleep', '3600']. */
  args?: string[];
  /** cgroupsPath for runc (cgroupfs driver: "/a/b" is /sys/fs/cgroup/<ctl>/a/b); default runc's own (/<id>). */
  cgroupsPath?: string;
  /** OCI annotations (io.kubernetes.* keys become pod labels in the registry). */
  annotations?: Record<string, string>;
  /** Every capability in every set, no seccomp, nothing masked or read-only, every device allowed. */
  privileged?: boolean;
  /** Share the host's pid namespace (no pid namespace in the spec). */
  hostPid?: boolean;
  /** Share the host's network namespace. */
  hostNet?: boolean;
  /** memory.limit in bytes. */
  memoryLimit?: number;
  /** pids.max. */
  pidsLimit?: number;
  /** CPU quota in microseconds per cpuPeriod (default period 100000). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** Extra mounts (bind mounts by default). */
  mounts?: Mount[];
  /** Extra environment, "KEY=value". */
  env?: string[];
  /** Root filesystem read-only (default false: tests write files). */
  readonlyRootfs?: boolean;
}

export interface ExecResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Container {
  id: string;
  /** Host pid of the container's init process. */
  pid: number;
  /** The init process's cgroup v2 path (the "0::" line of /proc/<pid>/cgroup), e.g. "/vigiltest/x.scope". */
  cgroupPath: string;
  bundle: string;
  /** runc's state root when not the default. */
  root?: string;
  /** Runs a command inside and waits for it (`runc exec`). */
  exec(args: string[], opts?: { timeoutMs?: number; env?: string[] }): ExecResult;
  /** Starts a command inside without waiting; returns its host pid. */
  execDetached(args: string[]): number;
  /** Sends a signal to the init process (default SIGKILL). */
  kill(signal?: string): void;
  /** Kills and removes the container and its bundle. Idempotent. */
  delete(): void;
}

const live = new Map<string, () => void>();
let exitHookInstalled = false;
let counter = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const del of [...live.values()]) del();
  });
}

/** A unique container id for this run: "vgt-<pid>-<n>-<random>". */
export function uniqueId(prefix = 'vgt'): string {
  counter += 1;
  return `${prefix}-${process.pid.toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}

/** A random 64-hex-digit id, as docker, containerd and CRI-O name containers. */
export function hexId(): string {
  return randomBytes(32).toString('hex');
}

function run(args: string[], opts: { timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(RUNC, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30000, input: opts.input });
}

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 tree), from this process's mountinfo. */
export function cgroupHierarchies(): Array<{ mount: string; v2: boolean }> {
  const out: Array<{ mount: string; v2: boolean }> = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const fstype = line.slice(sep + 3).split(' ')[0];
    if ((fstype === 'cgroup' || fstype === 'cgroup2') && left[3] === '/') out.push({ mount: left[4]!, v2: fstype === 'cgroup2' });
  }
  return out;
}

/**
 * The argv that starts runc with its bootstrap born inside the container's cgroups: one mkdir of
 * every directory first (an external program exec'd inside the cgroup would itself be taken for
 * the container's first program), then the shell's own pid written with a builtin, then exec.
 */
function inCgroupArgv(cgroupsPath: string, runcArgs: string[]): string[] {
  const quoted = (x: string): string => `'${x.replace(/'/g, `'\\''`)}'`;
  const hierarchies = cgroupHierarchies().map((h) => ({ dir: quoted(join(h.mount, cgroupsPath)), v2: h.v2 }));
  // The v2 tree names the container (a failure there fails the start); a v1 controller may refuse a
  // task until runc configures it (cpuset before its cpus are set), and runc places the process there itself.
  const joins = hierarchies.map((h) => `echo $$ > ${h.dir}/cgroup.procs${h.v2 ? ' || exit 1' : ' 2>/dev/null'}`).join('; ');
  const cmd = `mkdir -p ${hierarchies.map((h) => h.dir).join(' ')} && { ${joins}; } && exec ${[RUNC, ...runcArgs].map(quoted).join(' ')}`;
  return ['/bin/sh', '-c', cmd];
}

function describe(r: SpawnSyncReturns<string>): string {
  if (r.error) return r.error.message;
  return `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim()}`;
}

/** Is runc usable here (root, binary present)? Returns a reason when not. */
export function runcMissing(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'runc containers need root';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing (apt-get install busybox-static)`;
  const r = run(['--version']);
  if (r.status !== 0) return `${RUNC} not usable: ${describe(r)}`;
  return undefined;
}

function buildRootfs(rootfs: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root', 'run', 'var', 'mnt']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(rootfs, 'etc/hostname'), 'vgt\n');
}

/** Names of the capabilities in this process's bounding set (a container cannot get more). */
export function boundingCapabilities(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const mask = BigInt(`0x${m?.[1] ?? '0'}`);
  return CAPABILITY_NAMES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return (typeof v === 'object' && v !== null ? v : {}) as Json;
}

function writeSpec(bundle: string, id: string, o: ContainerOptions): void {
  const r = spawnSync(RUNC, ['spec', '--bundle', bundle], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runc spec: ${describe(r)}`);
  const specPath = join(bundle, 'config.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Json;
  const proc = obj(spec.process);
  proc.terminal = false;
  proc.args = o.args ?? ['sleep', '3600'];
  proc.env = [...((proc.env as string[] | undefined) ?? ['PATH=/bin']), 'PATH=/bin:/sbin:/usr/bin', ...(o.env ?? [])];
  spec.hostname = 'vgt';
  spec.root = { path: 'rootfs', readonly: o.readonlyRootfs ?? false };
  const linux = obj(spec.linux);
  spec.linux = linux;
  if (o.cgroupsPath !== undefined) linux.cgroupsPath = o.cgroupsPath;
  if (o.annotations) spec.annotations = { ...o.annotations };
  let namespaces = (linux.namespaces as { type: string }[] | undefined) ?? [];
  if (o.hostPid) namespaces = namespaces.filter((n) => n.type !== 'pid');
  if (o.hostNet) namespaces = namespaces.filter((n) => n.type !== 'network');
  linux.namespaces = namespaces;
  const resources = obj(linux.resources);
  linux.resources = resources;
  if (o.memoryLimit !== undefined) resources.memory = { limit: o.memoryLimit };
  if (o.pidsLimit !== undefined) resources.pids = { limit: o.pidsLimit };
  if (o.cpuQuota !== undefined) resources.cpu = { quota: o.cpuQuota, period: o.cpuPeriod ?? 100000 };
  if (o.privileged) {
    const caps = boundingCapabilities();
    proc.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
    proc.noNewPrivileges = false;
    delete linux.seccomp;
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    resources.devices = [{ allow: true, access: 'rwm' }];
  }
  const mounts = (spec.mounts as Json[] | undefined) ?? [];
  for (const m of o.mounts ?? []) {
    const type = m.type ?? 'bind';
    mounts.push({ destination: m.destination, type, source: m.source, options: m.options ?? (type === 'bind' ? ['rbind', 'rw'] : []) });
  }
  spec.mounts = mounts;
  writeFileSync(specPath, JSON.stringify(spec, null, 2));
}

/** The cgroup v2 path of a process ("0::" line), "" when it has none. */
export function cgroupV2Path(pid: number): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  for (const line of text.split('\n')) if (line.startsWith('0::')) return line.slice(3);
  return '';
}

/** Starts a container detached; throws (after cleaning up) when runc fails. */
export function startContainer(o: ContainerOptions = {}): Container {
  installExitHook();
  const id = o.id ?? uniqueId();
  const bundle = mkdtempSync(join(tmpdir(), 'vgt-bundle-'));
  const g = o.root !== undefined ? ['--root', o.root] : [];
  let deleted = false;
  const del = (): void => {
    if (deleted) return;
    deleted = true;
    live.delete(id);
    run([...g, 'kill', id, 'KILL'], { timeoutMs: 10000 });
    run([...g, 'delete', '-f', id], { timeoutMs: 20000 });
    rmSync(bundle, { recursive: true, force: true });
  };
  live.set(id, del);
  try {
    buildRootfs(join(bundle, 'rootfs'));
    writeSpec(bundle, id, o);
    const pidFile = join(bundle, 'init.pid');
    const logPath = join(bundle, 'output.log');
    // Detached with terminal false: the container inherits runc's stdio, so give it a file (a pipe would
    // keep spawnSync waiting for the container's end).
    const fd = openSync(logPath, 'a');
    let r: SpawnSyncReturns<Buffer>;
    try {
      const runArgs = [...g, 'run', '-d', '--pid-file', pidFile, '--bundle', bundle, id];
      const [cmd, ...argv] = o.bootstrap === 'in-cgroup' ? inCgroupArgv(o.cgroupsPath ?? `/${id}`, runArgs) : [RUNC, ...runArgs];
      r = spawnSync(cmd!, argv, { stdio: ['ignore', fd, fd], timeout: 30000 });
    } finally {
      closeSync(fd);
    }
    if (r.status !== 0) {
      const out = existsSync(logPath) ? readFileSync(logPath, 'utf8').trim() : '';
      throw new Error(`runc run ${id}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${out}`);
    }
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`runc run ${id}: bad pid file`);
    const cgroupPath = cgroupV2Path(pid);
    return {
      id,
      pid,
      cgroupPath,
      bundle,
      ...(o.root !== undefined ? { root: o.root } : {}),
      exec(args, eo = {}) {
        const envArgs = (eo.env ?? []).flatMap((e) => ['--env', e]);
        const x = run([...g, 'exec', ...envArgs, id, ...args], { timeoutMs: eo.timeoutMs ?? 30000 });
        return { status: x.status, stdout: x.stdout ?? '', stderr: x.error ? x.error.message : (x.stderr ?? '') };
      },
      execDetached(args) {
        const pf = join(bundle, `exec-${randomBytes(4).toString('hex')}.pid`);
        const efd = openSync(logPath, 'a');
        try {
          const x = spawnSync(RUNC, [...g, 'exec', '-d', '--pid-file', pf, id, ...args], { stdio: ['ignore', efd, efd], timeout: 30000 });
          if (x.status !== 0) throw new Error(`runc exec -d ${id}: exit ${x.status ?? x.signal}: ${readFileSync(logPath, 'utf8').trim()}`);
        } finally {
          closeSync(efd);
        }
        return Number(readFileSync(pf, 'utf8').trim());
      },
      kill(signal = 'KILL') {
        run([...g, 'kill', id, signal], { timeoutMs: 10000 });
      },
      delete: del,
    };
  } catch (err) {
    del();
    throw err;
  }
}

/** Starts a container, runs fn, and always deletes the container. */
export async function withContainer<T>(o: ContainerOptions, fn: (c: Container) => Promise<T> | T): Promise<T> {
  const c = startContainer(o);
  try {
    return await fn(c);
  } finally {
    c.delete();
  }
}

/** `runc exec` without blocking the event loop (a sensor in the same process keeps draining). */
export function execAsync(c: Pick<Container, 'id' | 'root'>, args: string[], timeoutMs = 15000): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const p = spawn(RUNC, [...(c.root !== undefined ? ['--root', c.root] : []), 'exec', c.id, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(t);
      res({ code, out });
    });
  });
}
