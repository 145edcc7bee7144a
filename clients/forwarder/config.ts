// The forwarder's config file (YAML): where the daemon is, where the cursors live, and the sinks.
// Every setting is checked at load; an error names the file and the setting ("sinks[1].url: ...").
// See clients/forwarder/README.md for the format with an example.
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import type { BackoffOptions } from './backoff.js';
import { ConfigError } from './core/errors.js';
import { filterSchema, parseFilterSpec, type SinkFilter } from './filter.js';
import { DEFAULT_SD_ID, FACILITY_NAMES, facilityCode } from './format/syslog.js';
import { anyCase, schemaDocument, type JsonSchema } from '../../common/json-schema.js';
import type { BatchOptions } from './pipeline.js';
import { SUBJECT_PLACEHOLDERS } from './sinks/nats.js';

export interface DaemonConfig {
  /** unix:///run/vigil/vigil.sock (default), or host:port for TCP (TLS unless `insecure`). */
  address: string;
  token?: string | undefined;
  /** CA bundle (PEM path) to verify the daemon's TLS certificate. */
  ca?: string | undefined;
  /** TCP without TLS (loopback tests only). */
  insecure: boolean;
}

interface SinkCommon {
  name: string;
  alerts: boolean;
  events: boolean;
  filter: SinkFilter;
  batch: BatchOptions;
  queueMax: number;
  retry: BackoffOptions;
}

export type SinkConfig = SinkCommon &
  (
    | {
        type: 'syslog';
        transport: 'udp' | 'tcp' | 'tls';
        host: string;
        port: number;
        format: 'rfc5424' | 'cef';
        appName: string;
        facility: number;
        sdId: string;
        ca?: string | undefined;
        cert?: string | undefined;
        key?: string | undefined;
        servername?: string | undefined;
      }
    | {
        type: 'hec';
        url: string;
        token: string;
        index?: string | undefined;
        sourcetype?: string | undefined;
        source?: string | undefined;
        ca?: string | undefined;
      }
    | { type: 'bulk'; url: string; index: string; authorization?: string | undefined; ca?: string | undefined }
    | { type: 'webhook'; url: string; headers: Record<string, string>; ca?: string | undefined }
    | { type: 'falco'; url: string; headers: Record<string, string>; ca?: string | undefined }
    | {
        type: 'nats';
        servers: string[];
        subject: string;
        stream?: string | undefined;
        createStream: boolean;
        creds?: string | undefined;
        ca?: string | undefined;
      }
  );

export interface ForwarderConfig {
  daemon: DaemonConfig;
  stateFile: string;
  hostname: string;
  /** How long SIGTERM waits for the sinks to take what is queued (ms). */
  shutdownTimeoutMs: number;
  /** When the daemon's alert history is not the one the cursors name (a new epoch, a cursor beyond
   * its last seq): replay from its oldest stored alert, or start from now. */
  onEpochChange: 'oldest' | 'now';
  sinks: SinkConfig[];
}

export const DEFAULT_ADDRESS = 'unix:///run/vigil/vigil.sock';
export const DEFAULT_STATE_FILE = '/var/lib/vigil-forward/state.json';
const SINK_TYPES = ['syslog', 'hec', 'bulk', 'webhook', 'nats', 'falco'] as const;
type SinkType = (typeof SINK_TYPES)[number];

type Obj = Record<string, unknown>;

// ---- the key table -------------------------------------------------------------------------------
// Every setting is one Field below: its meaning, its default (when one value says it), its JSON
// Schema and how the parser reads it. The parser asks these tables for the keys a section allows and
// for each value; configSchema() prints the same tables (docs/schemas/forward.schema.json).
// An absent setting and one written as `key:` (YAML null) both take the default.

interface Field<V> {
  description: string;
  default?: unknown;
  schema: JsonSchema;
  /** The value, or undefined when absent (the caller applies a default the table cannot state). */
  read(value: unknown, fail: (msg: string) => ConfigError): V;
}

type Fields = Record<string, Field<unknown>>;

function field<V>(description: string, schema: JsonSchema, read: (value: unknown, fail: (msg: string) => ConfigError) => V, dflt?: unknown): Field<V> {
  return { description, schema, read, ...(dflt !== undefined ? { default: dflt } : {}) };
}

const absent = (v: unknown): v is undefined | null => v === undefined || v === null;

function text(description: string, opts: { default?: string; pattern?: { source: string; says: string } } = {}): Field<string | undefined> {
  const re = opts.pattern ? new RegExp(opts.pattern.source, 'u') : undefined;
  return field(
    description,
    { type: 'string', minLength: 1, ...(opts.pattern ? { pattern: opts.pattern.source } : {}) },
    (v, fail) => {
      if (absent(v)) return opts.default;
      if (typeof v !== 'string' || v === '') throw fail('must be a non-empty string');
      if (re && !re.test(v)) throw fail(opts.pattern!.says);
      return v;
    },
    opts.default,
  );
}

function integer(description: string, min: number, max: number, dflt?: number): Field<number | undefined> {
  return field(
    description,
    { type: 'integer', minimum: min, maximum: max },
    (v, fail) => {
      if (absent(v)) return dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fail(`must be an integer from ${min} to ${max}`);
      return v;
    },
    dflt,
  );
}

function flag(description: string, dflt: boolean): Field<boolean> {
  return field(
    description,
    { type: 'boolean' },
    (v, fail) => {
      if (absent(v)) return dflt;
      if (typeof v !== 'boolean') throw fail('must be true or false');
      return v;
    },
    dflt,
  );
}

function choice<T extends string>(description: string, values: readonly T[], dflt?: T): Field<T> {
  return field(
    description,
    { type: 'string', enum: [...values] },
    (v, fail) => {
      const x = absent(v) ? dflt : v;
      if (!values.includes(x as T)) throw fail(`must be one of ${values.join(', ')}`);
      return x as T;
    },
    dflt,
  );
}

/** A sub-mapping; its Fields are read through a Reader of its own. */
function mapping(description: string, fields: Fields, rules: JsonSchema[] = []): Field<Obj> {
  return field(description, { ...sectionSchema(fields, [], rules) }, (v, fail) => {
    if (absent(v)) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw fail('must be a mapping');
    return v as Obj;
  });
}

/** The schema of a section: optional keys also take null (the parser reads null as "not set"). */
function sectionSchema(fields: Fields, required: readonly string[], rules: JsonSchema[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, f] of Object.entries(fields)) {
    const s = required.includes(k) ? f.schema : orNull(f.schema);
    properties[k] = { description: f.description, ...(f.default !== undefined ? { default: f.default } : {}), ...s };
  }
  return {
    type: 'object',
    properties,
    additionalProperties: false,
    ...(required.length ? { required: [...required] } : {}),
    ...(rules.length ? { allOf: rules } : {}),
  };
}

function orNull(s: JsonSchema): JsonSchema {
  if (Array.isArray(s.enum)) return { ...s, type: [s.type, 'null'], enum: [...(s.enum as unknown[]), null] };
  if (typeof s.type === 'string' && s.type !== 'object') return { ...s, type: [s.type, 'null'] };
  return { anyOf: [s, { type: 'null' }] };
}

/** Schema rules for a secret given inline (`key`) or in a file (`key_file`): not both. */
function notBoth(a: string, b: string): JsonSchema {
  return { not: { required: [a, b], properties: { [a]: { type: 'string' }, [b]: { type: 'string' } } } };
}

/** "`key` or `key_file` is set" (to a string: null is not set). */
function either(...keys: string[]): JsonSchema {
  return { anyOf: keys.map((k) => ({ required: [k], properties: { [k]: { type: 'string' } } })) };
}

function secretFields(key: string, what: string): Fields {
  return { [key]: text(`${what}, inline.`), [`${key}_file`]: text(`A file holding ${what.toLowerCase()} (trimmed).`) };
}

const URL_FIELD = { source: '^[hH][tT][tT][pP][sS]?://[^/?#\\s]+', says: 'must be http:// or https://' };

function url(description: string): Field<string | undefined> {
  const t = text(description, { pattern: URL_FIELD });
  return {
    ...t,
    read: (v, fail) => {
      if (absent(v)) return undefined;
      if (typeof v !== 'string' || v === '') throw fail('must be a non-empty string');
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw fail(`not a URL: ${v}`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail('must be http:// or https://');
      return v;
    },
  };
}

const DAEMON_FIELDS: Fields = {
  address: text('unix:///path for the socket, or host:port for TCP (TLS unless insecure).', { default: DEFAULT_ADDRESS }),
  ...secretFields('token', 'The bearer token sent to the daemon'),
  ca: text("CA bundle (PEM path) to verify the daemon's TLS certificate."),
  insecure: flag('TCP without TLS (loopback tests only).', false),
};

const BATCH_FIELDS: Fields = {
  max_items: integer('Records per batch (default 100 syslog, 256 nats, 500 others).', 1, 100_000),
  max_wait_ms: integer('How long a batch waits to fill, ms (default 200 syslog and nats, 1000 others).', 0, 600_000),
};
const QUEUE_FIELDS: Fields = { max_items: integer("The sink's queue; beyond it the oldest records are dropped and counted.", 1, 10_000_000, 10_000) };
const RETRY_FIELDS: Fields = {
  initial_ms: integer('First retry delay, ms (doubling, with jitter).', 1, 3_600_000, 500),
  max_ms: integer('Longest retry delay, ms.', 1, 3_600_000, 30_000),
};
function filterList(description: string): Field<unknown[]> {
  return field(description, { type: 'array', items: filterSchema() }, (v, fail) => {
    if (absent(v)) return [];
    if (!Array.isArray(v)) throw fail('must be a list of filters');
    return v;
  });
}
const FILTER_LISTS: Fields = {
  allow: filterList('A record passes when it matches any of these (or there are none)...'),
  deny: filterList('...and none of these. Within a filter every field must match, within a field any value.'),
};

const COMMON_FIELDS: Fields = {
  name: text("The sink's name: keys its cursor in the state file, so keep it stable. Default <type>-<index>.", {
    pattern: { source: '^[A-Za-z0-9_.-]+$', says: 'letters, digits, ".", "_" and "-" only' },
  }),
  type: choice('The kind of sink.', SINK_TYPES),
  alerts: flag('Ship alerts.', true),
  events: flag('Ship events too.', false),
  filter: mapping('Which records this sink ships.', FILTER_LISTS),
  batch: mapping('Batching.', BATCH_FIELDS),
  queue: mapping('The bounded queue in front of the sink.', QUEUE_FIELDS),
  retry: mapping('Retries of a batch the sink did not take.', RETRY_FIELDS),
};

const FACILITY_SOURCE = `^(?:0*(?:1?\\d|2[0-3])|${FACILITY_NAMES.map(anyCase).join('|')})$`;
const facility = field<number>(
  'A facility name (kern, user, daemon, auth, local0..local7, ...) or 0..23.',
  {
    anyOf: [
      { type: 'integer', minimum: 0, maximum: 23 },
      { type: 'string', pattern: FACILITY_SOURCE },
    ],
  },
  (v, fail) => {
    const f = absent(v) ? 'local0' : v;
    const code = typeof f === 'string' || typeof f === 'number' ? facilityCode(f) : undefined;
    if (code === undefined) throw fail('a facility name (kern, user, daemon, auth, local0..local7, ...) or 0..23');
    return code;
  },
  'local0',
);

const SUBJECT_SOURCE = '^[^\\s*>.]+(?:\\.[^\\s*>.]+)*$';
const UNKNOWN_PLACEHOLDER = `\\{(?!(?:${SUBJECT_PLACEHOLDERS.join('|')})\\})[^}]*\\}`;
const subject = field<string>(
  `NATS subject, dot-separated tokens; placeholders ${SUBJECT_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}.`,
  { type: 'string', pattern: SUBJECT_SOURCE, not: { pattern: UNKNOWN_PLACEHOLDER } },
  (v, fail) => {
    const s = text('').read(v, fail) ?? 'vigil.{host}.{severity}';
    for (const m of s.matchAll(/\{([^}]*)\}/g)) {
      if (!(SUBJECT_PLACEHOLDERS as readonly string[]).includes(m[1]!))
        throw fail(`unknown placeholder {${m[1]}} (known: ${SUBJECT_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
    }
    if (/[\s*>]/.test(s) || s.split('.').some((t) => t === '')) throw fail('dot-separated tokens without spaces or wildcards');
    return s;
  },
  'vigil.{host}.{severity}',
);

const servers = field<string[] | undefined>(
  'A NATS server URL or a list of them.',
  {
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    ],
  },
  (v, fail) => {
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x !== '')) throw fail('a server URL or a list of them');
    return list as string[];
  },
);

const headers = field<Record<string, string>>('Extra request headers.', { type: 'object', additionalProperties: { type: 'string' } }, (v, fail) => {
  if (absent(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw fail('must be a mapping');
  return v as Record<string, string>;
});

const AUTH_FIELDS: Fields = {
  username: text('Basic authentication: the user...'),
  ...secretFields('password', 'Its password'),
  ...secretFields('api_key', 'An Elasticsearch API key (ApiKey authorization)'),
  ...secretFields('bearer', 'A bearer token'),
};

/** Per sink type: its own keys, which are required, and its cross-key rules as schema. */
const SINK_FIELDS: Record<SinkType, { fields: Fields; required: readonly string[]; rules: JsonSchema[] }> = {
  syslog: {
    fields: {
      transport: choice('udp, tcp or tls (tcp and tls use RFC 6587 octet counting).', ['udp', 'tcp', 'tls'] as const, 'udp'),
      host: text('The syslog server.'),
      port: integer('Its port (default 514, 6514 for tls).', 1, 65535),
      format: choice('rfc5424, or cef (a CEF line as the MSG of an RFC 5424 message).', ['rfc5424', 'cef'] as const, 'rfc5424'),
      app_name: text('APP-NAME of the messages.', { default: 'vigil' }),
      facility,
      sd_id: text('SD-ID of the structured data.', {
        default: DEFAULT_SD_ID,
        pattern: { source: '^[!#-<>-\\\\^-~]{1,32}$', says: 'printable ASCII without = ] " or space, at most 32' },
      }),
      ca: text("CA bundle (PEM path) to verify the server's certificate (tls)."),
      cert: text('Client certificate (PEM path) for mutual TLS.'),
      key: text('Its private key (PEM path).'),
      servername: text('The name the server certificate must carry (default: host).'),
    },
    required: ['host'],
    rules: [],
  },
  hec: {
    fields: {
      url: url('Splunk HTTP Event Collector URL (/services/collector/event when no path is given).'),
      ...secretFields('token', 'The HEC token'),
      index: text('Splunk index.'),
      sourcetype: text('Sourcetype (default vigil:alert / vigil:event).'),
      source: text('Source.'),
      ca: text('CA bundle (PEM path).'),
    },
    required: ['url'],
    rules: [notBoth('token', 'token_file'), either('token', 'token_file')],
  },
  bulk: {
    fields: {
      url: url('Elasticsearch or OpenSearch URL (/_bulk when no path is given).'),
      index: text("Index; {date} is the record's UTC day, YYYY.MM.DD.", {
        default: 'vigil-{date}',
        pattern: { source: '^[^\\p{Lu}\\\\/*?"<>| ,#]+$', says: 'lower case, without \\ / * ? " < > | space , #' },
      }),
      auth: mapping('One of username/password, api_key, bearer.', AUTH_FIELDS, [
        notBoth('password', 'password_file'),
        notBoth('api_key', 'api_key_file'),
        notBoth('bearer', 'bearer_file'),
        // At most one way to authenticate.
        { not: { allOf: [either('username'), either('api_key', 'api_key_file')] } },
        { not: { allOf: [either('username'), either('bearer', 'bearer_file')] } },
        { not: { allOf: [either('api_key', 'api_key_file'), either('bearer', 'bearer_file')] } },
      ]),
      ca: text('CA bundle (PEM path).'),
    },
    required: ['url'],
    rules: [],
  },
  webhook: {
    fields: { url: url('Where batches are POSTed as a JSON array.'), headers, ca: text('CA bundle (PEM path).') },
    required: ['url'],
    rules: [],
  },
  nats: {
    fields: {
      servers,
      subject,
      stream: text('JetStream stream, checked on every publish.'),
      create_stream: flag('Create the stream (on the subject, placeholders as *).', false),
      creds: text('NATS credentials file.'),
      ca: text('CA bundle (PEM path).'),
    },
    required: ['servers'],
    rules: [{ if: { required: ['create_stream'], properties: { create_stream: { const: true } } }, then: either('stream') }],
  },
  // Falco's http_output: alerts only, as Falco's JSON alert (falcosidekick listens on :2801).
  falco: {
    fields: { url: url("Where each alert is POSTed as Falco's JSON alert (falcosidekick: http://host:2801/)."), headers, ca: text('CA bundle (PEM path).') },
    required: ['url'],
    rules: [{ properties: { events: { const: false } } }],
  },
};

/** Rules of every sink: one that ships nothing is refused. */
const COMMON_RULES: JsonSchema[] = [
  { if: { required: ['alerts'], properties: { alerts: { const: false } } }, then: { required: ['events'], properties: { events: { const: true } } } },
];

const TOP_FIELDS: Fields = {
  daemon: mapping('Where the daemon is.', DAEMON_FIELDS, [notBoth('token', 'token_file')]),
  state_file: text("The sinks' cursors (JSON).", { default: DEFAULT_STATE_FILE }),
  hostname: text("This host's name in the records (default: the machine's)."),
  shutdown_timeout_ms: integer('How long SIGTERM waits for the sinks to take what is queued, ms.', 0, 600_000, 10_000),
  on_epoch_change: choice(
    "When the daemon's alert history is new (its epoch changed): replay its oldest alert on (oldest) or start from now.",
    ['oldest', 'now'] as const,
    'oldest',
  ),
  sinks: field<unknown[]>('Where records go; at least one. Sink names must be unique.', { type: 'array', minItems: 1 }, (v, fail) => {
    if (!Array.isArray(v) || v.length === 0) throw fail('a list of at least one sink');
    return v;
  }),
};

class Reader {
  constructor(
    readonly obj: Obj,
    readonly where: string,
    readonly fields: Fields,
  ) {
    for (const k of Object.keys(obj)) if (!Object.hasOwn(fields, k)) throw this.err(k, 'unknown setting');
  }

  private path(key: string): string {
    return this.where ? `${this.where}.${key}` : key;
  }

  err(key: string, msg: string): ConfigError {
    return new ConfigError(`${this.path(key)}: ${msg}`);
  }

  get<V>(key: string): V {
    return this.fields[key]!.read(this.obj[key], (msg) => this.err(key, msg)) as V;
  }

  need<V>(key: string): V {
    const v = this.get<V | undefined>(key);
    if (v === undefined) throw this.err(key, 'is required');
    return v;
  }

  sub(key: string, fields: Fields): Reader {
    return new Reader(this.get<Obj>(key), this.path(key), fields);
  }

  /** A secret given inline (`key`) or in a file (`key_file`, trimmed). */
  secret(key: string): string | undefined {
    const inline = this.get<string | undefined>(key);
    const file = this.get<string | undefined>(`${key}_file`);
    if (inline && file) throw this.err(key, `give ${key} or ${key}_file, not both`);
    if (!file) return inline;
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw this.err(`${key}_file`, (err as Error).message);
    }
  }
}

/** A sink's `headers` mapping, names lower-cased. */
function stringHeaders(r: Reader): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.get<Record<string, unknown>>('headers'))) {
    if (typeof v !== 'string') throw r.err(`headers.${k}`, 'must be a string');
    headers[k.toLowerCase()] = v;
  }
  return headers;
}

function parseSink(value: unknown, i: number): SinkConfig {
  const where = `sinks[${i}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: must be a mapping`);
  // The type decides which keys are allowed, so it is read before the others are checked.
  const type = new Reader({ type: (value as Obj).type }, where, COMMON_FIELDS).get<SinkType>('type');
  const r = new Reader(value as Obj, where, { ...COMMON_FIELDS, ...SINK_FIELDS[type].fields });
  const batchDefaults = type === 'syslog' ? [100, 200] : type === 'nats' ? [256, 200] : [500, 1000];
  const b = r.sub('batch', BATCH_FIELDS);
  const q = r.sub('queue', QUEUE_FIELDS);
  const rt = r.sub('retry', RETRY_FIELDS);
  const f = r.sub('filter', FILTER_LISTS);
  const common: SinkCommon = {
    name: r.get<string | undefined>('name') ?? `${type}-${i}`,
    alerts: r.get<boolean>('alerts'),
    events: r.get<boolean>('events'),
    filter: {
      allow: f.get<unknown[]>('allow').map((x, j) => parseFilterSpec(x, `${where}.filter.allow[${j}]`)),
      deny: f.get<unknown[]>('deny').map((x, j) => parseFilterSpec(x, `${where}.filter.deny[${j}]`)),
    },
    batch: { maxItems: b.get<number | undefined>('max_items') ?? batchDefaults[0]!, maxWaitMs: b.get<number | undefined>('max_wait_ms') ?? batchDefaults[1]! },
    queueMax: q.get<number>('max_items'),
    retry: { initialMs: rt.get<number>('initial_ms'), maxMs: rt.get<number>('max_ms') },
  };
  if (!common.alerts && !common.events) throw r.err('alerts', 'a sink with alerts and events both off ships nothing');
  const str = (key: string): string | undefined => r.get<string | undefined>(key);
  switch (type) {
    case 'syslog': {
      const transport = r.get<'udp' | 'tcp' | 'tls'>('transport');
      return {
        ...common,
        type,
        transport,
        host: r.need<string>('host'),
        port: r.get<number | undefined>('port') ?? (transport === 'tls' ? 6514 : 514),
        format: r.get<'rfc5424' | 'cef'>('format'),
        appName: r.get<string>('app_name'),
        facility: r.get<number>('facility'),
        sdId: r.get<string>('sd_id'),
        ca: str('ca'),
        cert: str('cert'),
        key: str('key'),
        servername: str('servername'),
      };
    }
    case 'hec': {
      const token = r.secret('token');
      if (!token) throw r.err('token', 'is required (or token_file)');
      return { ...common, type, url: r.need<string>('url'), token, index: str('index'), sourcetype: str('sourcetype'), source: str('source'), ca: str('ca') };
    }
    case 'bulk': {
      const a = r.sub('auth', AUTH_FIELDS);
      let authorization: string | undefined;
      const user = a.get<string | undefined>('username');
      const apiKey = a.secret('api_key');
      const bearer = a.secret('bearer');
      if ([user, apiKey, bearer].filter(Boolean).length > 1) throw a.err('username', 'give one of username/password, api_key, bearer');
      if (user) authorization = `Basic ${Buffer.from(`${user}:${a.secret('password') ?? ''}`).toString('base64')}`;
      if (apiKey) authorization = `ApiKey ${apiKey}`;
      if (bearer) authorization = `Bearer ${bearer}`;
      return { ...common, type, url: r.need<string>('url'), index: r.get<string>('index'), authorization, ca: str('ca') };
    }
    case 'webhook':
      return { ...common, type, url: r.need<string>('url'), headers: stringHeaders(r), ca: str('ca') };
    case 'falco': {
      if (common.events) throw r.err('events', "a falco sink sends alerts only (Falco's JSON alert has no form for events)");
      return { ...common, type, url: r.need<string>('url'), headers: stringHeaders(r), ca: str('ca') };
    }
    case 'nats': {
      const list = r.get<string[]>('servers');
      const createStream = r.get<boolean>('create_stream');
      const stream = str('stream');
      if (createStream && !stream) throw r.err('create_stream', 'needs stream');
      return { ...common, type, servers: list, subject: r.get<string>('subject'), stream, createStream, creds: str('creds'), ca: str('ca') };
    }
  }
}

/** The JSON Schema of forward.yaml (docs/schemas/forward.schema.json), printed from the tables above. */
export function configSchema(): JsonSchema {
  const sink: JsonSchema = {
    type: 'object',
    required: ['type'],
    properties: { type: { description: COMMON_FIELDS.type!.description, ...COMMON_FIELDS.type!.schema } },
    // Each type allows the common keys and its own: one if/then per type, so an editor offers the
    // keys of the type written.
    allOf: SINK_TYPES.map((t) => ({
      if: { properties: { type: { const: t } } },
      then: sectionSchema({ ...COMMON_FIELDS, ...SINK_FIELDS[t].fields }, ['type', ...SINK_FIELDS[t].required], [...COMMON_RULES, ...SINK_FIELDS[t].rules]),
    })),
  };
  // The sub-mappings every sink has are written once, under $defs, and referred to by each type.
  const $defs: Record<string, JsonSchema> = {};
  for (const branch of sink.allOf as Array<{ then: { properties: Record<string, JsonSchema> } }>) {
    for (const k of ['filter', 'batch', 'queue', 'retry']) {
      $defs[k] = branch.then.properties[k]!;
      branch.then.properties[k] = { $ref: `#/$defs/${k}` };
    }
  }
  const top = sectionSchema(TOP_FIELDS, ['sinks'], []);
  (top.properties as Record<string, JsonSchema>).sinks = { ...(top.properties as Record<string, JsonSchema>).sinks, items: sink };
  top.$defs = $defs;
  return schemaDocument(
    'forward.yaml',
    "vigil-forward's configuration file (docs/forwarder.md, clients/forwarder/README.md). Generated from clients/forwarder/config.ts by `vigil-forward --schema`; `vigil-forward --check` runs the forwarder's own parser, which also reads secret files and refuses duplicate sink names and bad globs.",
    top,
  );
}

/** Parse and check a config document; `file` names it in errors. */
export function parseConfig(text: string, file: string): ForwarderConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  try {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError('the document must be a mapping');
    const r = new Reader(doc as Obj, '', TOP_FIELDS);
    const d = r.sub('daemon', DAEMON_FIELDS);
    const hostname = r.get<string | undefined>('hostname') ?? osHostname();
    const parsed = r.get<unknown[]>('sinks').map((s: unknown, i: number) => parseSink(s, i));
    const names = new Set<string>();
    parsed.forEach((s, i) => {
      if (names.has(s.name)) throw new ConfigError(`sinks[${i}].name: ${s.name} is used twice (cursors are kept by name)`);
      names.add(s.name);
    });
    return {
      daemon: { address: d.get<string>('address'), token: d.secret('token'), ca: d.get<string | undefined>('ca'), insecure: d.get<boolean>('insecure') },
      stateFile: r.get<string>('state_file'),
      hostname,
      shutdownTimeoutMs: r.get<number>('shutdown_timeout_ms'),
      onEpochChange: r.get<'oldest' | 'now'>('on_epoch_change'),
      sinks: parsed,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}

export function loadConfig(file: string): ForwarderConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}
