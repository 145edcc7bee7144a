// `vigild trace`: attach the sensor (or replay a capture) and print events, one a line.
import { ContainerRegistry } from '../containers/registry.js';
import type { ContainerLifecycleEvent } from '../containers/container-info.js';
import { ProcessEnricher } from '../process/process-enricher.js';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SensorError, UsageError, VigilError, ConfigError } from '../core/errors.js';
import { createLogger, isLogLevel, type Logger } from '../core/log.js';
import type { NativeModule, WatchEntry } from '../sensor/native.js';
import { EVENT_KINDS, VG_CFG_CONNECT_INET, VG_CFG_FAILED_EXEC, type EventKind } from '../sensor/layout.js';
import { Sensor, type SensorReady, type SensorStats } from '../sensor/sensor.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { USER_WATCH_ID_BASE, parseWatch } from '../sensor/watches.js';
import { formatCompact, formatJson, formatLifecycle, type OutputFormat } from './trace-format.js';

export const TRACE_USAGE = `Usage: vigild trace [options]

Attach the probes and print what they see, one event a line (or replay a capture).

Options:
  -o, --output json|compact   output format (default compact on a terminal, json otherwise)
      --duration SECONDS      stop after this long
      --record FILE           also write the raw record batches to FILE (a capture)
      --replay FILE           read a capture instead of the kernel (needs no root)
      --watch KIND:PATH       watch a file or unix socket too; repeatable:
                                exact:/etc/passwd  prefix:/srv/secrets/  name:id_rsa
      --no-default-watches    only the --watch entries
      --kinds K,K,...         print only these kinds: ${EVENT_KINDS.join(',')}
      --pid PID               print only events of PID and its descendants
      --inet                  report inet/inet6 connects too
      --failed-exec           report failed execs too
      --log-level LEVEL       fatal, error, warn, info, debug, trace, silent (default warn)
      --color WHEN            compact output in colour: auto (on a terminal, unless $NO_COLOR
                              is set), always or never
  -h, --help                  this help

Exit status: 0 stopped normally (signal, --duration, end of replay), 1 failure, 2 usage error.
`;

export interface TraceOptions {
  output: OutputFormat;
  durationMs?: number;
  record?: string;
  replay?: string;
  watches: WatchEntry[];
  defaultWatches: boolean;
  kinds?: Set<EventKind>;
  pid?: number;
  configFlags: number;
  logLevel: string;
  colour: TraceColour;
  help: boolean;
}

export const TRACE_COLOURS = ['auto', 'always', 'never'] as const;
export type TraceColour = (typeof TRACE_COLOURS)[number];

/** The CLI's rule (clients/cli/terminal.ts): auto is a terminal with NO_COLOR unset and TERM not dumb; a flag beats both. */
export function traceColour(mode: TraceColour, isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (mode !== 'auto') return mode === 'always';
  return isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

/** Parses `vigild trace` arguments; throws UsageError. */
export function parseTraceArgs(argv: readonly string[], stdoutIsTty: boolean): TraceOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        duration: { type: 'string' },
        record: { type: 'string' },
        replay: { type: 'string' },
        watch: { type: 'string', multiple: true },
        'no-default-watches': { type: 'boolean' },
        kinds: { type: 'string' },
        pid: { type: 'string' },
        inet: { type: 'boolean' },
        'failed-exec': { type: 'boolean' },
        'log-level': { type: 'string' },
        color: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '') : String(err));
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const output = (values.output as string | undefined) ?? (stdoutIsTty ? 'compact' : 'json');
  if (output !== 'json' && output !== 'compact') throw new UsageError(`-o must be json or compact, not ${JSON.stringify(output)}`);
  const opts: TraceOptions = {
    output,
    watches: [],
    defaultWatches: values['no-default-watches'] !== true,
    configFlags: (values.inet ? VG_CFG_CONNECT_INET : 0) | (values['failed-exec'] ? VG_CFG_FAILED_EXEC : 0),
    logLevel: (values['log-level'] as string | undefined) ?? 'warn',
    colour: 'auto',
    help: values.help === true,
  };
  if (values.color !== undefined) {
    if (!(TRACE_COLOURS as readonly unknown[]).includes(values.color))
      throw new UsageError(`--color must be auto, always or never, not ${JSON.stringify(values.color)}`);
    opts.colour = values.color as TraceColour;
  }
  if (!isLogLevel(opts.logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(opts.logLevel)}`);
  if (values.duration !== undefined) {
    const s = Number(values.duration);
    if (!/^\d+(\.\d+)?$/.test(String(values.duration)) || !(s > 0))
      throw new UsageError(`--duration must be a positive number of seconds, not ${JSON.stringify(values.duration)}`);
    opts.durationMs = s * 1000;
  }
  if (values.record !== undefined) opts.record = values.record as string;
  if (values.replay !== undefined) opts.replay = values.replay as string;
  if (opts.record !== undefined && opts.replay !== undefined) throw new UsageError('--record and --replay cannot be used together');
  const watches = (values.watch as string[] | undefined) ?? [];
  watches.forEach((spec, i) => {
    try {
      opts.watches.push(parseWatch(spec, USER_WATCH_ID_BASE + i));
    } catch (err) {
      throw new UsageError(`--watch: ${err instanceof ConfigError ? err.message : String(err)}`);
    }
  });
  if (values.kinds !== undefined) {
    const kinds = new Set<EventKind>();
    for (const k of String(values.kinds).split(',')) {
      const name = k.trim();
      if (!(EVENT_KINDS as readonly string[]).includes(name))
        throw new UsageError(`--kinds: unknown kind ${JSON.stringify(name)} (kinds: ${EVENT_KINDS.join(', ')})`);
      kinds.add(name as EventKind);
    }
    opts.kinds = kinds;
  }
  if (values.pid !== undefined) {
    const pid = Number(values.pid);
    if (!/^\d+$/.test(String(values.pid)) || pid <= 0) throw new UsageError(`--pid must be a process id, not ${JSON.stringify(values.pid)}`);
    opts.pid = pid;
  }
  return opts;
}

/** Events of pid and of its descendants (forks seen since start, or ancestors in the process table). */
export function pidFilter(pid: number): (ev: VigilEvent) => boolean {
  const family = new Set<number>([pid]);
  return (ev) => {
    let match = family.has(ev.pid) || (ev.proc?.ancestors.some((a) => family.has(a.pid)) ?? false);
    if (match && ev.kind === 'fork') family.add(ev.child_pid);
    if (!match && ev.kind === 'fork' && family.has(ev.child_pid)) match = true;
    return match;
  };
}

export interface TraceIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  /** The addon; loaded lazily so that --replay and usage errors need none. */
  loadNative: () => NativeModule | Promise<NativeModule>;
  /** Registers stop signals; returns an unregister function. */
  onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
  getuid: () => number;
  btfPresent: () => boolean;
  logger?: Logger;
  /** For NO_COLOR and TERM (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export const defaultTraceIo = (): TraceIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  loadNative: async () => (await import('../sensor/addon.js')).loadNative(),
  onSignal: (handler) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    let seen = 0;
    // The first signal stops cleanly; a second one (a stuck close) exits at once.
    const onSignal = (s: NodeJS.Signals): void => {
      if (++seen > 1) {
        process.stderr.write(`vigild trace: ${s} again, exiting without cleanup\n`);
        process.exit(1);
      }
      handler(s);
    };
    for (const s of signals) process.on(s, onSignal);
    return () => signals.forEach((s) => process.off(s, onSignal));
  },
  getuid: () => (typeof process.getuid === 'function' ? process.getuid() : 0),
  btfPresent: () => existsSync('/sys/kernel/btf/vmlinux'),
});

function summary(s: SensorStats): string {
  const decoded = Object.entries(s.decoded)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const corrupt = Object.entries(s.corrupt)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const parts = [
    `${s.records} records${decoded ? ` (${decoded})` : ''}`,
    `${Object.values(s.corrupt).reduce((a, b) => a + b, 0)} corrupt${corrupt ? ` (${corrupt})` : ''}`,
    `${s.queueDrops} queue drops`,
  ];
  if (s.native) {
    const kd = Object.values(s.native.dropped).reduce<number>((a, b) => a + (b ?? 0), 0);
    const ke = Object.values(s.native.emitted).reduce<number>((a, b) => a + (b ?? 0), 0);
    parts.push(`kernel emitted ${ke}, dropped ${kd}`);
  }
  if (s.capture) parts.push(`recorded ${s.capture.batches} batches${s.capture.dropped ? ` (${s.capture.dropped} dropped)` : ''}`);
  if (s.replay) parts.push(`replayed ${s.replay.batches} batches${s.replay.truncated ? ` (truncated last batch ignored)` : ''}`);
  const proc = s.enrichers['process'];
  if (proc) parts.push(`process table ${proc['entries'] ?? 0} entries, ${proc['misses'] ?? 0} misses`);
  const ctr = s.enrichers['containers'];
  if (ctr)
    parts.push(`containers ${ctr['containers'] ?? 0} (${ctr['started'] ?? 0} started, ${ctr['stopped'] ?? 0} stopped), ${ctr['misses'] ?? 0} cgroup misses`);
  return `vigild trace: stopped: ${parts.join('; ')}\n`;
}

function readyLine(ready: SensorReady, replay: string | undefined): string {
  const head = `vigild trace: ready (${ready.attached} programs attached, ${ready.refused.length} refused${replay ? `; replaying ${replay}` : ''})\n`;
  return head + ready.refused.map((p) => `  refused ${p.object}/${p.program} (${p.section}): ${p.reason || 'no reason given'}\n`).join('');
}

/** Runs `vigild trace`; resolves to the exit status. Errors print one line with their code. */
export async function runTrace(argv: readonly string[], io: TraceIo = defaultTraceIo()): Promise<number> {
  let opts: TraceOptions;
  try {
    opts = parseTraceArgs(argv, io.stdout.isTTY === true);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`vigild trace: ${err.message}\nTry 'vigild trace --help'.\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    io.stdout.write(TRACE_USAGE);
    return 0;
  }
  const log = io.logger ?? createLogger({ level: opts.logLevel as 'warn', name: 'vigild' });
  let sensor: Sensor | undefined;
  let unregister: (() => void) | undefined;
  const containers = new ContainerRegistry();
  // Lifecycle events are found while the sensor enriches a batch; each is printed just before the
  // first delivered event that is not older than the one that caused it (or soon after, if none is).
  const lifecycle: Array<{ ev: ContainerLifecycleEvent; ktime: bigint }> = [];
  let printLifecycle: ((upTo: bigint | undefined) => void) | undefined;
  let lifecycleTimer: NodeJS.Timeout | undefined;
  containers.onLifecycle((ev, cause) => {
    lifecycle.push({ ev, ktime: cause ? cause[KTIME] : 0n });
    lifecycleTimer ??= setTimeout(() => {
      lifecycleTimer = undefined;
      printLifecycle?.(undefined);
    }, 50);
    lifecycleTimer.unref?.();
  });
  try {
    const sensorOptions = {
      watches: opts.watches,
      defaultWatches: opts.defaultWatches,
      configFlags: opts.configFlags,
      enrichers: [new ProcessEnricher(), containers],
      logger: log,
      ...(opts.record !== undefined ? { record: opts.record } : {}),
    };
    if (opts.replay !== undefined) {
      sensor = Sensor.replay(opts.replay, sensorOptions);
    } else {
      if (io.getuid() !== 0)
        throw new SensorError('vigild trace needs root (to load BPF programs); run it as root or use --replay FILE', { code: 'VIGIL_NOT_ROOT' });
      if (!io.btfPresent())
        throw new SensorError('this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); CO-RE probes cannot load', { code: 'VIGIL_BTF_MISSING' });
      const native = await io.loadNative();
      sensor = Sensor.live(native.createSensor(), sensorOptions);
    }
    const ready = await sensor.open();
    io.stderr.write(readyLine(ready, opts.replay));

    const colour = opts.output === 'compact' && traceColour(opts.colour, io.stdout.isTTY === true, io.env ?? process.env);
    const format = opts.output === 'json' ? formatJson : (ev: VigilEvent) => formatCompact(ev, { colour });
    const kinds = opts.kinds;
    const byPid = opts.pid !== undefined ? pidFilter(opts.pid) : undefined;

    const stopped = new Promise<string>((resolve) => {
      let broken = false;
      const onStdoutError = (err: NodeJS.ErrnoException): void => {
        if (broken) return;
        broken = true;
        resolve(err.code === 'EPIPE' ? 'epipe' : `stdout: ${err.message}`);
      };
      io.stdout.on('error', onStdoutError);
      // Lifecycle events are printed unless a --kinds or --pid filter asks for something narrower.
      const showLifecycle = kinds === undefined && byPid === undefined;
      printLifecycle = (upTo) => {
        while (lifecycle.length > 0 && (upTo === undefined || lifecycle[0]!.ktime <= upTo)) {
          const { ev } = lifecycle.shift()!;
          if (!showLifecycle || broken) continue;
          try {
            io.stdout.write((opts.output === 'json' ? JSON.stringify(ev) : formatLifecycle(ev)) + '\n');
          } catch (err) {
            onStdoutError(err as NodeJS.ErrnoException);
          }
        }
      };
      sensor!.subscribe(
        (ev) => {
          if (broken) return;
          if (lifecycle.length > 0) printLifecycle?.(ev[KTIME]);
          try {
            io.stdout.write(format(ev) + '\n');
          } catch (err) {
            onStdoutError(err as NodeJS.ErrnoException);
          }
        },
        { filter: (ev) => (kinds === undefined || kinds.has(ev.kind)) && (byPid === undefined || byPid(ev)) },
      );
      unregister = io.onSignal(() => resolve('signal'));
      if (opts.durationMs !== undefined) setTimeout(() => resolve('duration'), opts.durationMs).unref();
      sensor!.done?.then(
        () => resolve('replay-end'),
        (err: unknown) => resolve(`replay-error:${err instanceof VigilError ? `${err.code}: ${err.message}` : String(err)}`),
      );
    });
    const why = await stopped;
    unregister?.();
    await sensor.close();
    if (lifecycleTimer) clearTimeout(lifecycleTimer);
    if (why !== 'epipe') printLifecycle?.(undefined);
    if (why !== 'epipe') io.stderr.write(summary(sensor.stats()));
    if (why.startsWith('replay-error:')) {
      io.stderr.write(`vigild trace: ${why.slice('replay-error:'.length)}\n`);
      return 1;
    }
    if (why.startsWith('stdout:')) {
      io.stderr.write(`vigild trace: ${why}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    unregister?.();
    await sensor?.close().catch(() => undefined);
    if (err instanceof VigilError) {
      io.stderr.write(`vigild trace: ${err.code}: ${err.message}\n`);
      log.debug({ err }, 'trace failed');
      return 1;
    }
    throw err;
  }
}
