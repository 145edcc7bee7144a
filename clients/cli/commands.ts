// The commands other than tail: each takes its parsed command, the API and the IO, prints, and
// resolves to an exit status (gRPC failures are thrown and turned into one line by main.ts).
import { userInfo } from 'node:os';
import type {
  AlertsActCommand,
  AlertsLsCommand,
  AlertsShowCommand,
  ForecastCommand,
  MetricsCommand,
  RulesCheckCommand,
  RulesLsCommand,
  StatusCommand,
  TargetsAddCommand,
  TargetsLsCommand,
  TargetsRmCommand,
} from './args.js';
import { call, errorFromRpc, type Api } from './client.js';
import { CliError } from './errors.js';
import { containerLabel, formatAlertDetail, formatJson, oneLine, severityTag, severityWord, stateWord } from './format.js';
import type { CliIo } from './io.js';
import { enumWord, severityEnum, type Alert, type AlertState, type Forecast, type QueryMetricsResponse, type RuleError, type TargetSpec } from './proto.js';
import { sparkline } from './sparkline.js';
import { table } from './table.js';
import { painter, useColour } from './terminal.js';
import { dateTime, formatDuration, formatValue } from './units.js';

// ---- alerts

export async function alertsLs(cmd: AlertsLsCommand, api: Api, io: CliIo): Promise<number> {
  const alerts: Alert[] = [];
  let pageToken = '';
  do {
    const res = await call(api, 'alerts', 'List', {
      rule: cmd.rule ?? '',
      container: cmd.container ?? '',
      ...(cmd.state ? { state: `ALERT_STATE_${cmd.state.toUpperCase()}` as AlertState } : {}),
      ...(cmd.severity ? { min_severity: severityEnum(cmd.severity) as Alert['severity'] } : {}),
      since_ms: cmd.since ?? 0,
      limit: Math.min(1000, cmd.limit - alerts.length),
      page_token: pageToken,
    });
    alerts.push(...res.alerts);
    pageToken = res.next_page_token;
  } while (pageToken && alerts.length < cmd.limit);
  const shown = alerts.slice(0, cmd.limit);
  if (cmd.output === 'json') {
    for (const a of shown) io.stdout.write(formatJson(a) + '\n');
    return 0;
  }
  if (shown.length === 0) {
    io.stderr.write(`no ${cmd.state ?? ''} alerts${cmd.rule || cmd.container || cmd.severity || cmd.since ? ' match' : ''}\n`.replace('no  ', 'no '));
    return 0;
  }
  const paint = painter(useColour(io.stdout, io.env, io.colour));
  const header = ['ID', 'TIME', 'SEVERITY', 'STATE', 'RULE', 'CONTAINER', 'PROCESS'];
  if (cmd.output === 'wide') header.push('COUNT', 'MESSAGE');
  const rows = shown.map((a) => {
    const p = a.lineage[0];
    const row = [
      a.id,
      dateTime(a.time),
      severityTag(severityWord(a), paint).trimEnd(),
      stateWord(a),
      a.rule,
      containerLabel(a.container),
      p ? `${p.exe || p.comm}[${p.pid}]` : '-',
    ];
    if (cmd.output === 'wide') row.push(String(a.count), oneLine(a.message));
    return row;
  });
  io.stdout.write(table(header, rows));
  return 0;
}

export async function alertsShow(cmd: AlertsShowCommand, api: Api, io: CliIo): Promise<number> {
  const a = await call(api, 'alerts', 'Get', { id: cmd.id });
  io.stdout.write(cmd.output === 'json' ? formatJson(a) + '\n' : formatAlertDetail(a, { colour: useColour(io.stdout, io.env, io.colour) }));
  return 0;
}

export async function alertsAct(cmd: AlertsActCommand, api: Api, io: CliIo): Promise<number> {
  const ack = cmd.name === 'alerts ack';
  let failed = 0;
  for (const id of cmd.ids) {
    try {
      const req = { id, by: who(io.env), ...(cmd.comment !== undefined ? { comment: cmd.comment } : {}) };
      const a = ack ? await call(api, 'alerts', 'Acknowledge', req) : await call(api, 'alerts', 'Resolve', req);
      const last = a.history[a.history.length - 1];
      io.stdout.write(`${a.id} ${stateWord(a)}${last?.by ? ` by ${last.by}` : ''}: ${a.rule}\n`);
    } catch (err) {
      const e = errorFromRpc(err, api.addr);
      // The daemon is gone or refuses us: the other ids would fail the same way.
      if (e.code === 'VIGIL_UNREACHABLE' || e.code === 'VIGIL_AUTH') throw e;
      io.stderr.write(`vigil: ${id}: ${e.message}\n`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

/** Who acts, as recorded on the alert: the login behind sudo, else this user. */
export function who(env: NodeJS.ProcessEnv): string {
  if (env.SUDO_USER) return env.SUDO_USER;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? '';
  }
}

// ---- targets

/** Target lines of a batch file: `SELECTOR [metrics=a,b] [rules=x,y]`, # comments, blank lines. */
export function parseTargetLines(text: string, file: string): TargetSpec[] {
  const specs: TargetSpec[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const [selector, ...opts] = line.split(/\s+/);
    const spec: TargetSpec = { selector: selector! };
    for (const o of opts) {
      const m = /^(metrics|rules)=(.+)$/.exec(o);
      if (!m) throw new CliError('VIGIL_INVALID', `${file}:${i + 1}: unexpected ${JSON.stringify(o)} after the selector (metrics=... or rules=...)`);
      spec[m[1] as 'metrics' | 'rules'] = m[2]!.split(',').filter(Boolean);
    }
    specs.push(spec);
  });
  return specs;
}

function readInput(io: CliIo, file: string): string {
  try {
    return io.readText(file);
  } catch (err) {
    throw new CliError('VIGIL_IO', `cannot read ${file === '-' ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function targetsAdd(cmd: TargetsAddCommand, api: Api, io: CliIo): Promise<number> {
  const specs: TargetSpec[] = cmd.selectors.map((selector) => ({
    selector,
    ...(cmd.metrics ? { metrics: cmd.metrics } : {}),
    ...(cmd.rules ? { rules: cmd.rules } : {}),
  }));
  for (const f of cmd.files) specs.push(...parseTargetLines(readInput(io, f), f === '-' ? '<stdin>' : f));
  if (specs.length === 0) throw new CliError('VIGIL_INVALID', 'nothing to add: the files hold no targets');
  const res = await call(api, 'targets', 'Add', { targets: specs });
  io.stdout.write(`added ${res.targets.length} target${res.targets.length === 1 ? '' : 's'}: ${res.targets.map((t) => t.id).join(' ')}\n`);
  return 0;
}

export async function targetsRm(cmd: TargetsRmCommand, api: Api, io: CliIo): Promise<number> {
  const ids = [...cmd.selectors];
  for (const f of cmd.files) ids.push(...parseTargetLines(readInput(io, f), f === '-' ? '<stdin>' : f).map((s) => s.selector!));
  const res = await call(api, 'targets', 'Remove', { ids });
  io.stdout.write(`removed ${res.removed} target${res.removed === 1 ? '' : 's'}\n`);
  return 0;
}

export async function targetsLs(cmd: TargetsLsCommand, api: Api, io: CliIo): Promise<number> {
  const res = await call(api, 'targets', 'List', {});
  if (cmd.output === 'json') {
    for (const t of res.targets) io.stdout.write(formatJson(t) + '\n');
    return 0;
  }
  if (res.targets.length === 0) {
    io.stderr.write('no targets: nothing is monitored (add some with `vigil targets add`)\n');
    return 0;
  }
  io.stdout.write(
    table(
      ['TARGET', 'METRICS', 'RULES', 'ADDED'],
      res.targets.map((t) => [t.id, t.metrics.join(',') || 'all', t.rules.join(',') || 'all', dateTime(t.added_at)]),
    ),
  );
  return 0;
}

// ---- metrics and forecasts

/** What `vigil metrics` shows when no --metric is given (names of daemon/metrics, as the API takes them). */
export const DEFAULT_METRICS = [
  'cpu_usage_cores',
  'memory_working_set_bytes',
  'memory_limit_bytes',
  'pids_current',
  'pids_max',
  'fds_open',
  'blkio_read_bytes_total',
  'blkio_write_bytes_total',
  'net_rx_bytes_total',
  'net_tx_bytes_total',
];
/** What `vigil forecast` asks for when no --metric is given: the series that run out. */
export const FORECAST_METRICS = ['memory_working_set_bytes', 'memory_usage_bytes', 'pids_current', 'fds_open', 'cpu_usage_cores'];

export function formatMetric(metric: string, res: QueryMetricsResponse, tty: boolean, width: number): string {
  const values = res.points.map((p) => p.value);
  if (!tty) return res.points.map((p) => `${metric} ${new Date(Number(p.time_ms)).toISOString()} ${p.value}\n`).join('');
  const last = values[values.length - 1]!;
  const stats = `last ${formatValue(metric, last)}  min ${formatValue(metric, Math.min(...values))}  max ${formatValue(metric, Math.max(...values))}`;
  return `${metric.padEnd(26)} ${sparkline(values, width)}  ${stats}  (${res.points.length} ${res.resolution || 'raw'} points)\n`;
}

export async function metrics(cmd: MetricsCommand, api: Api, io: CliIo): Promise<number> {
  const names = cmd.metrics.length ? cmd.metrics : DEFAULT_METRICS;
  const tty = io.stdout.isTTY === true && cmd.output === 'text';
  const width = Math.max(10, Math.min(60, (io.stdout.columns ?? 100) - 80));
  let shown = 0;
  for (const metric of names) {
    let res: QueryMetricsResponse;
    try {
      res = await call(api, 'metrics', 'Query', { target: cmd.target, metric, start_ms: cmd.since, end_ms: cmd.until ?? 0, step_ms: cmd.stepMs ?? 0 });
    } catch (err) {
      const e = errorFromRpc(err, api.addr);
      // Without --metric, a series the target does not have (no limit set, no such controller) is skipped.
      if (e.code === 'VIGIL_NOT_FOUND' && cmd.metrics.length === 0) continue;
      throw e;
    }
    if (res.points.length === 0) continue;
    shown++;
    if (cmd.output === 'json') io.stdout.write(formatJson({ target: cmd.target, metric, ...res }) + '\n');
    else io.stdout.write(formatMetric(metric, res, tty, width));
  }
  if (shown === 0)
    throw new CliError(
      'VIGIL_NOT_FOUND',
      `no ${cmd.metrics.length ? cmd.metrics.join(', ') + ' ' : ''}samples for ${cmd.target} since ${dateTime(cmd.since)} (is it a monitored target? see \`vigil targets ls\`)`,
    );
  return 0;
}

export function formatForecast(f: Forecast, now: number): string {
  const model = enumWord(f.model, 'FORECAST_MODEL_') || 'unknown';
  const level = `${Math.round((f.level || 0.95) * 100)}%`;
  const basis = `(${model}, computed ${formatDuration(now - Number(f.computed_at_ms))} ago${f.mase !== undefined ? `, MASE ${f.mase.toFixed(2)}` : ''})`;
  const x = f.exhaustion;
  if (!x || !x.limit_metric) {
    const lastPoint = f.points[f.points.length - 1];
    return `${f.metric}: no limit to run into${lastPoint ? `; ${formatValue(f.metric, lastPoint.value)} expected by ${dateTime(Number(lastPoint.time_ms))}` : ''} ${basis}\n`;
  }
  const limit = `${x.limit_metric} ${formatValue(f.metric, x.limit)}`;
  if (x.at_ms === undefined) {
    const horizon = f.points.length ? ` before ${dateTime(Number(f.points[f.points.length - 1]!.time_ms))}` : '';
    return `${f.metric}: not expected to reach ${limit}${horizon} ${basis}\n`;
  }
  const at = Number(x.at_ms);
  const interval =
    x.earliest_ms !== undefined || x.latest_ms !== undefined
      ? `, ${level} interval ${x.earliest_ms !== undefined ? formatDuration(Number(x.earliest_ms) - now) : '?'} .. ${x.latest_ms !== undefined ? formatDuration(Number(x.latest_ms) - now) : 'beyond the horizon'}`
      : '';
  const when = at <= now ? `already at or past it (since ${dateTime(at)})` : `in ${formatDuration(at - now)} (at ${dateTime(at)}${interval})`;
  return `${f.metric}: reaches ${limit} ${when} ${basis}\n`;
}

export async function forecast(cmd: ForecastCommand, api: Api, io: CliIo): Promise<number> {
  const names = cmd.metrics.length ? cmd.metrics : FORECAST_METRICS;
  let shown = 0;
  for (const metric of names) {
    let f: Forecast;
    try {
      f = await call(api, 'forecasts', 'Get', { target: cmd.target, metric });
    } catch (err) {
      const e = errorFromRpc(err, api.addr);
      if (e.code === 'VIGIL_NOT_FOUND' && cmd.metrics.length === 0) continue;
      throw e;
    }
    shown++;
    io.stdout.write(cmd.output === 'json' ? formatJson(f) + '\n' : formatForecast(f, io.now()));
  }
  if (shown === 0) throw new CliError('VIGIL_NOT_FOUND', `no forecast for ${cmd.target} yet (a forecast needs some history of a monitored target)`);
  return 0;
}

// ---- rules

export function ruleErrorLine(e: RuleError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}\n`;
}

export async function rulesLs(cmd: RulesLsCommand, api: Api, io: CliIo): Promise<number> {
  const res = await call(api, 'rules', 'List', {});
  if (cmd.output === 'json') {
    for (const r of res.rules) io.stdout.write(formatJson(r) + '\n');
    return 0;
  }
  const paint = painter(useColour(io.stdout, io.env, io.colour));
  io.stdout.write(
    table(
      ['NAME', 'KIND', 'SEVERITY', 'ENABLED', 'STATUS', 'ACTIONS', 'SOURCE'],
      res.rules.map((r) => [
        r.name,
        enumWord(r.kind, 'RULE_KIND_'),
        severityTag(severityWord(r), paint).trimEnd(),
        r.enabled ? 'yes' : 'no',
        // A daemon older than the status field sends none: its rules all load.
        r.status === 'RULE_STATUS_SKIPPED' ? 'skipped' : r.status === 'RULE_STATUS_NEVER_FIRES' ? 'never fires' : 'loaded',
        r.actions.map((a) => enumWord(a, 'ACTION_')).join(',') || '-',
        r.source,
      ]),
    ),
  );
  return 0;
}

export async function rulesCheck(cmd: RulesCheckCommand, api: Api, io: CliIo): Promise<number> {
  let bad = 0;
  for (const file of cmd.files) {
    const text = readInput(io, file);
    const res = await call(api, 'rules', 'Validate', { text, file_name: file === '-' ? '<stdin>' : file });
    if (res.ok)
      io.stdout.write(`${file}: ok (${res.rules.length} rule${res.rules.length === 1 ? '' : 's'}${res.rules.length ? ': ' + res.rules.join(', ') : ''})\n`);
    else {
      bad++;
      for (const e of res.errors) io.stderr.write(ruleErrorLine(e));
    }
  }
  return bad > 0 ? 1 : 0;
}

export async function rulesReload(api: Api, io: CliIo): Promise<number> {
  const res = await call(api, 'rules', 'Reload', {});
  if (res.ok) {
    io.stdout.write(`reloaded: ${res.rules} rules in force\n`);
    return 0;
  }
  for (const e of res.errors) io.stderr.write(ruleErrorLine(e));
  io.stderr.write('vigil: the reload failed; the rules in force are unchanged\n');
  return 1;
}

// ---- status

export async function status(cmd: StatusCommand, api: Api, io: CliIo): Promise<number> {
  const s = await call(api, 'status', 'Get', {});
  if (cmd.output === 'json') {
    io.stdout.write(formatJson(s) + '\n');
    return 0;
  }
  const paint = painter(useColour(io.stdout, io.env, io.colour));
  const out: string[] = [];
  out.push(`vigild ${s.version}, up ${formatDuration(Number(s.uptime_ms))} (since ${dateTime(s.started_at)}), source ${s.source || 'unknown'}`);
  out.push(`probes: ${s.attached} attached, ${s.refused} refused`);
  const probes = [...s.probes].sort((a, b) => Number(a.attached) - Number(b.attached));
  for (const p of probes)
    out.push(`  ${p.attached ? paint('32', 'attached') : paint('33', 'refused ')}  ${p.object}/${p.program}  ${p.section}${p.reason ? `  (${p.reason})` : ''}`);
  if (s.events) {
    const decoded = Object.entries(s.events.decoded)
      .filter(([, n]) => Number(n) > 0)
      .map(([k, n]) => `${k} ${n}`);
    const sum = (m: Record<string, string>): number => Object.values(m).reduce((a, n) => a + Number(n), 0);
    out.push(`events: ${decoded.join(', ') || 'none yet'}`);
    out.push(
      `  delivered ${s.events.delivered}, subscriber drops ${s.events.queue_drops}, kernel drops ${sum(s.events.kernel_dropped)} (shed ${sum(s.events.kernel_shed)}), coalesced ${sum(s.events.kernel_coalesced)}, corrupt ${s.events.corrupt}`,
    );
  }
  if (s.alerts) {
    out.push(
      `alerts: ${s.alerts.stored} stored, last seq ${s.alerts.last_seq}, on disk up to ${s.alerts.persisted_seq}${s.alerts.epoch ? `, epoch ${s.alerts.epoch}` : ''}`,
    );
    if (s.alerts.store_error)
      out.push(
        paint('31', `  store failing: ${s.alerts.store_error}`) +
          ` (${s.alerts.waiting} alert versions waiting in memory, ${s.alerts.store_dropped} dropped; retried with backoff)`,
      );
    else if (Number(s.alerts.waiting) > 0 || Number(s.alerts.store_dropped) > 0)
      out.push(`  store: ${s.alerts.waiting} alert versions waiting, ${s.alerts.store_dropped} dropped since start`);
  }
  // Losses of every stream since the daemon started (ended ones too), by subscriber name, as in /metrics.
  const lostBy = Object.entries(s.subscriber_lost_by ?? {})
    .filter(([, n]) => Number(n) > 0)
    .map(([k, n]) => `${k} ${n}`);
  out.push(`subscribers: ${s.subscribers.length}, lost ${s.subscriber_lost ?? 0} since start${lostBy.length > 0 ? ` (${lostBy.join(', ')})` : ''}`);
  for (const sub of s.subscribers)
    out.push(
      `  #${sub.id} ${sub.name && sub.name !== sub.peer ? `${sub.name} ` : ''}${sub.peer} since ${dateTime(sub.since)} ${[sub.alerts && 'alerts', sub.events && 'events'].filter(Boolean).join('+')} sent ${sub.sent} lost ${sub.lost} queued ${sub.queued}`,
    );
  io.stdout.write(out.join('\n') + '\n');
  return 0;
}
