// Syscall tables, kernel-constant names and per-call decoding, table by table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Handler, syscallTable, syscallName } from './syscalls.js';
import {
  bpfCmdName,
  capabilityNames,
  cloneFlagNames,
  decodeDev,
  fileTypeName,
  formatAddress,
  memfdFlagNames,
  mountFlagNames,
  openFlagNames,
  ptraceRequestName,
} from './names.js';
import { decodeSyscallDetails, type SyscallRecord } from './syscall-details.js';
import type { SyscallDetails } from './events.js';
import { VG_SC_ROOT_HOST_FS, VG_SC_STR0_RESOLVED } from './layout.js';

test('x86_64 numbers and names', () => {
  const t = syscallTable('x86_64');
  const cases: Array<[number, string]> = [
    [0, 'read'],
    [2, 'open'],
    [42, 'connect'],
    [56, 'clone'],
    [59, 'execve'],
    [101, 'ptrace'],
    [165, 'mount'],
    [257, 'openat'],
    [272, 'unshare'],
    [308, 'setns'],
    [319, 'memfd_create'],
    [321, 'bpf'],
    [322, 'execveat'],
    [334, 'rseq'],
    [424, 'pidfd_send_signal'],
    [425, 'io_uring_setup'],
    [435, 'clone3'],
    [437, 'openat2'],
    [462, 'mseal'],
  ];
  for (const [nr, name] of cases) {
    assert.equal(t.name(nr), name, `nr ${nr}`);
    assert.equal(t.nr(name), nr, name);
  }
  assert.equal(t.name(400), undefined, 'unused numbers have no name');
  assert.equal(syscallName(t, 4000), 'syscall_4000');
});

test('default interesting sets: every handler of the brief, right numbers per architecture', () => {
  const x86 = new Map(
    syscallTable('x86_64')
      .defaults()
      .map((e) => [e.nr, e.handler]),
  );
  const want: Array<[number, number]> = [
    [59, Handler.EXECVE],
    [322, Handler.EXECVEAT],
    [56, Handler.CLONE],
    [435, Handler.CLONE3],
    [57, Handler.FORK],
    [58, Handler.FORK],
    [272, Handler.UNSHARE],
    [308, Handler.SETNS],
    [165, Handler.MOUNT],
    [166, Handler.UMOUNT2],
    [155, Handler.PIVOT_ROOT],
    [161, Handler.CHROOT],
    [175, Handler.INIT_MODULE],
    [313, Handler.FINIT_MODULE],
    [176, Handler.DELETE_MODULE],
    [321, Handler.BPF],
    [101, Handler.PTRACE],
    [311, Handler.GENERIC],
    [298, Handler.PERF_EVENT_OPEN],
    [246, Handler.GENERIC],
    [320, Handler.KEXEC_FILE_LOAD],
    [323, Handler.GENERIC],
    [304, Handler.OPEN_BY_HANDLE],
    [425, Handler.GENERIC],
    [319, Handler.MEMFD_CREATE],
    [133, Handler.MKNOD],
    [259, Handler.MKNODAT],
    [250, Handler.GENERIC],
    [126, Handler.CRED],
    [105, Handler.CRED],
    [106, Handler.CRED],
    [113, Handler.CRED],
    [114, Handler.CRED],
    [117, Handler.CRED],
    [119, Handler.CRED],
    [122, Handler.CRED],
    [123, Handler.CRED],
    [2, Handler.OPEN],
    [257, Handler.OPENAT],
    [437, Handler.OPENAT2],
    [85, Handler.CREAT],
    [82, Handler.RENAME],
    [264, Handler.RENAMEAT],
    [316, Handler.RENAMEAT],
    [86, Handler.LINK],
    [265, Handler.LINKAT],
    [88, Handler.SYMLINK],
    [266, Handler.SYMLINKAT],
    [87, Handler.UNLINK],
    [263, Handler.UNLINKAT],
    [42, Handler.CONNECT],
    [41, Handler.SOCKET],
    [32, Handler.DUP],
    [33, Handler.DUP],
    [292, Handler.DUP],
    [90, Handler.CHMOD],
    [91, Handler.FCHMOD],
    [268, Handler.FCHMODAT],
    [452, Handler.FCHMODAT],
    [83, Handler.MKDIR],
    [258, Handler.MKDIRAT],
  ];
  assert.equal(x86.size, want.length);
  for (const [nr, h] of want) assert.equal(x86.get(nr), h, `x86_64 nr ${nr}`);
  const arm = syscallTable('arm64');
  const armDefaults = new Map(arm.defaults().map((e) => [e.nr, e.handler]));
  assert.equal(armDefaults.get(221), Handler.EXECVE);
  assert.equal(armDefaults.get(56), Handler.OPENAT);
  assert.equal(armDefaults.get(203), Handler.CONNECT);
  assert.equal(armDefaults.get(198), Handler.SOCKET);
  assert.equal(armDefaults.get(24), Handler.DUP);
  assert.equal(armDefaults.get(53), Handler.FCHMODAT);
  assert.equal(armDefaults.get(34), Handler.MKDIRAT);
  assert.equal(arm.nr('chmod'), undefined, 'arm64 has no chmod(2)');
  assert.equal(arm.nr('open'), undefined, 'arm64 has no open(2)');
  for (const e of [...x86.entries(), ...armDefaults.entries()]) assert.ok(e[0] < 512 && e[1] > 0 && e[1] < 64);
});

test('flag and code names', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['clone flags, exit signal ignored', cloneFlagNames(0x20020011, true), ['CLONE_NEWNS', 'CLONE_NEWPID']],
    ['clone3/unshare NEWTIME', cloneFlagNames(0x80, false), ['CLONE_NEWTIME']],
    ['clone IO bit 31', cloneFlagNames(0x80000000, true), ['CLONE_IO']],
    ['mount magic dropped', mountFlagNames(0xc0ed0000 + 0x1000 + 0x4000), ['MS_BIND', 'MS_REC']],
    ['mount plain', mountFlagNames(0x6), ['MS_NOSUID', 'MS_NODEV']],
    ['ptrace attach', ptraceRequestName(16, 'x86_64'), 'PTRACE_ATTACH'],
    ['ptrace seize', ptraceRequestName(0x4206, 'x86_64'), 'PTRACE_SEIZE'],
    ['ptrace unknown', ptraceRequestName(99, 'x86_64'), 'PTRACE_99'],
    ['bpf prog load', bpfCmdName(5), 'BPF_PROG_LOAD'],
    ['bpf unknown', bpfCmdName(200), 'BPF_200'],
    ['memfd', memfdFlagNames(0x9), ['MFD_CLOEXEC', 'MFD_NOEXEC_SEAL']],
    ['file type char', fileTypeName(0o020644), 'char'],
    ['file type block', fileTypeName(0o060600), 'block'],
    ['file type fifo', fileTypeName(0o010600), 'fifo'],
    ['file type 0 is regular', fileTypeName(0o644), 'regular'],
    ['new_decode_dev 1:3', decodeDev((1 << 8) | 3), { major: 1, minor: 3 }],
    ['new_decode_dev 259:65536', decodeDev(((259 & 0xfff) << 8) | (65536 & 0xff) | ((65536 & ~0xff) << 12)), { major: 259, minor: 65536 }],
    ['open flags x86_64', openFlagNames(0o2101101, 'x86_64'), ['O_WRONLY', 'O_CREAT', 'O_TRUNC', 'O_CLOEXEC', 'O_LARGEFILE']],
    ['open flags arm64 O_DIRECTORY', openFlagNames(0o40000, 'arm64'), ['O_RDONLY', 'O_DIRECTORY']],
    ['caps empty', capabilityNames('0x0'), 'none'],
    ['caps all', capabilityNames('0x1ffffffffff'), 'ALL'],
    ['caps root without SYS_RESOURCE', capabilityNames('0x1fffeffffff'), 'ALL-SYS_RESOURCE'],
    ['caps few', capabilityNames('0x200000'), 'SYS_ADMIN'],
    ['ipv4', formatAddress(Buffer.from([127, 0, 0, 1]), 2), '127.0.0.1'],
    ['ipv6 loopback', formatAddress(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 10), '::1'],
    ['ipv4-mapped', formatAddress(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]), 10), '::ffff:1.2.3.4'],
  ];
  for (const [name, got, want] of cases) assert.deepEqual(got, want, name);
});

function rec(name: string, args: number[], strs: string[] = [], extra: Partial<SyscallRecord> = {}): SyscallRecord {
  return {
    name,
    arch: 'x86_64',
    flags: 0,
    arg: (i) => args[i] ?? 0,
    argS32: (i) => (args[i] ?? 0) | 0,
    argU32: (i) => (args[i] ?? 0) >>> 0,
    argHex: (i) => '0x' + (args[i] ?? 0).toString(16),
    strs: [...strs, '', '', ''].slice(0, 3),
    callerPidNs: 1,
    targetPid: 0,
    targetPidNs: 0,
    targetCgroupId: 0,
    targetNsType: 0,
    targetNsIno: 0,
    detail: 0,
    ...extra,
  };
}

test('per-call details', () => {
  const cases: Array<[string, SyscallRecord, SyscallDetails]> = [
    ['umount2', rec('umount2', [0, 2], ['/mnt']), { target: '/mnt', umount_flags: 2 }],
    ['pivot_root', rec('pivot_root', [], ['/new', '/new/old']), { new_root: '/new', put_old: '/new/old', root_host_fs: false }],
    ['chroot', rec('chroot', [], ['/jail']), { path: '/jail', root_host_fs: false }],
    ['chroot (into a host filesystem)', rec('chroot', [], ['/host'], { flags: VG_SC_ROOT_HOST_FS }), { path: '/host', root_host_fs: true }],
    ['init_module', rec('init_module', [0, 1234], ['debug=1']), { module_len: 1234, module_params: 'debug=1' }],
    [
      'finit_module',
      rec('finit_module', [3, 0, 2], ['/lib/modules/x.ko', 'a=1'], { flags: VG_SC_STR0_RESOLVED }),
      { fd: 3, module_path: '/lib/modules/x.ko', module_params: 'a=1', module_flags: 2 },
    ],
    ['delete_module', rec('delete_module', [], ['nf_tables']), { module_name: 'nf_tables' }],
    ['bpf map create', rec('bpf', [0], [], { detail: 2 }), { bpf_cmd: 'BPF_MAP_CREATE', bpf_map_type: 2 }],
    ['bpf prog load', rec('bpf', [5], [], { detail: 26 }), { bpf_cmd: 'BPF_PROG_LOAD', bpf_prog_type: 26 }],
    ['ptrace without kernel target', rec('ptrace', [0x4206, 77]), { ptrace_request: 'PTRACE_SEIZE', target_pid: 77 }],
    ['process_vm_writev', rec('process_vm_writev', [55]), { target_pid: 55 }],
    ['perf_event_open', rec('perf_event_open', [0, -1, 0], [], { detail: 1 }), { perf_type: 1, target_pid: -1, cpu: 0 }],
    ['kexec_load', rec('kexec_load', [0, 1, 0, 4]), { kexec_flags: 4 }],
    ['kexec_file_load', rec('kexec_file_load', [3, 4, 0, 0, 2]), { kexec_flags: 2 }],
    ['userfaultfd', rec('userfaultfd', [0x80801]), { uffd_flags: 0x80801 }],
    ['io_uring_setup', rec('io_uring_setup', [256]), { io_uring_entries: 256 }],
    ['open_by_handle_at', rec('open_by_handle_at', [5, 0, 2]), { mount_fd: 5, open_flags: '0x2' }],
    [
      'open_by_handle_at (mount fd resolved)',
      rec('open_by_handle_at', [5, 0, 0], ['/etc/hosts'], { flags: VG_SC_STR0_RESOLVED }),
      { mount_fd: 5, open_flags: '0x0', mount_path: '/etc/hosts' },
    ],
    [
      'mknod char 1:3',
      rec('mknod', [0, 0o020666, (1 << 8) | 3], ['/tmp/null']),
      { path: '/tmp/null', mode: '0666', file_type: 'char', dev_major: 1, dev_minor: 3 },
    ],
    ['mknodat block 8:0', rec('mknodat', [-100, 0, 0o060600, 8 << 8], ['sda']), { path: 'sda', mode: '0600', file_type: 'block', dev_major: 8, dev_minor: 0 }],
    ['keyctl', rec('keyctl', [29]), { keyctl_cmd: 29 }],
    ['setns without a namespace fd', rec('setns', [4, 0x40000000]), { fd: 4, nstype: 0x40000000 }],
    ['socket raw inet', rec('socket', [2, 3, 1]), { socket_domain: 'AF_INET', socket_type: 'SOCK_RAW', socket_protocol: 1 }],
    ['socket SOCK_PACKET', rec('socket', [17, 10, 0]), { socket_domain: 'AF_PACKET', socket_type: 'SOCK_PACKET', socket_protocol: 0 }],
    ['dup of an inet6 socket', rec('dup', [5], [], { detail: 10 }), { fd: 5, sock_family: 'inet6' }],
    ['dup3', rec('dup3', [4, 1, 0x80000], [], { detail: 2 }), { fd: 4, new_fd: 1, sock_family: 'inet' }],
    [
      'chmod +x',
      rec('chmod', [0, 0o755], ['/tmp/x']),
      { path: '/tmp/x', mode: '0755', mode_names: ['S_IRUSR', 'S_IWUSR', 'S_IXUSR', 'S_IRGRP', 'S_IXGRP', 'S_IROTH', 'S_IXOTH'] },
    ],
    [
      'fchmod g+s',
      rec('fchmod', [3, 0o2711], ['/usr/bin/x']),
      { fd: 3, path: '/usr/bin/x', mode: '02711', mode_names: ['S_ISGID', 'S_IRUSR', 'S_IWUSR', 'S_IXUSR', 'S_IXGRP', 'S_IXOTH'] },
    ],
    ['fchmodat2 file type bits dropped', rec('fchmodat2', [-100, 0, 0o100100], ['/x']), { path: '/x', mode: '0100', mode_names: ['S_IXUSR'] }],
    ['mkdir', rec('mkdir', [0, 0o755], ['/bin/.x']), { path: '/bin/.x', mode: '0755' }],
    ['mkdirat', rec('mkdirat', [-100, 0, 0o40700], ['/root/.cache']), { path: '/root/.cache', mode: '0700' }],
    ['setresuid asks for an effective uid', rec('setresuid', [-1, 0, -1]), { new_uid: 0 }],
    ['setgid', rec('setgid', [0]), { new_gid: 0 }],
    ['setfsuid', rec('setfsuid', [1000]), { new_uid: 1000 }],
    ['no decoder', rec('capset', [1, 2]), {}],
  ];
  for (const [name, r, want] of cases) {
    const out: SyscallDetails = {};
    decodeSyscallDetails(r, out);
    assert.deepEqual(out, want, name);
  }
});
