// vigil: the command-line client of vigild over its gRPC API (proto/vigil/v1). Exit status: 0 success,
// 1 failure (one line on stderr, never a stack trace unless --debug), 2 usage error (one line and the
// command's usage).
import { readFileSync } from 'node:fs';
import { isEntry } from '../../common/node/entry.js';
import { parseCommandLine, type Command, type Invocation } from './args.js';
import { connect, errorFromRpc, type Api } from './client.js';
import * as commands from './commands.js';
import { dashboard } from './dashboard.js';
import { CliError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { ps } from './ps.js';
import { runTail } from './tail.js';
import { completionScript } from './completion.js';
import { version } from './version.js';

function run(command: Exclude<Command, { name: 'help' | 'dashboard' | 'version' | 'completion' }>, api: Api, io: CliIo): Promise<number> {
  switch (command.name) {
    case 'tail':
      return runTail(command, api, io);
    case 'alerts ls':
      return commands.alertsLs(command, api, io);
    case 'alerts show':
      return commands.alertsShow(command, api, io);
    case 'alerts ack':
    case 'alerts resolve':
      return commands.alertsAct(command, api, io);
    case 'targets add':
      return commands.targetsAdd(command, api, io);
    case 'targets rm':
      return commands.targetsRm(command, api, io);
    case 'targets ls':
      return commands.targetsLs(command, api, io);
    case 'metrics':
      return commands.metrics(command, api, io);
    case 'forecast':
      return commands.forecast(command, api, io);
    case 'rules ls':
      return commands.rulesLs(command, api, io);
    case 'rules check':
      return commands.rulesCheck(command, api, io);
    case 'rules reload':
      return commands.rulesReload(api, io);
    case 'status':
      return commands.status(command, api, io);
    case 'ps':
      return ps(command, api, io);
  }
}

/** Runs a command line; resolves to the exit status. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseCommandLine(argv, { env: io.env, stdoutIsTty: io.stdout.isTTY === true, now: io.now() });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`vigil: ${err.message}\n${err.usage ? '\n' + err.usage : ''}`);
      return 2;
    }
    io.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const { command, connection } = inv;
  io = { ...io, colour: inv.colour };
  if (command.name === 'help') {
    io.stdout.write(command.text);
    return 0;
  }
  if (command.name === 'completion') {
    io.stdout.write(completionScript(command.shell));
    return 0;
  }
  let api: Api | undefined;
  try {
    // The dashboard lives on the daemon's HTTP listener; it needs no gRPC channel.
    if (command.name === 'dashboard') return await dashboard(command, connection, io);
    if (command.name === 'version') return await version(command, connection, io);
    api = connect(connection, io.env);
    return await run(command, api, io);
  } catch (err) {
    const e = errorFromRpc(err, connection.addr);
    io.stderr.write(`vigil: ${e.message}\n`);
    if (connection.debug) io.stderr.write(`${debugDetail(err)}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    api?.close();
  }
}

function debugDetail(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; details?: unknown; metadata?: { getMap(): unknown } };
  const extra = e.metadata ? `\ngrpc: code ${String(e.code)} details ${JSON.stringify(e.details)} metadata ${JSON.stringify(e.metadata.getMap())}` : '';
  return `${err.stack ?? err.message}${extra}${err instanceof CliError && err.cause ? `\ncaused by: ${debugDetail(err.cause)}` : ''}`;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readText: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
    now: () => Date.now(),
    onSignal(handler) {
      const h = (): void => handler();
      process.on('SIGINT', h);
      process.on('SIGTERM', h);
      return () => {
        process.off('SIGINT', h);
        process.off('SIGTERM', h);
      };
    },
  };
}

if (isEntry(import.meta.url)) {
  // Node's deprecation warnings (grpc-js sets the TLS server name to an IP address for 127.0.0.1:port,
  // DEP0123) are for developers, not for the user's terminal; --debug keeps them.
  if (!process.argv.includes('--debug')) process.noDeprecation = true;
  // A reader that goes away (`vigil tail | head`) ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`vigil: stdout: ${err.message}\n`);
    process.exit(1);
  });
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
      // A channel still closing must not hold a finished command.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err: unknown) => {
      process.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
