// Decoders: every kind round-trips every field from a record built with the layout; corrupt,
// truncated and random input is counted by reason and never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchDecoder, CORRUPT_REASONS, DECODERS, normalisePath, type DecodeContext } from './decode.js';
import { KTIME, WALL_MS, type VigilEvent } from './events.js';
import {
  Kind,
  RECORD_LAYOUTS,
  vg_header,
  VG_EXEC_FILELESS,
  VG_EXEC_SETUID,
  VG_EXEC_NO_PRIOR_CREDS,
  VG_EXEC_ARGS_TRUNCATED,
  VG_FILE_WRITE,
  VG_FILE_CREATE,
  VG_FILE_PATH_RESOLVED,
  VG_FILE_MATCH_PATH,
  VG_FILE_FS_PATH,
  VG_FILE_HOST_MOUNT,
  VG_FILE_MATCH_IDENT,
  VG_FILE_RAW,
  VG_FILE_MATCH_DEST,
  VG_CONN_PATH_RESOLVED,
  VG_SC_TARGET_VALID,
  VG_SC_NS_TARGET_VALID,
  VG_SC_STR_TRUNCATED,
  VG_SC_STR0_JOINED,
  VG_FILE_CREATED,
  VG_CGROUP_PATH_TRUNCATED,
  VG_ENF_KILL,
  VG_ENF_CONTAINERS_ONLY,
  VG_ENF_SPOIL,
} from './layout.js';
import { buildBatch, buildRecord, type HeaderInit } from '../../test/record-builder.js';
import { syscallTable } from './syscalls.js';
import { BootClock } from '../core/clock.js';

const ctx: DecodeContext = { clock: new BootClock(1_700_000_000_000_000_000n), syscalls: syscallTable('x86_64') };

const HDR: HeaderInit = {
  vpid: 7,
  ktime_ns: 5_000_000_123n,
  pid: 4242,
  tid: 4243,
  ppid: 4000,
  uid: 1000,
  gid: 1001,
  loginuid: 1000,
  cgroup_id: 123456789n,
  ns: [11, 12, 13, 14, 15, 16, 17],
  comm: 'bash',
};
const COMMON = {
  time: '2023-11-14T22:13:25.000000123Z',
  pid: 4242,
  tid: 4243,
  ppid: 4000,
  vpid: 7,
  uid: 1000,
  gid: 1001,
  loginuid: 1000,
  comm: 'bash',
  cgroup_id: 123456789,
  ns: { mnt: 11, pid: 12, net: 13, user: 14, uts: 15, ipc: 16, cgroup: 17 },
};
const CREDS_IN = {
  uid: 1,
  euid: 2,
  suid: 3,
  fsuid: 4,
  gid: 5,
  egid: 6,
  sgid: 7,
  fsgid: 8,
  cap_effective: 0x1ffffffffffn,
  cap_permitted: 0x3n,
  cap_inheritable: 0n,
};
const CREDS_OUT = {
  uid: 1,
  euid: 2,
  suid: 3,
  fsuid: 4,
  gid: 5,
  egid: 6,
  sgid: 7,
  fsgid: 8,
  cap_effective: '0x1ffffffffff',
  cap_permitted: '0x3',
  cap_inheritable: '0x0',
};

function bytes(...parts: string[]): Buffer {
  return Buffer.from(parts.join(''), 'utf8');
}

function decodeOne(rec: Buffer): VigilEvent {
  const d = new BatchDecoder(ctx);
  const out: VigilEvent[] = [];
  d.decodeBatch(rec, (e) => out.push(e));
  assert.equal(out.length, 1, `one event: ${JSON.stringify(d.counters)}`);
  return out[0]!;
}

/** [name, record, expected event (without the common fields)] */
const CASES: Array<[string, Buffer, Record<string, unknown>]> = [
  [
    'exec',
    buildRecord(
      Kind.EXEC,
      HDR,
      {
        retval: 0,
        flags: VG_EXEC_FILELESS | VG_EXEC_SETUID | VG_EXEC_ARGS_TRUNCATED,
        creds: CREDS_IN,
        exe_ino: 99n,
        exe_dev: 0x800001,
        path_len: 9,
        args_len: 15,
        argc: 3,
        stdio: [6, 7, 4, 0], // VG_STDIO_SOCKET_INET, _SOCKET_UNIX, _TTY
      },
      bytes('/bin/ls\0\0'.slice(0, 9), 'ls\0-la\0/tmp/x y\0'.slice(0, 15)),
    ),
    {
      kind: 'exec',
      retval: 0,
      exe: '/bin/ls',
      args: ['ls', '-la', '/tmp/x y'],
      argc: 3,
      args_truncated: true,
      path_truncated: false,
      fileless: true,
      setuid: true,
      setgid: false,
      filecaps: false,
      prior_creds_known: true,
      creds: CREDS_OUT,
      exe_ino: 99,
      exe_dev: 0x800001,
      exe_host_fs: false,
      stdio: ['inet', 'unix', 'tty'],
    },
  ],
  [
    'exec (failed, unknown prior creds)',
    buildRecord(Kind.EXEC, HDR, { retval: -2, flags: VG_EXEC_NO_PRIOR_CREDS, creds: CREDS_IN, path_len: 8, args_len: 0, argc: 0 }, bytes('./nope\0\0')),
    {
      kind: 'exec',
      retval: -2,
      exe: './nope',
      args: [],
      argc: 0,
      args_truncated: false,
      path_truncated: false,
      fileless: false,
      setuid: false,
      setgid: false,
      filecaps: false,
      prior_creds_known: false,
      creds: CREDS_OUT,
      exe_ino: 0,
      exe_dev: 0,
      exe_host_fs: false,
    },
  ],
  [
    'fork',
    buildRecord(Kind.FORK, HDR, { child_pid: 5000, child_vpid: 1, clone_flags: 0x20020011n }),
    { kind: 'fork', child_pid: 5000, child_vpid: 1, clone_flags: '0x20020011', clone_flag_names: ['CLONE_NEWNS', 'CLONE_NEWPID'] },
  ],
  [
    'fork (64-bit flags)',
    buildRecord(Kind.FORK, HDR, { child_pid: 5001, child_vpid: 5001, clone_flags: 0x200000000n | 0x100n }),
    { kind: 'fork', child_pid: 5001, child_vpid: 5001, clone_flags: '0x200000100', clone_flag_names: ['CLONE_VM', 'CLONE_INTO_CGROUP'] },
  ],
  ['exit', buildRecord(Kind.EXIT, HDR, { exit_code: 3, signal: 0, core_dumped: 0 }), { kind: 'exit', exit_code: 3, signal: 0, core_dumped: false }],
  [
    'exit (signal, core)',
    buildRecord(Kind.EXIT, HDR, { exit_code: 0, signal: 11, core_dumped: 1 }),
    { kind: 'exit', exit_code: 0, signal: 11, core_dumped: true },
  ],
  [
    'ns_change (unshare)',
    buildRecord(Kind.NS_CHANGE, HDR, {
      syscall_nr: 272,
      retval: 0,
      flags: 0x04020000n,
      changed: 0b10001,
      child_pid: 0,
      old_ns: [11, 12, 13, 14, 15, 16, 17],
      new_ns: [21, 12, 13, 14, 25, 16, 17],
    }),
    {
      kind: 'ns_change',
      syscall: 'unshare',
      retval: 0,
      flags: '0x4020000',
      flag_names: ['CLONE_NEWNS', 'CLONE_NEWUTS'],
      changed: ['mnt', 'uts'],
      old_ns: { mnt: 11, pid: 12, net: 13, user: 14, uts: 15, ipc: 16, cgroup: 17 },
      new_ns: { mnt: 21, pid: 12, net: 13, user: 14, uts: 25, ipc: 16, cgroup: 17 },
    },
  ],
  [
    'ns_change (clone, child)',
    buildRecord(Kind.NS_CHANGE, HDR, {
      syscall_nr: 56,
      retval: 5002,
      flags: 0x40000011n,
      changed: 0b100,
      child_pid: 5002,
      old_ns: [1, 2, 3, 4, 5, 6, 7],
      new_ns: [1, 2, 9, 4, 5, 6, 7],
    }),
    {
      kind: 'ns_change',
      syscall: 'clone',
      retval: 5002,
      flags: '0x40000011',
      flag_names: ['CLONE_NEWNET'],
      child_pid: 5002,
      changed: ['net'],
      old_ns: { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 },
      new_ns: { mnt: 1, pid: 2, net: 9, user: 4, uts: 5, ipc: 6, cgroup: 7 },
    },
  ],
  [
    'cred_change',
    buildRecord(Kind.CRED_CHANGE, HDR, { syscall_nr: 105, retval: 0, old_creds: CREDS_IN, new_creds: { ...CREDS_IN, uid: 65534, cap_effective: 0n } }),
    { kind: 'cred_change', syscall: 'setuid', retval: 0, old_creds: CREDS_OUT, new_creds: { ...CREDS_OUT, uid: 65534, cap_effective: '0x0' } },
  ],
  [
    'syscall (mount with strings)',
    buildRecord(
      Kind.SYSCALL,
      HDR,
      { nr: 165, flags: 0, retval: 0n, args: [1, 2, 3, (0xc0ed0000 | 0x2 | 0x4000) >>> 0, 5, 0xffffffffffffff9cn as unknown as number], str_len: [5, 4, 5] },
      bytes('tmpfs', '/mnt', 'tmpfs'),
    ),
    {
      kind: 'syscall',
      syscall: 'mount',
      retval: 0,
      args: ['1', '2', '3', String((0xc0ed0000 | 0x2 | 0x4000) >>> 0), '5', '18446744073709551516'],
      source: 'tmpfs',
      target: '/mnt',
      fstype: 'tmpfs',
      mount_flags: '0x4002',
      mount_flag_names: ['MS_NOSUID', 'MS_REC'],
    },
  ],
  [
    'syscall (ptrace attach seen by the kernel)',
    buildRecord(Kind.SYSCALL, HDR, {
      nr: 101,
      flags: VG_SC_TARGET_VALID,
      retval: -1n,
      args: [16, 777, 0, 0, 0, 0],
      target_pid: 777,
      target_pid_ns: 99,
      target_cgroup_id: 55n,
    }),
    {
      kind: 'syscall',
      syscall: 'ptrace',
      retval: -1,
      args: ['16', '777', '0', '0', '0', '0'],
      ptrace_request: 'PTRACE_ATTACH',
      target_pid: 777,
      target_pid_ns: 99,
      target_cgroup_id: 55,
      target_outside_pid_ns: true,
    },
  ],
  [
    'syscall (setns into a namespace fd)',
    buildRecord(Kind.SYSCALL, HDR, {
      nr: 308,
      flags: VG_SC_NS_TARGET_VALID,
      retval: 0n,
      args: [3, 0, 0, 0, 0, 0],
      target_ns_type: 0x20000,
      target_ns_ino: 4026531840,
    }),
    { kind: 'syscall', syscall: 'setns', retval: 0, args: ['3', '0', '0', '0', '0', '0'], fd: 3, nstype: 0, target_ns_type: 'mnt', target_ns_ino: 4026531840 },
  ],
  [
    'syscall (memfd_create, name cut)',
    buildRecord(Kind.SYSCALL, HDR, { nr: 319, flags: VG_SC_STR_TRUNCATED, retval: 3n, args: [0x1000, 3, 0, 0, 0, 0], str_len: [4, 0, 0] }, bytes('evil')),
    {
      kind: 'syscall',
      syscall: 'memfd_create',
      retval: 3,
      args: ['4096', '3', '0', '0', '0', '0'],
      memfd_name: 'evil',
      memfd_flags: 3,
      memfd_flag_names: ['MFD_CLOEXEC', 'MFD_ALLOW_SEALING'],
      str_truncated: true,
    },
  ],
  [
    'syscall (chmod u+s, the joined path normalised)',
    buildRecord(
      Kind.SYSCALL,
      HDR,
      { nr: 90, flags: VG_SC_STR0_JOINED, retval: 0n, args: [1, 0o4755, 0, 0, 0, 0], str_len: [17, 0, 0] },
      bytes('/tmp/a/../bin/./x'),
    ),
    {
      kind: 'syscall',
      syscall: 'chmod',
      retval: 0,
      args: ['1', String(0o4755), '0', '0', '0', '0'],
      path: '/tmp/bin/x',
      mode: '04755',
      mode_names: ['S_ISUID', 'S_IRUSR', 'S_IWUSR', 'S_IXUSR', 'S_IRGRP', 'S_IXGRP', 'S_IROTH', 'S_IXOTH'],
    },
  ],
  [
    'syscall (mkdirat of a hidden directory)',
    buildRecord(
      Kind.SYSCALL,
      HDR,
      { nr: 258, flags: VG_SC_STR0_JOINED, retval: 0n, args: [0xffffff9c, 1, 0o700, 0, 0, 0], str_len: [13, 0, 0] },
      bytes('/usr/bin/.hid'),
    ),
    { kind: 'syscall', syscall: 'mkdirat', retval: 0, args: [String(0xffffff9c), '1', String(0o700), '0', '0', '0'], path: '/usr/bin/.hid', mode: '0700' },
  ],
  [
    'syscall (packet socket)',
    buildRecord(Kind.SYSCALL, HDR, { nr: 41, retval: 3n, args: [17, 3 | 0x80000, 0x300, 0, 0, 0] }),
    {
      kind: 'syscall',
      syscall: 'socket',
      retval: 3,
      args: ['17', String(3 | 0x80000), String(0x300), '0', '0', '0'],
      socket_domain: 'AF_PACKET',
      socket_type: 'SOCK_RAW',
      socket_protocol: 0x300,
    },
  ],
  [
    'syscall (dup2 of an inet socket onto stdin)',
    buildRecord(Kind.SYSCALL, HDR, { nr: 33, retval: 0n, args: [3, 0, 0, 0, 0, 0], detail: 2 }),
    { kind: 'syscall', syscall: 'dup2', retval: 0, args: ['3', '0', '0', '0', '0', '0'], fd: 3, new_fd: 0, sock_family: 'inet' },
  ],
  [
    'syscall (refused setuid)',
    buildRecord(Kind.SYSCALL, HDR, { nr: 105, retval: -1n, args: [0, 0, 0, 0, 0, 0] }),
    { kind: 'syscall', syscall: 'setuid', retval: -1, args: ['0', '0', '0', '0', '0', '0'], new_uid: 0 },
  ],
  [
    'file (open, kernel-resolved)',
    buildRecord(
      Kind.FILE,
      HDR,
      {
        nr: 257,
        retval: 3,
        op: 1,
        open_flags: 0o1101,
        mode: 0o644,
        flags: VG_FILE_WRITE | VG_FILE_CREATE | VG_FILE_PATH_RESOLVED | VG_FILE_MATCH_PATH,
        watch_id: 11,
        dev: 2049,
        ino: 4242n,
        path_len: 11,
        dest_len: 0,
      },
      bytes('/etc/shadow'),
    ),
    {
      kind: 'file',
      syscall: 'openat',
      op: 'open',
      retval: 3,
      path: '/etc/shadow',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0x241',
      open_flag_names: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'],
      mode: '0644',
      write: true,
      create: true,
      ino: 4242,
      dev: 2049,
      watch_id: 11,
      matched: 'path',
    },
  ],
  [
    'file (open that carries the repeats the kernel coalesced since its last record)',
    buildRecord(
      Kind.FILE,
      HDR,
      { nr: 257, retval: 3, op: 1, flags: VG_FILE_PATH_RESOLVED | VG_FILE_MATCH_PATH, watch_id: 12, ino: 9n, path_len: 12, repeats: 48213 },
      bytes('/etc/sudoers'),
    ),
    {
      kind: 'file',
      syscall: 'openat',
      op: 'open',
      retval: 3,
      path: '/etc/sudoers',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0x0',
      open_flag_names: ['O_RDONLY'],
      mode: '00',
      write: false,
      create: false,
      ino: 9,
      dev: 0,
      watch_id: 12,
      matched: 'path',
      repeats: 48213,
    },
  ],
  [
    'file (open of a bind mount: identity on proc, matched by identity only)',
    buildRecord(
      Kind.FILE,
      HDR,
      {
        nr: 257,
        retval: 4,
        op: 1,
        open_flags: 0o1,
        flags: VG_FILE_WRITE | VG_FILE_PATH_RESOLVED | VG_FILE_FS_PATH | VG_FILE_MATCH_IDENT,
        watch_id: 20,
        dev: 22,
        ino: 7n,
        path_len: 9,
        dest_len: 0,
        fs_magic: 0x9fa0,
        fs_path_len: 24,
      },
      bytes('/tmp/hook', '/sys/kernel/core_pattern'),
    ),
    {
      kind: 'file',
      syscall: 'openat',
      op: 'open',
      retval: 4,
      path: '/tmp/hook',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0x1',
      open_flag_names: ['O_WRONLY'],
      mode: '00',
      write: true,
      create: false,
      ino: 7,
      dev: 22,
      watch_id: 20,
      matched: 'none',
      matched_identity: true,
      fs_type: 'proc',
      fs_path: '/sys/kernel/core_pattern',
      host_mount: false,
    },
  ],
  [
    'file (open on a host mount, unnamed filesystem magic)',
    buildRecord(
      Kind.FILE,
      HDR,
      {
        nr: 257,
        retval: 5,
        op: 1,
        flags: VG_FILE_PATH_RESOLVED | VG_FILE_FS_PATH | VG_FILE_HOST_MOUNT | VG_FILE_MATCH_IDENT,
        watch_id: 24,
        path_len: 16,
        dest_len: 0,
        fs_magic: 0x12345678,
        fs_path_len: 11,
      },
      bytes('/host-etc/shadow', '/etc/shadow'),
    ),
    {
      kind: 'file',
      syscall: 'openat',
      op: 'open',
      retval: 5,
      path: '/host-etc/shadow',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0x0',
      open_flag_names: ['O_RDONLY'],
      mode: '00',
      write: false,
      create: false,
      ino: 0,
      dev: 0,
      watch_id: 24,
      matched: 'none',
      matched_identity: true,
      fs_type: '0x12345678',
      fs_path: '/etc/shadow',
      host_mount: true,
    },
  ],
  [
    'file (open of the traversal class: the argument as written)',
    buildRecord(
      Kind.FILE,
      HDR,
      {
        nr: 2,
        retval: 3,
        op: 1,
        flags: VG_FILE_PATH_RESOLVED | VG_FILE_FS_PATH | VG_FILE_RAW,
        watch_id: 2001,
        path_len: 11,
        dest_len: 0,
        fs_magic: 0xef53,
        fs_path_len: 11,
        raw_len: 22,
      },
      bytes('/etc/passwd', '/etc/passwd', 'www/../../etc/passwd\0\0'.slice(0, 22)),
    ),
    {
      kind: 'file',
      syscall: 'open',
      op: 'open',
      retval: 3,
      path: '/etc/passwd',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0x0',
      open_flag_names: ['O_RDONLY'],
      mode: '00',
      write: false,
      create: false,
      ino: 0,
      dev: 0,
      watch_id: 2001,
      matched: 'none',
      matched_identity: false,
      fs_type: 'ext4',
      fs_path: '/etc/passwd',
      host_mount: false,
      path_raw: 'www/../../etc/passwd',
    },
  ],
  [
    'file (an unwatched executable the open created)',
    buildRecord(
      Kind.FILE,
      HDR,
      {
        nr: 257,
        retval: 4,
        op: 1,
        open_flags: 0o301,
        mode: 0o755,
        flags: VG_FILE_WRITE | VG_FILE_CREATE | VG_FILE_PATH_RESOLVED | VG_FILE_CREATED,
        watch_id: 0,
        dev: 35,
        ino: 77n,
        path_len: 8,
        dest_len: 0,
      },
      bytes('/tmp/drp'),
    ),
    {
      kind: 'file',
      syscall: 'openat',
      op: 'open',
      retval: 4,
      path: '/tmp/drp',
      path_resolved: true,
      path_truncated: false,
      open_flags: '0xc1',
      open_flag_names: ['O_WRONLY', 'O_CREAT', 'O_EXCL'],
      mode: '0755',
      write: true,
      create: true,
      ino: 77,
      dev: 35,
      watch_id: 0,
      matched: 'none',
      created: true,
    },
  ],
  [
    'file (rename, joined paths normalised)',
    buildRecord(
      Kind.FILE,
      HDR,
      { nr: 316, retval: 0, op: 2, flags: VG_FILE_MATCH_DEST, watch_id: 1, path_len: 14, dest_len: 31 },
      bytes('/tmp/./staging', '/sys/fs/cgroup/x/../release_agent'.slice(0, 31)),
    ),
    {
      kind: 'file',
      syscall: 'renameat2',
      op: 'rename',
      retval: 0,
      path: '/tmp/staging',
      dest: '/sys/fs/cgroup/release_age',
      path_resolved: false,
      path_truncated: false,
      mode: '00',
      write: false,
      create: false,
      ino: 0,
      dev: 0,
      watch_id: 1,
      matched: 'dest',
    },
  ],
  [
    'connect (unix)',
    buildRecord(
      Kind.CONNECT,
      HDR,
      { nr: 42, retval: 0, family: 1, port: 0, flags: VG_CONN_PATH_RESOLVED, watch_id: 4, path_len: 20 },
      bytes('/run/docker.sock\0\0\0\0'),
    ),
    { kind: 'connect', syscall: 'connect', retval: 0, family: 'unix', path: '/run/docker.sock', path_resolved: true, watch_id: 4 },
  ],
  [
    'connect (inet)',
    buildRecord(Kind.CONNECT, HDR, { nr: 42, retval: -111, family: 2, port: 443, addr: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }),
    { kind: 'connect', syscall: 'connect', retval: -111, family: 'inet', address: '10.0.0.1', port: 443, path_resolved: false, watch_id: 0 },
  ],
  [
    'connect (inet6)',
    buildRecord(Kind.CONNECT, HDR, { nr: 42, retval: 0, family: 10, port: 53, addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }),
    { kind: 'connect', syscall: 'connect', retval: 0, family: 'inet6', address: '2001:db8::1', port: 53, path_resolved: false, watch_id: 0 },
  ],
  [
    'cgroup_mkdir (v2)',
    buildRecord(
      Kind.CGROUP_MKDIR,
      HDR,
      { cgroup_id: 0x1_0000_0042n, hierarchy_id: 0, level: 2, path_len: 30 },
      bytes('/kubepods/burstable/crio-1.scope'.slice(0, 30)),
    ),
    {
      kind: 'cgroup_mkdir',
      cgroup_id: 0x1_0000_0042,
      task_cgroup_id: 123456789,
      hierarchy_id: 0,
      level: 2,
      path: '/kubepods/burstable/crio-1.sco',
      path_truncated: false,
    },
  ],
  [
    'cgroup_rmdir (v1, truncated)',
    buildRecord(Kind.CGROUP_RMDIR, HDR, { cgroup_id: 77n, hierarchy_id: 4, level: 1, path_len: 4, flags: VG_CGROUP_PATH_TRUNCATED }, bytes('/abc\0\0\0\0')),
    { kind: 'cgroup_rmdir', cgroup_id: 77, task_cgroup_id: 123456789, hierarchy_id: 4, level: 1, path: '/abc', path_truncated: true },
  ],
  [
    'enforce (mount: killed, target spoiled)',
    buildRecord(Kind.ENFORCE, HDR, {
      nr: 165,
      flags: VG_ENF_KILL | VG_ENF_CONTAINERS_ONLY | VG_ENF_SPOIL,
      signal_ret: 0,
      spoil_ret: 0,
      spoil: 1,
      spoil_arg: 1,
      args: [1, 2, 3, 0, 0, 0xffffffffffffffffn as unknown as number],
    }),
    {
      kind: 'enforce',
      syscall: 'mount',
      args: ['1', '2', '3', '0', '0', '18446744073709551615'],
      signal_sent: true,
      signal_ret: 0,
      spoiled: true,
      spoil_ret: 0,
      spoil: 'byte0',
      spoil_arg: 1,
      containers_only: true,
    },
  ],
  [
    'enforce (finit_module: killed, nothing to spoil; spoil of a read-only page failed)',
    buildRecord(Kind.ENFORCE, HDR, { nr: 313, flags: VG_ENF_KILL, signal_ret: 0, spoil_ret: -14, spoil: 0, spoil_arg: 0 }),
    {
      kind: 'enforce',
      syscall: 'finit_module',
      args: ['0', '0', '0', '0', '0', '0'],
      signal_sent: true,
      signal_ret: 0,
      spoiled: false,
      spoil_ret: -14,
      spoil: 'none',
      spoil_arg: 0,
      containers_only: false,
    },
  ],
];

for (const [name, rec, expected] of CASES) {
  test(`decode ${name}`, () => {
    const ev = decodeOne(rec);
    assert.deepEqual({ ...ev }, { ...COMMON, ...expected, [KTIME]: 5_000_000_123n, [WALL_MS]: ev[WALL_MS] });
    assert.equal(ev[KTIME], 5_000_000_123n);
    // The wall-clock ms agree with the formatted time.
    assert.ok(Math.abs(ev[WALL_MS]! - Date.parse(ev.time)) < 1, `${ev[WALL_MS]} vs ${ev.time}`);
    // JSON leaves out the symbol-keyed kernel time and keeps every documented field.
    assert.deepEqual(JSON.parse(JSON.stringify(ev)), JSON.parse(JSON.stringify({ ...COMMON, ...expected })));
  });
}

test('every record kind has a decoder and a case above', () => {
  const kinds = Object.keys(RECORD_LAYOUTS).map(Number);
  for (const k of kinds) assert.ok(DECODERS[k], `decoder for kind ${k}`);
  const covered = new Set(CASES.map(([, rec]) => rec.readUInt16LE(0)));
  assert.deepEqual([...covered].sort(), kinds.sort());
});

test('a batch of several records decodes in order; padding between records is skipped', () => {
  const batch = buildBatch(CASES.map(([, rec]) => rec));
  const d = new BatchDecoder(ctx);
  const kinds: string[] = [];
  assert.equal(
    d.decodeBatch(batch, (e) => kinds.push(e.kind)),
    CASES.length,
  );
  assert.deepEqual(
    kinds,
    CASES.map(([, , e]) => e.kind),
  );
  assert.equal(d.counters.records, CASES.length);
  assert.equal(
    Object.values(d.counters.corrupt).reduce((a, b) => a + b, 0),
    0,
  );
});

const good = buildRecord(Kind.EXIT, HDR, { exit_code: 1 });
/** [reason, batch, events still decoded] */
const CORRUPT: Array<[string, Buffer, number]> = [
  ['truncated_header', Buffer.concat([good, good.subarray(0, 40)]), 1],
  ['truncated_header', Buffer.concat([buildRecord(Kind.EXIT, { ...HDR, size: 12 }), good]), 0],
  ['beyond_batch', Buffer.concat([good, buildRecord(Kind.EXIT, { ...HDR, size: 4000 })]), 1],
  ['unknown_kind', Buffer.concat([buildRecord(0, { ...HDR, kind: 15, size: vg_header.size }), good]), 1],
  ['unknown_kind', Buffer.concat([buildRecord(0, { ...HDR, kind: 0, size: vg_header.size }), good]), 1],
  ['short_record', Buffer.concat([buildRecord(Kind.EXEC, { ...HDR, size: vg_header.size + 8 }).subarray(0, vg_header.size + 8), good]), 1],
  ['bad_lengths', Buffer.concat([buildRecord(Kind.EXEC, HDR, { path_len: 100, args_len: 0 }, Buffer.alloc(8)), good]), 1],
  ['bad_lengths', Buffer.concat([buildRecord(Kind.SYSCALL, HDR, { str_len: [1, 1, 65535] }), good]), 1],
  ['bad_lengths', Buffer.concat([buildRecord(Kind.FILE, HDR, { path_len: 1, dest_len: 1 }), good]), 1],
  ['bad_lengths', Buffer.concat([buildRecord(Kind.CONNECT, HDR, { path_len: 9 }, Buffer.alloc(8)), good]), 1],
];

for (const [reason, batch, events] of CORRUPT) {
  test(`corrupt record counted as ${reason}`, () => {
    const d = new BatchDecoder(ctx);
    const got: VigilEvent[] = [];
    d.decodeBatch(batch, (e) => got.push(e));
    assert.equal(got.length, events);
    for (const r of CORRUPT_REASONS) assert.equal(d.counters.corrupt[r], r === reason ? 1 : 0, `counter ${r}`);
  });
}

test('a decoder that throws is counted as decode_failed and reported once per call', () => {
  const d = new BatchDecoder({
    ...ctx,
    clock: {
      format: () => {
        throw new Error('boom');
      },
    } as unknown as BootClock,
  });
  const errors: unknown[] = [];
  d.onDecoderError = (err) => errors.push(err);
  assert.equal(
    d.decodeBatch(Buffer.concat([good, good]), () => assert.fail('no event')),
    0,
  );
  assert.equal(d.counters.corrupt.decode_failed, 2);
  assert.equal(errors.length, 2);
});

test('fuzz: random and mutated batches never throw, and every record is decoded or counted', () => {
  let seed = 0x5eed;
  const rand = (): number => {
    // xorshift32: reproducible
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const valid = buildBatch(CASES.map(([, rec]) => rec));
  const d = new BatchDecoder(ctx);
  let emitted = 0;
  for (let i = 0; i < 4000; i++) {
    let batch: Buffer;
    if (i % 2 === 0) {
      batch = Buffer.alloc(Math.floor(rand() * 2048));
      for (let j = 0; j < batch.length; j++) batch[j] = Math.floor(rand() * 256);
      // Give some records a plausible kind and size so the decoders themselves get random bytes.
      if (batch.length >= 4 && rand() < 0.7) {
        batch.writeUInt16LE(1 + Math.floor(rand() * 8), 0);
        batch.writeUInt16LE(Math.min(batch.length, 96 + Math.floor(rand() * 600)), 2);
      }
    } else {
      batch = Buffer.from(valid.subarray(0, Math.floor(rand() * valid.length)));
      for (let k = 0; k < 8; k++) batch[Math.floor(rand() * batch.length)] = Math.floor(rand() * 256);
    }
    const before = d.counters.records;
    const n = d.decodeBatch(batch, (ev) => {
      JSON.stringify(ev);
    });
    emitted += n;
    const skipped = Object.values(d.counters.corrupt).reduce((a, b) => a + b, 0);
    assert.ok(d.counters.records - before >= n);
    assert.equal(d.counters.records, emitted + skipped, 'every record looked at is either decoded or counted');
  }
  assert.equal(d.counters.corrupt.decode_failed, 0, 'no decoder threw on random bytes');
  assert.ok(emitted > 0 && Object.values(d.counters.corrupt).reduce((a, b) => a + b, 0) > 0);
});

test('normalisePath resolves "." and ".." lexically, never above /', () => {
  const cases: Array<[string, string]> = [
    ['/a/b/../c', '/a/c'],
    ['/a/./b', '/a/b'],
    ['/../..//etc/shadow', '/etc/shadow'],
    ['/sys/fs/cgroup/x/../release_agent', '/sys/fs/cgroup/release_agent'],
    ['/plain/path', '/plain/path'],
    ['rel/../x', 'x'],
    ['', ''],
  ];
  for (const [input, want] of cases) assert.equal(normalisePath(input), want, input);
});
