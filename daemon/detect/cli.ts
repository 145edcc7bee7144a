// `vigild rules check|test|fields`: validate rule files, replay a capture through them, print the
// field catalogue (docs/fields.md).
import { parseArgs } from 'node:util';
import { ContainerRegistry } from '../containers/registry.js';
import { ProcessEnricher } from '../process/enricher.js';
import { Sensor } from '../sensor/sensor.js';
import { silentLogger } from '../log.js';
import { UsageError, VigilError } from '../errors.js';
import { Detector } from './detector.js';
import { fieldsMarkdown } from './fields.js';
import { defaultRuleDirs } from './manager.js';
import { RuleError, RuleSet, formatRuleError } from './ruleset.js';
import type { RuleMatch } from './types.js';

export const RULES_USAGE = `Usage: vigild rules <command> [options] [DIR...]

Commands:
  check [DIR...]                  load the rule files and report errors (file:line:column)
  test --replay CAPTURE [DIR...]  replay a capture through the rules; print each match
  fields                          print the field catalogue (markdown; docs/fields.md)

DIR is a directory of .yaml files or a file; default: the package's rules/ and /etc/vigil/rules.d.
Exit status: 0 ok, 1 errors, 2 usage error.
`;

export interface RulesIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function load(dirs: string[], io: RulesIo): RuleSet | undefined {
  try {
    return RuleSet.load(dirs);
  } catch (err) {
    if (err instanceof RuleError) {
      for (const e of err.errors) io.stderr.write(`${formatRuleError(e)}\n`);
      io.stderr.write(`vigild rules: ${err.errors.length} error${err.errors.length === 1 ? '' : 's'}; nothing loaded\n`);
      return undefined;
    }
    throw err;
  }
}

export function formatMatch(m: RuleMatch): string {
  const ev = m.events[m.events.length - 1];
  const proc = ev ? `${ev.comm}[${ev.pid}]` : '-';
  return `${new Date(m.time).toISOString()} ${m.rule.severity.padEnd(13)} ${m.rule.name} container=${m.container.name || m.container.id} proc=${proc}${m.count !== undefined ? ` count=${m.count}` : ''}: ${m.message}`;
}

export const RULES_COMMANDS = ['check', 'test', 'fields'] as const;
/** The options of `vigild rules` (node:util parseArgs); test/doc-commands.test.ts checks the docs against them. */
export const RULES_OPTIONS = { replay: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export interface RulesArgs {
  command: (typeof RULES_COMMANDS)[number] | 'help';
  /** The directories given (empty: the defaults). */
  dirs: string[];
  replay?: string;
}

/** Parses `vigild rules ...` without acting on it; throws UsageError. */
export function parseRulesArgs(argv: readonly string[]): RulesArgs {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command (check, test or fields)');
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') return { command: 'help', dirs: [] };
  if (!(RULES_COMMANDS as readonly string[]).includes(cmd)) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  let values: { replay?: string; help?: boolean };
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
  return { command, dirs: positionals, ...(values.replay !== undefined ? { replay: values.replay } : {}) };
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
    const rs = load(dirs, io);
    if (!rs) return 1;
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
      io.stderr.write(`vigild rules test: ${events} events, ${matches} matches${setup > 0 ? ` (${setup} events of container runtimes' bootstrap not evaluated)` : ''}\n`);
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
