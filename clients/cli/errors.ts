// Errors of the CLI: vigil's one base class with a stable `code`. A UsageError exits 2 with the
// command's usage; every other CliError exits 1 with its one line. Nothing else reaches the user as a
// stack trace unless --debug asks for it.
import { CodedError } from '../../common/errors.js';

export type CliErrorCode = 'VIGIL_USAGE' | 'VIGIL_UNREACHABLE' | 'VIGIL_AUTH' | 'VIGIL_INVALID' | 'VIGIL_NOT_FOUND' | 'VIGIL_STATE' | 'VIGIL_RPC' | 'VIGIL_IO';

/** The CLI's errors: vigil's one base (common/errors.ts) with the CLI's codes. */
export class CliError extends CodedError<CliErrorCode> {}

/** A command line that cannot be run as given. `usage` is the usage text of the command it was for. */
export class UsageError extends CliError {
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super('VIGIL_USAGE', message);
    this.usage = usage;
  }
}
