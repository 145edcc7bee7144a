// The one error base of vigil: an Error with a stable `code` (VIGIL_...), for the daemon
// (daemon/core/errors.ts VigilError), the CLI (clients/cli/errors.ts CliError), the forwarder
// (clients/forwarder/core/errors.ts ForwardError) and the shared modules here (GlobError, FilterError). Each side
// narrows `code` to its own set; callers branch on `code` (or instanceof), never on the message.
// Browser-safe: the dashboard bundles common/.

export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // The subclass's name (UsageError, SinkError...), as the CLI and the logs print it.
    this.name = new.target.name;
  }
}
