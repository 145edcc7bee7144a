// `vigild config check|schema`: check a vigild.yaml with the daemon's own parser, and print the JSON
// Schemas of vigild.yaml and of rule files (docs/schemas/). The forwarder's schema is printed by
// `vigil-forward --schema`: the daemon does not import the clients.
import { parseArgs } from 'node:util';
import { schemaText } from '../../common/json-schema.js';
import { configSchema, DEFAULT_CONFIG_FILE, loadConfigFile } from '../config.js';
import { rulesSchema } from '../detect/schema.js';
import { ConfigError, UsageError } from '../core/errors.js';

export const CONFIG_USAGE = `Usage: vigild config <command>

Commands:
  check [FILE]            check a config file with the daemon's parser (default ${DEFAULT_CONFIG_FILE});
                          prints "ok", or the error as file:line:column: key.path and what is wrong
  schema vigild|rules     print the JSON Schema (draft 2020-12) of vigild.yaml or of rule files
                          (docs/schemas/; the forwarder's: vigil-forward --schema)

Exit status: 0 ok, 1 errors, 2 usage error.
`;

export const CONFIG_COMMANDS = ['check', 'schema'] as const;
export const SCHEMAS = { vigild: configSchema, rules: rulesSchema } as const;
export const CONFIG_OPTIONS = { help: { type: 'boolean', short: 'h' } } as const;

export type ConfigArgs = { command: 'help' } | { command: 'check'; file: string } | { command: 'schema'; schema: keyof typeof SCHEMAS };

/** Parses `vigild config ...` without acting on it; throws UsageError. */
export function parseConfigArgs(argv: readonly string[]): ConfigArgs {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command (check or schema)');
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') return { command: 'help' };
  if (!(CONFIG_COMMANDS as readonly string[]).includes(cmd)) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  let values: { help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: CONFIG_OPTIONS }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  if (values.help) return { command: 'help' };
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (cmd === 'check') return { command: 'check', file: positionals[0] ?? DEFAULT_CONFIG_FILE };
  const which = positionals[0];
  if (which === undefined) throw new UsageError(`schema needs one of ${Object.keys(SCHEMAS).join(', ')}`);
  if (!Object.hasOwn(SCHEMAS, which))
    throw new UsageError(`unknown schema ${JSON.stringify(which)} (${Object.keys(SCHEMAS).join(', ')}; the forwarder's: vigil-forward --schema)`);
  return { command: 'schema', schema: which as keyof typeof SCHEMAS };
}

export interface ConfigIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function runConfig(argv: readonly string[], io: ConfigIo): number {
  let args: ConfigArgs;
  try {
    args = parseConfigArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`vigild config: ${err.message}\n${CONFIG_USAGE}`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      io.stdout.write(CONFIG_USAGE);
      return 0;
    case 'schema':
      io.stdout.write(schemaText(SCHEMAS[args.schema]()));
      return 0;
    case 'check':
      try {
        loadConfigFile(args.file);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr.write(`${err.message}\n`);
        return 1;
      }
      io.stdout.write('ok\n');
      return 0;
  }
}
