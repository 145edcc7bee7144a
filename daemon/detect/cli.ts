// `vigild rules check|test|fields`: validate rule files, replay a capture through them, print the
// field catalogue (docs/fields.md).
import { parseArgs } from 'node:util';
import { ContainerRegistry } from '../containers/registry.js';
import { ProcessEnricher } from '../process/enricher.js';
import { Sensor } from '../sensor/sensor.js';
import { silentLogger } from '../log.js';
import { VigilError } from '../errors.js';
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

export async function runRules(argv: readonly string[], io: RulesIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    (cmd === undefined ? io.stderr : io.stdout).write(RULES_USAGE);
    return cmd === undefined ? 2 : 0;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { replay: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.stderr.write(`vigild rules: ${(err as Error).message.split('\n')[0]}\n${RULES_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(RULES_USAGE);
    return 0;
  }
  const dirs = positionals.length > 0 ? positionals : defaultRuleDirs();
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
  if (cmd === 'test') {
    if (typeof values.replay !== 'string') {
      io.stderr.write(`vigild rules test: --replay CAPTURE is needed\n`);
      return 2;
    }
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
    const sensor = Sensor.replay(values.replay, { enrichers: [new ProcessEnricher(), containers], logger: silentLogger() });
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
  io.stderr.write(`vigild rules: unknown command ${JSON.stringify(cmd)}\n${RULES_USAGE}`);
  return 2;
}
