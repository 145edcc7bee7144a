// Errors of the forwarder: vigil's one base class (common/errors.ts) with a stable `code`, one
// subclass per idea. Clients do not import daemon/ modules, so the forwarder has its own small set of
// codes (following the daemon's naming).
import { CodedError } from '../../../common/errors.js';

export type ForwardErrorCode = 'VIGIL_USAGE' | 'VIGIL_CONFIG' | 'VIGIL_FORWARD_STATE' | 'VIGIL_FORWARD_SINK' | 'VIGIL_FORWARD_SOURCE';

/** The forwarder's errors: vigil's one base (common/errors.ts) with the forwarder's codes. */
export class ForwardError extends CodedError<ForwardErrorCode> {}

/** A command line that cannot be run as given. Exit status 2. */
export class UsageError extends ForwardError {
  constructor(message: string) {
    super('VIGIL_USAGE', message);
  }
}

/** A config file that does not load: the message names the file and the setting. */
export class ConfigError extends ForwardError {
  constructor(message: string) {
    super('VIGIL_CONFIG', message);
  }
}

/** The state file (the sinks' cursors) cannot be read or written. */
export class StateError extends ForwardError {
  constructor(message: string, cause?: unknown) {
    super('VIGIL_FORWARD_STATE', message, { cause });
  }
}

/**
 * A batch a sink did not take. `retry`: try the same batch again later (the sink is down, busy or
 * refused us for a reason an operator can fix). `reject`: the sink will never take these records
 * (malformed for it); they are dropped and counted. `split`: the batch is too large; send it in halves.
 * `remaining`: for a partial failure, the records still to send (the others were taken).
 */
export type SinkFailure = 'retry' | 'reject' | 'split';

export class SinkError extends ForwardError {
  readonly failure: SinkFailure;
  readonly remaining: number[] | undefined;

  constructor(failure: SinkFailure, message: string, options?: { cause?: unknown; remaining?: number[] }) {
    super('VIGIL_FORWARD_SINK', message, options);
    this.failure = failure;
    this.remaining = options?.remaining;
  }
}

/** The daemon's stream failed (not reachable, refused the token, ended). */
export class SourceError extends ForwardError {
  constructor(message: string, cause?: unknown) {
    super('VIGIL_FORWARD_SOURCE', message, { cause });
  }
}

/**
 * The daemon refused the cursor: it names alerts of another history (`epoch`: the daemon's alert
 * store was replaced or lost its tail) or seqs beyond its last one (`range`). Carries the daemon's
 * current epoch and seq range.
 */
export class CursorRejectedError extends SourceError {
  readonly reason: 'epoch' | 'range';
  readonly epoch: string;
  readonly firstSeq: number;
  readonly lastSeq: number;

  constructor(reason: 'epoch' | 'range', message: string, current: { epoch: string; firstSeq: number; lastSeq: number }, cause?: unknown) {
    super(message, cause);
    this.reason = reason;
    this.epoch = current.epoch;
    this.firstSeq = current.firstSeq;
    this.lastSeq = current.lastSeq;
  }
}
