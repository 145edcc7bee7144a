// The field catalogue of the rule language: every name a condition, an exception or an output
// template may use, with its type, the event kinds that can carry it, and a precomputed getter.
// docs/fields.md is generated from this table (`vigild rules fields`).
//
// A getter reads one field of the event under evaluation through an EvalContext (one object, reset
// per event, that memoises the costly lookups). A getter returns undefined when the event does not
// have the field: comparisons with an absent field are false (see docs/rules.md).
import { readlinkSync, readFileSync, statSync } from 'node:fs';
import { DETAIL_FIELD_TYPES, detailedSyscalls, SYSCALL_DETAIL_FIELDS } from '../sensor/syscall-details.js';
import { CAPABILITIES } from '../sensor/names.js';
import { EVENT_KINDS, NS_NAMES, type NsName } from '../sensor/layout.js';
import { WALL_MS, type Creds, type EventContainer, type NsSet, type StdioClass, type SyscallDetails, type VigilEvent } from '../sensor/events.js';
import { CONTAINER_LIFECYCLE_KINDS, type ContainerInfo, type ContainerLifecycleEvent } from '../containers/container-info.js';
import type { ContainerRef } from '../core/container.js';
import { METRICS, type MetricName } from '../core/metric-names.js';
import { NameSet, commOf, environ, idName, l4proto, parseCidr, processAgeNs, resultName, sessionIds } from './falco-data.js';

export type Scalar = string | number | boolean;
/** What a field yields: a scalar, a list, or undefined when the event does not have it. */
export type Value = Scalar | readonly string[] | readonly number[] | undefined;
export type FieldType = 'string' | 'number' | 'bool' | 'list';

/** Every kind a rule can see: the sensor's, the registry's lifecycle kinds, and metric samples. */
export const LIFECYCLE_KINDS = CONTAINER_LIFECYCLE_KINDS;
export const RULE_EVENT_KINDS: readonly string[] = [...EVENT_KINDS, ...LIFECYCLE_KINDS];

/** What the detector supplies to getters beyond the event itself. */
export interface Environment {
  /** Full container record (posture, labels, start time) by the event's cgroup id and container id. */
  container(cgroupId: number | undefined, id: string): ContainerInfo | undefined;
  /** Last known credentials of a process (from its exec and cred_change events). */
  creds(pid: number): Creds | undefined;
  /** Credentials a process had before its latest exec (for cap.gained on exec). */
  priorCreds(pid: number): Creds | undefined;
  /** The host's namespace inode numbers (the daemon runs in them). */
  hostNs(): NsSet | undefined;
  /** Root of procfs for the lazy fields (default /proc). */
  procRoot: string;
  /**
   * Static host entries (name to addresses) for the names conditions compare a server address with
   * (fd.sip.name), consulted before DNS, as /etc/hosts lines for the detector alone: for a name the
   * daemon's resolver does not know, such as the cluster's API server seen from outside its DNS.
   */
  hosts?: ReadonlyMap<string, readonly string[]>;
}

/** Metric values of one target, for metric rules. */
export interface MetricView {
  value(name: MetricName): number | undefined;
  delta(name: MetricName): number | undefined;
  rate(name: MetricName): number | undefined;
}

const NONE: unique symbol = Symbol('none');
type Memo<T> = T | undefined | typeof NONE;

/** The state one evaluation reads from. One instance is reused: reset() per event. */
export class EvalContext {
  ev: VigilEvent | undefined = undefined;
  lc: ContainerLifecycleEvent | undefined = undefined;
  kind = '';
  metrics: MetricView | undefined = undefined;
  /** Container of a metric target (metric rules). */
  target: ContainerInfo | undefined = undefined;
  private _time = NaN;
  private metricRef: ContainerRef | undefined;
  private _info: Memo<ContainerInfo> = NONE;
  private _creds: Memo<Creds> = NONE;
  private _lazy = new Map<string, Value>();
  /** Events evaluated through this context, this one included (Falco's evt.num: never 0). */
  num = 0;

  constructor(readonly env: Environment) {}

  reset(ev: VigilEvent): void {
    this.num++;
    this.ev = ev;
    this.lc = undefined;
    this.kind = ev.kind;
    this.metrics = undefined;
    this.target = undefined;
    this._time = NaN;
    this._info = NONE;
    this._creds = NONE;
    if (this._lazy.size) this._lazy.clear();
  }

  resetLifecycle(lc: ContainerLifecycleEvent): void {
    this.ev = undefined;
    this.lc = lc;
    this.kind = lc.kind;
    this.metrics = undefined;
    this.target = lc.container;
    this._time = NaN;
    this._info = lc.container;
    this._creds = undefined;
    if (this._lazy.size) this._lazy.clear();
  }

  /** `host` is the reference for the host target (which has no ContainerInfo). */
  resetMetric(view: MetricView, target: ContainerInfo | undefined, time: number, host?: ContainerRef): void {
    this.ev = undefined;
    this.metricRef = host;
    this.lc = undefined;
    this.kind = 'metric';
    this.metrics = view;
    this.target = target;
    this._time = time;
    this._info = target;
    this._creds = undefined;
    if (this._lazy.size) this._lazy.clear();
  }

  /** Unix ms of the event (parsed once). */
  timeMs(): number {
    if (Number.isNaN(this._time)) {
      const fast = this.ev?.[WALL_MS];
      const t = this.ev?.time ?? this.lc?.time;
      this._time = fast !== undefined ? Math.floor(fast) : t === undefined ? 0 : Date.parse(t);
    }
    return this._time;
  }

  /** The container reference of the event (what every event carries). */
  ref(): EventContainer | ContainerRef | undefined {
    return this.ev ? this.ev.container : (this.target ?? this.metricRef);
  }

  /** The full container record, looked up once. */
  info(): ContainerInfo | undefined {
    if (this._info === NONE) {
      const ev = this.ev;
      const ref = ev?.container;
      if (!ev || !ref || ref.id === 'host' || ref.id === 'unknown') this._info = undefined;
      else this._info = this.env.container(ev.kind === 'cgroup_mkdir' || ev.kind === 'cgroup_rmdir' ? ev.task_cgroup_id : ev.cgroup_id, ref.id);
    }
    return this._info;
  }

  /** Credentials of the task: the event's own, else the last known ones of the process. */
  creds(): Creds | undefined {
    if (this._creds === NONE) {
      const ev = this.ev;
      this._creds = !ev ? undefined : ev.kind === 'exec' ? ev.creds : ev.kind === 'cred_change' ? ev.new_creds : this.env.creds(ev.pid);
    }
    return this._creds;
  }

  /** A lazily computed value, once per event. */
  lazy(key: string, compute: () => Value): Value {
    if (this._lazy.has(key)) return this._lazy.get(key);
    const v = compute();
    this._lazy.set(key, v);
    return v;
  }
}

export type Getter = (c: EvalContext) => Value;

export interface FieldDef {
  /** Name as written in rules; parameterised fields end in `[n]`, `[key]` or `.<name>`. */
  name: string;
  type: FieldType;
  desc: string;
  /** Event kinds that can carry it (undefined: every kind); 'metric' for metric-rule fields. */
  kinds?: readonly string[];
  /** Relative cost of reading it (1 plain property; 10 a table lookup; 100 a filesystem read). */
  cost: number;
  /** Plain fields. */
  get?: Getter;
  /** Parameterised fields: the getter for a parameter, or an error message. */
  param?: { form: '[n]' | '[key]' | '.<name>'; make(p: string): Getter | string; example: string; typeOf?(p: string): FieldType };
  /** Another name of the same field. */
  aliasOf?: string;
  /** The system calls whose events can carry it (a rule comparing it sees only those). */
  syscalls?: readonly string[];
  /** Falco's spelling of a field: how close vigil's data is to Falco's (docs/falco.md). */
  falco?: FalcoMatch;
  /**
   * vigil has no data for this Falco field (why): it is recognised, always absent, and a rule that
   * needs it to match is skipped (see RuleStatus).
   */
  nodata?: string;
  /** A comparison this field implements itself (CIDR networks, DNS names); undefined: the usual ones. */
  compare?(op: string, values: readonly string[]): ((c: EvalContext) => boolean) | string | undefined;
}

/** same: Falco's meaning; nearest: the closest data vigil has (the notes say how it differs); nodata: always absent. */
export type FalcoMatch = 'same' | 'nearest' | 'nodata';

// ---- helpers -------------------------------------------------------------------------------------

const capCache = new Map<string, readonly string[]>();
/** Capability names of a hex set, CAP_ prefixed, cached (sets repeat). */
export function capList(hexSet: string): readonly string[] {
  let l = capCache.get(hexSet);
  if (l) return l;
  const out: string[] = [];
  try {
    const v = BigInt(hexSet);
    for (let i = 0; i < 64; i++) if ((v >> BigInt(i)) & 1n) out.push(`CAP_${CAPABILITIES[i] ?? i}`);
  } catch {
    /* not a number: no names */
  }
  l = Object.freeze(out);
  if (capCache.size > 4096) capCache.clear();
  capCache.set(hexSet, l);
  return l;
}

const diffCache = new Map<string, readonly string[]>();
/** Capabilities of set a that set b lacks (as a bit difference, cached: the pairs repeat). */
function capDiff(a: string, b: string): readonly string[] {
  if (a === b) return [];
  const key = `${a}|${b}`;
  let l = diffCache.get(key);
  if (l) return l;
  try {
    l = capList('0x' + (BigInt(a) & ~BigInt(b)).toString(16));
  } catch {
    l = [];
  }
  if (diffCache.size > 4096) diffCache.clear();
  diffCache.set(key, l);
  return l;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}
function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : i === 0 ? '/' : p.slice(0, i);
}

function exe(c: EvalContext): string | undefined {
  const ev = c.ev;
  if (!ev) return undefined;
  if (ev.kind === 'exec' && ev.retval >= 0) return ev.exe;
  return ev.proc?.exe;
}

function argv(c: EvalContext): readonly string[] | undefined {
  const ev = c.ev;
  if (!ev) return undefined;
  if (ev.kind === 'exec' && ev.retval >= 0) return ev.args;
  return ev.proc?.args;
}

function fdType(c: EvalContext, fd: number): Value {
  const ev = c.ev;
  if (!ev) return undefined;
  const atExec = execStdio(c, fd);
  if (atExec !== undefined) return atExec === 'closed' ? undefined : STDIO_SOCKETS.has(atExec) ? 'socket' : atExec;
  return c.lazy(`fd${fd}`, () => {
    let link: string;
    try {
      link = readlinkSync(`${c.env.procRoot}/${ev.pid}/fd/${fd}`);
    } catch {
      return undefined;
    }
    if (link.startsWith('socket:')) return 'socket';
    if (link.startsWith('pipe:')) return 'pipe';
    if (link.startsWith('/dev/pts/') || link.startsWith('/dev/tty') || link === '/dev/console') return 'tty';
    if (link.startsWith('anon_inode:')) return 'anon';
    return 'file';
  });
}

/** The exec record's stdio classes that are sockets, with the family each names. */
const STDIO_SOCKETS: ReadonlyMap<StdioClass, string> = new Map([
  ['inet', 'inet'],
  ['unix', 'unix'],
  ['socket', 'other'],
]);

/**
 * fd 0-2 as the kernel saw them at the exec, for an exec event that carries them: the process may be
 * gone by the time a backlog lets the rule run, so /proc is only the fallback for other events.
 */
function execStdio(c: EvalContext, fd: number): StdioClass | undefined {
  return c.ev?.kind === 'exec' ? c.ev.stdio?.[fd] : undefined;
}

/** Tables of /proc/<pid>/net/ that list sockets with their inode: the column holding it, and the family. */
const SOCKET_TABLES: ReadonlyArray<{ file: string; inodeColumn: number; family: 'inet' | 'unix' }> = [
  { file: 'tcp', inodeColumn: 9, family: 'inet' },
  { file: 'tcp6', inodeColumn: 9, family: 'inet' },
  { file: 'udp', inodeColumn: 9, family: 'inet' },
  { file: 'udp6', inodeColumn: 9, family: 'inet' },
  { file: 'unix', inodeColumn: 6, family: 'unix' },
];

/**
 * The family of the socket on `fd`: inet, unix or other (netlink, packet, ...); undefined when fd is
 * not a socket. Looked up by inode in the process's own network namespace's tables, which is where
 * its sockets are listed. Only read when a rule asks and fd is a socket, which is rare.
 */
function fdSocketFamily(c: EvalContext, fd: number): Value {
  const ev = c.ev;
  if (!ev || fdType(c, fd) !== 'socket') return undefined;
  const atExec = execStdio(c, fd);
  if (atExec !== undefined) return STDIO_SOCKETS.get(atExec);
  return c.lazy(`sock${fd}`, () => {
    let inode: string;
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${c.env.procRoot}/${ev.pid}/fd/${fd}`));
      if (!m) return undefined;
      inode = m[1]!;
    } catch {
      return undefined;
    }
    for (const t of SOCKET_TABLES) {
      let text: string;
      try {
        text = readFileSync(`${c.env.procRoot}/${ev.pid}/net/${t.file}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) if (line.trim().split(/\s+/)[t.inodeColumn] === inode) return t.family;
    }
    return 'other';
  });
}

/**
 * Keys the per-call syscall decoders can produce, and which calls produce each: from the sensor's
 * explicit per-call schema (SYSCALL_DETAIL_FIELDS, held against the decoders by its test).
 */
export const SYSCALL_ARG_TYPES: ReadonlyMap<string, FieldType> = new Map(Object.entries(DETAIL_FIELD_TYPES));
export const SYSCALL_ARG_KEYS: ReadonlyMap<string, readonly string[]> = (() => {
  const keys = new Map<string, string[]>();
  for (const name of detailedSyscalls()) {
    for (const k of SYSCALL_DETAIL_FIELDS[name] ?? []) {
      const l = keys.get(k) ?? [];
      l.push(name);
      keys.set(k, l);
    }
  }
  keys.set('str_truncated', detailedSyscalls());
  return keys;
})();

const SYSCALL_KINDS = ['exec', 'ns_change', 'cred_change', 'syscall', 'file', 'connect'];
const RETVAL_KINDS = ['exec', 'ns_change', 'cred_change', 'syscall', 'file', 'connect'];
const PROC_KINDS = EVENT_KINDS as readonly string[];
const CONTAINER_KINDS = [...RULE_EVENT_KINDS, 'metric'];

function retval(c: EvalContext): number | undefined {
  const ev = c.ev;
  return ev && 'retval' in ev ? ev.retval : undefined;
}

function nsGetter(n: NsName): Getter {
  return (c) => c.ev?.ns[n];
}

function posture<K extends keyof NonNullable<ContainerInfo['posture']>>(k: K): Getter {
  return (c) => {
    const p = c.info()?.posture;
    return p ? (p[k] as Value) : undefined;
  };
}

function hostNsOf(c: EvalContext, ns: NsSet): boolean | undefined {
  const h = c.env.hostNs();
  if (!h) return undefined;
  for (const n of NS_NAMES) if (ns[n] !== h[n]) return false;
  return true;
}

/** The mount namespace of a process, from /proc (undefined when it is gone). */
function mntNs(procRoot: string, pid: number): number | undefined {
  try {
    const m = /^mnt:\[(\d+)\]$/.exec(readlinkSync(`${procRoot}/${pid}/ns/mnt`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The executable was modified after its container started (drift). Read through the process's own
 * root; when the process is already gone (a short program evaluated behind a flood's backlog),
 * through its container's first process, which sees the same files when it is in the same mount
 * namespace.
 */
const exeDrift: Getter = (c) => {
  const ev = c.ev;
  if (!ev) return undefined;
  return c.lazy('drift', () => {
    const path = exe(c);
    const info = c.info();
    if (!path || !info || !path.startsWith('/')) return undefined;
    const roots = [ev.pid];
    if (info.initPid !== undefined && info.initPid !== ev.pid) roots.push(info.initPid);
    for (const pid of roots) {
      if (pid !== ev.pid && mntNs(c.env.procRoot, pid) !== ev.ns.mnt) continue;
      try {
        return statSync(`${c.env.procRoot}/${pid}/root${path}`).mtimeMs > Date.parse(info.startedAt);
      } catch {
        // gone, or the file is: the next root, if any
      }
    }
    return undefined;
  });
};

function ancestor(p: string, what: 'comm' | 'exe'): Getter | string {
  if (!/^\d+$/.test(p) || Number(p) < 1) return `index must be a whole number from 1 (the parent), not ${JSON.stringify(p)}`;
  const i = Number(p) - 1;
  return (c) => c.ev?.proc?.ancestors[i]?.[what];
}

// ---- Falco's fields -----------------------------------------------------------------------------

const FILE_OPENS = ['open', 'openat', 'openat2', 'creat'];
const DUPS = ['dup', 'dup2', 'dup3'];
/** A dup-family event (the probe sends those that put an inet socket on fd 0, 1 or 2). */
function dupEv(c: EvalContext): Extract<VigilEvent, { kind: 'syscall' }> | undefined {
  const ev = c.ev;
  return ev?.kind === 'syscall' && ev.sock_family !== undefined ? ev : undefined;
}
const LINKS = ['link', 'linkat', 'rename', 'renameat', 'renameat2'];
const SYMLINKS = ['symlink', 'symlinkat'];

function fileEv(c: EvalContext): Extract<VigilEvent, { kind: 'file' }> | undefined {
  return c.ev?.kind === 'file' ? c.ev : undefined;
}
function connectEv(c: EvalContext): Extract<VigilEvent, { kind: 'connect' }> | undefined {
  return c.ev?.kind === 'connect' ? c.ev : undefined;
}
function isOpen(ev: Extract<VigilEvent, { kind: 'file' }>): boolean {
  return ev.op === 'open';
}
function accMode(ev: Extract<VigilEvent, { kind: 'file' }>): string | undefined {
  return ev.open_flag_names?.[0];
}
function inet(ev: Extract<VigilEvent, { kind: 'connect' }>): boolean {
  return ev.family === 'inet' || ev.family === 'inet6';
}
/** The container (or "host") whose root filesystem a process sees: the key of its passwd cache. */
function rootKey(c: EvalContext): string {
  return c.ref()?.id ?? 'host';
}
function idLookup(c: EvalContext, file: 'passwd' | 'group', id: number | undefined): Value {
  const ev = c.ev;
  if (!ev || id === undefined) return undefined;
  return c.lazy(`${file}:${id}`, () => idName(c.env.procRoot, ev.pid, rootKey(c), file, id));
}
function capString(which: 'cap_effective' | 'cap_permitted' | 'cap_inheritable'): Getter {
  return (c) => {
    const k = c.creds();
    return k ? capList(k[which]).join(' ') : undefined;
  };
}
function sessions(c: EvalContext): ReturnType<typeof sessionIds> {
  const ev = c.ev;
  if (!ev) return undefined;
  const v = c.lazy('sessions', () => {
    const s = sessionIds(c.env.procRoot, ev.pid);
    return s ? [s.sid, s.vsid, s.pgid, s.vpgid] : undefined;
  }) as readonly number[] | undefined;
  return v ? { sid: v[0]!, vsid: v[1]!, pgid: v[2]!, vpgid: v[3]! } : undefined;
}
/** CIDR comparisons (= != in) of an address field: Falco's fd.net, fd.snet, ... */
function cidrCompare(get: Getter): FieldDef['compare'] {
  return (op, values) => {
    if (op !== '=' && op !== '!=' && op !== 'in') return `compare a network with =, != or in (CIDR values such as 10.0.0.0/8)`;
    const nets = values.map((v) => parseCidr(v));
    const bad = values.find((_, i) => nets[i] === undefined);
    if (bad !== undefined) return `${JSON.stringify(bad)} is not an address or a network in CIDR notation`;
    const tests = nets as Array<(a: string) => boolean>;
    const any = (c: EvalContext): boolean => {
      const a = get(c);
      return typeof a === 'string' && tests.some((t) => t(a));
    };
    return op === '!=' ? (c) => !any(c) : any;
  };
}
function nodata(name: string, type: FieldType, why: string): FieldDef {
  return { name, type, cost: 1, kinds: [], falco: 'nodata', nodata: why, desc: `no data in vigil: ${why}`, get: () => undefined };
}

/** Fields that only Falco's spelling names (each is in the catalogue under its Falco name). */
const FALCO_FIELDS: FieldDef[] = [
  {
    name: 'evt.type',
    type: 'string',
    cost: 1,
    kinds: SYSCALL_KINDS,
    falco: 'same',
    desc: "Falco's event type: the system call name (exec events: execve, whichever of execve and execveat ran)",
    get: (c) => c.ev?.syscall ?? (c.kind === 'exec' ? 'execve' : undefined),
  },
  {
    name: 'evt.dir',
    type: 'string',
    cost: 1,
    kinds: SYSCALL_KINDS,
    falco: 'nearest',
    desc: "always `<`: vigil reports a call when it returns (Falco's exit events); no rule sees a `>` (enter) event",
    get: (c) => (c.ev && SYSCALL_KINDS.includes(c.kind) ? '<' : undefined),
  },
  {
    name: 'evt.res',
    type: 'string',
    cost: 2,
    kinds: RETVAL_KINDS,
    falco: 'same',
    desc: 'result of the call: `SUCCESS`, or the errno name of a failure (`ENOENT`, `EPERM`, ...)',
    get: (c) => {
      const r = retval(c);
      return r === undefined ? undefined : resultName(r);
    },
  },
  {
    name: 'evt.num',
    type: 'number',
    cost: 1,
    falco: 'nearest',
    desc: "number of the event in this detector's evaluation order, from 1 (Falco numbers every captured event)",
    get: (c) => c.num,
  },
  {
    name: 'evt.is_open_read',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'same',
    desc: 'an open for reading (O_RDONLY or O_RDWR)',
    get: (c) => {
      const ev = fileEv(c);
      return ev ? isOpen(ev) && (accMode(ev) === 'O_RDONLY' || accMode(ev) === 'O_RDWR') : undefined;
    },
  },
  {
    name: 'evt.is_open_write',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'same',
    desc: 'an open for writing (O_WRONLY or O_RDWR)',
    get: (c) => {
      const ev = fileEv(c);
      return ev ? isOpen(ev) && (accMode(ev) === 'O_WRONLY' || accMode(ev) === 'O_RDWR') : undefined;
    },
  },
  {
    name: 'evt.is_open_exec',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'same',
    desc: 'an open that created a file with an execute permission bit',
    get: (c) => {
      const ev = fileEv(c);
      return ev ? isOpen(ev) && ev.create && ev.mode !== undefined && (parseInt(ev.mode, 8) & 0o111) !== 0 : undefined;
    },
  },
  {
    name: 'evt.arg.flags',
    type: 'string',
    cost: 2,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'nearest',
    desc: 'open flags as Falco prints them (`O_WRONLY|O_CREAT|O_TRUNC`); opens only (Falco also has exec flags: absent here)',
    get: (c) => fileEv(c)?.open_flag_names?.join('|'),
  },
  {
    name: 'evt.arg.name',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'nearest',
    desc: "path of an open (kernel-resolved, as file.path; Falco's is the path as given)",
    get: (c) => {
      const ev = fileEv(c);
      return ev && isOpen(ev) ? ev.path : undefined;
    },
  },
  {
    name: 'evt.arg.request',
    type: 'string',
    cost: 1,
    kinds: ['syscall'],
    syscalls: ['ptrace'],
    falco: 'same',
    desc: 'ptrace request name (`PTRACE_ATTACH`, ...): evt.arg.ptrace_request',
    get: (c) => (c.ev?.kind === 'syscall' ? c.ev.ptrace_request : undefined),
  },
  {
    name: 'evt.arg.target',
    type: 'string',
    cost: 1,
    kinds: ['syscall', 'file'],
    syscalls: [...(SYSCALL_ARG_KEYS.get('target') ?? []), ...SYMLINKS],
    falco: 'same',
    desc: 'syscall events: the decoded target (mount point, ...); symlink: what the link points to, as given',
    get: (c) => {
      const ev = c.ev;
      return ev?.kind === 'syscall' ? ev.target : ev?.kind === 'file' && ev.op === 'symlink' ? ev.path : undefined;
    },
  },
  {
    name: 'evt.arg.linkpath',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    syscalls: SYMLINKS,
    falco: 'same',
    desc: 'symlink: the link made',
    get: (c) => {
      const ev = fileEv(c);
      return ev?.op === 'symlink' ? ev.dest : undefined;
    },
  },
  {
    name: 'evt.arg.oldpath',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    syscalls: LINKS,
    falco: 'same',
    desc: 'link and rename: the existing path',
    get: (c) => {
      const ev = fileEv(c);
      return ev?.op === 'link' || ev?.op === 'rename' ? ev.path : undefined;
    },
  },
  {
    name: 'evt.arg.newpath',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    syscalls: LINKS,
    falco: 'same',
    desc: 'link and rename: the new path',
    get: (c) => {
      const ev = fileEv(c);
      return ev?.op === 'link' || ev?.op === 'rename' ? ev.dest : undefined;
    },
  },
  {
    name: 'evt.arg.domain',
    type: 'string',
    cost: 1,
    kinds: ['syscall'],
    syscalls: ['socket'],
    falco: 'nearest',
    desc: 'socket: the domain as `AF_PACKET`, `AF_INET`, ... (evt.arg.socket_domain; the probe sends packet and raw sockets only)',
    get: (c) => (c.ev?.kind === 'syscall' ? c.ev.socket_domain : undefined),
  },
  {
    name: 'proc.pcmdline',
    type: 'string',
    cost: 3,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: "the parent's command line: `proc.pname` and its arguments",
    get: (c) => {
      const a = c.ev?.proc?.ancestors[0];
      return a?.args ? [a.comm, ...a.args.slice(1)].join(' ') : undefined;
    },
  },
  {
    name: 'proc.sid',
    type: 'number',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: "session id, in the process's pid namespace (/proc/<pid>/status when a rule uses it)",
    get: (c) => sessions(c)?.vsid,
  },
  {
    name: 'proc.vpgid',
    type: 'number',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: "process group id, in the process's pid namespace",
    get: (c) => sessions(c)?.vpgid,
  },
  {
    name: 'proc.is_vpgid_leader',
    type: 'bool',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'the process leads its process group',
    get: (c) => {
      const s = sessions(c);
      return s && c.ev ? s.vpgid === c.ev.vpid : undefined;
    },
  },
  {
    name: 'proc.sname',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'command name of the session leader',
    get: (c) => {
      const s = sessions(c);
      return s ? c.lazy('sname', () => commOf(c.env.procRoot, s.sid)) : undefined;
    },
  },
  {
    name: 'proc.env',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'environment variables NAME=value, space separated (/proc/<pid>/environ: what the program started with); `proc.env[NAME]`: one value',
    get: (c) => {
      const ev = c.ev;
      return ev ? (c.lazy('env', () => environ(c.env.procRoot, ev.pid)) as readonly string[] | undefined)?.join(' ') : undefined;
    },
    param: {
      form: '[key]',
      example: 'proc.env[HOME]',
      make: (k) =>
        k === ''
          ? 'a variable name is needed'
          : (c) => {
              const ev = c.ev;
              const all = ev ? (c.lazy('env', () => environ(c.env.procRoot, ev.pid)) as readonly string[] | undefined) : undefined;
              const hit = all?.find((e) => e.startsWith(`${k}=`));
              return hit === undefined ? undefined : hit.slice(k.length + 1);
            },
    },
  },
  {
    name: 'proc.duration',
    type: 'number',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'nanoseconds since the process started (/proc/<pid>/stat and /proc/uptime)',
    get: (c) => {
      const ev = c.ev;
      return ev ? c.lazy('age', () => processAgeNs(c.env.procRoot, ev.pid)) : undefined;
    },
  },
  {
    name: 'proc.is_exe_from_memfd',
    type: 'bool',
    cost: 1,
    kinds: ['exec'],
    falco: 'same',
    desc: 'the exec ran a memfd (fileless)',
    get: (c) => {
      const ev = c.ev;
      return ev?.kind === 'exec' ? ev.fileless && ev.exe.includes('memfd:') : undefined;
    },
  },
  {
    name: 'proc.is_exe_upper_layer',
    type: 'bool',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'nearest',
    desc: 'nearest: proc.exe_written_after_start (the executable changed after the container started); Falco asks overlayfs whether the file is in the writable upper layer',
    get: exeDrift,
  },
  nodata('proc.exe_ino.ctime', 'number', "the executable's inode times are not collected"),
  nodata('proc.exe_ino.mtime', 'number', "the executable's inode times are not collected"),
  nodata('proc.exe_ino.ctime_duration_proc_start', 'number', "the executable's inode times are not collected"),
  {
    name: 'thread.cap_effective',
    type: 'string',
    cost: 10,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'effective capabilities as one string, `CAP_CHOWN CAP_SYS_ADMIN ...` (cap.effective as a list)',
    get: capString('cap_effective'),
  },
  {
    name: 'thread.cap_permitted',
    type: 'string',
    cost: 10,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'permitted capabilities as one string',
    get: capString('cap_permitted'),
  },
  {
    name: 'thread.cap_inheritable',
    type: 'string',
    cost: 10,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'inheritable capabilities as one string',
    get: capString('cap_inheritable'),
  },
  {
    name: 'user.name',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: "name of user.uid in the process's own /etc/passwd (a container's, for a container)",
    get: (c) => idLookup(c, 'passwd', c.ev?.uid),
  },
  {
    name: 'user.loginname',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: 'name of user.loginuid',
    get: (c) => {
      const l = c.ev?.loginuid;
      return l === undefined || l === 4294967295 ? undefined : idLookup(c, 'passwd', l);
    },
  },
  {
    name: 'group.name',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    falco: 'same',
    desc: "name of group.gid in the process's own /etc/group",
    get: (c) => idLookup(c, 'group', c.ev?.gid),
  },
  {
    name: 'fd.num',
    type: 'number',
    cost: 1,
    kinds: ['file', 'syscall'],
    syscalls: [...FILE_OPENS, ...DUPS],
    falco: 'nearest',
    desc: "the descriptor an open or a dup returned, -1 when it failed (vigil's connect events carry no descriptor)",
    get: (c) => {
      const ev = fileEv(c) ?? dupEv(c);
      return ev && (ev.kind === 'syscall' || isOpen(ev)) ? (ev.retval >= 0 ? ev.retval : -1) : undefined;
    },
  },
  {
    name: 'fd.type',
    type: 'string',
    cost: 1,
    kinds: ['file', 'connect', 'syscall'],
    falco: 'nearest',
    desc: '`file` (file events: vigil does not tell directories apart), `ipv4`, `ipv6`, `unix` (connect events, and dup events: the socket duplicated)',
    get: (c) =>
      fileEv(c)
        ? 'file'
        : (() => {
            const fam = connectEv(c)?.family ?? dupEv(c)?.sock_family;
            return fam === 'inet' ? 'ipv4' : fam === 'inet6' ? 'ipv6' : fam === 'unix' ? 'unix' : undefined;
          })(),
  },
  {
    name: 'fd.typechar',
    type: 'string',
    cost: 1,
    kinds: ['file', 'connect'],
    falco: 'nearest',
    desc: '`f` (file events), `4`, `6`, `u` (connect)',
    get: (c) =>
      fileEv(c)
        ? 'f'
        : (() => {
            const ev = connectEv(c);
            return ev ? (ev.family === 'inet' ? '4' : ev.family === 'inet6' ? '6' : ev.family === 'unix' ? 'u' : undefined) : undefined;
          })(),
  },
  {
    name: 'fd.sockfamily',
    type: 'string',
    cost: 1,
    kinds: ['connect'],
    falco: 'same',
    desc: '`ip` or `unix`',
    get: (c) => {
      const ev = connectEv(c);
      return ev ? (inet(ev) ? 'ip' : ev.family === 'unix' ? 'unix' : undefined) : undefined;
    },
  },
  {
    name: 'fd.sip',
    type: 'string',
    cost: 1,
    kinds: ['connect'],
    falco: 'same',
    desc: 'server (remote) address of a connect: net.address',
    get: (c) => connectEv(c)?.address,
  },
  { name: 'fd.rip', type: 'string', cost: 1, kinds: ['connect'], falco: 'same', desc: 'remote address: net.address', get: (c) => connectEv(c)?.address },
  { name: 'fd.dip', type: 'string', cost: 1, kinds: ['connect'], falco: 'same', desc: 'destination address: net.address', get: (c) => connectEv(c)?.address },
  {
    name: 'fd.ip',
    type: 'string',
    cost: 1,
    kinds: ['connect'],
    falco: 'nearest',
    desc: 'an address of the connection: the remote one (vigil does not record the local side)',
    get: (c) => connectEv(c)?.address,
  },
  { name: 'fd.sport', type: 'number', cost: 1, kinds: ['connect'], falco: 'same', desc: 'server (remote) port: net.port', get: (c) => connectEv(c)?.port },
  { name: 'fd.rport', type: 'number', cost: 1, kinds: ['connect'], falco: 'same', desc: 'remote port: net.port', get: (c) => connectEv(c)?.port },
  { name: 'fd.dport', type: 'number', cost: 1, kinds: ['connect'], falco: 'same', desc: 'destination port: net.port', get: (c) => connectEv(c)?.port },
  {
    name: 'fd.port',
    type: 'number',
    cost: 1,
    kinds: ['connect'],
    falco: 'nearest',
    desc: 'a port of the connection: the remote one',
    get: (c) => connectEv(c)?.port,
  },
  nodata('fd.cip', 'string', 'connect events carry only the remote address'),
  nodata('fd.lip', 'string', 'connect events carry only the remote address'),
  nodata('fd.cport', 'number', 'connect events carry only the remote port'),
  nodata('fd.lport', 'number', 'connect events carry only the remote port'),
  {
    name: 'fd.net',
    type: 'string',
    cost: 2,
    kinds: ['connect'],
    falco: 'nearest',
    desc: 'the remote address, compared as a network (`fd.net != 127.0.0.0/8`)',
    get: (c) => connectEv(c)?.address,
    compare: cidrCompare((c) => connectEv(c)?.address),
  },
  {
    name: 'fd.snet',
    type: 'string',
    cost: 2,
    kinds: ['connect'],
    falco: 'same',
    desc: 'the server address, compared as a network (`fd.snet in (10.0.0.0/8)`)',
    get: (c) => connectEv(c)?.address,
    compare: cidrCompare((c) => connectEv(c)?.address),
  },
  {
    name: 'fd.rnet',
    type: 'string',
    cost: 2,
    kinds: ['connect'],
    falco: 'same',
    desc: 'the remote address, compared as a network',
    get: (c) => connectEv(c)?.address,
    compare: cidrCompare((c) => connectEv(c)?.address),
  },
  {
    name: 'fd.sip.name',
    type: 'string',
    cost: 2,
    kinds: ['connect'],
    falco: 'nearest',
    desc: 'the server address compared with host names: `=` and `in` resolve the names when the rules load and match their addresses (as Falco does); as an output it is absent (no reverse lookup)',
    get: () => undefined,
    compare: (op, values) => {
      if (op !== '=' && op !== 'in' && op !== '!=') return 'fd.sip.name compares with =, != or in (host names)';
      const names = new NameSet(values);
      const any = (c: EvalContext): boolean => {
        const a = connectEv(c)?.address;
        return a !== undefined && names.has(a, c.env.hosts);
      };
      return op === '!=' ? (c) => !any(c) : any;
    },
  },
  {
    name: 'fd.l4proto',
    type: 'string',
    cost: 200,
    kinds: ['connect'],
    falco: 'same',
    desc: "`tcp` or `udp`: the connected socket looked up in the process's /proc/<pid>/net tables",
    get: (c) => {
      const ev = connectEv(c);
      return ev && inet(ev) && ev.address !== undefined && ev.port !== undefined
        ? c.lazy('l4', () => l4proto(c.env.procRoot, ev.pid, ev.family, ev.address!, ev.port!))
        : undefined;
    },
  },
  {
    name: 'fd.connected',
    type: 'bool',
    cost: 1,
    kinds: ['connect'],
    falco: 'nearest',
    desc: 'the connect succeeded (retval 0)',
    get: (c) => {
      const ev = connectEv(c);
      return ev ? ev.retval === 0 : undefined;
    },
  },
  nodata('fd.name_changed', 'bool', 'sendto and sendmsg are not traced'),
  {
    name: 'fd.nameraw',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    falco: 'nearest',
    desc: 'the path argument of an open as the program wrote it; the kernel sends it only for arguments that contain `../` (the traversal open class a rule on this field turns on) and, when a rule compares it with `/proc/...` values under write intent, for write-opens whose argument starts with `/proc/` (the proc-link class); other opens have none',
    get: (c) => {
      const ev = fileEv(c);
      return ev && isOpen(ev) ? ev.path_raw : undefined;
    },
  },
  {
    name: 'container.image.tag',
    type: 'string',
    cost: 2,
    kinds: CONTAINER_KINDS,
    falco: 'same',
    desc: 'tag of the image reference (empty when it has none)',
    get: (c) => {
      const i = c.ref()?.image;
      if (i === undefined) return undefined;
      const m = /:([^:/@]+)(@.*)?$/.exec(i);
      return m ? m[1]! : '';
    },
  },
  {
    name: 'container.start_ts',
    type: 'number',
    cost: 10,
    kinds: CONTAINER_KINDS,
    falco: 'nearest',
    desc: 'when the container was first seen, unix nanoseconds (container.started_at x 1e6)',
    get: (c) => {
      const s = c.info()?.startedAt;
      return s === undefined ? undefined : Date.parse(s) * 1e6;
    },
  },
];

/**
 * Falco names that mean a vigil field under another name: resolved to that field itself, so the
 * static analysis (kinds, system calls, watched paths) treats both spellings alike.
 */
export const FALCO_ALIASES: ReadonlyMap<string, { to: string; match: FalcoMatch; note: string }> = new Map([
  ['evt.rawres', { to: 'evt.retval', match: 'same', note: '' }],
  ['proc.exepath', { to: 'proc.exe', match: 'same', note: '' }],
  ['proc.pexepath', { to: 'proc.pexe', match: 'same', note: '' }],
  ['proc.aexepath', { to: 'proc.aexe', match: 'same', note: 'with [n]' }],
  ['fd.directory', { to: 'file.directory', match: 'same', note: '' }],
  ['fd.filename', { to: 'file.name', match: 'same', note: '' }],
  ['container.image.repository', { to: 'container.image_repository', match: 'same', note: '' }],
  ['k8s.ns.name', { to: 'container.namespace', match: 'same', note: '' }],
  ['k8s.pod.name', { to: 'container.pod', match: 'same', note: '' }],
]);

// ---- the catalogue -------------------------------------------------------------------------------

const F: FieldDef[] = [
  // evt.*
  { name: 'evt.kind', type: 'string', cost: 1, desc: `event kind: ${RULE_EVENT_KINDS.join(', ')}`, get: (c) => c.kind },
  {
    name: 'evt.syscall',
    type: 'string',
    cost: 1,
    kinds: SYSCALL_KINDS,
    desc: 'system call name (e.g. openat); absent for kinds that do not come from one',
    get: (c) => c.ev?.syscall,
  },
  { name: 'evt.retval', type: 'number', cost: 1, kinds: RETVAL_KINDS, desc: 'return value of the call (negative errno on failure)', get: retval },
  {
    name: 'evt.failed',
    type: 'bool',
    cost: 1,
    kinds: RETVAL_KINDS,
    desc: 'the call failed (retval < 0)',
    get: (c) => {
      const r = retval(c);
      return r === undefined ? undefined : r < 0;
    },
  },
  { name: 'evt.time', type: 'number', cost: 5, desc: 'event time, unix milliseconds', get: (c) => c.timeMs() },
  {
    name: 'evt.args',
    type: 'list',
    cost: 1,
    kinds: ['syscall'],
    desc: 'the six raw arguments (decimal strings)',
    get: (c) => (c.ev?.kind === 'syscall' ? c.ev.args : undefined),
  },
  {
    name: 'evt.arg',
    type: 'string',
    cost: 1,
    kinds: ['syscall'],
    desc: `a decoded per-call field of a syscall event: ${[...SYSCALL_ARG_KEYS.keys()].sort().join(', ')} (lists such as mount_flag_names are lists; see docs/events.md)`,
    param: {
      form: '.<name>',
      example: 'evt.arg.fstype',
      typeOf: (p) => SYSCALL_ARG_TYPES.get(p) ?? 'string',
      make(p) {
        if (!SYSCALL_ARG_KEYS.has(p)) return `unknown syscall argument ${JSON.stringify(p)} (known: ${[...SYSCALL_ARG_KEYS.keys()].sort().join(', ')})`;
        const key = p as keyof SyscallDetails;
        return (c) => (c.ev?.kind === 'syscall' ? (c.ev[key] as Value) : undefined);
      },
    },
  },
  // proc.*
  { name: 'proc.pid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'process id (host pid namespace)', get: (c) => c.ev?.pid },
  { name: 'proc.vpid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'process id inside its own pid namespace', get: (c) => c.ev?.vpid },
  { name: 'proc.tid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'thread id', get: (c) => c.ev?.tid },
  { name: 'proc.ppid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'parent process id', get: (c) => c.ev?.ppid },
  { name: 'proc.name', type: 'string', cost: 1, kinds: PROC_KINDS, desc: 'command name (comm, at most 15 characters)', get: (c) => c.ev?.comm },
  {
    name: 'proc.exe',
    type: 'string',
    cost: 1,
    kinds: PROC_KINDS,
    desc: "executable path (the exec's own on exec events, else from the process table)",
    get: exe,
  },
  { name: 'proc.args', type: 'string', cost: 3, kinds: PROC_KINDS, desc: 'arguments argv[1..] joined by spaces', get: (c) => argv(c)?.slice(1).join(' ') },
  { name: 'proc.argv', type: 'list', cost: 1, kinds: PROC_KINDS, desc: 'argument vector, argv[0] first', get: argv },
  {
    name: 'proc.cmdline',
    type: 'string',
    cost: 3,
    kinds: PROC_KINDS,
    desc: 'command name and arguments: `proc.name proc.args`',
    get: (c) => {
      const a = argv(c);
      return a === undefined || !c.ev ? undefined : [c.ev.comm, ...a.slice(1)].join(' ');
    },
  },
  { name: 'proc.cwd', type: 'string', cost: 1, kinds: PROC_KINDS, desc: 'working directory (process table)', get: (c) => c.ev?.proc?.cwd },
  {
    name: 'proc.tty',
    type: 'number',
    cost: 100,
    kinds: PROC_KINDS,
    desc: 'controlling terminal device number, 0 for none (read from /proc/<pid>/stat when a rule uses it)',
    get: (c) => {
      const ev = c.ev;
      if (!ev) return undefined;
      return c.lazy('tty', () => {
        try {
          const s = readFileSync(`${c.env.procRoot}/${ev.pid}/stat`, 'utf8');
          const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
          return Number(f[4]);
        } catch {
          return undefined;
        }
      });
    },
  },
  { name: 'proc.pname', type: 'string', cost: 1, kinds: PROC_KINDS, desc: "parent's command name", get: (c) => c.ev?.proc?.ancestors[0]?.comm },
  { name: 'proc.pexe', type: 'string', cost: 1, kinds: PROC_KINDS, desc: "parent's executable", get: (c) => c.ev?.proc?.ancestors[0]?.exe },
  {
    name: 'proc.aname',
    type: 'string',
    cost: 1,
    kinds: PROC_KINDS,
    desc: 'command name of the n-th ancestor (1 = parent)',
    param: { form: '[n]', example: 'proc.aname[2]', make: (p) => ancestor(p, 'comm') },
  },
  {
    name: 'proc.aexe',
    type: 'string',
    cost: 1,
    kinds: PROC_KINDS,
    desc: 'executable of the n-th ancestor (1 = parent)',
    param: { form: '[n]', example: 'proc.aexe[2]', make: (p) => ancestor(p, 'exe') },
  },
  {
    name: 'proc.anames',
    type: 'list',
    cost: 3,
    kinds: PROC_KINDS,
    desc: 'command names of all known ancestors, parent first',
    get: (c) => c.ev?.proc?.ancestors.map((a) => a.comm),
  },
  {
    name: 'proc.aexes',
    type: 'list',
    cost: 3,
    kinds: PROC_KINDS,
    desc: 'executables of all known ancestors, parent first',
    get: (c) => c.ev?.proc?.ancestors.map((a) => a.exe),
  },
  {
    name: 'proc.live_forked',
    type: 'number',
    cost: 1,
    kinds: ['fork'],
    desc: 'fork events: live processes of the forking cgroup that vigil saw forked, the child included (a lower bound; a fork bomb grows it, a loop of short programs does not)',
    get: (c) => (c.ev?.kind === 'fork' ? c.ev.live_forked : undefined),
  },
  {
    name: 'proc.fileless',
    type: 'bool',
    cost: 1,
    kinds: ['exec'],
    desc: 'exec of a memfd or deleted file',
    get: (c) => (c.ev?.kind === 'exec' ? c.ev.fileless : undefined),
  },
  {
    name: 'proc.exe_host_fs',
    type: 'bool',
    cost: 1,
    kinds: ['exec'],
    desc: 'the executable is on a host filesystem mounted into the container (outside its root filesystem), as after a chroot into a host mount',
    get: (c) => (c.ev?.kind === 'exec' ? c.ev.exe_host_fs : undefined),
  },
  {
    name: 'proc.setuid',
    type: 'bool',
    cost: 1,
    kinds: ['exec'],
    desc: 'the exec raised privileges (setuid, setgid or file capabilities)',
    get: (c) => (c.ev?.kind === 'exec' ? c.ev.setuid || c.ev.setgid || c.ev.filecaps : undefined),
  },
  {
    name: 'proc.exe_written_after_start',
    type: 'bool',
    cost: 100,
    kinds: PROC_KINDS,
    desc: 'the executable was modified after its container started (drift; stat of /proc/<pid>/root<exe>, only when a rule uses it)',
    get: exeDrift,
  },
  {
    name: 'proc.stdin_type',
    type: 'string',
    cost: 100,
    kinds: PROC_KINDS,
    desc: 'what fd 0 is: socket, pipe, tty, file, anon (for an exec, as the kernel saw it at the exec; otherwise readlink /proc/<pid>/fd/0 when a rule uses it)',
    get: (c) => fdType(c, 0),
  },
  { name: 'proc.stdout_type', type: 'string', cost: 100, kinds: PROC_KINDS, desc: 'what fd 1 is: socket, pipe, tty, file, anon', get: (c) => fdType(c, 1) },
  {
    name: 'proc.stdin_socket',
    type: 'string',
    cost: 200,
    kinds: PROC_KINDS,
    desc: 'when fd 0 is a socket, its family: inet (TCP or UDP, v4 or v6), unix or other (for an exec, read in the kernel at the exec; otherwise looked up in /proc/<pid>/net/)',
    get: (c) => fdSocketFamily(c, 0),
  },
  {
    name: 'proc.stdout_socket',
    type: 'string',
    cost: 200,
    kinds: PROC_KINDS,
    desc: 'when fd 1 is a socket, its family: inet, unix or other',
    get: (c) => fdSocketFamily(c, 1),
  },
  {
    name: 'proc.is_container_init',
    type: 'bool',
    cost: 1,
    kinds: PROC_KINDS,
    desc: 'the process is pid 1 of its pid namespace inside a container',
    get: (c) => {
      const ev = c.ev;
      const id = ev?.container?.id;
      return ev && id !== undefined ? ev.vpid === 1 && id !== 'host' : undefined;
    },
  },
  // user.*, group.*
  { name: 'user.uid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'real user id', get: (c) => c.ev?.uid },
  {
    name: 'user.euid',
    type: 'number',
    cost: 10,
    kinds: PROC_KINDS,
    desc: 'effective user id (exec and cred_change events, else the last known)',
    get: (c) => c.creds()?.euid,
  },
  { name: 'user.loginuid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'audit login uid (4294967295 when unset)', get: (c) => c.ev?.loginuid },
  {
    name: 'user.old_euid',
    type: 'number',
    cost: 1,
    kinds: ['cred_change'],
    desc: 'effective uid before the change',
    get: (c) => (c.ev?.kind === 'cred_change' ? c.ev.old_creds.euid : undefined),
  },
  {
    name: 'user.old_uid',
    type: 'number',
    cost: 1,
    kinds: ['cred_change'],
    desc: 'real uid before the change',
    get: (c) => (c.ev?.kind === 'cred_change' ? c.ev.old_creds.uid : undefined),
  },
  { name: 'group.gid', type: 'number', cost: 1, kinds: PROC_KINDS, desc: 'real group id', get: (c) => c.ev?.gid },
  {
    name: 'group.egid',
    type: 'number',
    cost: 10,
    kinds: PROC_KINDS,
    desc: 'effective group id (exec and cred_change events, else the last known)',
    get: (c) => c.creds()?.egid,
  },
  // cap.*
  {
    name: 'cap.effective',
    type: 'list',
    cost: 10,
    kinds: PROC_KINDS,
    desc: 'effective capabilities, CAP_SYS_ADMIN style (exec and cred_change events, else the last known)',
    get: (c) => {
      const k = c.creds();
      return k ? capList(k.cap_effective) : undefined;
    },
  },
  {
    name: 'cap.permitted',
    type: 'list',
    cost: 10,
    kinds: PROC_KINDS,
    desc: 'permitted capabilities',
    get: (c) => {
      const k = c.creds();
      return k ? capList(k.cap_permitted) : undefined;
    },
  },
  {
    name: 'cap.inheritable',
    type: 'list',
    cost: 10,
    kinds: PROC_KINDS,
    desc: 'inheritable capabilities',
    get: (c) => {
      const k = c.creds();
      return k ? capList(k.cap_inheritable) : undefined;
    },
  },
  {
    name: 'cap.gained',
    type: 'list',
    cost: 10,
    kinds: ['cred_change', 'exec'],
    desc: 'capabilities (effective or permitted) gained: cred_change new minus old; exec versus the creds before it when known',
    get: (c) => {
      const ev = c.ev;
      if (ev?.kind === 'cred_change')
        return [
          ...new Set([...capDiff(ev.new_creds.cap_effective, ev.old_creds.cap_effective), ...capDiff(ev.new_creds.cap_permitted, ev.old_creds.cap_permitted)]),
        ];
      if (ev?.kind === 'exec') {
        const old = c.env.priorCreds(ev.pid);
        if (!old) return undefined;
        return [...new Set([...capDiff(ev.creds.cap_effective, old.cap_effective), ...capDiff(ev.creds.cap_permitted, old.cap_permitted)])];
      }
      return undefined;
    },
  },
  {
    name: 'cap.lost',
    type: 'list',
    cost: 10,
    kinds: ['cred_change', 'exec'],
    desc: 'capabilities (effective or permitted) lost: old minus new',
    get: (c) => {
      const ev = c.ev;
      if (ev?.kind === 'cred_change')
        return [
          ...new Set([...capDiff(ev.old_creds.cap_effective, ev.new_creds.cap_effective), ...capDiff(ev.old_creds.cap_permitted, ev.new_creds.cap_permitted)]),
        ];
      if (ev?.kind === 'exec') {
        const old = c.env.priorCreds(ev.pid);
        if (!old) return undefined;
        return [...new Set([...capDiff(old.cap_effective, ev.creds.cap_effective), ...capDiff(old.cap_permitted, ev.creds.cap_permitted)])];
      }
      return undefined;
    },
  },
  // ns.*
  ...NS_NAMES.map(
    (n): FieldDef => ({ name: `ns.${n}`, type: 'number', cost: 1, kinds: PROC_KINDS, desc: `${n} namespace inode number of the task`, get: nsGetter(n) }),
  ),
  {
    name: 'ns.is_host',
    type: 'bool',
    cost: 3,
    kinds: PROC_KINDS,
    desc: "every namespace of the task is the host's (compared with pid 1's, or the daemon's own where pid 1's are unreadable)",
    get: (c) => (c.ev ? hostNsOf(c, c.ev.ns) : undefined),
  },
  {
    name: 'ns.changed',
    type: 'list',
    cost: 1,
    kinds: ['ns_change'],
    desc: 'namespaces whose inode changed (mnt, pid, net, user, uts, ipc, cgroup)',
    get: (c) => (c.ev?.kind === 'ns_change' ? c.ev.changed : undefined),
  },
  {
    name: 'ns.new_is_host',
    type: 'bool',
    cost: 3,
    kinds: ['ns_change'],
    desc: "a changed namespace is now the host's (setns into a host namespace)",
    get: (c) => {
      const ev = c.ev;
      if (ev?.kind !== 'ns_change') return undefined;
      const h = c.env.hostNs();
      if (!h) return undefined;
      return ev.changed.some((n) => (NS_NAMES as readonly string[]).includes(n) && ev.new_ns[n as NsName] === h[n as NsName]);
    },
  },
  {
    name: 'ns.flag_names',
    type: 'list',
    cost: 1,
    kinds: ['ns_change'],
    desc: 'CLONE_NEW* flags of the call',
    get: (c) => (c.ev?.kind === 'ns_change' ? c.ev.flag_names : undefined),
  },
  // file.*
  {
    name: 'file.path',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: 'absolute path of a watched file (kernel-resolved for opens)',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.path : undefined),
  },
  {
    name: 'fd.name',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: "alias of file.path (Falco's name)",
    aliasOf: 'file.path',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.path : undefined),
  },
  {
    name: 'file.name',
    type: 'string',
    cost: 2,
    kinds: ['file'],
    desc: 'last component of file.path',
    get: (c) => (c.ev?.kind === 'file' ? basename(c.ev.path) : undefined),
  },
  {
    name: 'file.directory',
    type: 'string',
    cost: 2,
    kinds: ['file'],
    desc: 'directory of file.path',
    get: (c) => (c.ev?.kind === 'file' ? dirname(c.ev.path) : undefined),
  },
  {
    name: 'file.write',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    desc: 'opened with write intent (or changed: rename, link, unlink)',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.write : undefined),
  },
  { name: 'file.create', type: 'bool', cost: 1, kinds: ['file'], desc: 'opened with O_CREAT', get: (c) => (c.ev?.kind === 'file' ? c.ev.create : undefined) },
  {
    name: 'file.mode',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: "mode of an open, octal (`0755`): the one asked for, or for a created file reported as such the new file's permission bits",
    get: (c) => (c.ev?.kind === 'file' ? c.ev.mode : undefined),
  },
  {
    name: 'file.created',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    syscalls: FILE_OPENS,
    desc: 'the open created the file (the kernel says so, not just O_CREAT); the probe also sends creations of unwatched files that are hidden (name starts with a dot), executable, or directly in /dev',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.created === true : undefined),
  },
  {
    name: 'file.op',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: 'open, rename, link, symlink, unlink',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.op : undefined),
  },
  {
    name: 'file.flags',
    type: 'list',
    cost: 1,
    kinds: ['file'],
    desc: 'open flag names (O_WRONLY, O_CREAT, ...)',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.open_flag_names : undefined),
  },
  {
    name: 'file.dest',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: 'destination of rename, link, symlink',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.dest : undefined),
  },
  {
    name: 'file.dest_name',
    type: 'string',
    cost: 2,
    kinds: ['file'],
    desc: 'last component of file.dest',
    get: (c) => (c.ev?.kind === 'file' && c.ev.dest !== undefined ? basename(c.ev.dest) : undefined),
  },
  {
    name: 'file.resolved',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    desc: 'the kernel resolved the path from dentries',
    get: (c) => (c.ev?.kind === 'file' ? c.ev.path_resolved : undefined),
  },
  // the file's identity (opens): what the file is, whatever path reached it
  {
    name: 'file.fs_type',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: "type of the opened file's filesystem, by superblock magic (proc, sysfs, cgroup, ext4, overlay, ...; `0x<hex>` when not named)",
    get: (c) => (c.ev?.kind === 'file' ? c.ev.fs_type : undefined),
  },
  {
    name: 'file.fs_path',
    type: 'string',
    cost: 1,
    kinds: ['file'],
    desc: "path of the opened file within its own filesystem (from that filesystem's root, no mount crossed): `/sys/kernel/core_pattern` on proc however it was reached; the host's `/etc/shadow` mounted at /host-etc is still `/etc/shadow`",
    get: (c) => (c.ev?.kind === 'file' ? c.ev.fs_path : undefined),
  },
  {
    name: 'file.fs_name',
    type: 'string',
    cost: 2,
    kinds: ['file'],
    desc: "last component of file.fs_path: the file's own name (a bind mount onto another name keeps it)",
    get: (c) => (c.ev?.kind === 'file' && c.ev.fs_path !== undefined ? basename(c.ev.fs_path) : undefined),
  },
  {
    name: 'file.repeats',
    type: 'number',
    cost: 1,
    kinds: ['file'],
    desc: 'opens: how many identical opens (same process, file, flags) the kernel coalesced since it last sent this one, within a second of it (0 for a first open); the storm that repeats an open is then one event a second carrying the count',
    get: (c) => (c.ev?.kind === 'file' ? (c.ev.repeats ?? 0) : undefined),
  },
  {
    name: 'file.host_mount',
    type: 'bool',
    cost: 1,
    kinds: ['file'],
    desc: "the opened file is on a host filesystem mounted into the container (outside the container's root; not the kernel filesystems a runtime mounts: proc, sysfs, tmpfs, devpts, mqueue, cgroup)",
    get: (c) => (c.ev?.kind === 'file' ? c.ev.host_mount : undefined),
  },
  // net.*
  {
    name: 'net.family',
    type: 'string',
    cost: 1,
    kinds: ['connect'],
    desc: 'unix, inet, inet6',
    get: (c) => (c.ev?.kind === 'connect' ? c.ev.family : undefined),
  },
  {
    name: 'net.address',
    type: 'string',
    cost: 1,
    kinds: ['connect'],
    desc: 'remote address (inet)',
    get: (c) => (c.ev?.kind === 'connect' ? c.ev.address : undefined),
  },
  { name: 'net.port', type: 'number', cost: 1, kinds: ['connect'], desc: 'remote port (inet)', get: (c) => (c.ev?.kind === 'connect' ? c.ev.port : undefined) },
  { name: 'net.path', type: 'string', cost: 1, kinds: ['connect'], desc: 'unix socket path', get: (c) => (c.ev?.kind === 'connect' ? c.ev.path : undefined) },
  {
    name: 'net.name',
    type: 'string',
    cost: 2,
    kinds: ['connect'],
    desc: 'last component of net.path',
    get: (c) => (c.ev?.kind === 'connect' && c.ev.path !== undefined ? basename(c.ev.path) : undefined),
  },
  // container.*
  {
    name: 'container.id',
    type: 'string',
    cost: 1,
    kinds: CONTAINER_KINDS,
    desc: 'container id; `host` for host processes, `unknown` when the cgroup could not be resolved',
    get: (c) => c.ref()?.id,
  },
  { name: 'container.name', type: 'string', cost: 1, kinds: CONTAINER_KINDS, desc: 'container name', get: (c) => c.ref()?.name },
  { name: 'container.image', type: 'string', cost: 1, kinds: CONTAINER_KINDS, desc: 'image reference', get: (c) => c.ref()?.image },
  {
    name: 'container.image_repository',
    type: 'string',
    cost: 2,
    kinds: CONTAINER_KINDS,
    desc: 'image reference without tag or digest',
    get: (c) => {
      const i = c.ref()?.image;
      return i === undefined ? undefined : i.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
    },
  },
  {
    name: 'container.runtime',
    type: 'string',
    cost: 1,
    kinds: CONTAINER_KINDS,
    desc: 'docker, containerd, cri-o, podman, lxc, systemd-nspawn, runc, host, unknown',
    get: (c) => c.ref()?.runtime,
  },
  { name: 'container.pod', type: 'string', cost: 1, kinds: CONTAINER_KINDS, desc: 'Kubernetes pod name', get: (c) => c.ref()?.pod },
  { name: 'container.namespace', type: 'string', cost: 1, kinds: CONTAINER_KINDS, desc: 'Kubernetes namespace', get: (c) => c.ref()?.namespace },
  {
    name: 'container.privileged',
    type: 'bool',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: 'full capability set (as --privileged); absent for the host',
    get: posture('privileged'),
  },
  { name: 'container.host_pid', type: 'bool', cost: 10, kinds: CONTAINER_KINDS, desc: "shares the host's pid namespace", get: posture('hostPid') },
  { name: 'container.host_net', type: 'bool', cost: 10, kinds: CONTAINER_KINDS, desc: "shares the host's network namespace", get: posture('hostNet') },
  { name: 'container.host_ipc', type: 'bool', cost: 10, kinds: CONTAINER_KINDS, desc: "shares the host's ipc namespace", get: posture('hostIpc') },
  { name: 'container.host_mnt', type: 'bool', cost: 10, kinds: CONTAINER_KINDS, desc: "shares the host's mount namespace", get: posture('hostMnt') },
  {
    name: 'container.host_user',
    type: 'bool',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: "shares the host's user namespace (no uid remapping)",
    get: posture('hostUser'),
  },
  { name: 'container.host_uts', type: 'bool', cost: 10, kinds: CONTAINER_KINDS, desc: "shares the host's uts namespace", get: posture('hostUts') },
  {
    name: 'container.mounts',
    type: 'list',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: 'sensitive host paths mounted in (docker.sock, /, /proc, ...), as mount points inside',
    get: posture('sensitiveMounts'),
  },
  {
    name: 'container.cap_effective',
    type: 'list',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: "capabilities of the container's init process",
    get: (c) => {
      const p = c.info()?.posture;
      return p ? capList(p.capEffective) : undefined;
    },
  },
  {
    name: 'container.posture_sources',
    type: 'list',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: "where the posture was read from: runtime (the runtime's state, e.g. runc's OCI config), kernel (/proc of the init process), or both",
    get: posture('sources'),
  },
  {
    name: 'container.posture_mismatches',
    type: 'list',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: "posture fields where the runtime's record and the kernel's view disagree, as \"hostNet: runtime false, kernel true\" (the other container.* posture fields hold the kernel's view)",
    get: posture('mismatches'),
  },
  {
    name: 'container.label',
    type: 'string',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: 'a label or annotation the runtime recorded',
    param: {
      form: '[key]',
      example: 'container.label[app.kubernetes.io/name]',
      make: (k) => (k === '' ? 'a label key is needed' : (c) => c.info()?.labels[k]),
    },
  },
  {
    name: 'container.started_at',
    type: 'number',
    cost: 10,
    kinds: CONTAINER_KINDS,
    desc: 'when the container was first seen, unix ms',
    get: (c) => {
      const s = c.info()?.startedAt;
      return s === undefined ? undefined : Date.parse(s);
    },
  },
  {
    name: 'container.changed',
    type: 'list',
    cost: 1,
    kinds: ['container_update'],
    desc: 'the fields of the container record this update changed (name, image, runtime, pod, namespace, podUid, labels, initPid, posture)',
    get: (c) => (c.lc?.kind === 'container_update' ? (c.lc.changed ?? []) : undefined),
  },
  // ---- Falco's spellings (docs/falco.md): fields Falco rules name that vigil's own names do not cover ----
  ...FALCO_FIELDS,
  // metric.* (metric rules only)
  {
    name: 'metric',
    type: 'number',
    cost: 1,
    kinds: ['metric'],
    desc: `a container metric (metric rules only): ${Object.keys(METRICS).join(', ')}`,
    param: {
      form: '.<name>',
      example: 'metric.pids_current',
      make(p) {
        if (!(p in METRICS)) return `unknown metric ${JSON.stringify(p)} (known: ${Object.keys(METRICS).join(', ')})`;
        const m = p as MetricName;
        return (c) => c.metrics?.value(m);
      },
    },
  },
];

export const FIELDS: readonly FieldDef[] = Object.freeze(F);
const byName = new Map(F.map((f) => [f.name, f]));
const DOT_PARAMS = F.filter((f) => f.param?.form === '.<name>');

export interface ResolvedField {
  /** As written (with its parameter). */
  name: string;
  def: FieldDef;
  get: Getter;
  /** The parameter of a parameterised field (evt.arg.<p>, metric.<p>, proc.aname[p]). */
  param?: string;
  type: FieldType;
}

/** Looks a field up by its written name; an error message when unknown. */
export function resolveField(text: string): ResolvedField | string {
  // Falco's spellings: evt.rawarg.X is evt.arg.X (vigil decodes no raw forms); a bare proc.aname is
  // "any ancestor" (proc.anames); the renames resolve to the vigil field itself.
  if (text.startsWith('evt.rawarg.')) return resolveField(`evt.arg.${text.slice('evt.rawarg.'.length)}`);
  if (text === 'proc.aname' || text === 'proc.aexepath') {
    const def = byName.get(text === 'proc.aname' ? 'proc.anames' : 'proc.aexes')!;
    return { name: text, def, get: def.get!, type: def.type };
  }
  const br0 = text.indexOf('[');
  const alias = FALCO_ALIASES.get(br0 > 0 ? text.slice(0, br0) : text);
  if (alias && alias.to !== text) {
    const r = resolveField(br0 > 0 ? alias.to + text.slice(br0) : alias.to);
    return typeof r === 'string' ? r : { ...r, name: text };
  }
  const plain = byName.get(text);
  if (plain?.get) return { name: text, def: plain, get: plain.get, type: plain.type };
  const br = text.indexOf('[');
  if (br > 0 && text.endsWith(']')) {
    const def = byName.get(text.slice(0, br));
    if (def?.param && def.param.form !== '.<name>') {
      const p = text.slice(br + 1, -1);
      const g = def.param.make(p);
      return typeof g === 'string' ? `${text}: ${g}` : { name: text, def, get: g, param: p, type: def.param.typeOf?.(p) ?? def.type };
    }
    if (def?.get) return `${def.name} takes no [index]`;
  }
  for (const def of DOT_PARAMS) {
    if (!text.startsWith(def.name + '.')) continue;
    const p = text.slice(def.name.length + 1);
    const g = def.param!.make(p);
    return typeof g === 'string' ? `${text}: ${g}` : { name: text, def, get: g, param: p, type: def.param!.typeOf?.(p) ?? def.type };
  }
  const def = byName.get(text);
  if (def?.param) return `${text} needs a parameter, e.g. ${def.param.example}`;
  return `unknown field ${JSON.stringify(text)}`;
}

/** docs/fields.md. */
export function fieldsMarkdown(): string {
  const groups = new Map<string, FieldDef[]>();
  for (const f of F) {
    const g = f.name.split('.')[0]!;
    const l = groups.get(g) ?? [];
    l.push(f);
    groups.set(g, l);
  }
  const title: Record<string, string> = {
    evt: 'Event',
    proc: 'Process',
    user: 'User',
    group: 'Group',
    cap: 'Capabilities',
    ns: 'Namespaces',
    file: 'Files',
    fd: 'Files (Falco aliases)',
    net: 'Network',
    container: 'Container',
    metric: 'Metrics (metric rules)',
    thread: "Threads (Falco's names)",
  };
  const out: string[] = [
    '# Rule fields',
    '',
    'Generated by `bin/vigild rules fields` from `daemon/detect/fields.ts`: do not edit by hand.',
    '',
    'Types: `string`, `number`, `bool` (`true`/`false`), `list` (of strings; `contains x` and `in (...)` match any element).',
    'A field an event does not have is absent: every comparison with it is false except `!=`, and `exists` is false.',
    'Kinds: the event kinds that can carry the field; a rule that compares it only ever sees those kinds.',
    '',
  ];
  for (const [g, fields] of groups) {
    out.push(`## ${title[g] ?? g}`, '', '| field | type | kinds | description |', '|---|---|---|---|');
    for (const f of fields) {
      const name = f.param ? (f.param.form === '.<name>' ? `${f.name}.<name>` : `${f.name}${f.param.form}`) : f.name;
      const kinds =
        f.kinds === undefined ? 'all' : f.kinds === PROC_KINDS ? 'sensor events' : f.kinds === CONTAINER_KINDS ? 'all (metric rules too)' : f.kinds.join(', ');
      out.push(`| \`${name}\` | ${f.type} | ${kinds} | ${f.desc.replace(/\|/g, '\\|')}${f.cost >= 100 ? ' (costly: evaluated last)' : ''} |`);
    }
    out.push('');
  }
  out.push(...falcoMarkdown());
  out.push(
    '## Metric functions (metric rules)',
    '',
    '| function | meaning |',
    '|---|---|',
    '| `delta(metric.x)` | change since the previous sample of the same target |',
    '| `rate(metric.x)` | change per second since the previous sample |',
    '| `+ - * /` | arithmetic; a division by zero or an absent metric makes the comparison false |',
    '',
  );
  return out.join('\n');
}

/** Falco fields vigil answers under the same name, with how they compare (docs/fields.md). */
const FALCO_SHARED: ReadonlyArray<[string, FalcoMatch, string]> = [
  ['evt.time', 'nearest', 'vigil: unix milliseconds (a number); Falco: a time string (its output prints both alike)'],
  ['evt.args', 'nearest', 'vigil: the six raw arguments of syscall events, as a list'],
  ['evt.failed', 'same', ''],
  ['proc.pid', 'same', ''],
  ['proc.vpid', 'same', ''],
  ['proc.tid', 'same', 'Falco: thread.tid'],
  ['proc.ppid', 'same', ''],
  ['proc.name', 'same', ''],
  ['proc.exe', 'nearest', "vigil: the executable's path (Falco's proc.exepath); Falco: argv[0] (vigil: proc.argv[0] is not a field; use proc.argv)"],
  ['proc.args', 'same', ''],
  ['proc.cmdline', 'same', ''],
  ['proc.cwd', 'same', ''],
  ['proc.tty', 'same', ''],
  ['proc.pname', 'same', ''],
  ['proc.pexe', 'nearest', "vigil: the parent's executable path"],
  ['proc.aname[n]', 'same', 'a bare proc.aname compares any ancestor, as in Falco'],
  ['proc.is_container_init', 'same', 'Falco: proc.vpid = 1 in a container'],
  ['user.uid', 'same', ''],
  ['user.loginuid', 'same', 'unset: 4294967295 (Falco: -1)'],
  ['group.gid', 'same', ''],
  ['fd.name', 'nearest', 'file events only: the kernel-resolved path (Falco: also sockets, as addresses)'],
  ['container.id', 'same', '`host` for host processes, as in Falco'],
  ['container.name', 'same', ''],
  ['container.image', 'same', ''],
  ['container.privileged', 'same', ''],
];

function falcoMarkdown(): string[] {
  const rows: string[] = [];
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  for (const [name, match, note] of FALCO_SHARED) rows.push(`| \`${name}\` | \`${name}\` | ${match} | ${cell(note)} |`);
  for (const [name, a] of FALCO_ALIASES)
    rows.push(`| \`${name}${a.note === 'with [n]' ? '[n]' : ''}\` | \`${a.to}${a.note === 'with [n]' ? '[n]' : ''}\` | ${a.match} | |`);
  rows.push('| `evt.rawarg.<name>` | `evt.arg.<name>` | nearest | vigil decodes arguments once; raw and decoded forms are the same values |');
  rows.push('| `proc.aname` (no index) | `proc.anames` | same | any ancestor |');
  for (const f of F) if (f.falco) rows.push(`| \`${f.name}${f.param ? f.param.form : ''}\` | (this name) | ${f.falco} | ${cell(f.desc)} |`);
  return [
    "## Falco's field names",
    '',
    "Falco rules use these names; vigil accepts each as a spelling of its own data (docs/falco.md). `same`: Falco's meaning;",
    '`nearest`: the closest data vigil has (the notes say how it differs); `nodata`: recognised, always absent, and a rule that needs it',
    'to match is skipped by `vigild rules check` with the field named.',
    '',
    '| Falco field | vigil field | match | notes |',
    '|---|---|---|---|',
    ...rows,
    '',
  ];
}
