// vigild: the daemon's entry point. Subcommands: run (the default: the daemon) and trace.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VigilError } from './errors.js';
import { runDaemon } from './run.js';
import { runTrace } from './trace/cli.js';
import { runRules } from './detect/cli.js';
import { versionLine } from './version.js';

export const USAGE = `Usage: vigild [command] [options]

Commands:
  run       the daemon, in the foreground (the default when no command is given)
  trace     attach the probes (or replay a capture) and print events, one a line
  rules     check rule files, replay a capture through them, print the field catalogue
  version   the version, build commit and API version (also --version)

Run 'vigild <command> --help' for the options of a command.
`;

export interface MainIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Dispatches a command line; resolves to the exit status (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[], io: MainIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === 'version') {
    if (rest.length > 0) {
      io.stderr.write(`vigild: unexpected argument ${JSON.stringify(rest[0])}\n${USAGE}`);
      return 2;
    }
    io.stdout.write(`${versionLine('vigild')}\n`);
    return 0;
  }
  if (cmd === undefined || cmd.startsWith('--') && cmd !== '--help') return runDaemon(argv);
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (cmd === 'run') return runDaemon(rest);
  if (cmd === 'trace') return runTrace(rest);
  if (cmd === 'rules') return runRules(rest, io);
  io.stderr.write(`vigild: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  return 2;
}

// Run when executed (bin/vigild), not when imported by tests.
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (isEntry()) {
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
