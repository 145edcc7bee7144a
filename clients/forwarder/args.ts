// `vigil-forward` command line: one options table (node:util parseArgs, strict), which the docs test
// (test/doc-commands.test.ts) also checks documented command lines against.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './core/errors.js';

export const DEFAULT_CONFIG = '/etc/vigil/forward.yaml';

export const USAGE = `Usage: vigil-forward [options]

Subscribe to vigild's stream and ship alerts (and events when asked) to SIEMs and message buses.

Options:
  -c, --config FILE   the config (default $VIGIL_FORWARD_CONFIG, else ${DEFAULT_CONFIG})
      --check         check the config file and exit
      --schema        print the config file's JSON Schema (docs/schemas/forward.schema.json) and exit
      --version       print the version, build commit and API version and exit
  -h, --help          this help
`;

export const OPTIONS = {
  config: { type: 'string', short: 'c' },
  check: { type: 'boolean' },
  schema: { type: 'boolean' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export interface ForwardArgs {
  config: string;
  check: boolean;
  schema: boolean;
  version: boolean;
  help: boolean;
}

/** Parses a command line without acting on it; throws UsageError. */
export function parseForwardArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ForwardArgs {
  let values: { config?: string; check?: boolean; schema?: boolean; version?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (err) {
    throw new UsageError(
      err instanceof Error
        ? err.message
            .split('\n')[0]!
            .replace(/\. To specify a positional.*$/, '')
            .replace(/^Unknown option/, 'unknown option')
        : String(err),
    );
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.config === '') throw new UsageError('--config needs a file');
  return {
    config: values.config ?? env.VIGIL_FORWARD_CONFIG ?? DEFAULT_CONFIG,
    check: values.check === true,
    schema: values.schema === true,
    version: values.version === true,
    help: values.help === true,
  };
}
