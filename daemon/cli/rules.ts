// `vigild rules check|test|fields`: validate rule files, replay a capture through them, print the
// field catalogue (docs/fields.md).
import { parseArgs } from 'node:util';
import { ContainerRegistry } from '../containers/registry.js';
import { ProcessEnricher } from '../process/process-enricher.js';
import { Sensor } from '../sensor/sensor.js';
import { silentLogger } from '../core/log.js';
import { UsageError, VigilError } from '../core/errors.js';
import { Detector } from '../detect/detector.js';
import { fieldsMarkdown } from '../detect/fields.js';
import { defaultRuleDirs } from '../detect/manager.js';
import { RuleError, RuleSet, formatRuleError } from '../detect/ruleset.js';
import type { RuleMatch } from '../detect/rule-match.js';
import { openClassText } from '../detect/status.js';

export const RULES_USAGE = `Usage: vigild rules <command> [options] [DIR...]

Commands:
  check [--strict] [DIR...]       load the rule files; print each rule as loaded, skipped (with the
                                  field or plugin that made it skip) or never fires (with why), and
                                  errors with file:line:column. --strict: a rule vigil cannot
                                  evaluate is an error instead of skipped
  test --replay CAPTURE [DIR...]  replay a capture through the rules; print each match
  fields                          print the field catalogue (markdown; docs/fields.md)

DIR is a directory of .yaml files or a file (Falco rule files load as they are: docs/falco.md);
default: the package's rules/ and /etc/vigil/rules.d.
Exit status: 0 ok, 1 errors, 2 usage error.
`;

export interface RulesIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function load(dirs: string[], io: RulesIo, strict = false): RuleSet | undefined {
  try {
    return RuleSet.load(dirs, { strict });
  } catch (err) {
    if (err instanceof RuleError) {
      for (const e of err.errors) io.stderr.write(`${formatRuleError(e)}\n`);
      io.stderr.write(`vigild rules: ${err.errors.length} error${err.errors.length === 1 ? '' : 's'}; nothing loaded\n`);
      return undefined;
    }
    throw err;
  }
}

const STATE_LABEL = { loaded: 'loaded', skipped: 'skipped', never: 'never fires' } as const;

/** One line per rule (loaded / skipped / never fires, with the reason), its notes, and the counts. */
export function formatStatuses(rs: RuleSet): string {
  const lines: string[] = [];
  const n = { loaded: 0, skipped: 0, never: 0 };
  for (const { rule, status } of rs.statuses()) {
    n[status.state]++;
    lines.push(
      `${STATE_LABEL[status.state].padEnd(12)} ${rule.name}${rule.enabled ? '' : ' (disabled)'}${status.reason ? `: ${status.reason}` : ''}  [${rule.source}]`,
    );
    if (status.opens !== undefined) lines.push(`${''.padEnd(12)}   sends: ${openClassText(status.opens)}`);
    for (const note of status.notes) lines.push(`${''.padEnd(12)}   note: ${note}`);
  }
  const total = n.loaded + n.skipped + n.never;
  lines.push(`rules: ${total}: ${n.loaded + n.never} loaded (${n.never} of them never fire), ${n.skipped} skipped`);
  return lines.join('\n') + '\n';
}

export function formatMatch(m: RuleMatch): string {
  const ev = m.events[m.events.length - 1];
  const proc = ev ? `${ev.comm}[${ev.pid}]` : '-';
  return `${new Date(m.time).toISOString()} ${m.rule.severity.padEnd(13)} ${m.rule.name} container=${m.container.name || m.container.id} proc=${proc}${m.count !== undefined ? ` count=${m.count}` : ''}: ${m.message}`;
}

export const RULES_COMMANDS = ['check', 'test', 'fields'] as const;
/** The options of `vigild rules` (node:util parseArgs); test/doc-commands.test.ts checks the docs against them. */
export const RULES_OPTIONS = { replay: { type: 'string' }, strict: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export interface RulesArgs {
  command: (typeof RULES_COMMANDS)[number] | 'help';
  /** The directories given (empty: the defaults). */
  dirs: string[];
  replay?: string;
  /** check --strict: a rule vigil cannot honour is an error, not a warning. */
  strict?: boolean;
}

/** Parses `vigild rules ...` without acting on it; throws UsageError. */
export function parseRulesArgs(argv: readonly string[]): RulesArgs {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command (check, test or fields)');
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') return { command: 'help', dirs: [] };
  if (!(RULES_COMMANDS as readonly string[]).includes(cmd)) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  let values: { replay?: string; strict?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: RULES_OPTIONS }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  if (values.help) return { command: 'help', dirs: [] };
  const command = cmd as RulesArgs['command'];
  if (command === 'test' && values.replay === undefined) throw new UsageError('test needs --replay CAPTURE');
  if (command !== 'test' && values.replay !== undefined) throw new UsageError(`--replay applies to rules test, not rules ${command}`);
  if (command === 'fields' && positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (command !== 'check' && values.strict) throw new UsageError(`--strict applies to rules check, not rules ${command}`);
  return { command, dirs: positionals, ...(values.replay !== undefined ? { replay: values.replay } : {}), ...(values.strict ? { strict: true } : {}) };
}

export async function runRules(argv: readonly string[], io: RulesIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let args: RulesArgs;
  try {
    args = parseRulesArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`vigild rules: ${err.message}\n${RULES_USAGE}`);
    return 2;
  }
  if (args.command === 'help') {
    io.stdout.write(RULES_USAGE);
    return 0;
  }
  const cmd = args.command;
  const dirs = args.dirs.length > 0 ? args.dirs : defaultRuleDirs();
  if (cmd === 'fields') {
    io.stdout.write(fieldsMarkdown());
    return 0;
  }
  if (cmd === 'check') {
    const rs = load(dirs, io, args.strict === true);
    if (!rs) return 1;
    for (const w of rs.warnings) if (!w.message.startsWith('rule ')) io.stderr.write(`${formatRuleError({ ...w, message: `warning: ${w.message}` })}\n`);
    io.stdout.write(formatStatuses(rs));
    const rules = rs.rules();
    const byKind = new Map<string, number>();
    for (const r of rules) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
    io.stdout.write(
      `ok: ${rs.files.length} files, ${rules.length} rules (${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}; ${rules.filter((r) => !r.enabled).length} disabled), ${rs.counts.macros} macros, ${rs.counts.lists} lists\n` +
        `probes: ${rs.requiredSyscalls('x86_64').length} system calls, ${rs.requiredWatches().length} watches derived\n`,
    );
    return 0;
  }
  if (cmd === 'test' && args.replay !== undefined) {
    const rs = load(dirs, io);
    if (!rs) return 1;
    let matches = 0;
    const containers = new ContainerRegistry({ walk: false });
    const detector = new Detector({
      rules: rs,
      onMatch: (m) => {
        matches++;
        io.stdout.write(formatMatch(m) + '\n');
      },
      resolveContainer: (cg) => (cg === undefined ? undefined : containers.resolve(cg)),
    });
    containers.onLifecycle((ev) => detector.evaluateLifecycle(ev));
    const sensor = Sensor.replay(args.replay, { enrichers: [new ProcessEnricher(), containers], logger: silentLogger() });
    try {
      await sensor.open();
      let events = 0;
      sensor.subscribe((ev) => {
        events++;
        detector.evaluate(ev);
      });
      await sensor.done;
      sensor.flush();
      await sensor.close();
      const setup = detector.stats().runtimeSetupSkipped;
      io.stderr.write(
        `vigild rules test: ${events} events, ${matches} matches${setup > 0 ? ` (${setup} events of container runtimes' bootstrap not evaluated)` : ''}\n`,
      );
      return 0;
    } catch (err) {
      await sensor.close().catch(() => undefined);
      if (err instanceof VigilError) {
        io.stderr.write(`vigild rules test: ${err.code}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }
  return 2;
}
