// Record decoders: a table keyed by record kind (enum vg_kind). Each decoder is a pure function of the
// batch buffer and the record's offset (plus the decode context: clock and syscall table); it reads
// the buffer in place and returns the event object. decodeBatch() walks a batch, validates each
// record before its decoder sees it, and counts what it skips by reason; nothing it reads throws
// past it.
import { posix } from 'node:path';
import {
  Kind,
  NS_NAMES,
  RECORD_LAYOUTS,
  FILE_OPS,
  alignRecord,
  vg_header as H,
  vg_creds as C,
  vg_exec as EX,
  vg_fork as FK,
  vg_exit as XT,
  vg_ns_change as NC,
  vg_cred_change as CC,
  vg_syscall as SC,
  vg_file as FL,
  vg_connect as CN,
  vg_cgroup as CG,
  vg_enforce as EN,
  VG_ENF_KILL,
  VG_ENF_CONTAINERS_ONLY,
  ENF_SPOILS,
  VG_EXEC_FILELESS,
  VG_EXEC_SETUID,
  VG_EXEC_SETGID,
  VG_EXEC_FILECAPS,
  VG_EXEC_ARGS_TRUNCATED,
  VG_EXEC_PATH_TRUNCATED,
  VG_EXEC_NO_PRIOR_CREDS,
  VG_EXEC_HOST_FS,
  STDIO_CLASSES,
  VG_FILE_FS_PATH,
  VG_FILE_HOST_MOUNT,
  VG_FILE_MATCH_IDENT,
  VG_FILE_RAW,
  VG_FILE_WRITE,
  VG_FILE_CREATE,
  VG_FILE_PATH_RESOLVED,
  VG_FILE_PATH_TRUNCATED,
  VG_FILE_MATCH_PATH,
  VG_FILE_MATCH_DEST,
  VG_CONN_PATH_RESOLVED,
  VG_CGROUP_PATH_TRUNCATED,
  VG_SC_STR0_JOINED,
  VG_FILE_CREATED,
  VG_NS_COUNT,
  type StructLayout,
  type EventKind,
} from './layout.js';
import {
  KTIME,
  WALL_MS,
  type BaseEvent,
  type Creds,
  type NsSet,
  type VigilEvent,
  type ExecEvent,
  type ForkEvent,
  type ExitEvent,
  type NsChangeEvent,
  type CredChangeEvent,
  type SyscallEvent,
  type FileEvent,
  type ConnectEvent,
  type CgroupEvent,
  type EnforceEvent,
} from './events.js';
import { cloneFlagNames, familyName, formatAddress, fsTypeName, hex, openFlagNames } from './names.js';
import { decodeSyscallDetails, type SyscallRecord } from './syscall-details.js';
import { syscallName, type SyscallTable } from './syscalls.js';
import type { BootClock } from '../core/clock.js';

export interface DecodeContext {
  clock: BootClock;
  syscalls: SyscallTable;
}

/** Why a record was skipped. */
export type CorruptReason =
  | 'truncated_header' // fewer bytes left in the batch than a header, or hdr.size below it
  | 'beyond_batch' // hdr.size runs past the end of the batch
  | 'unknown_kind' // hdr.kind has no decoder
  | 'short_record' // hdr.size below the fixed size of its kind
  | 'bad_lengths' // variable lengths in the fixed part run past hdr.size
  | 'decode_failed'; // the decoder threw (a bug: logged once by the sensor)

export const CORRUPT_REASONS: readonly CorruptReason[] = ['truncated_header', 'beyond_batch', 'unknown_kind', 'short_record', 'bad_lengths', 'decode_failed'];

export interface KindDecoder {
  kind: number;
  name: EventKind;
  layout: StructLayout;
  /** Bytes of variable data the fixed part announces (0 for fixed-size kinds). */
  variableBytes(buf: Buffer, off: number): number;
  decode(buf: Buffer, off: number, ctx: DecodeContext): VigilEvent;
}

// ---- readers ---------------------------------------------------------------------------------

const TWO32 = 4294967296;

/** u64 as a number; exact below 2^53 (ids, inodes), approximate above. */
function u64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4) * TWO32 + buf.readUInt32LE(off);
}

function u64hex(buf: Buffer, off: number): string {
  const hi = buf.readUInt32LE(off + 4);
  const lo = buf.readUInt32LE(off);
  return hi === 0 ? '0x' + lo.toString(16) : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** Bytes as a string, cut at the first NUL. */
function str(buf: Buffer, start: number, len: number): string {
  const end = start + len;
  let nul = buf.indexOf(0, start);
  if (nul < 0 || nul > end) nul = end;
  return buf.toString('utf8', start, nul);
}

function nsSet(buf: Buffer, off: number): NsSet {
  return {
    mnt: buf.readUInt32LE(off),
    pid: buf.readUInt32LE(off + 4),
    net: buf.readUInt32LE(off + 8),
    user: buf.readUInt32LE(off + 12),
    uts: buf.readUInt32LE(off + 16),
    ipc: buf.readUInt32LE(off + 20),
    cgroup: buf.readUInt32LE(off + 24),
  };
}

const CF = C.fields;
function creds(buf: Buffer, off: number): Creds {
  return {
    uid: buf.readUInt32LE(off + CF.uid!.offset),
    euid: buf.readUInt32LE(off + CF.euid!.offset),
    suid: buf.readUInt32LE(off + CF.suid!.offset),
    fsuid: buf.readUInt32LE(off + CF.fsuid!.offset),
    gid: buf.readUInt32LE(off + CF.gid!.offset),
    egid: buf.readUInt32LE(off + CF.egid!.offset),
    sgid: buf.readUInt32LE(off + CF.sgid!.offset),
    fsgid: buf.readUInt32LE(off + CF.fsgid!.offset),
    cap_effective: u64hex(buf, off + CF.cap_effective!.offset),
    cap_permitted: u64hex(buf, off + CF.cap_permitted!.offset),
    cap_inheritable: u64hex(buf, off + CF.cap_inheritable!.offset),
  };
}

function octal(n: number): string {
  return '0' + n.toString(8);
}

// Field offsets, resolved once.
function fo(s: StructLayout): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.fields)) out[k] = v.offset;
  return out;
}
const h = fo(H);
const ex = fo(EX);
const fk = fo(FK);
const xt = fo(XT);
const nc = fo(NC);
const cc = fo(CC);
const sc = fo(SC);
const fl = fo(FL);
const cn = fo(CN);
const cg = fo(CG);
const en = fo(EN);
function n(o: Record<string, number>, k: string): number {
  const v = o[k];
  if (v === undefined) throw new Error(`layout has no field ${k}`);
  return v;
}
const H_KIND = n(h, 'kind'),
  H_VPID = n(h, 'vpid'),
  H_KTIME = n(h, 'ktime_ns'),
  H_PID = n(h, 'pid');
const H_TID = n(h, 'tid'),
  H_PPID = n(h, 'ppid'),
  H_UID = n(h, 'uid'),
  H_GID = n(h, 'gid');
const H_LOGINUID = n(h, 'loginuid'),
  H_CGROUP = n(h, 'cgroup_id'),
  H_NS = n(h, 'ns'),
  H_COMM = n(h, 'comm');
const H_SIZE = n(h, 'size');

/** The header's fields (common to every kind) as the start of an event. */
export function decodeHeader(buf: Buffer, off: number, kind: EventKind, ctx: DecodeContext): BaseEvent {
  const ktime = buf.readBigUInt64LE(off + H_KTIME);
  return {
    kind,
    time: ctx.clock.format(ktime),
    pid: buf.readUInt32LE(off + H_PID),
    tid: buf.readUInt32LE(off + H_TID),
    ppid: buf.readUInt32LE(off + H_PPID),
    vpid: buf.readUInt32LE(off + H_VPID),
    uid: buf.readUInt32LE(off + H_UID),
    gid: buf.readUInt32LE(off + H_GID),
    loginuid: buf.readUInt32LE(off + H_LOGINUID),
    comm: str(buf, off + H_COMM, 16),
    cgroup_id: u64(buf, off + H_CGROUP),
    ns: nsSet(buf, off + H_NS),
    [KTIME]: ktime,
    [WALL_MS]: ctx.clock.wallMs(ktime),
  };
}

// ---- one decoder per kind --------------------------------------------------------------------

const execDecoder: KindDecoder = {
  kind: Kind.EXEC,
  name: 'exec',
  layout: EX,
  variableBytes: (buf, off) => buf.readUInt16LE(off + n(ex, 'path_len')) + buf.readUInt16LE(off + n(ex, 'args_len')),
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'exec', ctx) as ExecEvent;
    const flags = buf.readUInt32LE(off + n(ex, 'flags'));
    const pathLen = buf.readUInt16LE(off + n(ex, 'path_len'));
    const argsLen = buf.readUInt16LE(off + n(ex, 'args_len'));
    const start = off + EX.size;
    ev.retval = buf.readInt32LE(off + n(ex, 'retval'));
    ev.exe = str(buf, start, pathLen);
    ev.args = splitArgs(buf, start + pathLen, argsLen);
    ev.argc = buf.readUInt16LE(off + n(ex, 'argc'));
    ev.args_truncated = (flags & VG_EXEC_ARGS_TRUNCATED) !== 0;
    ev.path_truncated = (flags & VG_EXEC_PATH_TRUNCATED) !== 0;
    ev.fileless = (flags & VG_EXEC_FILELESS) !== 0;
    ev.setuid = (flags & VG_EXEC_SETUID) !== 0;
    ev.setgid = (flags & VG_EXEC_SETGID) !== 0;
    ev.filecaps = (flags & VG_EXEC_FILECAPS) !== 0;
    ev.prior_creds_known = (flags & VG_EXEC_NO_PRIOR_CREDS) === 0;
    ev.creds = creds(buf, off + n(ex, 'creds'));
    ev.exe_ino = u64(buf, off + n(ex, 'exe_ino'));
    ev.exe_dev = buf.readUInt32LE(off + n(ex, 'exe_dev'));
    ev.exe_host_fs = (flags & VG_EXEC_HOST_FS) !== 0;
    const stdio = [0, 1, 2].map((fd) => STDIO_CLASSES[buf[off + n(ex, 'stdio') + fd]!]);
    if (stdio.every((s) => s !== undefined)) ev.stdio = stdio;
    return ev;
  },
};

/** argv bytes, each argument NUL-terminated (the last one may be cut without its NUL). */
function splitArgs(buf: Buffer, start: number, len: number): string[] {
  const args: string[] = [];
  const end = start + len;
  let i = start;
  while (i < end) {
    let nul = buf.indexOf(0, i);
    if (nul < 0 || nul > end) nul = end;
    args.push(buf.toString('utf8', i, nul));
    i = nul + 1;
  }
  return args;
}

const forkDecoder: KindDecoder = {
  kind: Kind.FORK,
  name: 'fork',
  layout: FK,
  variableBytes: () => 0,
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'fork', ctx) as ForkEvent;
    const flagsOff = off + n(fk, 'clone_flags');
    ev.child_pid = buf.readUInt32LE(off + n(fk, 'child_pid'));
    ev.child_vpid = buf.readUInt32LE(off + n(fk, 'child_vpid'));
    ev.clone_flags = u64hex(buf, flagsOff);
    // The low byte is clone()'s exit signal (clone3 passes it apart, and fork has no flags).
    ev.clone_flag_names = cloneFlagNames(u64(buf, flagsOff), true);
    return ev;
  },
};

const exitDecoder: KindDecoder = {
  kind: Kind.EXIT,
  name: 'exit',
  layout: XT,
  variableBytes: () => 0,
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'exit', ctx) as ExitEvent;
    ev.exit_code = buf.readInt32LE(off + n(xt, 'exit_code'));
    ev.signal = buf.readUInt32LE(off + n(xt, 'signal'));
    ev.core_dumped = buf.readUInt32LE(off + n(xt, 'core_dumped')) !== 0;
    return ev;
  },
};

const nsChangeDecoder: KindDecoder = {
  kind: Kind.NS_CHANGE,
  name: 'ns_change',
  layout: NC,
  variableBytes: () => 0,
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'ns_change', ctx) as NsChangeEvent;
    const nr = buf.readUInt32LE(off + n(nc, 'syscall_nr'));
    const name = syscallName(ctx.syscalls, nr);
    const flagsOff = off + n(nc, 'flags');
    const changed = buf.readUInt32LE(off + n(nc, 'changed'));
    const childPid = buf.readUInt32LE(off + n(nc, 'child_pid'));
    ev.syscall = name;
    ev.retval = buf.readInt32LE(off + n(nc, 'retval'));
    ev.flags = u64hex(buf, flagsOff);
    ev.flag_names = cloneFlagNames(u64(buf, flagsOff), name === 'clone');
    if (childPid !== 0 || name === 'clone' || name === 'clone3') ev.child_pid = childPid;
    ev.changed = [];
    for (let i = 0; i < VG_NS_COUNT; i++) if (changed & (1 << i)) ev.changed.push(NS_NAMES[i]!);
    ev.old_ns = nsSet(buf, off + n(nc, 'old_ns'));
    ev.new_ns = nsSet(buf, off + n(nc, 'new_ns'));
    return ev;
  },
};

const credChangeDecoder: KindDecoder = {
  kind: Kind.CRED_CHANGE,
  name: 'cred_change',
  layout: CC,
  variableBytes: () => 0,
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'cred_change', ctx) as CredChangeEvent;
    ev.syscall = syscallName(ctx.syscalls, buf.readUInt32LE(off + n(cc, 'syscall_nr')));
    ev.retval = buf.readInt32LE(off + n(cc, 'retval'));
    ev.old_creds = creds(buf, off + n(cc, 'old_creds'));
    ev.new_creds = creds(buf, off + n(cc, 'new_creds'));
    return ev;
  },
};

const SC_STR_LEN = n(sc, 'str_len');
const syscallDecoder: KindDecoder = {
  kind: Kind.SYSCALL,
  name: 'syscall',
  layout: SC,
  variableBytes: (buf, off) => buf.readUInt16LE(off + SC_STR_LEN) + buf.readUInt16LE(off + SC_STR_LEN + 2) + buf.readUInt16LE(off + SC_STR_LEN + 4),
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'syscall', ctx) as SyscallEvent;
    const nr = buf.readUInt32LE(off + n(sc, 'nr'));
    const argsOff = off + n(sc, 'args');
    ev.syscall = syscallName(ctx.syscalls, nr);
    ev.retval = Number(buf.readBigInt64LE(off + n(sc, 'retval')));
    ev.args = [];
    for (let i = 0; i < 6; i++) ev.args.push(buf.readBigUInt64LE(argsOff + 8 * i).toString());
    const strs: string[] = [];
    let p = off + SC.size;
    for (let i = 0; i < 3; i++) {
      const len = buf.readUInt16LE(off + SC_STR_LEN + 2 * i);
      strs.push(str(buf, p, len));
      p += len;
    }
    const flags = buf.readUInt32LE(off + n(sc, 'flags'));
    // a directory joined with the argument as given may hold "." and ".." (as file events' paths)
    if (flags & VG_SC_STR0_JOINED) strs[0] = normalisePath(strs[0]!);
    const rec: SyscallRecord = {
      name: ev.syscall,
      arch: ctx.syscalls.arch,
      flags,
      arg: (i) => u64(buf, argsOff + 8 * i),
      argS32: (i) => buf.readInt32LE(argsOff + 8 * i),
      argU32: (i) => buf.readUInt32LE(argsOff + 8 * i),
      argHex: (i) => u64hex(buf, argsOff + 8 * i),
      strs,
      callerPidNs: ev.ns.pid,
      targetPid: buf.readUInt32LE(off + n(sc, 'target_pid')),
      targetPidNs: buf.readUInt32LE(off + n(sc, 'target_pid_ns')),
      targetCgroupId: u64(buf, off + n(sc, 'target_cgroup_id')),
      targetNsType: buf.readUInt32LE(off + n(sc, 'target_ns_type')),
      targetNsIno: buf.readUInt32LE(off + n(sc, 'target_ns_ino')),
      detail: buf.readUInt32LE(off + n(sc, 'detail')),
    };
    decodeSyscallDetails(rec, ev);
    return ev;
  },
};

const FL_PATH_LEN = n(fl, 'path_len');
const FL_DEST_LEN = n(fl, 'dest_len');
const FL_FS_PATH_LEN = n(fl, 'fs_path_len');
const FL_RAW_LEN = n(fl, 'raw_len');
const FL_REPEATS = n(fl, 'repeats');
const OPEN_SYSCALLS = new Set(['open', 'openat', 'openat2', 'creat']);
const fileDecoder: KindDecoder = {
  kind: Kind.FILE,
  name: 'file',
  layout: FL,
  variableBytes: (buf, off) =>
    buf.readUInt16LE(off + FL_PATH_LEN) + buf.readUInt16LE(off + FL_DEST_LEN) + buf.readUInt16LE(off + FL_FS_PATH_LEN) + buf.readUInt16LE(off + FL_RAW_LEN),
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'file', ctx) as FileEvent;
    const flags = buf.readUInt32LE(off + n(fl, 'flags'));
    const op = buf.readUInt32LE(off + n(fl, 'op'));
    const pathLen = buf.readUInt16LE(off + FL_PATH_LEN);
    const destLen = buf.readUInt16LE(off + FL_DEST_LEN);
    const resolved = (flags & VG_FILE_PATH_RESOLVED) !== 0;
    ev.syscall = syscallName(ctx.syscalls, buf.readUInt32LE(off + n(fl, 'nr')));
    ev.op = FILE_OPS[op] ?? `op_${op}`;
    ev.retval = buf.readInt32LE(off + n(fl, 'retval'));
    const path = str(buf, off + FL.size, pathLen);
    ev.path = resolved ? path : normalisePath(path);
    if (destLen > 0 || op === 2 || op === 3 || op === 4) ev.dest = normalisePath(str(buf, off + FL.size + pathLen, destLen));
    ev.path_resolved = resolved;
    ev.path_truncated = (flags & VG_FILE_PATH_TRUNCATED) !== 0;
    if (op === 1 || OPEN_SYSCALLS.has(ev.syscall)) {
      const openFlags = buf.readUInt32LE(off + n(fl, 'open_flags'));
      ev.open_flags = hex(openFlags);
      ev.open_flag_names = openFlagNames(openFlags, ctx.syscalls.arch);
    }
    ev.mode = octal(buf.readUInt32LE(off + n(fl, 'mode')));
    ev.write = (flags & VG_FILE_WRITE) !== 0;
    ev.create = (flags & VG_FILE_CREATE) !== 0;
    ev.ino = u64(buf, off + n(fl, 'ino'));
    ev.dev = buf.readUInt32LE(off + n(fl, 'dev'));
    ev.watch_id = buf.readUInt32LE(off + n(fl, 'watch_id'));
    const mp = (flags & VG_FILE_MATCH_PATH) !== 0;
    const md = (flags & VG_FILE_MATCH_DEST) !== 0;
    ev.matched = mp && md ? 'both' : mp ? 'path' : md ? 'dest' : 'none';
    if (flags & VG_FILE_FS_PATH) {
      ev.fs_type = fsTypeName(buf.readUInt32LE(off + n(fl, 'fs_magic')));
      const fsLen = buf.readUInt16LE(off + FL_FS_PATH_LEN);
      ev.fs_path = str(buf, off + FL.size + pathLen + destLen, fsLen);
      if (flags & VG_FILE_RAW) ev.path_raw = str(buf, off + FL.size + pathLen + destLen + fsLen, buf.readUInt16LE(off + FL_RAW_LEN));
      ev.host_mount = (flags & VG_FILE_HOST_MOUNT) !== 0;
      ev.matched_identity = (flags & VG_FILE_MATCH_IDENT) !== 0;
    }
    if (flags & VG_FILE_CREATED) ev.created = true;
    const repeats = buf.readUInt32LE(off + FL_REPEATS);
    if (repeats > 0) ev.repeats = repeats;
    return ev;
  },
};

/**
 * "." and ".." of a path the kernel did not resolve (the directory it joined is resolved; the
 * argument is as given). Lexical, as the kernel would walk it without symlinks; ".." above "/" stays
 * at "/". Relative paths (no directory could be resolved) stay relative.
 */
export function normalisePath(p: string): string {
  if (p === '') return p;
  if (!p.includes('/.') && !p.includes('//') && !p.startsWith('.')) return p;
  return posix.normalize(p);
}

const CN_PATH_LEN = n(cn, 'path_len');
const connectDecoder: KindDecoder = {
  kind: Kind.CONNECT,
  name: 'connect',
  layout: CN,
  variableBytes: (buf, off) => buf.readUInt16LE(off + CN_PATH_LEN),
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'connect', ctx) as ConnectEvent;
    const family = buf.readUInt16LE(off + n(cn, 'family'));
    const flags = buf.readUInt32LE(off + n(cn, 'flags'));
    ev.syscall = syscallName(ctx.syscalls, buf.readUInt32LE(off + n(cn, 'nr')));
    ev.retval = buf.readInt32LE(off + n(cn, 'retval'));
    ev.family = familyName(family);
    if (family === 1) {
      ev.path = str(buf, off + CN.size, buf.readUInt16LE(off + CN_PATH_LEN));
    } else {
      const a = off + n(cn, 'addr');
      ev.address = formatAddress(buf.subarray(a, a + 16), family);
      ev.port = buf.readUInt16LE(off + n(cn, 'port'));
    }
    ev.path_resolved = (flags & VG_CONN_PATH_RESOLVED) !== 0;
    ev.watch_id = buf.readUInt32LE(off + n(cn, 'watch_id'));
    return ev;
  },
};

const CG_PATH_LEN = n(cg, 'path_len');
function cgroupDecoder(kind: number, name: 'cgroup_mkdir' | 'cgroup_rmdir'): KindDecoder {
  return {
    kind,
    name,
    layout: CG,
    variableBytes: (buf, off) => buf.readUInt16LE(off + CG_PATH_LEN),
    decode(buf, off, ctx) {
      const ev = decodeHeader(buf, off, name, ctx) as CgroupEvent;
      ev.task_cgroup_id = ev.cgroup_id;
      ev.cgroup_id = u64(buf, off + n(cg, 'cgroup_id'));
      ev.hierarchy_id = buf.readUInt32LE(off + n(cg, 'hierarchy_id'));
      ev.level = buf.readUInt32LE(off + n(cg, 'level'));
      ev.path = str(buf, off + CG.size, buf.readUInt16LE(off + CG_PATH_LEN));
      ev.path_truncated = (buf.readUInt16LE(off + n(cg, 'flags')) & VG_CGROUP_PATH_TRUNCATED) !== 0;
      return ev;
    },
  };
}
const cgroupMkdirDecoder = cgroupDecoder(Kind.CGROUP_MKDIR, 'cgroup_mkdir');
const cgroupRmdirDecoder = cgroupDecoder(Kind.CGROUP_RMDIR, 'cgroup_rmdir');

const enforceDecoder: KindDecoder = {
  kind: Kind.ENFORCE,
  name: 'enforce',
  layout: EN,
  variableBytes: () => 0,
  decode(buf, off, ctx) {
    const ev = decodeHeader(buf, off, 'enforce', ctx) as EnforceEvent;
    const flags = buf.readUInt32LE(off + n(en, 'flags'));
    const argsOff = off + n(en, 'args');
    ev.syscall = syscallName(ctx.syscalls, buf.readUInt32LE(off + n(en, 'nr')));
    ev.args = [];
    for (let i = 0; i < 6; i++) ev.args.push(buf.readBigUInt64LE(argsOff + 8 * i).toString());
    ev.signal_ret = buf.readInt32LE(off + n(en, 'signal_ret'));
    ev.signal_sent = (flags & VG_ENF_KILL) !== 0 && ev.signal_ret === 0;
    ev.spoil_ret = buf.readInt32LE(off + n(en, 'spoil_ret'));
    ev.spoiled = ev.spoil_ret === 0;
    const spoil = buf.readUInt8(off + n(en, 'spoil'));
    ev.spoil = ENF_SPOILS[spoil] ?? String(spoil);
    ev.spoil_arg = buf.readUInt8(off + n(en, 'spoil_arg'));
    ev.containers_only = (flags & VG_ENF_CONTAINERS_ONLY) !== 0;
    return ev;
  },
};

/** The decoder table, indexed by record kind. */
export const DECODERS: ReadonlyArray<KindDecoder | undefined> = (() => {
  const t: Array<KindDecoder | undefined> = [];
  for (const d of [
    execDecoder,
    forkDecoder,
    exitDecoder,
    nsChangeDecoder,
    credChangeDecoder,
    syscallDecoder,
    fileDecoder,
    connectDecoder,
    cgroupMkdirDecoder,
    cgroupRmdirDecoder,
    enforceDecoder,
  ]) {
    if (RECORD_LAYOUTS[d.kind] !== d.layout) throw new Error(`decoder ${d.name}: layout mismatch`);
    t[d.kind] = d;
  }
  return t;
})();

// ---- batches ---------------------------------------------------------------------------------

export interface DecodeCounters {
  /** Records looked at (decoded or skipped). */
  records: number;
  /** Decoded records by kind name. */
  decoded: Record<EventKind, number>;
  /** Skipped records by reason. */
  corrupt: Record<CorruptReason, number>;
}

export function newDecodeCounters(): DecodeCounters {
  return {
    records: 0,
    decoded: { exec: 0, fork: 0, exit: 0, ns_change: 0, cred_change: 0, syscall: 0, file: 0, connect: 0, cgroup_mkdir: 0, cgroup_rmdir: 0, enforce: 0 },
    corrupt: { truncated_header: 0, beyond_batch: 0, unknown_kind: 0, short_record: 0, bad_lengths: 0, decode_failed: 0 },
  };
}

/** Walks batches of records, validating and decoding each, counting what it skips. */
export class BatchDecoder {
  readonly counters: DecodeCounters = newDecodeCounters();
  ctx: DecodeContext;
  /** Called once per decoder exception (a bug, not bad input); the record is counted and skipped. */
  onDecoderError: ((err: unknown, kind: number) => void) | undefined;

  constructor(ctx: DecodeContext) {
    this.ctx = ctx;
  }

  /**
   * Decodes every valid record of `batch`, in order, through `emit`. A record whose size cannot be
   * trusted (too small, past the end) ends the walk: the records behind it cannot be found.
   * Returns the number of events emitted. Never throws on any input (emit's own errors propagate).
   */
  decodeBatch(batch: Buffer, emit: (ev: VigilEvent) => void): number {
    const c = this.counters;
    const end = batch.length;
    let off = 0;
    let emitted = 0;
    while (off < end) {
      c.records++;
      if (end - off < H.size) {
        c.corrupt.truncated_header++;
        break;
      }
      const kind = batch.readUInt16LE(off + H_KIND);
      const size = batch.readUInt16LE(off + H_SIZE);
      if (size < H.size) {
        c.corrupt.truncated_header++;
        break;
      }
      if (size > end - off) {
        c.corrupt.beyond_batch++;
        break;
      }
      const next = off + alignRecord(size);
      const d = DECODERS[kind];
      if (d === undefined) {
        c.corrupt.unknown_kind++;
      } else if (size < d.layout.size) {
        c.corrupt.short_record++;
      } else if (d.layout.size + d.variableBytes(batch, off) > size) {
        c.corrupt.bad_lengths++;
      } else {
        let ev: VigilEvent | undefined;
        try {
          ev = d.decode(batch, off, this.ctx);
        } catch (err) {
          c.corrupt.decode_failed++;
          this.onDecoderError?.(err, kind);
        }
        if (ev !== undefined) {
          c.decoded[d.name]++;
          emitted++;
          emit(ev);
        }
      }
      off = next;
    }
    return emitted;
  }
}
