// The events the sensor produces, shaped exactly as docs/events.md describes their JSON: an event
// object is printed with JSON.stringify as it is. Numbers that may pass 2^53 are strings.
import type { EventKind, STDIO_CLASSES } from './layout.js';

export type { EventKind };

export interface NsSet {
  mnt: number;
  pid: number;
  net: number;
  user: number;
  uts: number;
  ipc: number;
  cgroup: number;
}

export interface Creds {
  uid: number;
  euid: number;
  suid: number;
  fsuid: number;
  gid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  /** hex */
  cap_effective: string;
  cap_permitted: string;
  cap_inheritable: string;
}

export interface Ancestor {
  pid: number;
  exe: string;
  comm: string;
  /** Arguments and real uid of the ancestor (set by the process table; optional for older captures). */
  args?: string[];
  uid?: number;
}

/** Process-table context of an event (when the table knows the process). */
export interface ProcInfo {
  exe: string;
  args: string[];
  cwd?: string;
  /** Parent first, then its parent, ... (bounded). */
  ancestors: Ancestor[];
}

/**
 * Container identity of an event (the `container` object of docs/events.md), set by the container
 * enricher. The same shape as ContainerRef of daemon/core/container.ts, spelled out here so the
 * sensor does not import a later stage.
 */
export interface EventContainer {
  id: string;
  name: string;
  runtime: string;
  image: string;
  pod?: string;
  namespace?: string;
}

/** Symbol-keyed (so JSON.stringify leaves it out): the record's kernel boot-time stamp in ns. */
export const KTIME: unique symbol = Symbol('vigil.ktime_ns');

/** Symbol-keyed too: the event's wall-clock time in unix ms, so consumers need not parse `time`. */
export const WALL_MS: unique symbol = Symbol('vigil.wall_ms');

export interface BaseEvent {
  kind: EventKind;
  time: string;
  pid: number;
  tid: number;
  ppid: number;
  vpid: number;
  uid: number;
  gid: number;
  loginuid: number;
  comm: string;
  cgroup_id: number;
  ns: NsSet;
  syscall?: string;
  proc?: ProcInfo;
  container?: EventContainer;
  /**
   * Set on events of a container runtime's own bootstrap process (runc init and its forks) inside a
   * container's cgroup: attributed to the container, never evaluated as the container's own actions.
   */
  runtime_setup?: true;
  [KTIME]: bigint;
  [WALL_MS]?: number;
}

export interface ExecEvent extends BaseEvent {
  kind: 'exec';
  retval: number;
  exe: string;
  args: string[];
  argc: number;
  args_truncated: boolean;
  path_truncated: boolean;
  fileless: boolean;
  setuid: boolean;
  setgid: boolean;
  filecaps: boolean;
  prior_creds_known: boolean;
  creds: Creds;
  exe_ino: number;
  exe_dev: number;
  /** The executable is on a host filesystem mounted into the container (not its own root filesystem). */
  exe_host_fs?: boolean;
  /** What fds 0, 1 and 2 were right after the exec (read in the kernel, so known after the process is gone). */
  stdio?: StdioClass[];
}

export type StdioClass = NonNullable<(typeof STDIO_CLASSES)[number]>;

export interface ForkEvent extends BaseEvent {
  kind: 'fork';
  child_pid: number;
  child_vpid: number;
  clone_flags: string;
  clone_flag_names: string[];
  /** Set by the process table: live processes of this cgroup it saw forked, the child included. */
  live_forked?: number;
}

export interface ExitEvent extends BaseEvent {
  kind: 'exit';
  exit_code: number;
  signal: number;
  core_dumped: boolean;
}

export interface NsChangeEvent extends BaseEvent {
  kind: 'ns_change';
  syscall: string;
  retval: number;
  flags: string;
  flag_names: string[];
  child_pid?: number;
  changed: string[];
  old_ns: NsSet;
  new_ns: NsSet;
}

export interface CredChangeEvent extends BaseEvent {
  kind: 'cred_change';
  syscall: string;
  retval: number;
  old_creds: Creds;
  new_creds: Creds;
}

/** Decoded per-call fields of a syscall event (docs/events.md lists which call has which). */
export interface SyscallDetails {
  source?: string;
  target?: string;
  fstype?: string;
  mount_flags?: string;
  mount_flag_names?: string[];
  umount_flags?: number;
  new_root?: string;
  put_old?: string;
  path?: string;
  module_len?: number;
  module_params?: string;
  module_path?: string;
  module_flags?: number;
  module_name?: string;
  bpf_cmd?: string;
  bpf_prog_type?: number;
  bpf_map_type?: number;
  ptrace_request?: string;
  target_pid?: number;
  target_pid_ns?: number;
  target_cgroup_id?: number;
  target_outside_pid_ns?: boolean;
  perf_type?: number;
  cpu?: number;
  kexec_flags?: number;
  uffd_flags?: number;
  io_uring_entries?: number;
  mount_fd?: number;
  open_flags?: string;
  memfd_name?: string;
  memfd_flags?: number;
  memfd_flag_names?: string[];
  mode?: string;
  file_type?: string;
  dev_major?: number;
  dev_minor?: number;
  keyctl_cmd?: number;
  fd?: number;
  nstype?: number;
  target_ns_type?: string;
  target_ns_ino?: number;
  /** socket: AF_* name of the domain, SOCK_* name of the type, the protocol number. */
  socket_domain?: string;
  socket_type?: string;
  socket_protocol?: number;
  /** dup family: the duplicated descriptor's socket family (inet, inet6; the probe sends no other). */
  sock_family?: string;
  /** dup2, dup3: the descriptor asked for. */
  new_fd?: number;
  /** chmod family: S_ISUID, S_ISGID, S_ISVTX and the S_I[RWX]{USR,GRP,OTH} bits of the mode. */
  mode_names?: string[];
  /** setuid family: the user or group id asked for (4294967295: unchanged). */
  new_uid?: number;
  new_gid?: number;
  /** Some string argument was longer than the probe copies. */
  str_truncated?: boolean;
  /** chroot, pivot_root: the new root is on a host filesystem mounted into the container. */
  root_host_fs?: boolean;
  /** open_by_handle_at: the kernel-resolved path of the mount fd (the filesystem the handle is decoded on). */
  mount_path?: string;
}

export interface SyscallEvent extends BaseEvent, SyscallDetails {
  kind: 'syscall';
  syscall: string;
  retval: number;
  /** The six raw arguments as decimal strings of their unsigned 64-bit values. */
  args: string[];
}

export interface FileEvent extends BaseEvent {
  kind: 'file';
  syscall: string;
  op: string;
  retval: number;
  path: string;
  dest?: string;
  path_resolved: boolean;
  path_truncated: boolean;
  open_flags?: string;
  open_flag_names?: string[];
  mode?: string;
  write: boolean;
  create: boolean;
  ino: number;
  dev: number;
  watch_id: number;
  matched: 'path' | 'dest' | 'both' | 'none';
  /** Opens: the identity watch table matched (the path within the file's filesystem, or its name there). */
  matched_identity?: boolean;
  /** Opens: the file's filesystem type (by superblock magic: proc, ext4, ...; `0x<hex>` when unknown). */
  fs_type?: string;
  /** Opens: the file's path within its own filesystem (from that filesystem's root, no mount crossed). */
  fs_path?: string;
  /** Opens: the file is on a host filesystem mounted into the process's container. */
  host_mount?: boolean;
  /** Opens of the traversal class: the path argument as written (it contains "../"). */
  path_raw?: string;
  /** Opens: identical opens the kernel coalesced since the last record of this one (probes/common.h
   * VG_COALESCE_WINDOW_NS); absent when none. */
  repeats?: number;
  /** The open created the file (the kernel said so). Unwatched paths come only when the new file is
   * hidden, executable or directly in /dev (matched 'none', watch_id 0). */
  created?: true;
}

export interface ConnectEvent extends BaseEvent {
  kind: 'connect';
  syscall: string;
  retval: number;
  family: string;
  path?: string;
  path_resolved: boolean;
  address?: string;
  port?: number;
  watch_id: number;
}

/** A cgroup directory was made or removed (any hierarchy; hierarchy_id 0 is v2). */
export interface CgroupEvent extends BaseEvent {
  kind: 'cgroup_mkdir' | 'cgroup_rmdir';
  /** The cgroup made or removed (for v2: the id other events carry in cgroup_id). */
  cgroup_id: number;
  /** cgroup v2 id of the task that made or removed it (the header's cgroup_id). */
  task_cgroup_id: number;
  hierarchy_id: number;
  level: number;
  /** Relative to the hierarchy's root, e.g. "/system.slice/docker-<id>.scope". */
  path: string;
  path_truncated: boolean;
}

/** The kernel stopped an enforced call (probes/enforce.bpf.c): SIGKILL sent at its entry and, where
 * it takes a user pointer, its argument spoiled so that it fails. */
export interface EnforceEvent extends BaseEvent {
  kind: 'enforce';
  syscall: string;
  /** The six raw arguments as decimal strings of their unsigned 64-bit values. */
  args: string[];
  /** The SIGKILL was sent (false: not asked for, or bpf_send_signal refused: see signal_ret). */
  signal_sent: boolean;
  signal_ret: number;
  /** The argument was spoiled, so the call fails instead of completing (see spoil_ret). */
  spoiled: boolean;
  /** bpf_probe_write_user's result: 0 spoiled, negative failed (read-only memory), 1 not attempted. */
  spoil_ret: number;
  /** How: none, byte0 (a zero byte at the argument), bpf_attr (the map or program type zeroed). */
  spoil: string;
  spoil_arg: number;
  /** Enforced only in containers (tasks outside the initial pid namespace). */
  containers_only: boolean;
}

export type VigilEvent =
  | ExecEvent
  | ForkEvent
  | ExitEvent
  | NsChangeEvent
  | CredChangeEvent
  | SyscallEvent
  | FileEvent
  | ConnectEvent
  | CgroupEvent
  | EnforceEvent;
