// `vigild run` (also plain `vigild`): parse flags and the config file, start the daemon, and stop it
// cleanly on SIGINT or SIGTERM.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkListen, DEFAULT_CONFIG_FILE, defaultConfig, loadConfigFile, type DaemonConfig } from './config.js';
import { Daemon } from './daemon.js';
import { UsageError, VigilError } from './errors.js';
import { createLogger } from './log.js';

export const RUN_USAGE = `Usage: vigild [run] [options]

Runs the daemon in the foreground: probes, process and container identity, container metrics into
the time-series store, /metrics over HTTP and the gRPC API on a unix socket. Logs JSON lines to stderr.

Options:
  --config FILE      YAML config (default ${DEFAULT_CONFIG_FILE} when it exists; see docs/config.md)
  --data-dir DIR     LevelDB data directory (default /var/lib/vigil)
  --http HOST:PORT   HTTP listener for /metrics and /healthz (default 127.0.0.1:9470)
  --api-socket PATH  unix socket of the gRPC API (default /run/vigil/vigil.sock; TCP: see api: in the config)
  --log-level LEVEL  fatal, error, warn, info, debug or trace (default info)
  -h, --help         this text
`;

export function parseRunArgs(argv: readonly string[]): { help: boolean; config: DaemonConfig } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        http: { type: 'string' },
        'api-socket': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { help: true, config: defaultConfig() };
  const file = values.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const config = file ? loadConfigFile(file) : defaultConfig();
  if (values['data-dir'] !== undefined) config.dataDir = values['data-dir'];
  if (values.http !== undefined) config.httpListen = checkListen(values.http, () => '--http');
  const sock = values['api-socket'];
  if (sock !== undefined) {
    if (!sock.startsWith('/')) throw new UsageError(`--api-socket must be an absolute path, not ${JSON.stringify(sock)}`);
    config.api.socket = sock;
  }
  const level = values['log-level'];
  if (level !== undefined) {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(level)) throw new UsageError(`--log-level must be fatal, error, warn, info, debug or trace, not ${JSON.stringify(level)}`);
    config.logLevel = level as DaemonConfig['logLevel'];
  }
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
