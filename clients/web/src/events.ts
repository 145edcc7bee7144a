// The key fields of a triggering event, per kind: what an operator checks first. A table keyed by the
// `detail` oneof member, typed against the generated Event so a new kind fails the build until named.
import type { Event__Output } from '../../../proto/gen/vigil/v1/Event.js';

type Detail = NonNullable<Event__Output['detail']>;
type Fields = Array<[string, string]>;

const opt = (k: string, v: string | number | boolean | undefined | null): Fields => (v === undefined || v === null || v === '' ? [] : [[k, String(v)]]);
const ret = (r: number | string): Fields => (Number(r) !== 0 ? [['ret', String(r)]] : []);

export function quoteArgs(args: readonly string[]): string {
  return args.map((a) => (a === '' || /[\s"'\\$`]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

const DETAIL: { [K in Detail]: (e: Event__Output) => Fields } = {
  exec: (e) => {
    const d = e.exec!;
    return [
      ['exe', d.exe],
      ['args', quoteArgs(d.args) + (d.args_truncated ? ' …' : '')],
      ...ret(d.retval),
      ...(d.fileless ? ([['fileless', 'yes']] as Fields) : []),
      ...(d.setuid || d.setgid || d.filecaps
        ? ([['privilege', [d.setuid && 'setuid', d.setgid && 'setgid', d.filecaps && 'file caps'].filter(Boolean).join(', ')]] as Fields)
        : []),
      ...(d.creds
        ? ([
            ['euid', String(d.creds.euid)],
            ['caps', d.creds.cap_effective],
          ] as Fields)
        : []),
    ];
  },
  fork: (e) => [
    ['child', String(e.fork!.child_pid)],
    ['clone', e.fork!.clone_flag_names.join('|') || e.fork!.clone_flags],
  ],
  exit: (e) => [
    ['code', String(e.exit!.exit_code)],
    ...(e.exit!.signal ? ([['signal', String(e.exit!.signal)]] as Fields) : []),
    ...(e.exit!.core_dumped ? ([['core', 'dumped']] as Fields) : []),
  ],
  ns_change: (e) => [
    ['flags', e.ns_change!.flag_names.join('|') || e.ns_change!.flags],
    ['changed', e.ns_change!.changed.join(', ')],
    ...ret(e.ns_change!.retval),
  ],
  cred_change: (e) => {
    const d = e.cred_change!;
    return [
      ['uid', `${d.old_creds?.uid ?? '?'} → ${d.new_creds?.uid ?? '?'}`],
      ['euid', `${d.old_creds?.euid ?? '?'} → ${d.new_creds?.euid ?? '?'}`],
      ['caps', `${d.old_creds?.cap_effective ?? '?'} → ${d.new_creds?.cap_effective ?? '?'}`],
    ];
  },
  syscall_info: (e) => {
    const d = e.syscall_info!;
    return [
      ...opt('path', d.path),
      ...opt('source', d.source),
      ...opt('target', d.target),
      ...opt('fstype', d.fstype),
      ...opt('module', d.module_name ?? d.module_path),
      ...opt('bpf', d.bpf_cmd),
      ...opt('ptrace', d.ptrace_request),
      ...opt('target pid', d.target_pid),
      ...opt('memfd', d.memfd_name),
      ...opt('ns type', d.target_ns_type),
      ...ret(d.retval),
    ];
  },
  file: (e) => {
    const d = e.file!;
    return [
      ['op', d.op],
      ['path', d.path],
      ...opt('dest', d.dest),
      ...opt('flags', d.open_flag_names.join('|')),
      ...(d.write ? ([['write', 'yes']] as Fields) : []),
      ...ret(d.retval),
    ];
  },
  connect: (e) => {
    const d = e.connect!;
    return [
      ['family', d.family],
      ...opt('address', d.address !== undefined ? `${d.address}${d.port !== undefined ? `:${d.port}` : ''}` : undefined),
      ...opt('path', d.path),
      ...ret(d.retval),
    ];
  },
  cgroup_mkdir: (e) => [['path', e.cgroup_mkdir!.path]],
  cgroup_rmdir: (e) => [['path', e.cgroup_rmdir!.path]],
  enforce: (e) => [
    ['args', quoteArgs(e.enforce!.args)],
    ['signal sent', e.enforce!.signal_sent ? 'yes' : 'no'],
    ['spoiled', e.enforce!.spoil],
  ],
  container_start: (e) => [['container', e.container_start!.ref?.name ?? '']],
  container_stop: (e) => [['container', e.container_stop!.ref?.name ?? '']],
  container_update: (e) => [
    ['container', e.container_update!.container?.ref?.name ?? ''],
    ['changed', e.container_update!.changed.join(', ')],
  ],
};

/** The event's key fields: the syscall, the process, then those of its kind. */
export function eventFields(e: Event__Output): Fields {
  const head: Fields = [
    ...opt('syscall', e.syscall),
    ['process', `${e.proc?.exe || e.comm}[${e.pid}]`],
    ['uid', String(e.uid)],
    // The runtime's bootstrap (runc init) in the container's cgroup: not the container's own action.
    ...(e.runtime_setup ? ([['runtime setup', 'yes']] as Fields) : []),
  ];
  return [...head, ...(e.detail ? DETAIL[e.detail](e) : [])];
}

export function kindName(k: string): string {
  return k.replace(/^EVENT_KIND_/, '').toLowerCase();
}
