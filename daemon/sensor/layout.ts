// The byte layout of every struct in probes/common.h, process.h, syscalls.h, cgroup.h and enforce.h, written once here.
// Offsets are computed with the C rules the BPF target follows (each member aligned to its own
// alignment, the struct padded to its largest alignment); layout.test.ts checks every struct against
// the BTF of the compiled probe objects, so a header change without a change here fails the tests.

export interface FieldLayout {
  offset: number;
  size: number;
}

export interface StructLayout {
  name: string;
  size: number;
  align: number;
  fields: Readonly<Record<string, FieldLayout>>;
}

type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 's64' | 'char';
type MemberType = Scalar | StructLayout | readonly [Scalar, number];

const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, char: 1, u16: 2, u32: 4, s32: 4, u64: 8, s64: 8 };

function sizeAlign(t: MemberType): [number, number] {
  if (typeof t === 'string') return [SCALAR_SIZE[t], SCALAR_SIZE[t]];
  if (Array.isArray(t)) {
    const [scalar, n] = t as readonly [Scalar, number];
    return [SCALAR_SIZE[scalar] * n, SCALAR_SIZE[scalar]];
  }
  const s = t as StructLayout;
  return [s.size, s.align];
}

function struct(name: string, members: ReadonlyArray<readonly [string, MemberType]>): StructLayout {
  const fields: Record<string, FieldLayout> = {};
  let offset = 0;
  let align = 1;
  for (const [field, type] of members) {
    const [size, a] = sizeAlign(type);
    offset = Math.ceil(offset / a) * a;
    fields[field] = { offset, size };
    offset += size;
    align = Math.max(align, a);
  }
  return Object.freeze({ name, size: Math.ceil(offset / align) * align, align, fields: Object.freeze(fields) });
}

// Constants of common.h.
export const VG_TASK_COMM_LEN = 16;
export const VG_PATH_MAX = 512;
export const VG_ARGS_MAX = 1024;
export const VG_ARGC_MAX = 16;
export const VG_STR_MAX = 256;
export const VG_UNIX_PATH_MAX = 108;
export const VG_NAME_MAX = 64;
/** A watched path (exact or prefix): LPM_TRIE keys hold at most 256 data bytes. */
export const VG_WATCH_PATH_MAX = 256;
export const VG_IDENT_PATH_MAX = VG_WATCH_PATH_MAX - 4;
export const VG_SYSCALL_MAX = 512;
export const VG_NS_COUNT = 7;
export const VG_KIND_MAX = 16;

/** enum vg_kind */
export const Kind = {
  UNSPECIFIED: 0,
  EXEC: 1,
  FORK: 2,
  EXIT: 3,
  NS_CHANGE: 4,
  CRED_CHANGE: 5,
  SYSCALL: 6,
  FILE: 7,
  CONNECT: 8,
  CGROUP_MKDIR: 9,
  CGROUP_RMDIR: 10,
  ENFORCE: 11,
} as const;

/** Event names by record kind, as docs/events.md spells them. */
export const KIND_NAMES: readonly string[] = [
  'unspecified',
  'exec',
  'fork',
  'exit',
  'ns_change',
  'cred_change',
  'syscall',
  'file',
  'connect',
  'cgroup_mkdir',
  'cgroup_rmdir',
  'enforce',
];
export type EventKind = 'exec' | 'fork' | 'exit' | 'ns_change' | 'cred_change' | 'syscall' | 'file' | 'connect' | 'cgroup_mkdir' | 'cgroup_rmdir' | 'enforce';
export const EVENT_KINDS: readonly EventKind[] = [
  'exec',
  'fork',
  'exit',
  'ns_change',
  'cred_change',
  'syscall',
  'file',
  'connect',
  'cgroup_mkdir',
  'cgroup_rmdir',
  'enforce',
];

/** enum vg_ns_index, in order: the names of the ns arrays' slots. */
export const NS_NAMES = ['mnt', 'pid', 'net', 'user', 'uts', 'ipc', 'cgroup'] as const;
export type NsName = (typeof NS_NAMES)[number];

// Flags (#defines of the headers).
export const VG_CFG_CONNECT_INET = 1 << 0;
export const VG_CFG_FAILED_EXEC = 1 << 1;
export const VG_CFG_BATCH_WAKEUP = 1 << 2;
export const VG_WATCH_EXACT = 1 << 0;
export const VG_WATCH_WRITE_ONLY = 1 << 1;

export const VG_EXEC_FILELESS = 1 << 0;
export const VG_EXEC_SETUID = 1 << 1;
export const VG_EXEC_SETGID = 1 << 2;
export const VG_EXEC_FILECAPS = 1 << 3;
export const VG_EXEC_ARGS_TRUNCATED = 1 << 4;
export const VG_EXEC_PATH_TRUNCATED = 1 << 5;
export const VG_EXEC_NO_PRIOR_CREDS = 1 << 6;
export const VG_EXEC_HOST_FS = 1 << 8;

/** vg_exec.stdio: what each of fds 0-2 was right after the exec, indexed by VG_STDIO_* of process.h (0: not read, a failed exec). */
export const STDIO_CLASSES = [undefined, 'closed', 'file', 'pipe', 'tty', 'anon', 'inet', 'unix', 'socket'] as const;

export const VG_SC_STR_TRUNCATED = 1 << 0;
export const VG_SC_TARGET_VALID = 1 << 1;
export const VG_SC_NS_TARGET_VALID = 1 << 2;
export const VG_SC_STR0_RESOLVED = 1 << 3;
export const VG_SC_STR0_JOINED = 1 << 4;
export const VG_SC_ROOT_HOST_FS = 1 << 8;

/** enum vg_file_op */
export const FILE_OPS = ['unspecified', 'open', 'rename', 'link', 'symlink', 'unlink'] as const;

export const VG_FILE_WRITE = 1 << 0;
export const VG_FILE_CREATE = 1 << 1;
export const VG_FILE_PATH_RESOLVED = 1 << 2;
export const VG_FILE_PATH_TRUNCATED = 1 << 3;
export const VG_FILE_MATCH_PATH = 1 << 4;
export const VG_FILE_MATCH_DEST = 1 << 5;
export const VG_FILE_CREATED = 1 << 6;
export const VG_FILE_FS_PATH = 1 << 8;
export const VG_FILE_HOST_MOUNT = 1 << 9;
export const VG_FILE_MATCH_IDENT = 1 << 10;
export const VG_FILE_RAW = 1 << 11;

export const VG_CONN_PATH_RESOLVED = 1 << 0;

export const VG_CGROUP_PATH_TRUNCATED = 1 << 0;

export const VG_ENF_KILL = 1 << 0;
export const VG_ENF_CONTAINERS_ONLY = 1 << 1;
export const VG_ENF_SPOIL = 1 << 2;
/** enum vg_enf_spoil */
export const ENF_SPOILS = ['none', 'byte0', 'bpf_attr'] as const;

// common.h
export const vg_header = struct('vg_header', [
  ['kind', 'u16'],
  ['size', 'u16'],
  ['vpid', 'u32'],
  ['ktime_ns', 'u64'],
  ['pid', 'u32'],
  ['tid', 'u32'],
  ['ppid', 'u32'],
  ['uid', 'u32'],
  ['gid', 'u32'],
  ['loginuid', 'u32'],
  ['cgroup_id', 'u64'],
  ['ns', ['u32', VG_NS_COUNT]],
  ['_pad0', 'u32'],
  ['comm', ['char', VG_TASK_COMM_LEN]],
]);

export const vg_creds = struct('vg_creds', [
  ['uid', 'u32'],
  ['euid', 'u32'],
  ['suid', 'u32'],
  ['fsuid', 'u32'],
  ['gid', 'u32'],
  ['egid', 'u32'],
  ['sgid', 'u32'],
  ['fsgid', 'u32'],
  ['cap_effective', 'u64'],
  ['cap_permitted', 'u64'],
  ['cap_inheritable', 'u64'],
]);

export const vg_counters = struct('vg_counters', [
  ['emitted', ['u64', VG_KIND_MAX]],
  ['dropped', ['u64', VG_KIND_MAX]],
  ['shed', ['u64', VG_KIND_MAX]],
  ['coalesced', ['u64', VG_KIND_MAX]],
]);

export const vg_config = struct('vg_config', [
  ['flags', 'u32'],
  ['watch_gen', 'u32'],
  ['traversal_id', 'u32'],
  ['proclink_id', 'u32'],
]);

export const vg_watch_suffix_key = struct('vg_watch_suffix_key', [
  ['prefixlen', 'u32'],
  ['rev', ['char', VG_NAME_MAX]],
]);

export const vg_watch_prefix_key = struct('vg_watch_prefix_key', [
  ['prefixlen', 'u32'],
  ['path', ['char', VG_WATCH_PATH_MAX]],
]);

export const vg_watch_value = struct('vg_watch_value', [
  ['flags', 'u32'],
  ['id', 'u32'],
]);

export const vg_watch_name_key = struct('vg_watch_name_key', [['name', ['char', VG_NAME_MAX]]]);

export const vg_watch_ident_key = struct('vg_watch_ident_key', [
  ['prefixlen', 'u32'],
  ['magic', 'u32'],
  ['path', ['char', VG_IDENT_PATH_MAX]],
]);

export const vg_watch_ident_name_key = struct('vg_watch_ident_name_key', [
  ['magic', 'u32'],
  ['name', ['char', VG_NAME_MAX]],
]);

// process.h
export const vg_exec = struct('vg_exec', [
  ['hdr', vg_header],
  ['retval', 's32'],
  ['flags', 'u32'],
  ['creds', vg_creds],
  ['exe_ino', 'u64'],
  ['exe_dev', 'u32'],
  ['path_len', 'u16'],
  ['args_len', 'u16'],
  ['argc', 'u16'],
  ['_pad0', 'u16'],
  ['stdio', ['u8', 4]],
]);

export const vg_fork = struct('vg_fork', [
  ['hdr', vg_header],
  ['child_pid', 'u32'],
  ['child_vpid', 'u32'],
  ['clone_flags', 'u64'],
]);

export const vg_exit = struct('vg_exit', [
  ['hdr', vg_header],
  ['exit_code', 's32'],
  ['signal', 'u32'],
  ['core_dumped', 'u32'],
  ['_pad0', 'u32'],
]);

// syscalls.h
export const vg_ns_change = struct('vg_ns_change', [
  ['hdr', vg_header],
  ['syscall_nr', 'u32'],
  ['retval', 's32'],
  ['flags', 'u64'],
  ['changed', 'u32'],
  ['child_pid', 'u32'],
  ['old_ns', ['u32', VG_NS_COUNT]],
  ['new_ns', ['u32', VG_NS_COUNT]],
]);

export const vg_cred_change = struct('vg_cred_change', [
  ['hdr', vg_header],
  ['syscall_nr', 'u32'],
  ['retval', 's32'],
  ['old_creds', vg_creds],
  ['new_creds', vg_creds],
]);

export const vg_syscall = struct('vg_syscall', [
  ['hdr', vg_header],
  ['nr', 'u32'],
  ['flags', 'u32'],
  ['retval', 's64'],
  ['args', ['u64', 6]],
  ['target_pid', 'u32'],
  ['target_pid_ns', 'u32'],
  ['target_cgroup_id', 'u64'],
  ['target_ns_type', 'u32'],
  ['target_ns_ino', 'u32'],
  ['detail', 'u32'],
  ['str_len', ['u16', 3]],
  ['_pad0', 'u16'],
  ['_pad1', 'u32'],
]);

export const vg_file = struct('vg_file', [
  ['hdr', vg_header],
  ['nr', 'u32'],
  ['retval', 's32'],
  ['op', 'u32'],
  ['open_flags', 'u32'],
  ['mode', 'u32'],
  ['flags', 'u32'],
  ['watch_id', 'u32'],
  ['dev', 'u32'],
  ['ino', 'u64'],
  ['path_len', 'u16'],
  ['dest_len', 'u16'],
  ['fs_magic', 'u32'],
  ['fs_path_len', 'u16'],
  ['raw_len', 'u16'],
  ['repeats', 'u32'],
]);

export const vg_connect = struct('vg_connect', [
  ['hdr', vg_header],
  ['nr', 'u32'],
  ['retval', 's32'],
  ['family', 'u16'],
  ['port', 'u16'],
  ['flags', 'u32'],
  ['addr', ['u8', 16]],
  ['watch_id', 'u32'],
  ['path_len', 'u16'],
  ['_pad0', 'u16'],
]);

// cgroup.h
export const vg_cgroup = struct('vg_cgroup', [
  ['hdr', vg_header],
  ['cgroup_id', 'u64'],
  ['hierarchy_id', 'u32'],
  ['level', 'u32'],
  ['path_len', 'u16'],
  ['flags', 'u16'],
  ['_pad0', 'u32'],
]);

// enforce.h
export const vg_enforce_entry = struct('vg_enforce_entry', [
  ['flags', 'u32'],
  ['spoil', 'u8'],
  ['spoil_arg', 'u8'],
  ['_pad0', 'u16'],
]);

export const vg_enforce_counters = struct('vg_enforce_counters', [
  ['signalled', 'u64'],
  ['signal_failed', 'u64'],
  ['spoiled', 'u64'],
  ['spoil_failed', 'u64'],
]);

export const vg_enforce = struct('vg_enforce', [
  ['hdr', vg_header],
  ['nr', 'u32'],
  ['flags', 'u32'],
  ['signal_ret', 's32'],
  ['spoil_ret', 's32'],
  ['spoil', 'u8'],
  ['spoil_arg', 'u8'],
  ['_pad0', 'u16'],
  ['_pad1', 'u32'],
  ['args', ['u64', 6]],
]);

/** Every struct of the headers, by C name. */
export const LAYOUTS: Readonly<Record<string, StructLayout>> = Object.freeze(
  Object.fromEntries(
    [
      vg_header,
      vg_creds,
      vg_counters,
      vg_config,
      vg_watch_prefix_key,
      vg_watch_value,
      vg_watch_ident_key,
      vg_watch_ident_name_key,
      vg_watch_suffix_key,
      vg_watch_name_key,
      vg_exec,
      vg_fork,
      vg_exit,
      vg_ns_change,
      vg_cred_change,
      vg_syscall,
      vg_file,
      vg_connect,
      vg_cgroup,
      vg_enforce_entry,
      vg_enforce_counters,
      vg_enforce,
    ].map((s) => [s.name, s]),
  ),
);

/** The fixed struct of each record kind (variable bytes, if any, follow it). */
export const RECORD_LAYOUTS: Readonly<Record<number, StructLayout>> = Object.freeze({
  [Kind.EXEC]: vg_exec,
  [Kind.FORK]: vg_fork,
  [Kind.EXIT]: vg_exit,
  [Kind.NS_CHANGE]: vg_ns_change,
  [Kind.CRED_CHANGE]: vg_cred_change,
  [Kind.SYSCALL]: vg_syscall,
  [Kind.FILE]: vg_file,
  [Kind.CONNECT]: vg_connect,
  [Kind.CGROUP_MKDIR]: vg_cgroup,
  [Kind.CGROUP_RMDIR]: vg_cgroup,
  [Kind.ENFORCE]: vg_enforce,
});

/** Absolute offset of a field of a struct nested at `base`. */
export function at(base: number, s: StructLayout, field: string): number {
  const f = s.fields[field];
  if (!f) throw new Error(`${s.name} has no field ${field}`);
  return base + f.offset;
}

/** Records start 8-byte aligned: the next record begins at size rounded up to 8. */
export function alignRecord(size: number): number {
  return (size + 7) & ~7;
}
