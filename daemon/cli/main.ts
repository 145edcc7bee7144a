// vigild: the daemon's entry point. Subcommands: run (the default: the daemon), trace, rules, config.
import { isEntry } from '../../common/node/entry.js';
import { UsageError, VigilError } from '../core/errors.js';
import { parseRunFlags, runDaemon } from './run.js';
import { parseTraceArgs, runTrace } from './trace.js';
import { parseRulesArgs, runRules } from './rules.js';
import { versionLine } from '../../common/node/version.js';
import { parseConfigArgs, runConfig } from './config.js';
import { metricsReference } from '../api/families.js';

export const USAGE = `Usage: vigild [command] [options]

Commands:
  run       the daemon, in the foreground (the default when no command is given)
  trace     attach the probes (or replay a capture) and print events, one a line
  rules     check rule files, replay a capture through them, print the field catalogue
  config    check a config file; print the JSON Schemas of vigild.yaml and rule files
  version   the version, build commit and API version (also --version)
  metrics-doc  the reference of every /metrics family, in Markdown (docs/metrics.md)

Run 'vigild <command> --help' for the options of a command.
`;

export interface MainIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Which subcommand a command line runs, and its own arguments: what main() and checkCommandLine() share. */
export function route(argv: readonly string[]): { command: 'run' | 'trace' | 'rules' | 'config' | 'version' | 'metrics-doc' | 'help'; args: string[] } {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === 'version') {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return { command: 'version', args: [] };
  }
  // Plain `vigild` and `vigild --flag ...` run the daemon.
  if (cmd === undefined || (cmd.startsWith('--') && cmd !== '--help')) return { command: 'run', args: [...argv] };
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') return { command: 'help', args: [] };
  if (cmd === 'metrics-doc') {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return { command: 'metrics-doc', args: [] };
  }
  if (cmd === 'run' || cmd === 'trace' || cmd === 'rules' || cmd === 'config') return { command: cmd, args: rest };
  throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
}

/**
 * Parses a whole command line the way main() would, without running anything or reading any file:
 * throws UsageError where main() would exit 2. For tests that hold documented command lines to the
 * parsers (test/doc-commands.test.ts).
 */
export function checkCommandLine(argv: readonly string[]): void {
  const { command, args } = route(argv);
  if (command === 'run') parseRunFlags(args);
  else if (command === 'trace') parseTraceArgs(args, false);
  else if (command === 'rules') parseRulesArgs(args);
  else if (command === 'config') parseConfigArgs(args);
}

/** Dispatches a command line; resolves to the exit status (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[], io: MainIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let routed;
  try {
    routed = route(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`vigild: ${err.message}\n${USAGE}`);
    return 2;
  }
  switch (routed.command) {
    case 'version':
      io.stdout.write(`${versionLine('vigild')}\n`);
      return 0;
    case 'help':
      io.stdout.write(USAGE);
      return 0;
    case 'metrics-doc':
      io.stdout.write(await metricsReference());
      return 0;
    case 'run':
      return runDaemon(routed.args);
    case 'trace':
      return runTrace(routed.args);
    case 'rules':
      return runRules(routed.args, io);
    case 'config':
      return runConfig(routed.args, io);
  }
}

// Run when executed (bin/vigild), not when imported by tests.
if (isEntry(import.meta.url)) {
  // A reader that goes away (`vigild trace | head`) is not an error: the trace command stops quietly
  // on it; this handler keeps an EPIPE elsewhere (help text) from becoming an uncaught exception.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`vigild: stdout: ${err.message}\n`);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // The addon's poller or a pending timer must not keep a finished command alive.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (err: unknown) => {
      const msg = err instanceof VigilError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`vigild: ${msg}\n`);
      process.exit(1);
    },
  );
}
