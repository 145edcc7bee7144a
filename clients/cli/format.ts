// Output of the CLI for people and for programs. Alerts and events print as:
//   compact  one line: time, severity (or kind) tag, rule, container, process, message (or details)
//   wide     compact plus id, seq, state, count, parent chain, image
//   json     the message exactly as the API sent it, one JSON object a line
// Colour (severity and kind tags, bold process) only when the caller says so: on a TTY with NO_COLOR
// unset (terminal.ts). Ideas from `tetra getevents -o compact` and Falco's output line.
import { enumWord, type Alert, type Container, type Event } from './proto.js';
import { painter, type Paint } from './terminal.js';
import { clock, dateTime } from './units.js';

export interface FormatOptions {
  colour: boolean;
}

const SEVERITY_COLOURS: Record<string, string> = {
  emergency: '1;41;97', // white on red
  alert: '1;31', // bold red
  critical: '1;31',
  error: '31', // red
  warning: '33', // yellow
  notice: '36', // cyan
  informational: '34', // blue
  debug: '90', // grey
};

const KIND_COLOURS: Record<string, string> = {
  exec: '32',
  fork: '36',
  exit: '90',
  ns_change: '35',
  cred_change: '33',
  syscall: '31',
  file: '34',
  connect: '33',
  cgroup_mkdir: '90',
  cgroup_rmdir: '90',
  enforce: '1;31',
  container_start: '32',
  container_update: '36',
  container_stop: '90',
};

const KIND_TAGS: Record<string, string> = {
  ns_change: 'ns',
  cred_change: 'creds',
  cgroup_mkdir: 'cgroup+',
  cgroup_rmdir: 'cgroup-',
  container_start: 'start',
  container_update: 'update',
  container_stop: 'stop',
};

type ContainerInfo = NonNullable<Event['container_start']>;

/** The container record of a lifecycle event (start, update, stop), and what an update changed. */
function lifecycleOf(e: Event): { info: ContainerInfo; changed: string[] } | undefined {
  if (e.detail === 'container_start' || e.detail === 'container_stop') {
    const info = e[e.detail];
    return info ? { info, changed: [] } : undefined;
  }
  if (e.detail === 'container_update') {
    const u = e.container_update;
    return u?.container ? { info: u.container, changed: u.changed } : undefined;
  }
  return undefined;
}

export function severityWord(a: Pick<Alert, 'severity'>): string {
  return enumWord(a.severity, 'SEVERITY_') || 'unknown';
}

export function stateWord(a: Pick<Alert, 'state'>): string {
  return enumWord(a.state, 'ALERT_STATE_') || 'unknown';
}

export function kindWord(e: Pick<Event, 'kind'>): string {
  return enumWord(e.kind, 'EVENT_KIND_') || 'unknown';
}

/** Text painted in a severity's colour (alert counts coloured by their worst open alert). */
export function paintSeverity(severity: string, text: string, paint: Paint): string {
  return paint(SEVERITY_COLOURS[severity] ?? '0', text);
}

/** A severity tag, padded to the longest (informational is shortened to info). */
export function severityTag(severity: string, paint: Paint): string {
  const word = severity === 'informational' ? 'info' : severity;
  return paintSeverity(severity, word.padEnd(9), paint);
}

/** "name" of a container, or its short id; "host" for host processes; "-" when unknown. */
export function containerLabel(c: Container | null | undefined): string {
  if (!c || (!c.id && !c.name)) return '-';
  if (c.id === 'host') return 'host';
  const name = c.name && c.name !== c.id ? c.name : c.id.slice(0, 12);
  return c.pod ? `${c.namespace ? c.namespace + '/' : ''}${c.pod}/${name}` : name;
}

/** A message on one line: surrounding space trimmed, inner line breaks as spaces. */
export function oneLine(s: string): string {
  return s.trim().replace(/\s*\n\s*/g, ' ');
}

function q(s: string): string {
  return /[\s"'\\]|^$/.test(s) ? JSON.stringify(s) : s;
}

function ret(r: number | string | undefined): string {
  const n = Number(r ?? 0);
  return n < 0 ? ` = ${n} (failed)` : '';
}

/** The process of an alert: its first lineage entry (exe[pid]). */
function alertProcess(a: Alert): string {
  const p = a.lineage[0];
  if (!p) return a.metric ? `metric ${a.metric.target || ''}`.trim() : '-';
  return `${p.exe || p.comm}[${p.pid}]`;
}

/** One alert, one line (compact) or with more columns (wide). */
export function formatAlertLine(a: Alert, wide: boolean, opts: FormatOptions): string {
  const paint = painter(opts.colour);
  const head = `${clock(a.time)} ${severityTag(severityWord(a), paint)} ${paint('1', a.rule)}`;
  const where = containerLabel(a.container);
  const proc = alertProcess(a);
  const message = oneLine(a.message);
  if (!wide) return `${head}  ${where}  ${proc}  ${message}`;
  const chain = a.lineage.slice(1, 4).map((p) => `${p.exe || p.comm}[${p.pid}]`);
  const extra = [`id=${a.id}`, `seq=${a.seq}`, `state=${stateWord(a)}`];
  if (Number(a.count) > 1) extra.push(`count=${a.count}`);
  if (a.container?.image) extra.push(`image=${a.container.image}`);
  if (a.container?.id && a.container.id !== 'host') extra.push(`container_id=${a.container.id}`);
  if (chain.length) extra.push(`parents=${chain.join('<')}`);
  if (a.tags.length) extra.push(`tags=${a.tags.join(',')}`);
  return `${head}  ${where}  ${proc}  ${message}  ${extra.join(' ')}`;
}

const SOCKET_STDIO: ReadonlySet<string> = new Set(['inet', 'unix', 'socket']);

function details(e: Event): string {
  switch (e.detail) {
    case 'exec': {
      const x = e.exec!;
      // A standard stream on a socket is how a reverse shell looks: worth a mark on the line.
      const sockets = ['stdin', 'stdout'].map((name, fd) => SOCKET_STDIO.has(x.stdio?.[fd] ?? '') && `${name}=${x.stdio![fd]}`);
      const marks = [x.fileless && 'fileless', x.setuid && 'setuid', x.setgid && 'setgid', x.filecaps && 'filecaps', ...sockets].filter(Boolean);
      return (
        `${x.exe} ${x.args.slice(1).map(q).join(' ')}`.trimEnd() +
        ret(x.retval) +
        (x.creds ? ` (uid ${x.creds.uid} euid ${x.creds.euid}${marks.length ? ' ' + marks.join(' ') : ''})` : '')
      );
    }
    case 'fork':
      return `child ${e.fork!.child_pid}${e.fork!.clone_flag_names.length ? ' ' + e.fork!.clone_flag_names.join('|') : ''}`;
    case 'exit':
      return e.exit!.signal ? `signal ${e.exit!.signal}${e.exit!.core_dumped ? ' (core dumped)' : ''}` : `code ${e.exit!.exit_code}`;
    case 'ns_change': {
      const n = e.ns_change!;
      return `${e.syscall ?? ''} ${n.flag_names.join('|') || n.flags} changed ${n.changed.join(',') || 'none'}${ret(n.retval)}`.trim();
    }
    case 'cred_change': {
      const c = e.cred_change!;
      const a = c.old_creds;
      const b = c.new_creds;
      const parts: string[] = [];
      if (a && b) {
        for (const k of ['uid', 'euid', 'suid', 'fsuid', 'gid', 'egid', 'sgid', 'fsgid'] as const) if (a[k] !== b[k]) parts.push(`${k} ${a[k]}->${b[k]}`);
        for (const k of ['cap_effective', 'cap_permitted', 'cap_inheritable'] as const) if (a[k] !== b[k]) parts.push(`${k} ${a[k]}->${b[k]}`);
      }
      return `${e.syscall ?? ''} ${parts.join(' ') || 'unchanged'}${ret(c.retval)}`.trim();
    }
    case 'syscall_info': {
      const s = e.syscall_info!;
      const d: string[] = [];
      if (s.fstype !== undefined) d.push(`${q(s.source ?? '')} on ${q(s.target ?? '')} type ${s.fstype}`);
      else if (s.target !== undefined) d.push(q(s.target));
      if (s.mount_flag_names.length) d.push(s.mount_flag_names.join('|'));
      if (s.path !== undefined) d.push(q(s.path));
      if (s.new_root !== undefined) d.push(`${q(s.new_root)} ${q(s.put_old ?? '')}`);
      for (const v of [s.module_name, s.module_path, s.bpf_cmd, s.ptrace_request, s.memfd_name]) if (v !== undefined) d.push(q(v));
      if (s.target_pid !== undefined) d.push(`pid ${s.target_pid}${s.target_outside_pid_ns ? ' (other pid ns)' : ''}`);
      if (s.file_type !== undefined) d.push(`${s.file_type} ${s.dev_major ?? 0}:${s.dev_minor ?? 0}`);
      if (s.target_ns_type !== undefined) d.push(`ns ${s.target_ns_type}`);
      return `${e.syscall ?? ''}${d.length ? ' ' + d.join(' ') : ''}${ret(s.retval)}`.trim();
    }
    case 'file': {
      const f = e.file!;
      return `${f.op} ${q(f.path)}${f.dest !== undefined ? ' -> ' + q(f.dest) : ''}${f.open_flag_names.length ? ' ' + f.open_flag_names.join('|') : ''}${ret(f.retval)}`;
    }
    case 'connect': {
      const c = e.connect!;
      return `${c.family} ${c.path ?? `${c.address ?? ''}:${c.port ?? ''}`}${ret(c.retval)}`;
    }
    case 'cgroup_mkdir':
    case 'cgroup_rmdir': {
      const c = (e.cgroup_mkdir ?? e.cgroup_rmdir)!;
      return `${c.hierarchy_id === 0 ? 'v2' : `v1#${c.hierarchy_id}`} ${q(c.path)} id ${e.cgroup_id}`;
    }
    case 'enforce': {
      const x = e.enforce!;
      return `${e.syscall ?? ''} ${x.signal_sent ? 'killed' : `kill failed (${x.signal_ret})`}${x.spoiled ? ', spoiled' : ''}`.trim();
    }
    case 'container_start':
    case 'container_update':
    case 'container_stop': {
      const lc = lifecycleOf(e);
      if (!lc) return '';
      const c = lc.info;
      const p = c.posture;
      const marks = p
        ? [
            p.privileged && 'privileged',
            p.host_pid && 'host-pid',
            p.host_net && 'host-net',
            p.sensitive_mounts.length > 0 && `mounts ${p.sensitive_mounts.join(',')}`,
            p.mismatches.length > 0 && 'posture-mismatch',
          ].filter(Boolean)
        : [];
      const changed = lc.changed.length ? ` changed ${lc.changed.join(',')}` : '';
      return `${c.ref?.runtime ?? ''}:${c.ref?.name ?? ''} ${c.ref?.id ?? ''}${changed}${c.ref?.image ? ` image ${c.ref.image}` : ''} cgroup ${c.cgroup_path}${marks.length ? ' ' + marks.join(' ') : ''}`;
    }
    default:
      return '';
  }
}

/** One event, one line (compact) or with more columns (wide). */
export function formatEventLine(e: Event, wide: boolean, opts: FormatOptions): string {
  const paint = painter(opts.colour);
  const kind = kindWord(e);
  const tag = paint(KIND_COLOURS[kind] ?? '0', (KIND_TAGS[kind] ?? kind).padEnd(9));
  const lc = lifecycleOf(e);
  const lifecycle = e.detail === 'container_start' || e.detail === 'container_update' || e.detail === 'container_stop';
  // The runtime's bootstrap (runc init) in the container's cgroup: the container's, not its own action.
  const who = lifecycle ? '' : ` ${paint('1', `${e.proc?.exe || e.comm}[${e.pid}]`)}${e.runtime_setup ? ' (runtime setup)' : ''}`;
  const where = lifecycle ? '' : ` ${containerLabel(e.container)}`;
  const line = `${clock(e.time)} ${tag}${where}${who} ${details(e)}`;
  if (!wide) return line;
  if (lifecycle) {
    const c = lc?.info;
    const p = c?.posture;
    const extra: string[] = [];
    if (c?.init_pid !== undefined) extra.push(`init_pid=${c.init_pid}`);
    if (c?.ref?.pod) extra.push(`pod=${c.ref.namespace ? c.ref.namespace + '/' : ''}${c.ref.pod}`);
    if (p?.sources.length) extra.push(`posture_from=${p.sources.join(',')}`);
    if (p?.mismatches.length) extra.push(`mismatches=${q(p.mismatches.join('; '))}`);
    return extra.length ? `${line}  ${extra.join(' ')}` : line;
  }
  const extra = [`ppid=${e.ppid}`, `uid=${e.uid}`, `comm=${q(e.comm)}`];
  if (e.vpid && e.vpid !== e.pid) extra.push(`vpid=${e.vpid}`);
  if (e.container?.image) extra.push(`image=${e.container.image}`);
  const parents = (e.proc?.ancestors ?? []).slice(0, 3).map((a) => `${a.exe || a.comm}[${a.pid}]`);
  if (parents.length) extra.push(`parents=${parents.join('<')}`);
  return `${line}  ${extra.join(' ')}`;
}

/** One JSON object a line: what the API sent. */
export function formatJson(message: unknown): string {
  return JSON.stringify(message);
}

/** `vigil alerts show`: the alert in full, the lineage as a tree, the triggering events, history. */
export function formatAlertDetail(a: Alert, opts: FormatOptions): string {
  const paint = painter(opts.colour);
  const c = a.container;
  const out: string[] = [];
  const row = (k: string, v: string): void => {
    if (v) out.push(`  ${k.padEnd(10)} ${v}`);
  };
  out.push(`${paint('1', `Alert ${a.id}`)}  ${severityTag(severityWord(a), paint).trimEnd()}  ${stateWord(a)}`);
  row('rule', a.rule);
  row('message', oneLine(a.message));
  row(
    'time',
    `${dateTime(a.time)}${a.last_seen && a.last_seen !== a.time ? `, last seen ${dateTime(a.last_seen)}` : ''}${Number(a.count) > 1 ? ` (${a.count} matches)` : ''}`,
  );
  if (c)
    row(
      'container',
      `${containerLabel(c)}${c.id && c.id !== 'host' ? ` ${c.id}` : ''}${c.runtime ? ` (${c.runtime}${c.image ? `, image ${c.image}` : ''})` : ''}`,
    );
  row('tags', a.tags.join(', '));
  row('seq', String(a.seq));
  if (Number(a.suppressed) > 0) row('suppressed', `${a.suppressed} earlier matches (rate limit)`);
  if (a.unpersisted) row('note', 'not persisted (the store could not write it)');
  if (a.metric)
    row(
      'metric',
      `${a.metric.target} ${Object.entries(a.metric.values)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}${Number(a.metric.held_ms) ? ` held ${a.metric.held_ms}ms` : ''}`,
    );

  if (a.lineage.length) {
    out.push('', paint('1', 'Process lineage'));
    // The root ancestor first, the offending process last, each indented under its parent.
    const chain = [...a.lineage].reverse();
    chain.forEach((p, i) => {
      const prefix = i === 0 ? '  ' : `  ${'   '.repeat(i - 1)}└─ `;
      const args = p.args.length ? ' ' + p.args.slice(1).map(q).join(' ') : '';
      const who = `${p.exe || p.comm}[${p.pid}]`;
      out.push(`${prefix}${i === chain.length - 1 ? paint('1', who) : who}${args.trimEnd()}${p.uid !== undefined ? `  uid ${p.uid}` : ''}`);
    });
  }
  if (a.events.length) {
    out.push('', paint('1', `Triggering events (${a.events.length})`));
    for (const e of a.events) out.push(`  ${formatEventLine(e, false, opts)}`);
  }
  if (a.history.length) {
    out.push('', paint('1', 'History'));
    for (const h of a.history)
      out.push(
        `  ${dateTime(h.at)}  ${enumWord(h.state, 'ALERT_STATE_').padEnd(12)}  by ${h.by || '?'}${h.comment !== undefined && h.comment !== '' ? `: ${h.comment}` : ''}`,
      );
  }
  if (a.actions.length) {
    out.push('', paint('1', 'Responses'));
    for (const x of a.actions) out.push(`  ${dateTime(x.at)}  ${enumWord(x.action, 'ACTION_').padEnd(8)}  ${x.ok ? 'ok' : paint('31', 'failed')}  ${x.detail}`);
  }
  return out.join('\n') + '\n';
}
