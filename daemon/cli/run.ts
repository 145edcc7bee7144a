// `vigild run` (also plain `vigild`): parse flags and the config file, start the daemon, and stop it
// cleanly on SIGINT or SIGTERM.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkListen, DEFAULT_CONFIG_FILE, defaultConfig, loadConfigFile, type DaemonConfig } from '../config.js';
import { Daemon } from '../daemon.js';
import { UsageError, VigilError } from '../core/errors.js';
import { createLogger } from '../core/log.js';

export const RUN_USAGE = `Usage: vigild [run] [options]

Runs the daemon in the foreground: probes, process and container identity, container metrics into
the time-series store, /metrics over HTTP and the gRPC API on a unix socket. Logs JSON lines to stderr.

Options:
  --config FILE      YAML config (default ${DEFAULT_CONFIG_FILE} when it exists; see docs/config.md)
  --data-dir DIR     LevelDB data directory (default /var/lib/vigil)
  --http HOST:PORT   HTTP listener for /metrics and /healthz (default 127.0.0.1:9470)
  --api-socket PATH  unix socket of the gRPC API (default /run/vigil/vigil.sock; TCP: see api: in the config)
  --rules DIR        a rule directory (or file); repeatable, loaded in the order given. Replaces the
                     config's rules.dirs and the default (the package's rules/ and /etc/vigil/rules.d),
                     so name rules/ too to keep the default pack
  --log-level LEVEL  fatal, error, warn, info, debug or trace (default info)
  -h, --help         this text
`;

/** The options of `vigild run` (node:util parseArgs); test/doc-commands.test.ts checks the docs against them. */
export const RUN_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  http: { type: 'string' },
  'api-socket': { type: 'string' },
  rules: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** What the command line says, checked but not yet applied: reads no file. */
export interface RunFlags {
  help: boolean;
  config?: string;
  dataDir?: string;
  httpListen?: string;
  apiSocket?: string;
  ruleDirs?: string[];
  logLevel?: DaemonConfig['logLevel'];
}

/** Parses `vigild run` flags without touching the file system; throws UsageError. */
export function parseRunFlags(argv: readonly string[]): RunFlags {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: RUN_OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: RunFlags = { help: values.help === true };
  if (values.config !== undefined) flags.config = values.config;
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.http !== undefined) {
    try {
      flags.httpListen = checkListen(values.http, () => '--http');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const sock = values['api-socket'];
  if (sock !== undefined) {
    if (!sock.startsWith('/')) throw new UsageError(`--api-socket must be an absolute path, not ${JSON.stringify(sock)}`);
    flags.apiSocket = sock;
  }
  if (values.rules !== undefined) {
    if (values.rules.some((d) => d === '')) throw new UsageError('--rules needs a directory or file');
    flags.ruleDirs = [...values.rules];
  }
  const level = values['log-level'];
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      throw new UsageError(`--log-level must be fatal, error, warn, info, debug or trace, not ${JSON.stringify(level)}`);
    flags.logLevel = level as DaemonConfig['logLevel'];
  }
  return flags;
}

/** The flags, then the config file they name (or the default one when it exists), flags winning. */
export function parseRunArgs(argv: readonly string[]): { help: boolean; config: DaemonConfig } {
  const flags = parseRunFlags(argv);
  if (flags.help) return { help: true, config: defaultConfig() };
  const file = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const config = file ? loadConfigFile(file) : defaultConfig();
  if (flags.dataDir !== undefined) config.dataDir = flags.dataDir;
  if (flags.httpListen !== undefined) config.httpListen = flags.httpListen;
  if (flags.apiSocket !== undefined) config.api.socket = flags.apiSocket;
  if (flags.ruleDirs !== undefined) config.ruleDirs = flags.ruleDirs;
  if (flags.logLevel !== undefined) config.logLevel = flags.logLevel;
  return { help: false, config };
}

export async function runDaemon(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseRunArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigild: ${err.message}\nTry 'vigild run --help'.\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const log = createLogger({ level: parsed.config.logLevel, name: 'vigild' });
  const daemon = new Daemon(parsed.config, { logger: log });
  try {
    await daemon.start();
  } catch (err) {
    if (err instanceof VigilError) {
      log.fatal({ code: err.code }, err.message);
      process.stderr.write(`vigild: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // SIGHUP reloads the rules; a bad set is logged with file:line:column and the rules in force stay.
  const onHup = (): void => void daemon.reloadRules();
  process.on('SIGHUP', onHup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals): void => resolve(s);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  process.off('SIGHUP', onHup);
  log.info({ signal }, 'stopping');
  const force = setTimeout(() => {
    log.error('stopping took more than 10 s; exiting anyway');
    process.exit(1);
  }, 10_000);
  force.unref();
  await daemon.stop();
  log.info('stopped');
  return 0;
}
