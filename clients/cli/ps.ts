// `vigil ps`: the containers the daemon knows and the host, one row each, from Containers.List (one
// call: the registry joined with the last sweep's samples and the open alerts). Columns follow
// `docker ps` for identity and `docker stats`/top for resources; wide adds what a responder asks next
// (full id, pod, fds, how old the sample is, posture). Figures come only from the sample; a missing
// one is "-", never a guess.
import type { PsCommand } from './args.js';
import { call, type Api } from './client.js';
import { formatJson, paintSeverity, severityWord } from './format.js';
import type { CliIo } from './io.js';
import type { ContainerSummary, ListContainersResponse } from './proto.js';
import { table } from './table.js';
import { painter, useColour, type Paint } from './terminal.js';
import { formatBytes, formatDuration, round } from './units.js';

export interface PsOptions {
  wide: boolean;
  colour: boolean;
  now: number;
}

type Latest = ContainerSummary['latest'];

const num = (latest: Latest, metric: string): number | undefined => {
  const v = latest[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** Near a limit is worth a glance: yellow from 75%, red from 90%. */
function byLoad(text: string, used: number | undefined, limit: number | undefined, paint: Paint): string {
  if (used === undefined || limit === undefined || limit <= 0) return text;
  const r = used / limit;
  return r >= 0.9 ? paint('31', text) : r >= 0.75 ? paint('33', text) : text;
}

function percent(used: number, limit: number): string {
  const p = (used / limit) * 100;
  return `${p >= 10 ? Math.round(p) : p.toFixed(1)}%`;
}

/** "12.3MiB/256MiB 4.8%", "12.3MiB" without a limit, "-" when not sampled. The working set is what
 *  the OOM killer weighs; the usage (page cache included) stands in where the kernel gives no split. */
export function memCell(latest: Latest, paint: Paint = (_c, t) => t): string {
  const used = num(latest, 'memory_working_set_bytes') ?? num(latest, 'memory_usage_bytes');
  const limit = num(latest, 'memory_limit_bytes');
  if (used === undefined) return limit === undefined ? '-' : `-/${formatBytes(limit)}`;
  if (limit === undefined || limit <= 0) return formatBytes(used);
  return byLoad(`${formatBytes(used)}/${formatBytes(limit)} ${percent(used, limit)}`, used, limit, paint);
}

/** Cores used over the last interval / the quota in cores: "0.25/2", "0.25", "-". */
export function cpuCell(latest: Latest, paint: Paint = (_c, t) => t): string {
  const used = num(latest, 'cpu_usage_cores');
  const quota = num(latest, 'cpu_quota_cores');
  if (quota === undefined) return used === undefined ? '-' : round(used);
  return byLoad(`${used === undefined ? '-' : round(used)}/${round(quota)}`, used, quota, paint);
}

/** Tasks / pids.max: "3/100", "3", "-". */
export function pidsCell(latest: Latest, paint: Paint = (_c, t) => t): string {
  const cur = num(latest, 'pids_current');
  const max = num(latest, 'pids_max');
  if (max === undefined) return cur === undefined ? '-' : String(cur);
  return byLoad(`${cur === undefined ? '-' : cur}/${max}`, cur, max, paint);
}

/** "running 5m3s", "stopped 2h ago"; the host's started_at is the daemon's, so no age for it. */
export function statusCell(s: ContainerSummary, now: number): string {
  const info = s.info;
  const age = (iso: string | undefined): number | undefined => {
    const t = iso ? Date.parse(iso) : NaN;
    return Number.isNaN(t) ? undefined : Math.max(0, now - t);
  };
  if (!s.running) {
    const since = age(info?.stopped_at);
    return since === undefined ? 'stopped' : `stopped ${formatDuration(since)} ago`;
  }
  if (isHost(s)) return 'running';
  const up = age(info?.started_at);
  return up === undefined ? 'running' : `running ${formatDuration(up)}`;
}

/** PRIV, HOST* for each host namespace shared, MNT:PATH for each sensitive mount, MISMATCH when the
 *  runtime's record of the posture and the kernel's view disagree (the flags are the kernel's). The host's user
 *  namespace is left out: every container without userns-remap shares it, so the flag would mark
 *  nearly every row and hide the ones that stand out (json still carries host_user). */
export function postureFlags(s: ContainerSummary): string[] {
  const p = s.info?.posture;
  if (!p) return [];
  const flags: string[] = [];
  if (p.privileged) flags.push('PRIV');
  const shared: Array<[boolean, string]> = [
    [p.host_pid, 'HOSTPID'],
    [p.host_net, 'HOSTNET'],
    [p.host_ipc, 'HOSTIPC'],
    [p.host_mnt, 'HOSTMNT'],
    [p.host_uts, 'HOSTUTS'],
  ];
  for (const [on, flag] of shared) if (on) flags.push(flag);
  for (const m of p.sensitive_mounts) flags.push(`MNT:${m}`);
  if (p.mismatches.length > 0) flags.push('MISMATCH');
  return flags;
}

function isHost(s: ContainerSummary): boolean {
  return s.info?.ref?.id === 'host';
}

/** Open alerts: the count in the worst one's colour; wide spells the severity out too. */
function alertsCell(s: ContainerSummary, wide: boolean, paint: Paint): string {
  const n = s.open_alerts;
  if (!n) return '0';
  const worst = severityWord({ severity: s.worst_open_severity });
  return paintSeverity(worst, wide ? `${n} ${worst === 'informational' ? 'info' : worst}` : String(n), paint);
}

function sampledCell(s: ContainerSummary, now: number): string {
  const t = Number(s.sampled_at_ms);
  if (!t) return s.monitored ? 'not yet' : 'unmonitored';
  return `${formatDuration(Math.max(0, now - t))} ago`;
}

const HEADER = ['CONTAINER ID', 'NAME', 'IMAGE', 'RUNTIME', 'STATUS', 'MEM', 'CPU', 'PIDS', 'ALERTS'];
const WIDE_HEADER = ['CONTAINER ID', 'NAME', 'IMAGE', 'RUNTIME', 'POD', 'STATUS', 'MEM', 'CPU', 'PIDS', 'FDS', 'SAMPLED', 'ALERTS', 'POSTURE'];

export function psRow(s: ContainerSummary, o: PsOptions): string[] {
  const paint = painter(o.colour);
  const ref = s.info?.ref;
  const id = ref?.id || '-';
  const latest = s.latest ?? {};
  const mem = memCell(latest, paint);
  const cpu = cpuCell(latest, paint);
  const pids = pidsCell(latest, paint);
  const status = statusCell(s, o.now);
  const alerts = alertsCell(s, o.wide, paint);
  const head = [o.wide ? id : id.slice(0, 12), ref?.name || '-', ref?.image || '-', ref?.runtime || '-'];
  if (!o.wide) return [...head, status, mem, cpu, pids, alerts];
  const pod = ref?.pod ? `${ref.namespace ? ref.namespace + '/' : ''}${ref.pod}` : '-';
  const fds = num(latest, 'fds_open');
  const flags = postureFlags(s);
  return [
    ...head,
    pod,
    status,
    mem,
    cpu,
    pids,
    fds === undefined ? '-' : String(fds),
    sampledCell(s, o.now),
    alerts,
    flags.length ? paint('33', flags.join(',')) : '-',
  ];
}

/** The table: the host first, then the containers in the daemon's order (running first, by name). */
export function psTable(res: ListContainersResponse, o: PsOptions): string {
  const rows = [...(res.host ? [res.host] : []), ...res.containers].map((s) => psRow(s, o));
  return table(o.wide ? WIDE_HEADER : HEADER, rows);
}

export async function ps(cmd: PsCommand, api: Api, io: CliIo): Promise<number> {
  const res = await call(api, 'containers', 'List', { include_stopped: cmd.all });
  if (cmd.output === 'json') {
    for (const s of [...(res.host ? [res.host] : []), ...res.containers]) io.stdout.write(formatJson(s) + '\n');
    return 0;
  }
  io.stdout.write(psTable(res, { wide: cmd.output === 'wide', colour: useColour(io.stdout, io.env, io.colour), now: io.now() }));
  if (res.containers.length === 0) io.stderr.write(cmd.all ? 'no containers\n' : 'no running containers (--all shows stopped ones)\n');
  return 0;
}
