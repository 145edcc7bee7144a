// Logging: pino, structured, to stderr (stdout belongs to the events that `vigild trace` prints).
// Tests pass their own destination stream and read the JSON lines back.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LogOptions {
  /** pino level; 'info' when absent. */
  level?: LevelWithSilent;
  /** Where lines go; stderr (fd 2, synchronous so nothing is lost at exit) when absent. */
  destination?: DestinationStream;
  /** Logger name, e.g. 'vigild'. */
  name?: string;
}

export function isLogLevel(s: string): s is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(options: LogOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level: options.level ?? 'info', name: options.name ?? 'vigild', base: { pid: process.pid } }, destination);
}

/** A logger that writes nowhere: the default for library code called without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
