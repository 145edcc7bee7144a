// The forwarder's config file (YAML): where the daemon is, where the cursors live, and the sinks.
// Every setting is checked at load; an error names the file and the setting ("sinks[1].url: ...").
// See clients/forwarder/README.md for the format with an example.
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import type { BackoffOptions } from './backoff.js';
import { ConfigError } from './errors.js';
import { parseFilterSpec, type SinkFilter } from './filter.js';
import { DEFAULT_SD_ID, facilityCode } from './format/syslog.js';
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

export type SinkConfig = SinkCommon & (
  | { type: 'syslog'; transport: 'udp' | 'tcp' | 'tls'; host: string; port: number; format: 'rfc5424' | 'cef'; appName: string;
    facility: number; sdId: string; ca?: string | undefined; cert?: string | undefined; key?: string | undefined; servername?: string | undefined }
  | { type: 'hec'; url: string; token: string; index?: string | undefined; sourcetype?: string | undefined; source?: string | undefined; ca?: string | undefined }
  | { type: 'bulk'; url: string; index: string; authorization?: string | undefined; ca?: string | undefined }
  | { type: 'webhook'; url: string; headers: Record<string, string>; ca?: string | undefined }
  | { type: 'falco'; url: string; headers: Record<string, string>; ca?: string | undefined }
  | { type: 'nats'; servers: string[]; subject: string; stream?: string | undefined; createStream: boolean; creds?: string | undefined; ca?: string | undefined }
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

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly obj: Obj, readonly where: string) {}

  private path(key: string): string {
    return this.where ? `${this.where}.${key}` : key;
  }

  err(key: string, msg: string): ConfigError {
    return new ConfigError(`${this.path(key)}: ${msg}`);
  }

  str(key: string): string | undefined;
  str(key: string, dflt: string): string;
  str(key: string, dflt?: string): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string' || v === '') throw this.err(key, 'must be a non-empty string');
    return v;
  }

  need(key: string): string {
    const v = this.str(key);
    if (v === undefined) throw this.err(key, 'is required');
    return v;
  }

  int(key: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw this.err(key, `must be an integer from ${min} to ${max}`);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw this.err(key, 'must be true or false');
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], dflt?: T): T {
    const v = this.obj[key] ?? dflt;
    if (!values.includes(v as T)) throw this.err(key, `must be one of ${values.join(', ')}`);
    return v as T;
  }

  sub(key: string): Reader {
    const v = this.obj[key] ?? {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.err(key, 'must be a mapping');
    return new Reader(v as Obj, this.path(key));
  }

  allowOnly(keys: string[]): void {
    for (const k of Object.keys(this.obj)) if (!keys.includes(k)) throw this.err(k, 'unknown setting');
  }

  /** A secret given inline (`key`) or in a file (`key_file`, trimmed). */
  secret(key: string): string | undefined {
    const inline = this.str(key);
    const file = this.str(`${key}_file`);
    if (inline && file) throw this.err(key, `give ${key} or ${key}_file, not both`);
    if (!file) return inline;
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw this.err(`${key}_file`, (err as Error).message);
    }
  }
}

const COMMON = ['name', 'type', 'alerts', 'events', 'filter', 'batch', 'queue', 'retry'];

function parseSink(value: unknown, i: number): SinkConfig {
  const where = `sinks[${i}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: must be a mapping`);
  const r = new Reader(value as Obj, where);
  const type = r.oneOf('type', SINK_TYPES);
  const batchDefaults = type === 'syslog' ? [100, 200] : type === 'nats' ? [256, 200] : [500, 1000];
  const b = r.sub('batch');
  b.allowOnly(['max_items', 'max_wait_ms']);
  const q = r.sub('queue');
  q.allowOnly(['max_items']);
  const rt = r.sub('retry');
  rt.allowOnly(['initial_ms', 'max_ms']);
  const f = r.sub('filter');
  f.allowOnly(['allow', 'deny']);
  const list = (key: 'allow' | 'deny'): unknown[] => {
    const v = f.obj[key] ?? [];
    if (!Array.isArray(v)) throw f.err(key, 'must be a list of filters');
    return v;
  };
  const common: SinkCommon = {
    name: r.str('name', `${type}-${i}`),
    alerts: r.bool('alerts', true),
    events: r.bool('events', false),
    filter: {
      allow: list('allow').map((x, j) => parseFilterSpec(x, `${where}.filter.allow[${j}]`)),
      deny: list('deny').map((x, j) => parseFilterSpec(x, `${where}.filter.deny[${j}]`)),
    },
    batch: { maxItems: b.int('max_items', batchDefaults[0]!, 1, 100_000), maxWaitMs: b.int('max_wait_ms', batchDefaults[1]!, 0, 600_000) },
    queueMax: q.int('max_items', 10_000, 1, 10_000_000),
    retry: { initialMs: rt.int('initial_ms', 500, 1, 3_600_000), maxMs: rt.int('max_ms', 30_000, 1, 3_600_000) },
  };
  if (!common.alerts && !common.events) throw r.err('alerts', 'a sink with alerts and events both off ships nothing');
  if (!/^[A-Za-z0-9_.-]+$/.test(common.name)) throw r.err('name', 'letters, digits, ".", "_" and "-" only');
  const url = (key: string): string => {
    const v = r.need(key);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw r.err(key, `not a URL: ${v}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw r.err(key, 'must be http:// or https://');
    return v;
  };
  switch (type) {
    case 'syslog': {
      r.allowOnly([...COMMON, 'transport', 'host', 'port', 'format', 'app_name', 'facility', 'sd_id', 'ca', 'cert', 'key', 'servername']);
      const transport = r.oneOf('transport', ['udp', 'tcp', 'tls'] as const, 'udp');
      const facilityValue = (value as Obj).facility ?? 'local0';
      const facility = typeof facilityValue === 'string' || typeof facilityValue === 'number' ? facilityCode(facilityValue) : undefined;
      if (facility === undefined) throw r.err('facility', 'a facility name (kern, user, daemon, auth, local0..local7, ...) or 0..23');
      const sdId = r.str('sd_id', DEFAULT_SD_ID);
      if (!/^[!#-<>-\\^-~]{1,32}$/.test(sdId) || /[=\]" ]/.test(sdId)) throw r.err('sd_id', 'printable ASCII without = ] " or space, at most 32');
      return {
        ...common, type, transport, host: r.need('host'), port: r.int('port', transport === 'tls' ? 6514 : 514, 1, 65535),
        format: r.oneOf('format', ['rfc5424', 'cef'] as const, 'rfc5424'), appName: r.str('app_name', 'vigil'), facility, sdId,
        ca: r.str('ca'), cert: r.str('cert'), key: r.str('key'), servername: r.str('servername'),
      };
    }
    case 'hec': {
      r.allowOnly([...COMMON, 'url', 'token', 'token_file', 'index', 'sourcetype', 'source', 'ca']);
      const token = r.secret('token');
      if (!token) throw r.err('token', 'is required (or token_file)');
      return { ...common, type, url: url('url'), token, index: r.str('index'), sourcetype: r.str('sourcetype'), source: r.str('source'), ca: r.str('ca') };
    }
    case 'bulk': {
      r.allowOnly([...COMMON, 'url', 'index', 'auth', 'ca']);
      const a = r.sub('auth');
      a.allowOnly(['username', 'password', 'password_file', 'api_key', 'api_key_file', 'bearer', 'bearer_file']);
      let authorization: string | undefined;
      const user = a.str('username');
      const apiKey = a.secret('api_key');
      const bearer = a.secret('bearer');
      if ([user, apiKey, bearer].filter(Boolean).length > 1) throw a.err('username', 'give one of username/password, api_key, bearer');
      if (user) authorization = `Basic ${Buffer.from(`${user}:${a.secret('password') ?? ''}`).toString('base64')}`;
      if (apiKey) authorization = `ApiKey ${apiKey}`;
      if (bearer) authorization = `Bearer ${bearer}`;
      const index = r.str('index', 'vigil-{date}');
      if (index !== index.toLowerCase() || /[\\/*?"<>| ,#]/.test(index)) throw r.err('index', 'lower case, without \\ / * ? " < > | space , #');
      return { ...common, type, url: url('url'), index, authorization, ca: r.str('ca') };
    }
    case 'webhook': {
      r.allowOnly([...COMMON, 'url', 'headers', 'ca']);
      const h = r.sub('headers');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(h.obj)) {
        if (typeof v !== 'string') throw h.err(k, 'must be a string');
        headers[k.toLowerCase()] = v;
      }
      return { ...common, type, url: url('url'), headers, ca: r.str('ca') };
    }
    case 'falco': {
      // Falco's http_output: alerts only, as Falco's JSON alert (falcosidekick listens on :2801).
      r.allowOnly([...COMMON, 'url', 'headers', 'ca']);
      if (common.events) throw r.err('events', 'a falco sink sends alerts only (Falco\'s JSON alert has no form for events)');
      const h = r.sub('headers');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(h.obj)) {
        if (typeof v !== 'string') throw h.err(k, 'must be a string');
        headers[k.toLowerCase()] = v;
      }
      return { ...common, type, url: url('url'), headers, ca: r.str('ca') };
    }
    case 'nats': {
      r.allowOnly([...COMMON, 'servers', 'subject', 'stream', 'create_stream', 'creds', 'ca']);
      const s = (value as Obj).servers;
      const servers = typeof s === 'string' ? [s] : s;
      if (!Array.isArray(servers) || servers.length === 0 || !servers.every((x) => typeof x === 'string' && x !== '')) {
        throw r.err('servers', 'a server URL or a list of them');
      }
      const subject = r.str('subject', 'vigil.{host}.{severity}');
      for (const m of subject.matchAll(/\{([^}]*)\}/g)) {
        if (!(SUBJECT_PLACEHOLDERS as readonly string[]).includes(m[1]!)) throw r.err('subject', `unknown placeholder {${m[1]}} (known: ${SUBJECT_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
      }
      if (/[\s*>]/.test(subject) || subject.split('.').some((t) => t === '')) throw r.err('subject', 'dot-separated tokens without spaces or wildcards');
      const createStream = r.bool('create_stream', false);
      const stream = r.str('stream');
      if (createStream && !stream) throw r.err('create_stream', 'needs stream');
      return { ...common, type, servers: servers as string[], subject, stream, createStream, creds: r.str('creds'), ca: r.str('ca') };
    }
  }
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
    const r = new Reader(doc as Obj, '');
    r.allowOnly(['daemon', 'state_file', 'hostname', 'shutdown_timeout_ms', 'on_epoch_change', 'sinks']);
    const d = r.sub('daemon');
    d.allowOnly(['address', 'token', 'token_file', 'ca', 'insecure']);
    const hostname = r.str('hostname', osHostname());
    const sinks: unknown = (doc as Obj).sinks;
    if (!Array.isArray(sinks) || sinks.length === 0) throw r.err('sinks', 'a list of at least one sink');
    const parsed = sinks.map((s: unknown, i: number) => parseSink(s, i));
    const names = new Set<string>();
    parsed.forEach((s, i) => {
      if (names.has(s.name)) throw new ConfigError(`sinks[${i}].name: ${s.name} is used twice (cursors are kept by name)`);
      names.add(s.name);
    });
    return {
      daemon: { address: d.str('address', DEFAULT_ADDRESS), token: d.secret('token'), ca: d.str('ca'), insecure: d.bool('insecure', false) },
      stateFile: r.str('state_file', DEFAULT_STATE_FILE),
      hostname,
      shutdownTimeoutMs: r.int('shutdown_timeout_ms', 10_000, 0, 600_000),
      onEpochChange: r.oneOf('on_epoch_change', ['oldest', 'now'] as const, 'oldest'),
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
