// Output of `vigild trace`: one event a line, as JSON (docs/events.md) or compact text for people
// (time, kind, process, details; like `tetra getevents -o compact`, without emoji).
import type { ContainerLifecycleEvent } from '../containers/container-info.js';
import type { Creds, VigilEvent } from '../sensor/events.js';
import { capabilityNames } from '../sensor/names.js';

export type OutputFormat = 'json' | 'compact';

export function formatJson(ev: VigilEvent): string {
  return JSON.stringify(ev);
}

const COLOURS: Record<string, string> = {
  exec: '32', // green
  fork: '36', // cyan
  exit: '90', // grey
  ns_change: '35', // magenta
  cred_change: '33', // yellow
  syscall: '31', // red
  file: '34', // blue
  connect: '33',
  cgroup_mkdir: '90',
  cgroup_rmdir: '90',
};
const TAGS: Record<string, string> = {
  exec: 'exec',
  fork: 'fork',
  exit: 'exit',
  ns_change: 'ns',
  cred_change: 'creds',
  syscall: 'syscall',
  file: 'file',
  connect: 'connect',
  cgroup_mkdir: 'cgroup+',
  cgroup_rmdir: 'cgroup-',
};

function ret(r: number): string {
  return r < 0 ? ` = ${r} (failed)` : ` = ${r}`;
}

function q(s: string): string {
  return /[\s"'\\]|^$/.test(s) ? JSON.stringify(s) : s;
}

function credsDiff(a: Creds, b: Creds): string {
  const parts: string[] = [];
  for (const k of ['uid', 'euid', 'suid', 'fsuid', 'gid', 'egid', 'sgid', 'fsgid'] as const) if (a[k] !== b[k]) parts.push(`${k} ${a[k]}->${b[k]}`);
  for (const k of ['cap_effective', 'cap_permitted', 'cap_inheritable'] as const)
    if (a[k] !== b[k]) parts.push(`${k.replace('cap_', 'caps.')} ${capabilityNames(a[k])}->${capabilityNames(b[k])}`);
  return parts.join(' ') || 'unchanged';
}

function details(ev: VigilEvent): string {
  switch (ev.kind) {
    case 'exec': {
      const marks = [ev.fileless && 'fileless', ev.setuid && 'setuid', ev.setgid && 'setgid', ev.filecaps && 'filecaps'].filter(Boolean);
      const caps = capabilityNames(ev.creds.cap_effective);
      return (
        `${ev.exe} ${ev.args.slice(1).map(q).join(' ')}`.trimEnd() +
        (ev.retval < 0 ? ret(ev.retval) : '') +
        ` (uid ${ev.creds.uid} euid ${ev.creds.euid} caps ${caps}${marks.length ? ' ' + marks.join(' ') : ''})`
      );
    }
    case 'fork':
      return `child ${ev.child_pid}${ev.clone_flag_names.length ? ' ' + ev.clone_flag_names.join('|') : ''}`;
    case 'exit':
      return ev.signal ? `signal ${ev.signal}${ev.core_dumped ? ' (core dumped)' : ''}` : `code ${ev.exit_code}`;
    case 'ns_change':
      return `${ev.syscall} ${ev.flag_names.join('|') || ev.flags} changed ${ev.changed.join(',') || 'none'}${ret(ev.retval)}`;
    case 'cred_change':
      return `${ev.syscall} ${credsDiff(ev.old_creds, ev.new_creds)}${ret(ev.retval)}`;
    case 'syscall': {
      const d: string[] = [];
      if (ev.fstype !== undefined) d.push(`${q(ev.source ?? '')} on ${q(ev.target ?? '')} type ${ev.fstype}`);
      else if (ev.target !== undefined) d.push(q(ev.target));
      if (ev.mount_flag_names?.length) d.push(ev.mount_flag_names.join('|'));
      if (ev.path !== undefined) d.push(q(ev.path));
      if (ev.new_root !== undefined) d.push(`${q(ev.new_root)} ${q(ev.put_old ?? '')}`);
      if (ev.module_name !== undefined) d.push(ev.module_name);
      if (ev.module_path !== undefined) d.push(q(ev.module_path));
      if (ev.bpf_cmd !== undefined) d.push(ev.bpf_cmd);
      if (ev.ptrace_request !== undefined) d.push(ev.ptrace_request);
      if (ev.target_pid !== undefined) d.push(`pid ${ev.target_pid}${ev.target_outside_pid_ns ? ' (other pid ns)' : ''}`);
      if (ev.memfd_name !== undefined) d.push(q(ev.memfd_name));
      if (ev.file_type !== undefined) d.push(`${ev.file_type} ${ev.dev_major}:${ev.dev_minor}`);
      if (ev.target_ns_type !== undefined) d.push(`ns ${ev.target_ns_type}`);
      return `${ev.syscall}${d.length ? ' ' + d.join(' ') : ''}${ret(ev.retval)}`;
    }
    case 'file':
      return (
        `${ev.op} ${q(ev.path)}${ev.dest !== undefined ? ' -> ' + q(ev.dest) : ''}` +
        `${ev.open_flag_names ? ' ' + ev.open_flag_names.join('|') : ''}${ret(ev.retval)}`
      );
    case 'connect':
      return `${ev.family} ${ev.path ?? `${ev.address}:${ev.port}`}${ret(ev.retval)}`;
    case 'cgroup_mkdir':
    case 'cgroup_rmdir':
      return `${ev.hierarchy_id === 0 ? 'v2' : `v1#${ev.hierarchy_id}`} ${q(ev.path)} id ${ev.cgroup_id}`;
    case 'enforce':
      return `${ev.syscall} ${ev.signal_sent ? 'killed' : `kill failed (${ev.signal_ret})`}${ev.spoiled ? ', spoiled' : ev.spoil_ret < 0 ? `, spoil failed (${ev.spoil_ret})` : ''}`;
  }
}

export interface CompactOptions {
  colour: boolean;
}

/** HH:MM:SS.mmm of an RFC 3339 time. */
function clock(time: string): string {
  return time.slice(11, 23);
}

export function formatCompact(ev: VigilEvent, options: CompactOptions): string {
  const tag = (TAGS[ev.kind] ?? ev.kind).padEnd(7);
  const where = ev.container && ev.container.id !== 'host' ? ` @${ev.container.name || ev.container.id.slice(0, 12)}` : '';
  // The runtime's bootstrap (runc init) in the container's cgroup: the container's, not its own action.
  const who = `${ev.proc?.exe ?? ev.comm}[${ev.pid}]${where}${ev.runtime_setup ? ' (runtime setup)' : ''}`;
  const tagOut = options.colour ? `\x1b[${COLOURS[ev.kind] ?? '0'}m${tag}\x1b[0m` : tag;
  const whoOut = options.colour ? `\x1b[1m${who}\x1b[0m` : who;
  return `${clock(ev.time)} ${tagOut} ${whoOut} ${details(ev)}`;
}

const LIFECYCLE_TAGS: Record<ContainerLifecycleEvent['kind'], string> = { container_start: 'start', container_update: 'update', container_stop: 'stop' };

/** A container_start / container_update / container_stop line in compact output. */
export function formatLifecycle(ev: ContainerLifecycleEvent): string {
  const c = ev.container;
  const pod = c.pod ? ` pod ${c.namespace ?? ''}/${c.pod}` : '';
  const p = c.posture;
  const marks = p
    ? [
        p.privileged && 'privileged',
        p.hostPid && 'host-pid',
        p.hostNet && 'host-net',
        p.hostIpc && 'host-ipc',
        p.sensitiveMounts.length > 0 && `mounts ${p.sensitiveMounts.join(',')}`,
        p.mismatches.length > 0 && `mismatch (${p.mismatches.join('; ')})`,
      ].filter(Boolean)
    : [];
  const changed = ev.kind === 'container_update' && ev.changed?.length ? ` changed ${ev.changed.join(',')}` : '';
  return `${clock(ev.time)} ${LIFECYCLE_TAGS[ev.kind].padEnd(7)} ${c.runtime}:${c.name} ${c.id}${changed}${c.image ? ` image ${c.image}` : ''}${pod} cgroup ${c.cgroupPath}${marks.length ? ' ' + marks.join(' ') : ''}`;
}
