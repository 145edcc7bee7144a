// Per-call decoding of syscall records: a table keyed by system-call name. Each entry reads the raw
// arguments and the string slots of one vg_syscall record into the fields docs/events.md lists.
//
// String slots (vg_syscall.str_len[0..2], the bytes after the fixed part), by call:
//   mount: source, target, fstype      umount2: target          pivot_root: new_root, put_old
//   chroot: path                       init_module: params      finit_module: module path (from the
//   delete_module: name                memfd_create: name         fd, VG_SC_STR0_RESOLVED), params
//   mknod, mknodat: path
//   chmod, fchmodat, fchmodat2, mkdir, mkdirat: path (the dirfd's or cwd's resolved path joined
//                                      with the argument, VG_SC_STR0_JOINED)
//   fchmod: path of the fd (VG_SC_STR0_RESOLVED)
import type { SyscallDetails } from './events.js';
import { VG_SC_NS_TARGET_VALID, VG_SC_ROOT_HOST_FS, VG_SC_STR0_RESOLVED, VG_SC_STR_TRUNCATED, VG_SC_TARGET_VALID } from './layout.js';
import {
  BPF_MAP_CREATE,
  BPF_PROG_LOAD,
  bpfCmdName,
  decodeDev,
  fileTypeName,
  familyName,
  hex,
  memfdFlagNames,
  modeBitNames,
  socketDomainName,
  socketTypeName,
  mountFlagNames,
  mountFlags,
  nsTypeName,
  ptraceRequestName,
} from './names.js';
import type { Arch } from './syscalls.js';

/** What a per-call decoder may read of a vg_syscall record. */
export interface SyscallRecord {
  name: string;
  arch: Arch;
  /** VG_SC_* */
  flags: number;
  /** Argument i as an unsigned number (exact below 2^53). */
  arg(i: number): number;
  /** Low 32 bits of argument i, signed (ints and fds: AT_FDCWD is -100). */
  argS32(i: number): number;
  /** Low 32 bits of argument i, unsigned. */
  argU32(i: number): number;
  argHex(i: number): string;
  /** The three string slots ("" when empty). */
  strs: readonly string[];
  /** Active pid namespace of the caller (hdr.ns[pid]). */
  callerPidNs: number;
  targetPid: number;
  targetPidNs: number;
  targetCgroupId: number;
  targetNsType: number;
  targetNsIno: number;
  detail: number;
}

type Detailer = (r: SyscallRecord, out: SyscallDetails) => void;

function mknod(r: SyscallRecord, out: SyscallDetails, modeArg: number): void {
  const mode = r.argU32(modeArg);
  const { major, minor } = decodeDev(r.argU32(modeArg + 1));
  out.path = r.strs[0]!;
  out.mode = '0' + (mode & 0o7777).toString(8);
  out.file_type = fileTypeName(mode);
  out.dev_major = major;
  out.dev_minor = minor;
}

function chmod(r: SyscallRecord, out: SyscallDetails, modeArg: number): void {
  const mode = r.argU32(modeArg) & 0o7777;
  out.path = r.strs[0]!;
  out.mode = '0' + mode.toString(8);
  out.mode_names = modeBitNames(mode);
}

function dup(r: SyscallRecord, out: SyscallDetails): void {
  out.fd = r.argS32(0);
  if (r.name !== 'dup') out.new_fd = r.argS32(1);
  out.sock_family = familyName(r.detail);
}

/** The setuid family: which argument is the (effective) id asked for. */
const CRED_ARG: ReadonlyArray<[string, 'new_uid' | 'new_gid', number]> = [
  ['setuid', 'new_uid', 0],
  ['setreuid', 'new_uid', 1],
  ['setresuid', 'new_uid', 1],
  ['setfsuid', 'new_uid', 0],
  ['setgid', 'new_gid', 0],
  ['setregid', 'new_gid', 1],
  ['setresgid', 'new_gid', 1],
  ['setfsgid', 'new_gid', 0],
];

const DETAILERS: ReadonlyMap<string, Detailer> = new Map<string, Detailer>([
  ...CRED_ARG.map(([name, key, arg]): [string, Detailer] => [name, (r, o) => void (o[key] = r.argU32(arg))]),
  [
    'socket',
    (r, o) => {
      o.socket_domain = socketDomainName(r.argU32(0));
      o.socket_type = socketTypeName(r.argU32(1));
      o.socket_protocol = r.argU32(2);
    },
  ],
  ['dup', dup],
  ['dup2', dup],
  ['dup3', dup],
  ['chmod', (r, o) => chmod(r, o, 1)],
  [
    'fchmod',
    (r, o) => {
      o.fd = r.argS32(0);
      chmod(r, o, 1);
    },
  ],
  ['fchmodat', (r, o) => chmod(r, o, 2)],
  ['fchmodat2', (r, o) => chmod(r, o, 2)],
  ['mkdir', (r, o) => void ((o.path = r.strs[0]!), (o.mode = '0' + (r.argU32(1) & 0o7777).toString(8)))],
  ['mkdirat', (r, o) => void ((o.path = r.strs[0]!), (o.mode = '0' + (r.argU32(2) & 0o7777).toString(8)))],
  [
    'mount',
    (r, o) => {
      o.source = r.strs[0]!;
      o.target = r.strs[1]!;
      o.fstype = r.strs[2]!;
      const flags = mountFlags(r.argU32(3));
      o.mount_flags = hex(flags);
      o.mount_flag_names = mountFlagNames(flags);
    },
  ],
  [
    'umount2',
    (r, o) => {
      o.target = r.strs[0]!;
      o.umount_flags = r.argU32(1);
    },
  ],
  [
    'pivot_root',
    (r, o) => {
      o.new_root = r.strs[0]!;
      o.put_old = r.strs[1]!;
      o.root_host_fs = (r.flags & VG_SC_ROOT_HOST_FS) !== 0;
    },
  ],
  [
    'chroot',
    (r, o) => {
      o.path = r.strs[0]!;
      o.root_host_fs = (r.flags & VG_SC_ROOT_HOST_FS) !== 0;
    },
  ],
  [
    'init_module',
    (r, o) => {
      o.module_len = r.arg(1);
      o.module_params = r.strs[0]!;
    },
  ],
  [
    'finit_module',
    (r, o) => {
      o.fd = r.argS32(0);
      o.module_path = r.strs[0]!;
      o.module_params = r.strs[1]!;
      o.module_flags = r.argU32(2);
    },
  ],
  ['delete_module', (r, o) => void (o.module_name = r.strs[0]!)],
  [
    'bpf',
    (r, o) => {
      const cmd = r.argU32(0);
      o.bpf_cmd = bpfCmdName(cmd);
      if (cmd === BPF_PROG_LOAD) o.bpf_prog_type = r.detail;
      else if (cmd === BPF_MAP_CREATE) o.bpf_map_type = r.detail;
    },
  ],
  [
    'ptrace',
    (r, o) => {
      o.ptrace_request = ptraceRequestName(r.argU32(0), r.arch);
      o.target_pid = r.argS32(1);
      if (r.flags & VG_SC_TARGET_VALID) {
        o.target_pid = r.targetPid;
        o.target_pid_ns = r.targetPidNs;
        o.target_cgroup_id = r.targetCgroupId;
        o.target_outside_pid_ns = r.targetPidNs !== r.callerPidNs;
      }
    },
  ],
  ['process_vm_writev', (r, o) => void (o.target_pid = r.argS32(0))],
  [
    'perf_event_open',
    (r, o) => {
      o.perf_type = r.detail;
      o.target_pid = r.argS32(1);
      o.cpu = r.argS32(2);
    },
  ],
  ['kexec_load', (r, o) => void (o.kexec_flags = r.arg(3))],
  ['kexec_file_load', (r, o) => void (o.kexec_flags = r.arg(4))],
  ['userfaultfd', (r, o) => void (o.uffd_flags = r.argU32(0))],
  ['io_uring_setup', (r, o) => void (o.io_uring_entries = r.argU32(0))],
  [
    'open_by_handle_at',
    (r, o) => {
      o.mount_fd = r.argS32(0);
      o.open_flags = hex(r.argU32(2));
      if (r.flags & VG_SC_STR0_RESOLVED) o.mount_path = r.strs[0]!;
    },
  ],
  [
    'memfd_create',
    (r, o) => {
      const flags = r.argU32(1);
      o.memfd_name = r.strs[0]!;
      o.memfd_flags = flags;
      o.memfd_flag_names = memfdFlagNames(flags);
    },
  ],
  ['mknod', (r, o) => mknod(r, o, 1)],
  ['mknodat', (r, o) => mknod(r, o, 2)],
  ['keyctl', (r, o) => void (o.keyctl_cmd = r.argS32(0))],
  [
    'setns',
    (r, o) => {
      o.fd = r.argS32(0);
      o.nstype = r.argU32(1);
      if (r.flags & VG_SC_NS_TARGET_VALID) {
        o.target_ns_type = nsTypeName(r.targetNsType) ?? `0x${r.targetNsType.toString(16)}`;
        o.target_ns_ino = r.targetNsIno;
      }
    },
  ],
]);

/** How a detail field reads in rules (docs/fields.md `evt.arg.<name>`): the rule language's types. */
export type DetailType = 'string' | 'number' | 'bool' | 'list';

/** The type of every per-call field: a field added to SyscallDetails fails the build until typed here. */
export const DETAIL_FIELD_TYPES: { readonly [K in keyof SyscallDetails]-?: DetailType } = {
  source: 'string',
  target: 'string',
  fstype: 'string',
  mount_flags: 'string',
  mount_flag_names: 'list',
  umount_flags: 'number',
  new_root: 'string',
  put_old: 'string',
  path: 'string',
  module_len: 'number',
  module_params: 'string',
  module_path: 'string',
  module_flags: 'number',
  module_name: 'string',
  bpf_cmd: 'string',
  bpf_prog_type: 'number',
  bpf_map_type: 'number',
  ptrace_request: 'string',
  target_pid: 'number',
  target_pid_ns: 'number',
  target_cgroup_id: 'number',
  target_outside_pid_ns: 'bool',
  perf_type: 'number',
  cpu: 'number',
  kexec_flags: 'number',
  uffd_flags: 'number',
  io_uring_entries: 'number',
  mount_fd: 'number',
  open_flags: 'string',
  memfd_name: 'string',
  memfd_flags: 'number',
  memfd_flag_names: 'list',
  mode: 'string',
  file_type: 'string',
  dev_major: 'number',
  dev_minor: 'number',
  keyctl_cmd: 'number',
  fd: 'number',
  nstype: 'number',
  target_ns_type: 'string',
  target_ns_ino: 'number',
  socket_domain: 'string',
  socket_type: 'string',
  socket_protocol: 'number',
  sock_family: 'string',
  new_fd: 'number',
  mode_names: 'list',
  new_uid: 'number',
  new_gid: 'number',
  str_truncated: 'bool',
  root_host_fs: 'bool',
  mount_path: 'string',
};

export type DetailField = keyof SyscallDetails;

/**
 * The per-call schema: for each call with a decoder above, the fields that decoder can fill (some
 * only when the record says so: ptrace's target_pid_ns, target_cgroup_id and target_outside_pid_ns
 * with VG_SC_TARGET_VALID, setns's target_ns_* with VG_SC_NS_TARGET_VALID, open_by_handle_at's
 * mount_path with VG_SC_STR0_RESOLVED, bpf's prog or map type by command). `str_truncated` is not
 * listed: any call's record may set it. The rule compiler takes from this which calls can carry an
 * `evt.arg.<name>` (daemon/detect/fields.ts); syscall-details.test.ts holds it against the decoders,
 * so a decoder that fills a field not listed here, or no longer fills one that is, fails the tests.
 */
export const SYSCALL_DETAIL_FIELDS: Readonly<Record<string, readonly DetailField[]>> = {
  ...Object.fromEntries(CRED_ARG.map(([name, key]) => [name, [key]])),
  socket: ['socket_domain', 'socket_type', 'socket_protocol'],
  dup: ['fd', 'sock_family'],
  dup2: ['fd', 'new_fd', 'sock_family'],
  dup3: ['fd', 'new_fd', 'sock_family'],
  chmod: ['path', 'mode', 'mode_names'],
  fchmod: ['fd', 'path', 'mode', 'mode_names'],
  fchmodat: ['path', 'mode', 'mode_names'],
  fchmodat2: ['path', 'mode', 'mode_names'],
  mkdir: ['path', 'mode'],
  mkdirat: ['path', 'mode'],
  mount: ['source', 'target', 'fstype', 'mount_flags', 'mount_flag_names'],
  umount2: ['target', 'umount_flags'],
  pivot_root: ['new_root', 'put_old', 'root_host_fs'],
  chroot: ['path', 'root_host_fs'],
  init_module: ['module_len', 'module_params'],
  finit_module: ['fd', 'module_path', 'module_params', 'module_flags'],
  delete_module: ['module_name'],
  bpf: ['bpf_cmd', 'bpf_prog_type', 'bpf_map_type'],
  ptrace: ['ptrace_request', 'target_pid', 'target_pid_ns', 'target_cgroup_id', 'target_outside_pid_ns'],
  process_vm_writev: ['target_pid'],
  perf_event_open: ['perf_type', 'target_pid', 'cpu'],
  kexec_load: ['kexec_flags'],
  kexec_file_load: ['kexec_flags'],
  userfaultfd: ['uffd_flags'],
  io_uring_setup: ['io_uring_entries'],
  open_by_handle_at: ['mount_fd', 'open_flags', 'mount_path'],
  memfd_create: ['memfd_name', 'memfd_flags', 'memfd_flag_names'],
  mknod: ['path', 'mode', 'file_type', 'dev_major', 'dev_minor'],
  mknodat: ['path', 'mode', 'file_type', 'dev_major', 'dev_minor'],
  keyctl: ['keyctl_cmd'],
  setns: ['fd', 'nstype', 'target_ns_type', 'target_ns_ino'],
};

/** Adds the per-call fields of `r` to `out` (nothing for calls without a decoder). */
export function decodeSyscallDetails(r: SyscallRecord, out: SyscallDetails): void {
  DETAILERS.get(r.name)?.(r, out);
  if (r.flags & VG_SC_STR_TRUNCATED) out.str_truncated = true;
}

/** Calls with a per-call decoder. */
export function detailedSyscalls(): string[] {
  return [...DETAILERS.keys()];
}
