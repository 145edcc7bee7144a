// Names of kernel constants for decoded events: flag sets, request and command codes, capabilities.
// Tables only; the decoders pick what each event needs.
import type { Arch } from './syscalls.js';

export type FlagTable = ReadonlyArray<readonly [number, string]>;

/** Names of the bits set in `value` (a number below 2^53), in table order. Unknown bits are ignored. */
export function flagNames(value: number, table: FlagTable): string[] {
  const out: string[] = [];
  for (const [bit, name] of table) {
    // Bits above 2^31 do not fit the 32-bit bitwise operators.
    if (bit >= 0x80000000 ? Math.floor(value / bit) % 2 === 1 : (value & bit) !== 0) out.push(name);
  }
  return out;
}

/** 64-bit value as hex: "0x1ffffffffff". */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

/** include/uapi/linux/sched.h. The low byte of clone() flags is the exit signal, except CLONE_NEWTIME
 * for clone3 and unshare: callers say which they have. */
const CLONE_FLAGS: FlagTable = [
  [0x00000100, 'CLONE_VM'],
  [0x00000200, 'CLONE_FS'],
  [0x00000400, 'CLONE_FILES'],
  [0x00000800, 'CLONE_SIGHAND'],
  [0x00001000, 'CLONE_PIDFD'],
  [0x00002000, 'CLONE_PTRACE'],
  [0x00004000, 'CLONE_VFORK'],
  [0x00008000, 'CLONE_PARENT'],
  [0x00010000, 'CLONE_THREAD'],
  [0x00020000, 'CLONE_NEWNS'],
  [0x00040000, 'CLONE_SYSVSEM'],
  [0x00080000, 'CLONE_SETTLS'],
  [0x00100000, 'CLONE_PARENT_SETTID'],
  [0x00200000, 'CLONE_CHILD_CLEARTID'],
  [0x00400000, 'CLONE_DETACHED'],
  [0x00800000, 'CLONE_UNTRACED'],
  [0x01000000, 'CLONE_CHILD_SETTID'],
  [0x02000000, 'CLONE_NEWCGROUP'],
  [0x04000000, 'CLONE_NEWUTS'],
  [0x08000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'],
  [0x40000000, 'CLONE_NEWNET'],
  [0x80000000, 'CLONE_IO'],
  [0x100000000, 'CLONE_CLEAR_SIGHAND'],
  [0x200000000, 'CLONE_INTO_CGROUP'],
];
export const CLONE_NEWTIME = 0x80;

export function cloneFlagNames(flags: number, lowByteIsSignal: boolean): string[] {
  const names = flagNames(flags, CLONE_FLAGS);
  if (!lowByteIsSignal && (flags & CLONE_NEWTIME) !== 0) names.push('CLONE_NEWTIME');
  return names;
}

/** CLONE_NEW* type -> namespace name (setns nstype, the namespace behind an fd). */
const NS_TYPES: ReadonlyMap<number, string> = new Map([
  [0x00020000, 'mnt'],
  [0x02000000, 'cgroup'],
  [0x04000000, 'uts'],
  [0x08000000, 'ipc'],
  [0x10000000, 'user'],
  [0x20000000, 'pid'],
  [0x40000000, 'net'],
  [0x00000080, 'time'],
]);
export function nsTypeName(type: number): string | undefined {
  return NS_TYPES.get(type);
}

/** include/uapi/linux/mount.h MS_*. The old magic 0xC0ED in the high half is dropped by the caller. */
const MOUNT_FLAGS: FlagTable = [
  [1 << 0, 'MS_RDONLY'],
  [1 << 1, 'MS_NOSUID'],
  [1 << 2, 'MS_NODEV'],
  [1 << 3, 'MS_NOEXEC'],
  [1 << 4, 'MS_SYNCHRONOUS'],
  [1 << 5, 'MS_REMOUNT'],
  [1 << 6, 'MS_MANDLOCK'],
  [1 << 7, 'MS_DIRSYNC'],
  [1 << 8, 'MS_NOSYMFOLLOW'],
  [1 << 10, 'MS_NOATIME'],
  [1 << 11, 'MS_NODIRATIME'],
  [1 << 12, 'MS_BIND'],
  [1 << 13, 'MS_MOVE'],
  [1 << 14, 'MS_REC'],
  [1 << 15, 'MS_SILENT'],
  [1 << 16, 'MS_POSIXACL'],
  [1 << 17, 'MS_UNBINDABLE'],
  [1 << 18, 'MS_PRIVATE'],
  [1 << 19, 'MS_SLAVE'],
  [1 << 20, 'MS_SHARED'],
  [1 << 21, 'MS_RELATIME'],
  [1 << 22, 'MS_KERNMOUNT'],
  [1 << 23, 'MS_I_VERSION'],
  [1 << 24, 'MS_STRICTATIME'],
  [1 << 25, 'MS_LAZYTIME'],
];
const MS_MGC_MSK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;
/** mount(2) flags without the historic magic number in the high half. */
export function mountFlags(flags: number): number {
  return (flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? (flags & ~MS_MGC_MSK) >>> 0 : flags;
}
export function mountFlagNames(flags: number): string[] {
  return flagNames(mountFlags(flags), MOUNT_FLAGS);
}

/** include/uapi/linux/ptrace.h plus the x86 ones. */
const PTRACE_REQUESTS: ReadonlyMap<number, string> = new Map([
  [0, 'PTRACE_TRACEME'],
  [1, 'PTRACE_PEEKTEXT'],
  [2, 'PTRACE_PEEKDATA'],
  [3, 'PTRACE_PEEKUSR'],
  [4, 'PTRACE_POKETEXT'],
  [5, 'PTRACE_POKEDATA'],
  [6, 'PTRACE_POKEUSR'],
  [7, 'PTRACE_CONT'],
  [8, 'PTRACE_KILL'],
  [9, 'PTRACE_SINGLESTEP'],
  [12, 'PTRACE_GETREGS'],
  [13, 'PTRACE_SETREGS'],
  [14, 'PTRACE_GETFPREGS'],
  [15, 'PTRACE_SETFPREGS'],
  [16, 'PTRACE_ATTACH'],
  [17, 'PTRACE_DETACH'],
  [18, 'PTRACE_GETFPXREGS'],
  [19, 'PTRACE_SETFPXREGS'],
  [24, 'PTRACE_SYSCALL'],
  [25, 'PTRACE_GET_THREAD_AREA'],
  [26, 'PTRACE_SET_THREAD_AREA'],
  [30, 'PTRACE_ARCH_PRCTL'],
  [31, 'PTRACE_SYSEMU'],
  [32, 'PTRACE_SYSEMU_SINGLESTEP'],
  [33, 'PTRACE_SINGLEBLOCK'],
  [0x4200, 'PTRACE_SETOPTIONS'],
  [0x4201, 'PTRACE_GETEVENTMSG'],
  [0x4202, 'PTRACE_GETSIGINFO'],
  [0x4203, 'PTRACE_SETSIGINFO'],
  [0x4204, 'PTRACE_GETREGSET'],
  [0x4205, 'PTRACE_SETREGSET'],
  [0x4206, 'PTRACE_SEIZE'],
  [0x4207, 'PTRACE_INTERRUPT'],
  [0x4208, 'PTRACE_LISTEN'],
  [0x4209, 'PTRACE_PEEKSIGINFO'],
  [0x420a, 'PTRACE_GETSIGMASK'],
  [0x420b, 'PTRACE_SETSIGMASK'],
  [0x420c, 'PTRACE_SECCOMP_GET_FILTER'],
  [0x420d, 'PTRACE_SECCOMP_GET_METADATA'],
  [0x420e, 'PTRACE_GET_SYSCALL_INFO'],
  [0x420f, 'PTRACE_GET_RSEQ_CONFIGURATION'],
  [0x4210, 'PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG'],
  [0x4211, 'PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG'],
]);
export function ptraceRequestName(req: number, arch: Arch): string {
  // 12..19, 25, 26, 30..33 are x86 numbers; arm64 has none of them under these values.
  if (arch === 'arm64' && req >= 12 && req < 0x4200 && req !== 16 && req !== 17 && req !== 24) return `PTRACE_${req}`;
  return PTRACE_REQUESTS.get(req) ?? `PTRACE_${req}`;
}

/** enum bpf_cmd, include/uapi/linux/bpf.h. */
const BPF_CMDS = [
  'MAP_CREATE',
  'MAP_LOOKUP_ELEM',
  'MAP_UPDATE_ELEM',
  'MAP_DELETE_ELEM',
  'MAP_GET_NEXT_KEY',
  'PROG_LOAD',
  'OBJ_PIN',
  'OBJ_GET',
  'PROG_ATTACH',
  'PROG_DETACH',
  'PROG_TEST_RUN',
  'PROG_GET_NEXT_ID',
  'MAP_GET_NEXT_ID',
  'PROG_GET_FD_BY_ID',
  'MAP_GET_FD_BY_ID',
  'OBJ_GET_INFO_BY_FD',
  'PROG_QUERY',
  'RAW_TRACEPOINT_OPEN',
  'BTF_LOAD',
  'BTF_GET_FD_BY_ID',
  'TASK_FD_QUERY',
  'MAP_LOOKUP_AND_DELETE_ELEM',
  'MAP_FREEZE',
  'BTF_GET_NEXT_ID',
  'MAP_LOOKUP_BATCH',
  'MAP_LOOKUP_AND_DELETE_BATCH',
  'MAP_UPDATE_BATCH',
  'MAP_DELETE_BATCH',
  'LINK_CREATE',
  'LINK_UPDATE',
  'LINK_GET_FD_BY_ID',
  'LINK_GET_NEXT_ID',
  'ENABLE_STATS',
  'ITER_CREATE',
  'LINK_DETACH',
  'PROG_BIND_MAP',
  'TOKEN_CREATE',
  'PROG_STREAM_READ_BY_FD',
];
export const BPF_MAP_CREATE = 0;
export const BPF_PROG_LOAD = 5;
export function bpfCmdName(cmd: number): string {
  const n = BPF_CMDS[cmd];
  return n ? `BPF_${n}` : `BPF_${cmd}`;
}

/** include/uapi/linux/memfd.h */
const MEMFD_FLAGS: FlagTable = [
  [0x1, 'MFD_CLOEXEC'],
  [0x2, 'MFD_ALLOW_SEALING'],
  [0x4, 'MFD_HUGETLB'],
  [0x8, 'MFD_NOEXEC_SEAL'],
  [0x10, 'MFD_EXEC'],
];
export function memfdFlagNames(flags: number): string[] {
  return flagNames(flags, MEMFD_FLAGS);
}

const MODE_BITS: ReadonlyArray<[number, string]> = [
  [0o4000, 'S_ISUID'],
  [0o2000, 'S_ISGID'],
  [0o1000, 'S_ISVTX'],
  [0o400, 'S_IRUSR'],
  [0o200, 'S_IWUSR'],
  [0o100, 'S_IXUSR'],
  [0o40, 'S_IRGRP'],
  [0o20, 'S_IWGRP'],
  [0o10, 'S_IXGRP'],
  [0o4, 'S_IROTH'],
  [0o2, 'S_IWOTH'],
  [0o1, 'S_IXOTH'],
];
/** Permission bits of a mode by name, as Falco prints chmod's mode. */
export function modeBitNames(mode: number): string[] {
  return flagNames(mode & 0o7777, MODE_BITS);
}

/** Socket domain (AF_*) by number; AF_<n> for one not listed. */
const SOCKET_DOMAINS: ReadonlyMap<number, string> = new Map([
  [1, 'AF_UNIX'],
  [2, 'AF_INET'],
  [10, 'AF_INET6'],
  [16, 'AF_NETLINK'],
  [17, 'AF_PACKET'],
  [40, 'AF_VSOCK'],
  [44, 'AF_XDP'],
]);
export function socketDomainName(domain: number): string {
  return SOCKET_DOMAINS.get(domain) ?? `AF_${domain}`;
}

/** Socket type (SOCK_*) without the SOCK_NONBLOCK and SOCK_CLOEXEC flags. */
const SOCKET_TYPES = ['', 'SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_RAW', 'SOCK_RDM', 'SOCK_SEQPACKET', 'SOCK_DCCP'];
export function socketTypeName(type: number): string {
  const t = type & 0xf;
  if (t === 10) return 'SOCK_PACKET';
  return SOCKET_TYPES[t] || `SOCK_${t}`;
}

/** File type of a mode (S_IFMT bits); mknod with type 0 makes a regular file. */
export function fileTypeName(mode: number): string {
  switch (mode & 0o170000) {
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o100000:
    case 0:
      return 'regular';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'unknown';
  }
}

/** The kernel's new_decode_dev: a dev_t as user space passes it to mknod. */
export function decodeDev(dev: number): { major: number; minor: number } {
  return { major: (dev & 0xfff00) >>> 8, minor: ((dev & 0xff) | ((dev >>> 12) & 0xfff00)) >>> 0 };
}

/** open(2) flags; O_DIRECT, O_LARGEFILE, O_DIRECTORY and O_NOFOLLOW differ between x86_64 and arm64. */
const OPEN_FLAGS_COMMON: FlagTable = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o4000000, 'O_SYNC'],
  [0o10000000, 'O_PATH'],
  [0o20000000, 'O_TMPFILE'],
];
const OPEN_FLAGS_ARCH: Readonly<Record<Arch, FlagTable>> = {
  x86_64: [
    [0o40000, 'O_DIRECT'],
    [0o100000, 'O_LARGEFILE'],
    [0o200000, 'O_DIRECTORY'],
    [0o400000, 'O_NOFOLLOW'],
  ],
  arm64: [
    [0o40000, 'O_DIRECTORY'],
    [0o100000, 'O_NOFOLLOW'],
    [0o200000, 'O_DIRECT'],
    [0o400000, 'O_LARGEFILE'],
  ],
};
const ACCMODE = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];
// A host opens with a handful of distinct flag values; naming them once each spares every file
// event two arrays. Shared, hence frozen; bounded in case a caller sends garbage flags.
const openNameCache = new Map<string, readonly string[]>();
const OPEN_NAME_CACHE_MAX = 4096;

export function openFlagNames(flags: number, arch: Arch): string[] {
  const key = `${arch}:${flags}`;
  let names = openNameCache.get(key);
  if (!names) {
    names = Object.freeze([ACCMODE[flags & 3]!, ...flagNames(flags, OPEN_FLAGS_COMMON), ...flagNames(flags, OPEN_FLAGS_ARCH[arch])]);
    if (openNameCache.size >= OPEN_NAME_CACHE_MAX) openNameCache.clear();
    openNameCache.set(key, names);
  }
  return names as string[];
}

/** include/uapi/linux/capability.h, by bit number. */
export const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** Capability names of a hex set ("0x1ffffffffff"): "ALL" when every known one is set, "none" when empty. */
export function capabilityNames(hexSet: string): string {
  let v: bigint;
  try {
    v = BigInt(hexSet);
  } catch {
    return hexSet;
  }
  if (v === 0n) return 'none';
  const all = (1n << BigInt(CAPABILITIES.length)) - 1n;
  if ((v & all) === all) return 'ALL';
  const names: string[] = [];
  const missing: string[] = [];
  for (let i = 0; i < 64; i++) {
    const set = ((v >> BigInt(i)) & 1n) === 1n;
    if (set) names.push(CAPABILITIES[i] ?? `CAP_${i}`);
    else if (i < CAPABILITIES.length) missing.push(CAPABILITIES[i]!);
  }
  // Nearly full sets (root without one or two) read better as what they lack.
  if (missing.length <= 4 && names.length > missing.length)
    return `ALL-${missing.join(',')}${names.length > CAPABILITIES.length - missing.length ? `+${names.slice(CAPABILITIES.length - missing.length).join(',')}` : ''}`;
  return names.join(',');
}

/** Address families of connect records. */
export function familyName(family: number): string {
  return family === 1 ? 'unix' : family === 2 ? 'inet' : family === 10 ? 'inet6' : `af_${family}`;
}

/** An IPv4 or IPv6 address from its network-order bytes. */
export function formatAddress(bytes: Buffer, family: number): string {
  if (family === 2) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (family !== 10) return '';
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // IPv4-mapped: ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  // Longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = groups.map((g) => g.toString(16));
  if (best < 0) return h.join(':');
  return `${h.slice(0, best).join(':')}::${h.slice(best + bestLen).join(':')}`;
}

/** Filesystem types by superblock magic (include/uapi/linux/magic.h): what file identities name. */
export const FS_MAGICS: ReadonlyMap<string, number> = new Map([
  ['proc', 0x9fa0],
  ['sysfs', 0x62656572],
  ['cgroup', 0x27e0eb],
  ['cgroup2', 0x63677270],
  ['tmpfs', 0x01021994],
  ['devpts', 0x1cd1],
  ['mqueue', 0x19800202],
  ['binfmt_misc', 0x42494e4d],
  ['securityfs', 0x73636673],
  ['debugfs', 0x64626720],
  ['tracefs', 0x74726163],
  ['bpf', 0xcafe4a11],
  ['configfs', 0x62656570],
  ['nsfs', 0x6e736673],
  ['overlay', 0x794c7630],
  ['ext4', 0xef53],
  ['xfs', 0x58465342],
  ['btrfs', 0x9123683e],
  ['f2fs', 0xf2f52010],
  ['squashfs', 0x73717368],
  ['nfs', 0x6969],
  ['fuse', 0x65735546],
  ['zfs', 0x2fc12fc1],
  ['vfat', 0x4d44],
  ['pipefs', 0x50495045],
  ['sockfs', 0x534f434b],
  ['anon_inodefs', 0x09041934],
]);
const FS_NAMES = new Map([...FS_MAGICS].map(([k, v]) => [v, k]));

/** "proc", "ext4", ... or "0x<hex>" for a magic not in FS_MAGICS (ext2 and ext3 share ext4's). */
export function fsTypeName(magic: number): string {
  return FS_NAMES.get(magic) ?? `0x${magic.toString(16)}`;
}
