// Errors of the daemon: vigil's one base class with a stable `code`, one subclass per idea. Callers
// branch on `code` (or instanceof), never on the message; the CLI prints `code: message` on one line.
import { CodedError } from '../../common/errors.js';

export type VigilErrorCode =
  | 'VIGIL_USAGE'
  | 'VIGIL_CAPTURE_FORMAT'
  | 'VIGIL_CAPTURE_IO'
  | 'VIGIL_SENSOR'
  | 'VIGIL_NOT_ROOT'
  | 'VIGIL_BTF_MISSING'
  | 'VIGIL_CONFIG'
  | 'VIGIL_STORE_LOCKED'
  | 'VIGIL_STORE_CORRUPT'
  | 'VIGIL_STORE_FULL'
  | 'VIGIL_STORE_IO'
  | 'VIGIL_FORECAST_WORKER'
  | 'VIGIL_ALERT_NOT_FOUND'
  | 'VIGIL_ALERT_STATE'
  | 'VIGIL_ALERT_CURSOR'
  | 'VIGIL_CURSOR_RANGE'
  | 'VIGIL_CURSOR_EPOCH'
  | 'VIGIL_RULE_PARSE'
  | 'VIGIL_REGEX'
  | 'VIGIL_METRICS_FAMILY';

/** The daemon's errors: vigil's one base (common/errors.ts) with the daemon's codes. */
export class VigilError extends CodedError<VigilErrorCode> {}

/** The alert seqs a stream may resume in: after (first - 1) up to last, in epoch. */
export interface CursorRange {
  epoch: string;
  first: number;
  last: number;
}

/**
 * A resume cursor that cannot name the alerts it claims to: a since_seq above the last seq handed out
 * (or at or above 2^63: VIGIL_CURSOR_RANGE), or one of another epoch (VIGIL_CURSOR_EPOCH). It carries
 * the current range so the client can start again.
 */
export class CursorError extends VigilError {
  readonly range: CursorRange | undefined;

  constructor(code: 'VIGIL_CURSOR_RANGE' | 'VIGIL_CURSOR_EPOCH', message: string, range?: CursorRange) {
    super(code, message);
    this.range = range;
  }
}

/** A command line that cannot be run as given (unknown option, bad value). Exit status 2. */
export class UsageError extends VigilError {
  constructor(message: string) {
    super('VIGIL_USAGE', message);
  }
}

/** A capture file that is not one, or is of an unsupported version, or is cut inside its header. */
export class CaptureFormatError extends VigilError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('VIGIL_CAPTURE_FORMAT', `${file}: ${message}`);
    this.file = file;
  }
}

/** A capture file that cannot be opened, read or written. */
export class CaptureIoError extends VigilError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('VIGIL_CAPTURE_IO', `${file}: ${reason}`, { cause });
    this.file = file;
  }
}

/** Invalid settings: watch specs, kinds, sizes. */
export class ConfigError extends VigilError {
  constructor(message: string) {
    super('VIGIL_CONFIG', message);
  }
}

/**
 * The sensor cannot start or run: the addon failed a step (load, attach, map update) or the host
 * lacks what it needs. `nativeCode` and `step` come from the addon's NativeError when there was one.
 */
export class SensorError extends VigilError {
  readonly nativeCode: string | undefined;
  readonly step: string | undefined;

  constructor(
    message: string,
    options: { code?: 'VIGIL_SENSOR' | 'VIGIL_NOT_ROOT' | 'VIGIL_BTF_MISSING'; nativeCode?: string; step?: string; cause?: unknown } = {},
  ) {
    super(options.code ?? 'VIGIL_SENSOR', message, { cause: options.cause });
    this.nativeCode = options.nativeCode;
    this.step = options.step;
  }
}

/** Wraps anything the addon threw into a SensorError, keeping its stable code and failed step. */
export function sensorErrorFrom(err: unknown, what: string): SensorError {
  if (err instanceof SensorError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; step?: unknown };
    const nativeCode = typeof e.code === 'string' ? e.code : undefined;
    const step = typeof e.step === 'string' ? e.step : undefined;
    const code = nativeCode === 'NOT_PERMITTED' ? 'VIGIL_NOT_ROOT' : nativeCode === 'BTF_MISSING' ? 'VIGIL_BTF_MISSING' : 'VIGIL_SENSOR';
    const detail = [nativeCode, step && `step ${step}`].filter(Boolean).join(', ');
    return new SensorError(`${what}: ${err.message}${detail ? ` (${detail})` : ''}`, {
      code,
      ...(nativeCode !== undefined ? { nativeCode } : {}),
      ...(step !== undefined ? { step } : {}),
      cause: err,
    });
  }
  return new SensorError(`${what}: ${String(err)}`, { cause: err });
}
