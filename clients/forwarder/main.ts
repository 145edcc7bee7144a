// vigil-forward: subscribe to vigild's stream and ship alerts (and events when asked) to SIEMs and
// message buses, at least once. Usage (args.ts):
//   vigil-forward [-c FILE]          run (default config /etc/vigil/forward.yaml)
//   vigil-forward --check [-c FILE]  check the config file and exit
//   vigil-forward --version          version, build commit, API version
//   vigil-forward --schema           the config file's JSON Schema (docs/schemas/forward.schema.json)
// SIGTERM or SIGINT: stop subscribing, deliver what is queued (up to shutdown_timeout_ms), write the
// cursors, exit 0.
import { pino } from 'pino';
import { buildInfo, versionLine } from '../../common/node/version.js';
import { parseForwardArgs, USAGE } from './args.js';
import { assemble } from './assemble.js';
import { configSchema, loadConfig } from './config.js';
import { schemaText } from '../../common/json-schema.js';
import { ForwardError, UsageError } from './core/errors.js';
import { GrpcSource } from './grpc.js';

async function main(): Promise<number> {
  const args = parseForwardArgs(process.argv.slice(2), process.env);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${versionLine('vigil-forward')}\n`);
    return 0;
  }
  if (args.schema) {
    process.stdout.write(schemaText(configSchema()));
    return 0;
  }
  const cfg = loadConfig(args.config);
  if (args.check) {
    process.stdout.write(`${args.config}: ok, ${cfg.sinks.length} sink(s): ${cfg.sinks.map((s) => `${s.name} (${s.type})`).join(', ')}\n`);
    return 0;
  }
  const log = pino({ name: 'vigil-forward', level: process.env.VIGIL_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const { forwarder, pipelines, store } = assemble(cfg, new GrpcSource(cfg.daemon), log, buildInfo().version);
  log.info(
    { config: args.config, state: cfg.stateFile, sinks: pipelines.map((p) => ({ name: p.name, type: p.sink.type, cursor: p.acked })) },
    'vigil-forward starting',
  );
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    if (stopping) return;
    log.info({ signal }, 'stopping: flushing the sinks');
    stopping = forwarder.stop(cfg.shutdownTimeoutMs);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await forwarder.start();
  await stopping;
  log.info({ sinks: pipelines.map((p) => ({ name: p.name, cursor: p.acked, ...p.stats })), state_writes: store.writes }, 'vigil-forward stopped');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // A sink library may keep a timer alive after close; everything is flushed by now.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    if (err instanceof ForwardError) {
      process.stderr.write(`vigil-forward: ${err.code}: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write(USAGE);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    } else {
      process.stderr.write(`vigil-forward: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
