// Where the data behind Falco's field names comes from when vigil's events do not carry it: procfs
// (session, process group, environment, start time, socket tables), the container's own
// /etc/passwd and /etc/group, errno names, CIDR matching and the DNS names Falco compares server
// addresses with. Pure functions over a procfs root, so tests can hand in a fake /proc. Every read
// happens only when a rule (or an output) asks for the field; the fields that use these are costly
// (cost >= 100), so conditions evaluate them last.
import { lookup } from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { isIP } from 'node:net';

const ERRNO_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, n] of Object.entries(constants.errno)) if (!m.has(n)) m.set(n, name);
  return m;
})();

/** Falco's evt.res: SUCCESS, or the errno name of a negative return value (ENOENT, ...). */
export function resultName(retval: number): string {
  if (retval >= 0) return 'SUCCESS';
  return ERRNO_NAMES.get(-retval) ?? `E${-retval}`;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Session and process-group ids from /proc/<pid>/status: the innermost namespace's and the host's. */
export interface SessionIds {
  sid: number;
  vsid: number;
  pgid: number;
  vpgid: number;
}

export function sessionIds(procRoot: string, pid: number): SessionIds | undefined {
  const s = readText(`${procRoot}/${pid}/status`);
  if (s === undefined) return undefined;
  const nums = (key: string): number[] | undefined => {
    const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(s);
    return m ? m[1]!.trim().split(/\s+/).map(Number) : undefined;
  };
  const sid = nums('NSsid');
  const pgid = nums('NSpgid');
  if (!sid || !pgid) return undefined;
  return { sid: sid[0]!, vsid: sid[sid.length - 1]!, pgid: pgid[0]!, vpgid: pgid[pgid.length - 1]! };
}

/** The comm of a (host) pid. */
export function commOf(procRoot: string, pid: number): string | undefined {
  return readText(`${procRoot}/${pid}/comm`)?.replace(/\n$/, '');
}

/** The environment of a process as NAME=value strings (what it started with). */
export function environ(procRoot: string, pid: number): string[] | undefined {
  const s = readText(`${procRoot}/${pid}/environ`);
  return s === undefined ? undefined : s.split('\0').filter((e) => e !== '');
}

// USER_HZ is 100 on every architecture Linux builds for user space (x86_64, arm64 included).
const USER_HZ = 100;

/** Nanoseconds since the process started (Falco's proc.duration), from its stat and /proc/uptime. */
export function processAgeNs(procRoot: string, pid: number): number | undefined {
  const stat = readText(`${procRoot}/${pid}/stat`);
  const up = readText(`${procRoot}/uptime`);
  if (stat === undefined || up === undefined) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(f[19]);
  const uptime = Number(up.split(' ')[0]);
  if (!Number.isFinite(start) || !Number.isFinite(uptime)) return undefined;
  return Math.max(0, Math.round((uptime - start / USER_HZ) * 1e9));
}

interface IdTable {
  at: number;
  mtimeMs: number;
  names: Map<number, string>;
}
const idTables = new Map<string, IdTable>();
const ID_TABLE_MAX = 256;
// A container's passwd rarely changes; re-stat at most this often (not a correctness bound: a new
// user is picked up on the next look after it).
const ID_TABLE_RECHECK_MS = 10_000;

/**
 * The name of a uid (passwd) or gid (group) as the process's own root filesystem has it: a
 * container's users are the image's, not the host's (Falco reads the container's files too).
 * `key` names the root it reads (the container id, or "host"); the parsed table is cached by it.
 */
export function idName(procRoot: string, pid: number, key: string, file: 'passwd' | 'group', id: number, now = Date.now()): string | undefined {
  const cacheKey = `${key}\0${file}`;
  let t = idTables.get(cacheKey);
  if (!t || now - t.at > ID_TABLE_RECHECK_MS) {
    const path = `${procRoot}/${pid}/root/etc/${file}`;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      return t?.names.get(id);
    }
    if (!t || t.mtimeMs !== mtimeMs) {
      const names = new Map<number, string>();
      for (const line of (readText(path) ?? '').split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && /^\d+$/.test(f[2]!)) names.set(Number(f[2]), f[0]!);
      }
      if (idTables.size >= ID_TABLE_MAX) idTables.clear();
      t = { at: now, mtimeMs, names };
      idTables.set(cacheKey, t);
    } else t.at = now;
  }
  return t.names.get(id);
}

/** An IPv4 address as /proc/net/tcp prints it (little-endian hex). */
function procHex4(address: string): string | undefined {
  const p = address.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return undefined;
  return p
    .reverse()
    .map((x) => x.toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/**
 * The layer-4 protocol of the process's socket connected to address:port: tcp or udp, looked up in
 * its network namespace's socket tables (connect() is the same call for both). IPv6 peers match by
 * port only (the tables print them word-swapped).
 */
export function l4proto(procRoot: string, pid: number, family: string, address: string, port: number): 'tcp' | 'udp' | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const v6 = family === 'inet6';
  const want = v6 ? undefined : procHex4(address);
  for (const proto of ['tcp', 'udp'] as const) {
    const text = readText(`${procRoot}/${pid}/net/${proto}${v6 ? '6' : ''}`);
    if (text === undefined) continue;
    for (const line of text.split('\n').slice(1)) {
      const rem = line.trim().split(/\s+/)[2];
      if (!rem) continue;
      const [a, p] = rem.split(':');
      if (p === hexPort && (want === undefined || a === want)) return proto;
    }
  }
  return undefined;
}

/** A network in CIDR notation (or a single address): a test for addresses. */
export function parseCidr(text: string): ((address: string) => boolean) | undefined {
  const [addr, bitsText] = text.split('/');
  const fam = isIP(addr ?? '');
  if (fam === 0) return undefined;
  const max = fam === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  const net = toBig(addr!, fam);
  if (net === undefined) return undefined;
  const shift = BigInt(max - bits);
  return (a) => {
    const f = isIP(a);
    if (f !== fam) return false;
    const v = toBig(a, f);
    return v !== undefined && v >> shift === net >> shift;
  };
}

function toBig(addr: string, fam: number): bigint | undefined {
  if (fam === 4) return addr.split('.').reduce((acc, x) => (acc << 8n) | BigInt(Number(x)), 0n);
  // Expand "::" and an embedded IPv4 tail into eight 16-bit words.
  let s = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = Number(toBig(v4[1]!, 4));
    s = s.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const words = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (words.length !== 8) return undefined;
  return words.reduce((acc, w) => (acc << 16n) | BigInt(parseInt(w, 16) || 0), 0n);
}

/**
 * Host names a condition compares a server address with (Falco's fd.sip.name): each name is
 * resolved once, in the background, when the rules load; until its answer arrives (or when it does
 * not resolve) no address matches it, which is also what Falco does on a host where the name does
 * not resolve.
 */
export class NameSet {
  private readonly addresses = new Set<string>();
  readonly pending: Promise<void>;

  constructor(readonly names: readonly string[]) {
    this.pending = Promise.all(
      names.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (isIP(n)) {
              this.addresses.add(n);
              resolve();
              return;
            }
            lookup(n, { all: true }, (err, list) => {
              if (!err) for (const a of list) this.addresses.add(a.address);
              resolve();
            });
          }),
      ),
    ).then(() => undefined);
  }

  /** Whether the address is one of the names'; static host entries answer before DNS does. */
  has(address: string, hosts?: ReadonlyMap<string, readonly string[]>): boolean {
    if (this.addresses.has(address)) return true;
    if (hosts) for (const n of this.names) if (hosts.get(n)?.includes(address)) return true;
    return false;
  }
}
