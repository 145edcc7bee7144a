// Argument parsing for `vigil`: one table of commands, each with its usage and its options (node:util
// parseArgs, strict), plus the connection options every command takes. A command line that cannot be
// run throws a UsageError carrying the command's usage (exit status 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import { parseFilter } from './filters.js';
import { SEVERITY_WORDS, type Filter } from './proto.js';
import { COLOUR_MODES, type ColourMode } from './terminal.js';
import { parseDuration } from '../../common/duration.js';
import { isLoopback } from '../../common/listen.js';
import { parseTimeArg } from './units.js';

export const DEFAULT_ADDR = 'unix:///run/vigil/vigil.sock';
/** vigild's HTTP listener and the token file it makes there, with its default config (daemon/config.ts). */
export const DEFAULT_HTTP = '127.0.0.1:9470';
export const DEFAULT_HTTP_TOKEN_FILE = '/var/lib/vigil/http.token';

/**
 * One option of a command: what node:util parseArgs needs, plus what its value is (a fixed set of
 * words, a file or a directory), which the shell completions (completion.ts) offer. A word set is
 * the same constant the command's build() checks the value against.
 */
export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  value?: readonly string[] | 'file' | 'dir';
}
export type OptionSpec = Record<string, OptionDef>;

const OUT_TEXT_JSON = ['text', 'json'] as const;
const OUT_TABLE_JSON = ['table', 'json'] as const;
const OUT_TABLE_WIDE_JSON = ['table', 'wide', 'json'] as const;
const OUT_TAIL = ['compact', 'json', 'wide', 'falco'] as const;
const ALERT_STATES = ['open', 'acknowledged', 'resolved', 'all'] as const;
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Options every command takes (connection, output and diagnostics). */
export const COMMON: OptionSpec = {
  addr: { type: 'string' },
  ca: { type: 'string', value: 'file' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  color: { type: 'string', value: COLOUR_MODES },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const toParseArgs = (spec: OptionSpec): NonNullable<ParseArgsConfig['options']> =>
  Object.fromEntries(
    Object.entries(spec).map(([k, { type, short, multiple }]) => [
      k,
      { type, ...(short !== undefined ? { short } : {}), ...(multiple !== undefined ? { multiple } : {}) },
    ]),
  );

export const COMMON_HELP = `Connection (every command):
      --addr ADDR       unix:///path/to.sock (default ${DEFAULT_ADDR}, or $VIGIL_ADDR),
                        or host:port for TLS; the token comes from $VIGIL_TOKEN
      --ca FILE         CA certificate that signed the daemon's (default $VIGIL_CA; else the system's)
      --insecure        plain TCP without TLS, allowed only to a loopback address
      --timeout DUR     per-call deadline (default 10s; tail streams have none)
      --color WHEN      auto (default: colour on a terminal unless $NO_COLOR is set), always
                        (even when piped or with $NO_COLOR) or never
      --debug           print stack traces and gRPC details on failure
  -h, --help            this help
`;

export const USAGE = `Usage: vigil COMMAND [options]

Commands:
  tail                        stream alerts (or, with --events, events) as they happen
  alerts ls|show|ack|resolve  list, inspect and act on alerts
  targets add|rm|ls           what vigil monitors (selectors such as name:web-*, image:nginx*, host, all)
  metrics TARGET              a target's resource metrics (sparklines on a terminal)
  forecast TARGET             predicted exhaustion of a target's resources
  rules ls|check|reload       the detection rules in force
  ps                          containers (and the host) with memory, CPU, pids and open alerts
  status                      the daemon: version, probes, rules, subscribers
  dashboard                   the web dashboard's URL, with the token
  version                     this vigil's and the daemon's version, build commit and API
  completion bash|zsh|fish    a shell completion script (e.g. source <(vigil completion bash))

Run 'vigil COMMAND --help' for a command's options; 'vigil --version' prints this vigil's version.

${COMMON_HELP}
Exit status: 0 success, 1 failure, 2 usage error.
`;

export type Output = 'compact' | 'json' | 'wide' | 'table' | 'text';

export interface Connection {
  /** From --addr or $VIGIL_ADDR, else the default unix socket. */
  addr: string;
  ca?: string;
  insecure: boolean;
  timeoutMs: number;
  debug: boolean;
}

export interface TailCommand {
  name: 'tail';
  events: boolean;
  output: 'compact' | 'json' | 'wide' | 'falco';
  since?: string;
  allow: Filter[];
  deny: Filter[];
}
export interface AlertsLsCommand {
  name: 'alerts ls';
  output: 'table' | 'json' | 'wide';
  state?: string;
  severity?: string;
  rule?: string;
  container?: string;
  since?: number;
  limit: number;
}
export interface AlertsShowCommand {
  name: 'alerts show';
  output: 'text' | 'json';
  id: string;
}
export interface AlertsActCommand {
  name: 'alerts ack' | 'alerts resolve';
  ids: string[];
  comment?: string;
}
export interface TargetsAddCommand {
  name: 'targets add';
  selectors: string[];
  files: string[];
  metrics?: string[];
  rules?: string[];
}
export interface TargetsRmCommand {
  name: 'targets rm';
  selectors: string[];
  files: string[];
}
export interface TargetsLsCommand {
  name: 'targets ls';
  output: 'table' | 'json';
}
export interface MetricsCommand {
  name: 'metrics';
  output: 'text' | 'json';
  target: string;
  metrics: string[];
  since: number;
  until?: number;
  stepMs?: number;
}
export interface ForecastCommand {
  name: 'forecast';
  output: 'text' | 'json';
  target: string;
  metrics: string[];
}
export interface RulesLsCommand {
  name: 'rules ls';
  output: 'table' | 'json';
}
export interface RulesCheckCommand {
  name: 'rules check';
  files: string[];
}
export interface RulesReloadCommand {
  name: 'rules reload';
}
export interface StatusCommand {
  name: 'status';
  output: 'text' | 'json';
}
export interface PsCommand {
  name: 'ps';
  all: boolean;
  output: 'table' | 'wide' | 'json';
}
export interface DashboardCommand {
  name: 'dashboard';
  /** vigild's HTTP listener, host:port. */
  http: string;
  /** null: --token-file none (the daemon runs with http.auth none). */
  tokenFile: string | null;
}
export interface HelpCommand {
  name: 'help';
  text: string;
}
export interface VersionCommand {
  name: 'version';
  output: 'text' | 'json';
  /** Only this vigil's version: ask no daemon (--client, and --version). */
  clientOnly: boolean;
}
export interface CompletionCommand {
  name: 'completion';
  shell: Shell;
}

export type Command =
  | TailCommand
  | AlertsLsCommand
  | AlertsShowCommand
  | AlertsActCommand
  | TargetsAddCommand
  | TargetsRmCommand
  | TargetsLsCommand
  | MetricsCommand
  | ForecastCommand
  | RulesLsCommand
  | RulesCheckCommand
  | RulesReloadCommand
  | StatusCommand
  | PsCommand
  | DashboardCommand
  | VersionCommand
  | CompletionCommand
  | HelpCommand;

export interface Invocation {
  command: Command;
  connection: Connection;
  /** --color (default auto); terminal.ts decides what auto means. */
  colour: ColourMode;
}

export interface ParseContext {
  env: NodeJS.ProcessEnv;
  stdoutIsTty: boolean;
  now: number;
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandSpec {
  usage: string;
  options: OptionSpec;
  /** What the positional arguments are, for completion (none: nothing to offer). */
  positionals?: readonly string[] | 'file';
  build(values: Values, positionals: string[], ctx: ParseContext, usage: string): Command;
}

const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: Values[string]): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const list = (v: Values[string]): string[] =>
  strs(v)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

function oneOf<T extends string>(what: string, value: string | undefined, allowed: readonly T[], fallback: T, usage: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${what} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`, usage);
  return value as T;
}

function noPositionals(positionals: string[], usage: string): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, usage);
}

function exactlyOne(what: string, positionals: string[], usage: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${what}`, usage);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, usage);
  return positionals[0]!;
}

const ID_RE = /^[A-Za-z0-9._:-]+$/;

export const SPECS: Record<string, CommandSpec> = {
  tail: {
    usage: `Usage: vigil tail [options]

Stream alerts as they are raised (with --events, the events the sensor sees too) until interrupted.

Options:
      --events              stream events as well as alerts
      --allow FILTER        only what matches FILTER; repeatable (any of them matches)
      --deny FILTER         never what matches FILTER; repeatable
                              FILTER: FIELD=VALUE[,VALUE...][;FIELD=VALUE...]: every field
                              must match, any of its values; fields: kind, rule, severity
                              (this or worse), container (id or prefix), container.name
                              (glob), namespace, exe (glob); e.g. 'kind=exec,file;exe=/bin/*'
      --since SEQ           resume after sequence number SEQ (printed by -o json as "seq")
  -o, --output FORMAT       compact, json (one object a line), wide, or falco (each new alert
                              as Falco's JSON alert, one a line, for Falco tooling)
                              (default compact on a terminal, json otherwise)
`,
    options: {
      events: { type: 'boolean' },
      allow: { type: 'string', multiple: true },
      deny: { type: 'string', multiple: true },
      since: { type: 'string' },
      output: { type: 'string', short: 'o', value: OUT_TAIL },
    },
    build(v, pos, ctx, usage) {
      noPositionals(pos, usage);
      const since = str(v.since);
      if (since !== undefined && !/^\d+$/.test(since)) throw new UsageError(`--since must be a sequence number (got ${JSON.stringify(since)})`, usage);
      // gRPC would wrap a larger number silently (2^64 + 5 becomes 5): refuse it.
      if (since !== undefined && BigInt(since) >= 1n << 63n) throw new UsageError(`--since ${since} is at or above 2^63: not a sequence number`, usage);
      return {
        name: 'tail',
        events: v.events === true,
        output: tailOutput(v, ctx.stdoutIsTty, usage),
        ...(since !== undefined ? { since } : {}),
        allow: strs(v.allow).map((f) => parseFilter(f, usage)),
        deny: strs(v.deny).map((f) => parseFilter(f, usage)),
      };
    },
  },
  'alerts ls': {
    usage: `Usage: vigil alerts ls [options]

List alerts, newest first.

Options:
      --state STATE         open (default), acknowledged, resolved or all
      --severity SEV        this severity or worse (emergency .. debug)
      --rule NAME           only this rule
      --container ID        only this container (id or name)
      --since WHEN          raised after WHEN: a duration ago (1h, 7d) or a time (2026-11-28T12:00:00Z)
      --limit N             at most N alerts (default 100)
  -o, --output FORMAT       table (default), wide or json
`,
    options: {
      state: { type: 'string', value: ALERT_STATES },
      severity: { type: 'string', value: SEVERITY_WORDS },
      rule: { type: 'string' },
      container: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      output: { type: 'string', short: 'o', value: OUT_TABLE_WIDE_JSON },
    },
    build(v, pos, ctx, usage) {
      noPositionals(pos, usage);
      const state = oneOf('--state', str(v.state), ALERT_STATES, 'open', usage);
      const severity = str(v.severity);
      if (severity !== undefined) oneOf('--severity', severity, SEVERITY_WORDS, 'debug', usage);
      const limitText = str(v.limit) ?? '100';
      if (!/^\d+$/.test(limitText) || Number(limitText) === 0)
        throw new UsageError(`--limit must be a positive number (got ${JSON.stringify(limitText)})`, usage);
      const sinceText = str(v.since);
      const since = sinceText === undefined ? undefined : parseTimeArg(sinceText, ctx.now);
      if (sinceText !== undefined && since === undefined)
        throw new UsageError(`--since must be a duration (1h) or a time (got ${JSON.stringify(sinceText)})`, usage);
      const cmd: AlertsLsCommand = {
        name: 'alerts ls',
        output: oneOf('--output', str(v.output), OUT_TABLE_WIDE_JSON, 'table', usage),
        limit: Number(limitText),
      };
      if (state !== 'all') cmd.state = state;
      if (severity !== undefined) cmd.severity = severity;
      if (str(v.rule) !== undefined) cmd.rule = str(v.rule)!;
      if (str(v.container) !== undefined) cmd.container = str(v.container)!;
      if (since !== undefined) cmd.since = since;
      return cmd;
    },
  },
  'alerts show': {
    usage: `Usage: vigil alerts show ID [options]

An alert in full: state and history, the process lineage, the triggering events, responses.

Options:
  -o, --output FORMAT       text (default) or json
`,
    options: { output: { type: 'string', short: 'o', value: OUT_TEXT_JSON } },
    build(v, pos, _ctx, usage) {
      const id = exactlyOne('alert ID', pos, usage);
      if (!ID_RE.test(id)) throw new UsageError(`not an alert id: ${JSON.stringify(id)}`, usage);
      return { name: 'alerts show', id, output: oneOf('--output', str(v.output), OUT_TEXT_JSON, 'text', usage) };
    },
  },
  'alerts ack': actSpec('ack', 'Acknowledge alerts: someone is on it. Records who (from the token) and the comment.'),
  'alerts resolve': actSpec('resolve', 'Resolve alerts: dealt with. Records who (from the token) and the comment.'),
  'targets add': {
    usage: `Usage: vigil targets add SELECTOR... [options]

Monitor what the selectors select. The batch (arguments and files) is applied whole or not at all.
Selectors: id:PREFIX name:GLOB image:GLOB label:KEY=GLOB KEY=GLOB cgroup:GLOB host all

Options:
  -f, --file FILE           read targets from FILE, one a line ("SELECTOR [metrics=..] [rules=..]",
                            # comments); - reads standard input; repeatable
      --metrics M,M         sample only these metrics for the argument selectors
      --rules R,R           apply only these rules to the argument selectors
`,
    options: {
      file: { type: 'string', short: 'f', multiple: true, value: 'file' },
      metrics: { type: 'string', multiple: true },
      rules: { type: 'string', multiple: true },
    },
    build(v, pos, _ctx, usage) {
      const files = strs(v.file);
      if (pos.length === 0 && files.length === 0) throw new UsageError('nothing to add: give selectors or --file', usage);
      const cmd: TargetsAddCommand = { name: 'targets add', selectors: pos, files };
      if (v.metrics !== undefined) cmd.metrics = list(v.metrics);
      if (v.rules !== undefined) cmd.rules = list(v.rules);
      return cmd;
    },
  },
  'targets rm': {
    usage: `Usage: vigil targets rm SELECTOR... [options]

Stop monitoring targets (by selector, as 'vigil targets ls' prints them). Applied whole or not at all.

Options:
  -f, --file FILE           read selectors from FILE, one a line; - reads standard input; repeatable
`,
    options: { file: { type: 'string', short: 'f', multiple: true, value: 'file' } },
    build(v, pos, _ctx, usage) {
      const files = strs(v.file);
      if (pos.length === 0 && files.length === 0) throw new UsageError('nothing to remove: give selectors or --file', usage);
      return { name: 'targets rm', selectors: pos, files };
    },
  },
  'targets ls': {
    usage: `Usage: vigil targets ls [options]

The monitored targets and how many containers each selects.

Options:
  -o, --output FORMAT       table (default) or json
`,
    options: { output: { type: 'string', short: 'o', value: OUT_TABLE_JSON } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'targets ls', output: oneOf('--output', str(v.output), OUT_TABLE_JSON, 'table', usage) };
    },
  },
  metrics: {
    usage: `Usage: vigil metrics TARGET [options]

A target's metrics over a time range (TARGET: a container id or name, or host), with a sparkline of
each on a terminal and the plain values otherwise.

Options:
      --metric M            only metric M (e.g. memory_usage_bytes); repeatable
      --since WHEN          from WHEN: a duration ago (default 1h) or a time
      --until WHEN          to WHEN (default now)
      --step DUR            one point per DUR (e.g. 1m; default: the daemon's choice)
  -o, --output FORMAT       text (default) or json
`,
    options: {
      metric: { type: 'string', multiple: true },
      since: { type: 'string' },
      until: { type: 'string' },
      step: { type: 'string' },
      output: { type: 'string', short: 'o', value: OUT_TEXT_JSON },
    },
    build(v, pos, ctx, usage) {
      const target = exactlyOne('TARGET', pos, usage);
      const when = (flag: string, text: string | undefined, fallback: number | undefined): number | undefined => {
        if (text === undefined) return fallback;
        const t = parseTimeArg(text, ctx.now);
        if (t === undefined) throw new UsageError(`${flag} must be a duration (1h) or a time (got ${JSON.stringify(text)})`, usage);
        return t;
      };
      const since = when('--since', str(v.since), ctx.now - 3600e3)!;
      const until = when('--until', str(v.until), undefined);
      if (until !== undefined && until <= since) throw new UsageError('--until must be after --since', usage);
      const stepText = str(v.step);
      const stepMs = stepText === undefined ? undefined : parseDuration(stepText);
      if (stepText !== undefined && (stepMs === undefined || stepMs <= 0))
        throw new UsageError(`--step must be a duration such as 1m (got ${JSON.stringify(stepText)})`, usage);
      const cmd: MetricsCommand = {
        name: 'metrics',
        target,
        metrics: list(v.metric),
        since,
        output: oneOf('--output', str(v.output), OUT_TEXT_JSON, 'text', usage),
      };
      if (until !== undefined) cmd.until = until;
      if (stepMs !== undefined) cmd.stepMs = stepMs;
      return cmd;
    },
  },
  forecast: {
    usage: `Usage: vigil forecast TARGET [options]

When a target is predicted to run out of a resource (memory, pids, CPU), with its interval.

Options:
      --metric M            only metric M; repeatable
  -o, --output FORMAT       text (default) or json
`,
    options: { metric: { type: 'string', multiple: true }, output: { type: 'string', short: 'o', value: OUT_TEXT_JSON } },
    build(v, pos, _ctx, usage) {
      return {
        name: 'forecast',
        target: exactlyOne('TARGET', pos, usage),
        metrics: list(v.metric),
        output: oneOf('--output', str(v.output), OUT_TEXT_JSON, 'text', usage),
      };
    },
  },
  'rules ls': {
    usage: `Usage: vigil rules ls [options]

The rules in force: name, type, severity, tags, file.

Options:
  -o, --output FORMAT       table (default) or json
`,
    options: { output: { type: 'string', short: 'o', value: OUT_TABLE_JSON } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'rules ls', output: oneOf('--output', str(v.output), OUT_TABLE_JSON, 'table', usage) };
    },
  },
  'rules check': {
    usage: `Usage: vigil rules check FILE...

Ask the daemon whether rule files parse and compile on top of the rules in force (- reads standard
input). Errors print as file:line:column. Nothing is changed.
`,
    options: {},
    positionals: 'file',
    build(_v, pos, _ctx, usage) {
      if (pos.length === 0) throw new UsageError('missing rule FILE', usage);
      return { name: 'rules check', files: pos };
    },
  },
  'rules reload': {
    usage: `Usage: vigil rules reload

Reload the daemon's rule directories. A file that does not parse is reported and the rules in force
stay as they were.
`,
    options: {},
    build(_v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'rules reload' };
    },
  },
  status: {
    usage: `Usage: vigil status [options]

The daemon: version, uptime, attached probes, rules, targets, events and drops, subscribers.

Options:
  -o, --output FORMAT       text (default) or json
`,
    options: { output: { type: 'string', short: 'o', value: OUT_TEXT_JSON } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'status', output: oneOf('--output', str(v.output), OUT_TEXT_JSON, 'text', usage) };
    },
  },
  ps: {
    usage: `Usage: vigil ps [options]

The containers vigild knows, the host first, each with the latest sample of the last sweep and its
open alerts; - where there is no figure (not monitored, not sampled yet, or no such limit).
  MEM       working set / memory limit, and the share of the limit in use
  CPU       cores used / CPU quota in cores
  PIDS      tasks / pids.max
  ALERTS    open alerts, coloured by the worst
-o wide adds the full id, the pod, open fds, the age of the sample and the posture flags:
PRIV (privileged), HOSTPID HOSTNET HOSTIPC HOSTMNT HOSTUTS (a host namespace shared), MNT:PATH (a
sensitive mount), MISMATCH (the runtime's record of the posture and the kernel's view disagree).

Options:
  -a, --all                 stopped containers too (those the daemon still remembers)
  -o, --output FORMAT       table (default), wide or json (one object a line, the host first)
`,
    options: { all: { type: 'boolean', short: 'a' }, output: { type: 'string', short: 'o', value: OUT_TABLE_WIDE_JSON } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'ps', all: v.all === true, output: oneOf('--output', str(v.output), OUT_TABLE_WIDE_JSON, 'table', usage) };
    },
  },
  dashboard: {
    usage: `Usage: vigil dashboard [options]

Print the web dashboard's URL with the HTTP token in its fragment (#token=...): the browser keeps the
fragment to itself, so the token never reaches the server's request line or its logs. Checks first
that vigild answers GET /healthz there and takes the token.

Options:
      --http HOST:PORT      vigild's HTTP listener (http.listen; default ${DEFAULT_HTTP})
      --token-file FILE     the token (http.token_file; default ${DEFAULT_HTTP_TOKEN_FILE}, which
                            vigild makes 0600 in its data dir); none when the daemon runs with
                            http.auth: none
Of the connection options only --timeout applies (to each request).
`,
    options: { http: { type: 'string' }, 'token-file': { type: 'string', value: 'file' } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      const http = str(v.http) ?? DEFAULT_HTTP;
      if (!splitHostPort(http)) throw new UsageError(`--http must be HOST:PORT, e.g. ${DEFAULT_HTTP} (got ${JSON.stringify(http)})`, usage);
      const tokenFile = str(v['token-file']) ?? DEFAULT_HTTP_TOKEN_FILE;
      if (tokenFile === '') throw new UsageError('--token-file must name a file (or none)', usage);
      return { name: 'dashboard', http, tokenFile: tokenFile === 'none' ? null : tokenFile };
    },
  },
  version: {
    usage: `Usage: vigil version [options]

This vigil's version, build commit and API version, then the daemon's (from its status). When no
daemon answers, the daemon's part is a note on stderr and the command still succeeds.
'vigil --version' prints this vigil's line alone.

Options:
      --client              only this vigil's version; ask no daemon
  -o, --output FORMAT       text (default) or json
`,
    options: { client: { type: 'boolean' }, output: { type: 'string', short: 'o', value: OUT_TEXT_JSON } },
    build(v, pos, _ctx, usage) {
      noPositionals(pos, usage);
      return { name: 'version', clientOnly: v.client === true, output: oneOf('--output', str(v.output), OUT_TEXT_JSON, 'text', usage) };
    },
  },
  completion: {
    usage: `Usage: vigil completion bash|zsh|fish

Print a completion script for the shell: commands, subcommands, options and their fixed values.
  bash   source <(vigil completion bash)          (or save it in /etc/bash_completion.d/vigil)
  zsh    vigil completion zsh > "\${fpath[1]}/_vigil"   (then restart zsh)
  fish   vigil completion fish > ~/.config/fish/completions/vigil.fish
`,
    options: {},
    positionals: SHELLS,
    build(_v, pos, _ctx, usage) {
      const shell = exactlyOne('shell (bash, zsh or fish)', pos, usage);
      return { name: 'completion', shell: oneOf('the shell', shell, SHELLS, 'bash', usage) };
    },
  },
};

function actSpec(verb: 'ack' | 'resolve', what: string): CommandSpec {
  return {
    usage: `Usage: vigil alerts ${verb} ID... [options]

${what}

Options:
  -m, --comment TEXT        why (recorded in the alert's history)
`,
    options: { comment: { type: 'string', short: 'm' } },
    build(v, pos, _ctx, usage) {
      if (pos.length === 0) throw new UsageError('missing alert ID', usage);
      for (const id of pos) if (!ID_RE.test(id)) throw new UsageError(`not an alert id: ${JSON.stringify(id)}`, usage);
      const cmd: AlertsActCommand = { name: verb === 'ack' ? 'alerts ack' : 'alerts resolve', ids: pos };
      if (str(v.comment) !== undefined) cmd.comment = str(v.comment)!;
      return cmd;
    },
  };
}

export const GROUPS: Record<string, { subs: string[]; usage: string }> = {
  alerts: { subs: ['ls', 'show', 'ack', 'resolve'], usage: 'Usage: vigil alerts ls|show|ack|resolve [options]\n' },
  targets: { subs: ['add', 'rm', 'ls'], usage: 'Usage: vigil targets add|rm|ls [options]\n' },
  rules: { subs: ['ls', 'check', 'reload'], usage: 'Usage: vigil rules ls|check|reload [options]\n' },
};
export const ALIASES: Record<string, string> = { list: 'ls', remove: 'rm', acknowledge: 'ack', validate: 'check', get: 'show' };

/** The usage text of a command name ("alerts ack"), or the top-level usage. */
export function usageOf(name?: string): string {
  if (name === undefined) return USAGE;
  return SPECS[name]?.usage ?? GROUPS[name]?.usage ?? USAGE;
}

/** Parses a whole `vigil` command line; throws UsageError. */
export function parseCommandLine(argv: readonly string[], ctx: ParseContext): Invocation {
  const args = [...argv];
  // Connection options may come before the command too: `vigil --addr h:1 status`.
  const lead: string[] = [];
  while (args.length > 0 && args[0]!.startsWith('-') && !['-h', '--help', '--version'].includes(args[0]!)) {
    const a = args.shift()!;
    lead.push(a);
    const key = a.replace(/^--/, '').split('=')[0]!;
    const spec = COMMON[key];
    if (spec === undefined) throw new UsageError(`unknown option ${JSON.stringify(a)} before the command`, USAGE);
    if (spec.type === 'string' && !a.includes('=')) {
      if (args.length === 0) throw new UsageError(`option ${a} needs a value`, USAGE);
      lead.push(args.shift()!);
    }
  }
  const first = args.shift();
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === undefined) throw new UsageError('missing command', USAGE);
    const topic = args.filter((a) => !a.startsWith('-')).join(' ');
    return {
      command: { name: 'help', text: topic ? usageOf(topic) + (SPECS[topic] ? `\n${COMMON_HELP}` : '') : USAGE },
      connection: connectionFrom({}, ctx, USAGE),
      colour: 'auto',
    };
  }
  // `vigil --version`, the habit of every tool: this vigil's line only, no daemon asked.
  if (first === '--version') {
    if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])} after --version`, USAGE);
    return { command: { name: 'version', output: 'text', clientOnly: true }, connection: connectionFrom({}, ctx, USAGE), colour: 'auto' };
  }
  let name = first;
  const group = GROUPS[first];
  if (group) {
    const raw = args[0];
    if (raw === undefined || raw === '-h' || raw === '--help') {
      if (raw === undefined) throw new UsageError(`missing ${first} subcommand (${group.subs.join(', ')})`, group.usage);
      return { command: { name: 'help', text: group.usage }, connection: connectionFrom({}, ctx, USAGE), colour: 'auto' };
    }
    const sub = ALIASES[raw] ?? raw;
    if (!group.subs.includes(sub)) throw new UsageError(`unknown ${first} subcommand ${JSON.stringify(raw)} (${group.subs.join(', ')})`, group.usage);
    args.shift();
    name = `${first} ${sub}`;
  }
  const spec = SPECS[name];
  if (!spec) throw new UsageError(`unknown command ${JSON.stringify(first)}`, USAGE);
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...lead, ...args],
      strict: true,
      allowPositionals: true,
      options: toParseArgs({ ...COMMON, ...spec.options }),
    }));
  } catch (err) {
    throw new UsageError(
      err instanceof Error
        ? err.message
            .split('\n')[0]!
            .replace(/\. To specify a positional.*$/, '')
            .replace(/^Unknown option/, 'unknown option')
        : String(err),
      spec.usage,
    );
  }
  if (values.help === true)
    return { command: { name: 'help', text: `${spec.usage}\n${COMMON_HELP}` }, connection: connectionFrom({}, ctx, spec.usage), colour: 'auto' };
  const connection = connectionFrom(values, ctx, spec.usage);
  const colour = oneOf('--color', str(values.color), COLOUR_MODES, 'auto', spec.usage);
  return { command: spec.build(values, positionals, ctx, spec.usage), connection, colour };
}

/** Splits host:port ([v6]:port); undefined when it is not one. */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) return undefined;
  return { host: m[1]!, port: Number(m[2]) };
}

function connectionFrom(values: Values, ctx: ParseContext, usage: string): Connection {
  const addr = str(values.addr) ?? (ctx.env.VIGIL_ADDR || DEFAULT_ADDR);
  const insecure = values.insecure === true;
  const timeoutText = str(values.timeout);
  const timeoutMs = timeoutText === undefined ? 10_000 : parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout must be a duration such as 10s (got ${JSON.stringify(timeoutText)})`, usage);
  if (addr.startsWith('unix:')) {
    if (!/^unix:(\/\/)?\/./.test(addr)) throw new UsageError(`--addr ${JSON.stringify(addr)}: a unix address is unix:///absolute/path.sock`, usage);
  } else {
    const hp = splitHostPort(addr);
    if (!hp) throw new UsageError(`--addr ${JSON.stringify(addr)} is neither unix:///path nor host:port`, usage);
    if (insecure && !isLoopback(hp.host)) throw new UsageError(`--insecure is allowed only to a loopback address, not ${hp.host}: use TLS with --ca`, usage);
  }
  const ca = str(values.ca) ?? (ctx.env.VIGIL_CA || undefined);
  const conn: Connection = { addr, insecure, timeoutMs, debug: values.debug === true };
  if (ca !== undefined) conn.ca = ca;
  return conn;
}

/** tail's -o: falco is Falco's JSON alert, which events do not have. */
function tailOutput(
  v: Record<string, string | boolean | (string | boolean)[] | undefined>,
  tty: boolean,
  usage: string,
): 'compact' | 'json' | 'wide' | 'falco' {
  const o = oneOf('--output', str(v.output), OUT_TAIL, tty ? 'compact' : 'json', usage);
  if (o === 'falco' && v.events === true)
    throw new UsageError("-o falco prints alerts as Falco's JSON; events have no Falco form (use -o json with --events)", usage);
  return o;
}
