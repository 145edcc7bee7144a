// System-call numbers per architecture: number -> name, and the default set of interesting calls
// with the probe handler (probes/syscalls.h enum vg_sc_handler) that treats each. User space owns
// the numbers; the probe stays architecture-neutral.
import type { SyscallEntry } from './native.js';

/** enum vg_sc_handler */
export const Handler = {
  IGNORE: 0,
  GENERIC: 1,
  EXECVE: 2,
  EXECVEAT: 3,
  CLONE: 4,
  CLONE3: 5,
  FORK: 6,
  UNSHARE: 7,
  SETNS: 8,
  MOUNT: 9,
  UMOUNT2: 10,
  PIVOT_ROOT: 11,
  CHROOT: 12,
  INIT_MODULE: 13,
  FINIT_MODULE: 14,
  DELETE_MODULE: 15,
  BPF: 16,
  PTRACE: 17,
  PERF_EVENT_OPEN: 18,
  MEMFD_CREATE: 19,
  MKNOD: 20,
  MKNODAT: 21,
  KEXEC_FILE_LOAD: 22,
  CRED: 23,
  OPEN: 24,
  OPENAT: 25,
  OPENAT2: 26,
  CREAT: 27,
  RENAME: 28,
  RENAMEAT: 29,
  LINK: 30,
  LINKAT: 31,
  SYMLINK: 32,
  SYMLINKAT: 33,
  UNLINK: 34,
  UNLINKAT: 35,
  CONNECT: 36,
  SOCKET: 37,
  DUP: 38,
  CHMOD: 39,
  FCHMOD: 40,
  FCHMODAT: 41,
  MKDIR: 42,
  MKDIRAT: 43,
  OPEN_BY_HANDLE: 48,
} as const;
export type HandlerName = keyof typeof Handler;

export type Arch = 'x86_64' | 'arm64';

/** Capture-file code of each architecture. */
export const ARCH_CODES: Readonly<Record<Arch, number>> = { x86_64: 1, arm64: 2 };

export function archFromCode(code: number): Arch | undefined {
  return code === 1 ? 'x86_64' : code === 2 ? 'arm64' : undefined;
}

/** The architecture this process runs on, or undefined when vigil has no syscall table for it. */
export function hostArch(): Arch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'arm64' : undefined;
}

// x86_64 names in number order (arch/x86/entry/syscalls/syscall_64.tbl, through kernel 6.18);
// "-" is an unused number, "~N" N unused numbers.
const X86_64_NAMES = `
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield
mremap msync mincore madvise shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm
setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind
listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork execve exit
wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo
times ptrace getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid
setreuid setregid getgroups setgroups setresuid getresuid setresgid getresgid getpgid setfsuid
setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend
sigaltstack utime mknod uselib personality ustat statfs fstatfs sysfs getpriority setpriority
sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall vhangup
modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex setrlimit chroot sync acct settimeofday
mount umount2 swapon swapoff reboot sethostname setdomainname iopl ioperm create_module
init_module delete_module get_kernel_syms query_module quotactl nfsservctl getpmsg putpmsg
afs_syscall tuxcall security gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr
fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex
sched_setaffinity sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit
io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old
remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64 timer_create
timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime
clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes vserver mbind
set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
mq_getsetattr kexec_load waitid add_key request_key keyctl ioprio_set ioprio_get inotify_init
inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat
newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll
unshare set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages utimensat
epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4
signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo
perf_event_open recvmmsg fanotify_init fanotify_mark prlimit64 name_to_handle_at
open_by_handle_at clock_adjtime syncfs sendmmsg setns getcpu process_vm_readv process_vm_writev
kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create
kexec_file_load bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2
pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq ~89 pidfd_send_signal io_uring_setup
io_uring_enter io_uring_register open_tree move_mount fsopen fsconfig fsmount fspick pidfd_open
clone3 close_range openat2 pidfd_getfd faccessat2 process_madvise epoll_pwait2 mount_setattr
quotactl_fd landlock_create_ruleset landlock_add_rule landlock_restrict_self memfd_secret
process_mrelease futex_waitv set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack
futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr lsm_set_self_attr
lsm_list_modules mseal setxattrat getxattrat listxattrat removexattrat open_tree_attr
file_getattr file_setattr`;

function expand(table: string): string[] {
  const out: string[] = [];
  for (const tok of table.split(/\s+/)) {
    if (tok === '') continue;
    if (tok.startsWith('~')) for (let i = Number(tok.slice(1)); i > 0; i--) out.push('');
    else out.push(tok === '-' ? '' : tok);
  }
  return out;
}

// The default interesting set: [name, x86_64 nr, arm64 nr (undefined: no such call there), handler].
// arm64 uses the generic table (asm-generic/unistd.h): no open, creat, fork, rename, link, ...
type Row = readonly [string, number, number | undefined, HandlerName];
const DEFAULT_ROWS: readonly Row[] = [
  ['execve', 59, 221, 'EXECVE'],
  ['execveat', 322, 281, 'EXECVEAT'],
  ['clone', 56, 220, 'CLONE'],
  ['clone3', 435, 435, 'CLONE3'],
  ['fork', 57, undefined, 'FORK'],
  ['vfork', 58, undefined, 'FORK'],
  ['unshare', 272, 97, 'UNSHARE'],
  ['setns', 308, 268, 'SETNS'],
  ['mount', 165, 40, 'MOUNT'],
  ['umount2', 166, 39, 'UMOUNT2'],
  ['pivot_root', 155, 41, 'PIVOT_ROOT'],
  ['chroot', 161, 51, 'CHROOT'],
  ['init_module', 175, 105, 'INIT_MODULE'],
  ['finit_module', 313, 273, 'FINIT_MODULE'],
  ['delete_module', 176, 106, 'DELETE_MODULE'],
  ['bpf', 321, 280, 'BPF'],
  ['ptrace', 101, 117, 'PTRACE'],
  ['process_vm_writev', 311, 271, 'GENERIC'],
  ['perf_event_open', 298, 241, 'PERF_EVENT_OPEN'],
  ['kexec_load', 246, 104, 'GENERIC'],
  ['kexec_file_load', 320, 294, 'KEXEC_FILE_LOAD'],
  ['userfaultfd', 323, 282, 'GENERIC'],
  ['open_by_handle_at', 304, 265, 'OPEN_BY_HANDLE'],
  ['io_uring_setup', 425, 425, 'GENERIC'],
  ['memfd_create', 319, 279, 'MEMFD_CREATE'],
  ['mknod', 133, undefined, 'MKNOD'],
  ['mknodat', 259, 33, 'MKNODAT'],
  ['keyctl', 250, 219, 'GENERIC'],
  ['capset', 126, 91, 'CRED'],
  ['setuid', 105, 146, 'CRED'],
  ['setgid', 106, 144, 'CRED'],
  ['setreuid', 113, 145, 'CRED'],
  ['setregid', 114, 143, 'CRED'],
  ['setresuid', 117, 147, 'CRED'],
  ['setresgid', 119, 149, 'CRED'],
  ['setfsuid', 122, 151, 'CRED'],
  ['setfsgid', 123, 152, 'CRED'],
  ['open', 2, undefined, 'OPEN'],
  ['openat', 257, 56, 'OPENAT'],
  ['openat2', 437, 437, 'OPENAT2'],
  ['creat', 85, undefined, 'CREAT'],
  ['rename', 82, undefined, 'RENAME'],
  ['renameat', 264, 38, 'RENAMEAT'],
  ['renameat2', 316, 276, 'RENAMEAT'],
  ['link', 86, undefined, 'LINK'],
  ['linkat', 265, 37, 'LINKAT'],
  ['symlink', 88, undefined, 'SYMLINK'],
  ['symlinkat', 266, 36, 'SYMLINKAT'],
  ['unlink', 87, undefined, 'UNLINK'],
  ['unlinkat', 263, 35, 'UNLINKAT'],
  ['connect', 42, 203, 'CONNECT'],
  ['socket', 41, 198, 'SOCKET'],
  ['dup', 32, 23, 'DUP'],
  ['dup2', 33, undefined, 'DUP'],
  ['dup3', 292, 24, 'DUP'],
  ['chmod', 90, undefined, 'CHMOD'],
  ['fchmod', 91, 52, 'FCHMOD'],
  ['fchmodat', 268, 53, 'FCHMODAT'],
  ['fchmodat2', 452, 452, 'FCHMODAT'],
  ['mkdir', 83, undefined, 'MKDIR'],
  ['mkdirat', 258, 34, 'MKDIRAT'],
];

export interface SyscallTable {
  arch: Arch;
  /** Name of a number, or undefined when unknown on this architecture. */
  name(nr: number): string | undefined;
  /** Number of a name, or undefined. */
  nr(name: string): number | undefined;
  /** The default interesting set: what the probe traces when nothing else is configured. */
  defaults(): SyscallEntry[];
}

function build(arch: Arch): SyscallTable {
  const names: string[] = [];
  if (arch === 'x86_64') names.push(...expand(X86_64_NAMES));
  const defaults: SyscallEntry[] = [];
  for (const [name, x86, arm, handler] of DEFAULT_ROWS) {
    const nr = arch === 'x86_64' ? x86 : arm;
    if (nr === undefined) continue;
    // The arm64 name list holds the interesting calls only (the rest decode as "syscall_<nr>").
    if (arch === 'arm64') names[nr] = name;
    else if (names[nr] !== name) throw new Error(`syscall table: ${name} is not ${nr} on x86_64`);
    defaults.push({ nr, handler: Handler[handler] });
  }
  const byName = new Map<string, number>();
  names.forEach((n, i) => n && byName.set(n, i));
  return {
    arch,
    name: (nr) => names[nr] || undefined,
    nr: (name) => byName.get(name),
    defaults: () => defaults.map((e) => ({ ...e })),
  };
}

const tables = new Map<Arch, SyscallTable>();

export function syscallTable(arch: Arch): SyscallTable {
  let t = tables.get(arch);
  if (!t) {
    t = build(arch);
    tables.set(arch, t);
  }
  return t;
}

/** The name to print for a number: the table's, or syscall_<nr> for one it does not know. */
export function syscallName(table: SyscallTable, nr: number): string {
  return table.name(nr) ?? `syscall_${nr}`;
}
