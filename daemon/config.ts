// The daemon's configuration: embedded defaults, overridden by a YAML file and then by flags.
// An unknown key or a value of the wrong type is an error with file:line:column and the key's path;
// nothing is guessed.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { RUNTIMES, type Runtime } from './core/container.js';
import { ConfigError } from './core/errors.js';
import { durationPattern, parseDuration } from '../common/duration.js';
import { isLoopback, splitListen } from '../common/listen.js';
import { anyCase, schemaDocument, type JsonSchema } from '../common/json-schema.js';

export interface DaemonConfig {
  /** LevelDB data directory. */
  dataDir: string;
  /** HTTP listener for /metrics and /healthz, host:port. */
  httpListen: string;
  /** File holding the bearer token HTTP clients send. Default: <dataDir>/http.token, made at first start. */
  httpTokenFile?: string;
  /** token: /api/ (the dashboard's data) needs the bearer token; none: open, on a loopback listen only. */
  httpAuth: 'token' | 'none';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  metrics: {
    intervalMs: number;
    /** Retention per resolution, in milliseconds. */
    retention: { raw: number; '1m': number; '1h': number };
  };
  sensor: {
    ringBufferBytes: number;
    /** Extra watches: exact:/path, prefix:/dir/, name:basename. */
    watches: string[];
    connectInet: boolean;
    failedExec: boolean;
  };
  containers: {
    /** Extra cgroup path shapes: a regex with named groups (id, and optionally runtime). */
    patterns: Array<{ runtime: Runtime; regex: string }>;
  };
  /** Targets added when the store holds none yet (first start). */
  defaultTargets: string[];
  /** Rule directories, in load order (default: the package's rules/ and /etc/vigil/rules.d). */
  ruleDirs?: string[];
  /** Host names rules compare server addresses with (fd.sip.name), to addresses, answered before DNS. */
  ruleHosts?: Record<string, string[]>;
  alerts: {
    /** A repeat of the same rule, container and executable within this window folds into the open alert. */
    dedupWindowMs: number;
    /** New alerts per rule per minute; beyond it matches are counted as suppressed. */
    ratePerMinute: number;
    /** Alert versions kept in memory while the store cannot write them (a full disk); beyond, the oldest are dropped. */
    maxWaiting: number;
  };
  /** The gRPC API (daemon/api/grpc.ts). */
  api: {
    /** Unix socket path; empty: no socket. */
    socket: string;
    /** Group allowed to connect to the socket (mode 0660); unset: root only (0600). */
    socketGroup?: string;
    /** TCP host:port: needs tls and tokenFile, unless insecure on a loopback address. */
    listen?: string;
    tls?: { cert: string; key: string; clientCa?: string };
    tokenFile?: string;
    insecure: boolean;
    maxSubscribers: number;
    maxQueuedMessages: number;
  };
  responses: {
    /** Where `notify` POSTs alerts (http or https only). */
    webhooks: Array<{ url: string; headers?: Record<string, string>; timeoutMs?: number }>;
    /** Let `kill` act on host processes too (default: container processes only). */
    killHost: boolean;
    /** Kernel enforcement: SIGKILL at these syscalls from containers. Off unless enabled. */
    enforce: { enabled: boolean; syscalls: string[] };
  };
}

export const DEFAULT_CONFIG_FILE = '/etc/vigil/vigild.yaml';

export function defaultConfig(): DaemonConfig {
  return {
    dataDir: '/var/lib/vigil',
    httpListen: '127.0.0.1:9470',
    httpAuth: 'token',
    logLevel: 'info',
    metrics: { intervalMs: 5000, retention: { raw: 24 * 3600e3, '1m': 7 * 24 * 3600e3, '1h': 90 * 24 * 3600e3 } },
    sensor: { ringBufferBytes: 8 << 20, watches: [], connectInet: false, failedExec: false },
    containers: { patterns: [] },
    defaultTargets: ['all', 'host'],
    alerts: { dedupWindowMs: 60_000, ratePerMinute: 20, maxWaiting: 10_000 },
    api: { socket: '/run/vigil/vigil.sock', insecure: false, maxSubscribers: 128, maxQueuedMessages: 16384 },
    responses: { webhooks: [], killHost: false, enforce: { enabled: false, syscalls: ['init_module', 'finit_module', 'kexec_load', 'kexec_file_load'] } },
  };
}

const SIZE = /^(\d+)(|k|ki|kib|m|mi|mib|g|gi|gib)$/i;
const SIZE_MUL: Record<string, number> = { '': 1, k: 1024, ki: 1024, kib: 1024, m: 1 << 20, mi: 1 << 20, mib: 1 << 20, g: 1 << 30, gi: 1 << 30, gib: 1 << 30 };
/** Ring buffer sizes: a power of two from a page (4KiB) to 2GiB, the largest a u32 max_entries holds. */
const RING_MIN_LOG2 = 12;
const RING_MAX_LOG2 = 31;

/** "16MiB", "4096" -> bytes. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Number(m[1]) * SIZE_MUL[m[2]!.toLowerCase()]! : undefined;
}

function isRingSize(n: number): boolean {
  // Not `n & (n - 1)`: bit operators work on 32 bits, so 2^32 and its multiples would pass.
  const log = Math.log2(n);
  return Number.isInteger(log) && log >= RING_MIN_LOG2 && log <= RING_MAX_LOG2;
}

/** Every spelling parseSize accepts for a ring buffer size, as one pattern (for the schema). */
function ringSizePattern(): string {
  const units: Array<[number, string]> = [
    [0, ''],
    [10, anyCase('k') + '(?:' + anyCase('i') + anyCase('b') + '?)?'],
    [20, anyCase('m') + '(?:' + anyCase('i') + anyCase('b') + '?)?'],
    [30, anyCase('g') + '(?:' + anyCase('i') + anyCase('b') + '?)?'],
  ];
  const alts = units.map(([shift, unit]) => {
    const numbers: number[] = [];
    for (let k = Math.max(RING_MIN_LOG2, shift); k <= RING_MAX_LOG2; k++) numbers.push(2 ** (k - shift));
    return `(?:${numbers.join('|')})${unit}`;
  });
  return `^\\s*0*(?:${alts.join('|')})\\s*$`;
}

// ---- the key table -------------------------------------------------------------------------------
// Every key of the file is one entry below: its type (how the parser reads it and what the JSON
// Schema says of it), its meaning, its default as written in the file, and where its value goes.
// parseConfig() walks this table and configSchema() prints it (docs/schemas/vigild.schema.json),
// so the two cannot disagree about which keys exist or what they take.

type YNode = YamlNode | null | undefined;

/** Where a node is, as file:line:column. */
type Where = (node: YNode) => string;

/** A value type: how the parser reads a node, and the same constraint as JSON Schema. */
export interface ValueType<V> {
  schema: JsonSchema;
  read(node: YNode, path: string, at: Where): V;
}

/** A key of a section: what the schema says of it, and how its value reaches the target. */
export interface KeySpec<T> {
  description: string;
  /** The default as written in the file, where one value says it. */
  default?: unknown;
  schema: JsonSchema;
  apply(target: T, node: YNode, path: string, at: Where): void;
}

/** A rule across keys of one section: the parser's test and the same rule for the schema. */
export interface SectionCheck<T> {
  /** The error, or undefined when the section is fine. */
  test(target: T, path: string): string | undefined;
  schema: JsonSchema;
}

export interface SectionSpec<T> {
  keys: Record<string, KeySpec<T>>;
  required?: readonly string[];
  checks?: ReadonlyArray<SectionCheck<T>>;
}

function fail(at: Where, node: YNode, msg: string): never {
  throw new ConfigError(`${at(node)}: ${msg}`);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function key<T, V>(type: ValueType<V>, description: string, set: (target: T, value: V) => void, dflt?: unknown): KeySpec<T> {
  return {
    description,
    ...(dflt !== undefined ? { default: dflt } : {}),
    schema: type.schema,
    apply: (target, node, path, at) => set(target, type.read(node, path, at)),
  };
}

function readSection<T>(spec: SectionSpec<T>, node: YNode, path: string, at: Where, target: T): void {
  const name = path || 'the config';
  if (!isMap(node)) fail(at, node, `${name} must be a mapping`);
  const seen = new Set<string>();
  for (const pair of (node as { items: Array<{ key: YamlNode; value: YamlNode | null }> }).items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    const s = Object.hasOwn(spec.keys, k) ? spec.keys[k] : undefined;
    if (!s) fail(at, pair.key, `unknown key ${JSON.stringify(k)} in ${name} (known: ${Object.keys(spec.keys).join(', ')})`);
    s!.apply(target, pair.value, join(path, k), at);
    seen.add(k);
  }
  const missing = (spec.required ?? []).filter((k) => !seen.has(k));
  if (missing.length > 0) fail(at, node, `${name} needs ${missing.join(' and ')}`);
  for (const c of spec.checks ?? []) {
    const msg = c.test(target, path);
    if (msg !== undefined) fail(at, node, msg);
  }
}

function sectionSchema<T>(spec: SectionSpec<T>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, s] of Object.entries(spec.keys))
    properties[k] = { description: s.description, ...(s.default !== undefined ? { default: s.default } : {}), ...s.schema };
  const checks = spec.checks ?? [];
  return {
    type: 'object',
    properties,
    additionalProperties: false,
    ...(spec.required?.length ? { required: [...spec.required] } : {}),
    ...(checks.length ? { allOf: checks.map((c) => c.schema) } : {}),
  };
}

/** A section whose keys set fields of the enclosing target (http.listen sets DaemonConfig.httpListen). */
function group<T>(description: string, spec: SectionSpec<T>): KeySpec<T> {
  return { description, schema: sectionSchema(spec), apply: (target, node, path, at) => readSection(spec, node, path, at, target) };
}

/** A mapping read into an object of its own (a list entry, api.tls). */
function object<O>(spec: SectionSpec<O>, init: () => O): ValueType<O> {
  return {
    schema: sectionSchema(spec),
    read: (node, path, at) => {
      const o = init();
      readSection(spec, node, path, at, o);
      return o;
    },
  };
}

function listOf<V>(item: ValueType<V>, what = 'a list'): ValueType<V[]> {
  return {
    schema: { type: 'array', items: item.schema },
    read: (node, path, at) => {
      if (!isSeq(node)) fail(at, node, `${path} must be ${what}`);
      return (node as { items: YamlNode[] }).items.map((n, i) => item.read(n, `${path}[${i}]`, at));
    },
  };
}

/** A string, optionally held to a pattern (the same source for the parser and the schema). */
function string(pattern?: { source: string; says: string }): ValueType<string> {
  const re = pattern ? new RegExp(pattern.source, 'u') : undefined;
  return {
    schema: { type: 'string', ...(pattern ? { pattern: pattern.source } : {}) },
    read: (node, path, at) => {
      if (!isScalar(node) || typeof node.value !== 'string') fail(at, node, `${path} must be a string`);
      const v = (node as { value: string }).value;
      if (re && !re.test(v)) fail(at, node, `${path} must be ${pattern!.says}, not ${JSON.stringify(v)}`);
      return v;
    },
  };
}

function oneOf<V extends string>(values: readonly V[]): ValueType<V> {
  const s = string();
  const says = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return {
    schema: { type: 'string', enum: [...values] },
    read: (node, path, at) => {
      const v = s.read(node, path, at);
      if (!(values as readonly string[]).includes(v)) fail(at, node, `${path} must be ${says}`);
      return v as V;
    },
  };
}

const bool: ValueType<boolean> = {
  schema: { type: 'boolean' },
  read: (node, path, at) => {
    if (!isScalar(node) || typeof node.value !== 'boolean') fail(at, node, `${path} must be true or false`);
    return (node as { value: boolean }).value;
  },
};

function int(min: number, max: number): ValueType<number> {
  const says = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
  return {
    schema: { type: 'integer', minimum: min, ...(max !== Number.MAX_SAFE_INTEGER ? { maximum: max } : {}) },
    read: (node, path, at) => {
      const v = isScalar(node) ? node.value : undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(at, node, `${path} must be ${says}`);
      return v as number;
    },
  };
}

/** A positive duration ("5s", "10m", "24h", "7d") -> milliseconds. */
const duration: ValueType<number> = {
  // Positive: the read below refuses 0s.
  schema: { type: 'string', pattern: durationPattern(true) },
  read: (node, path, at) => {
    const ms = parseDuration(isScalar(node) && typeof node.value === 'string' ? node.value : '');
    if (ms === undefined || ms <= 0) fail(at, node, `${path} must be a duration such as 5s, 10m, 24h or 7d`);
    return ms!;
  },
};

const ringSize: ValueType<number> = {
  schema: {
    anyOf: [
      { type: 'integer', enum: Array.from({ length: RING_MAX_LOG2 - RING_MIN_LOG2 + 1 }, (_, i) => 2 ** (RING_MIN_LOG2 + i)) },
      { type: 'string', pattern: ringSizePattern() },
    ],
  },
  read: (node, path, at) => {
    const v = isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : '';
    const n = parseSize(v);
    if (n === undefined || !isRingSize(n)) fail(at, node, `${path} must be a power of two from 4KiB to 2GiB, such as 16MiB`);
    return n!;
  },
};

/** host:port with a numeric port up to 65535 (leading zeros allowed, as Number() reads them); [v6]:port. */
const PORT = '(?:\\d{1,4}|[0-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
const LISTEN_SOURCE = `^(?:\\[[0-9a-fA-F:]+\\]|[^:\\s]+):${PORT}$`;
const LISTEN = new RegExp(LISTEN_SOURCE, 'u');
/** The listen addresses isLoopback() accepts, as a pattern. */
const LOOPBACK_LISTEN_SOURCE = `^(?:localhost|127\\.\\d+\\.\\d+\\.\\d+|\\[::1\\]):${PORT}$`;
const listen = string({ source: LISTEN_SOURCE, says: 'host:port' });

/** A group name, or a group number (gid). */
const SOCKET_GROUP_SOURCE = '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$';
const socketGroup: ValueType<string> = {
  schema: {
    anyOf: [
      { type: 'integer', minimum: 0 },
      { type: 'string', pattern: SOCKET_GROUP_SOURCE },
    ],
  },
  read: (node, path, at) => {
    if (isScalar(node) && typeof node.value === 'number') {
      if (!Number.isInteger(node.value) || node.value < 0) fail(at, node, `${path} must be a group name or number`);
      return String(node.value);
    }
    return string({ source: SOCKET_GROUP_SOURCE, says: 'a group name or number' }).read(node, path, at);
  },
};

/** A mapping of header names to strings. */
const headerMap: ValueType<Record<string, string>> = {
  schema: { type: 'object', additionalProperties: { type: 'string' } },
  read: (node, path, at) => {
    if (!isMap(node)) fail(at, node, `${path} must be a mapping`);
    const h: Record<string, string> = {};
    for (const pair of (node as { items: Array<{ key: YamlNode; value: YamlNode | null }> }).items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      h[k] = string().read(pair.value, `${path}.${k}`, at);
    }
    return h;
  },
};

/** An IPv4 or IPv6 address as written (the form the sensor reports). */
const ipAddress: ValueType<string> = {
  schema: { type: 'string' },
  read: (node, path, at) => {
    const v = string().read(node, path, at);
    if (isIP(v) === 0) fail(at, node, `${path} must be an IPv4 or IPv6 address, not ${JSON.stringify(v)}`);
    return v;
  },
};

/** Host name to its addresses, as /etc/hosts lines. */
const hostMap: ValueType<Record<string, string[]>> = {
  schema: { type: 'object', additionalProperties: { type: 'array', items: ipAddress.schema } },
  read: (node, path, at) => {
    if (!isMap(node)) fail(at, node, `${path} must be a mapping of host names to address lists`);
    const h: Record<string, string[]> = {};
    const addresses = listOf(ipAddress, 'a list of addresses');
    for (const pair of (node as { items: Array<{ key: YamlNode; value: YamlNode | null }> }).items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      h[k] = addresses.read(pair.value, `${path}.${k}`, at);
    }
    return h;
  },
};

const strings = listOf(string());
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Cfg = DaemonConfig;
type Pattern = Cfg['containers']['patterns'][number];
type Webhook = Cfg['responses']['webhooks'][number];
type Tls = NonNullable<Cfg['api']['tls']>;

const CONFIG: SectionSpec<Cfg> = {
  keys: {
    data_dir: key(
      string(),
      "The daemon's state: LevelDB in <data_dir>/data (series, targets, alerts, forecasts) and the generated HTTP token.",
      (c, v) => (c.dataDir = v),
      '/var/lib/vigil',
    ),
    log_level: key(oneOf(LOG_LEVELS), 'Level of the JSON log lines on stderr.', (c, v) => (c.logLevel = v), 'info'),
    http: group('The HTTP listener: /metrics (Prometheus), /healthz, the dashboard and its /api/v1.', {
      keys: {
        listen: key(
          listen,
          'host:port of the HTTP listener. Off loopback every request to /metrics, /healthz and /api/v1 needs the bearer token.',
          (c, v) => (c.httpListen = v),
          '127.0.0.1:9470',
        ),
        token_file: key(
          string(),
          'File holding the bearer token HTTP clients send (at least 16 characters). Default: <data_dir>/http.token, made 0600 at first start when missing; a file named here is read, never created.',
          (c, v) => (c.httpTokenFile = v),
        ),
        auth: key(
          oneOf(['token', 'none'] as const),
          'token: /api/v1 needs the bearer token. none: /api/v1 is open; allowed on a loopback http.listen only.',
          (c, v) => (c.httpAuth = v),
          'token',
        ),
      },
      checks: [
        {
          test: (c) =>
            c.httpAuth === 'none' && !isLoopback(splitListen(c.httpListen).host)
              ? `http.auth: none is only allowed on a loopback http.listen, not ${c.httpListen}`
              : undefined,
          schema: {
            if: { required: ['auth'], properties: { auth: { const: 'none' } } },
            then: { properties: { listen: { pattern: LOOPBACK_LISTEN_SOURCE } } },
          },
        },
      ],
    }),
    metrics: group('Container and host metrics.', {
      keys: {
        interval: key(duration, 'The sampling sweep over every monitored container and the host.', (c, v) => (c.metrics.intervalMs = v), '5s'),
        retention: group('How long samples are kept, per resolution.', {
          keys: {
            raw: key(duration, "How long samples at the sweep's resolution are kept.", (c, v) => (c.metrics.retention.raw = v), '24h'),
            '1m': key(duration, 'How long one-minute rollups are kept.', (c, v) => (c.metrics.retention['1m'] = v), '7d'),
            '1h': key(duration, 'How long one-hour rollups are kept.', (c, v) => (c.metrics.retention['1h'] = v), '90d'),
          },
        }),
      },
    }),
    sensor: group('The eBPF sensor.', {
      keys: {
        ring_buffer_size: key(
          ringSize,
          'The kernel ring buffer shared by the probes: a power of two from 4KiB to 2GiB, in bytes or with k/KiB, m/MiB, g/GiB. When it is full events are dropped, counted and alerted on.',
          (c, v) => (c.sensor.ringBufferBytes = v),
          '8MiB',
        ),
        watches: key(
          strings,
          'Extra watched paths beside those the rules need: exact:/path, prefix:/dir/, name:basename; by identity fs-exact[@fstype]:/path, fs-prefix[@fstype]:/dir/, fs-name[@fstype]:basename; suffix:end; traversal:../.',
          (c, v) => (c.sensor.watches = v),
          [],
        ),
        connect_inet: key(bool, 'Report inet and inet6 connects too (unix connects are always reported).', (c, v) => (c.sensor.connectInet = v), false),
        failed_exec: key(bool, 'Report execs that failed too.', (c, v) => (c.sensor.failedExec = v), false),
      },
    }),
    containers: group('Container identity.', {
      keys: {
        patterns: key(
          listOf(
            object<Pattern>(
              {
                keys: {
                  runtime: key(oneOf(RUNTIMES), 'The runtime a cgroup path matching this pattern belongs to.', (p, v: Runtime) => (p.runtime = v), 'unknown'),
                  regex: key(
                    string(),
                    'A cgroup path shape (a JavaScript regular expression for the linear-time engine) with a named group id for the container id.',
                    (p, v) => (p.regex = v),
                  ),
                },
                required: ['regex'],
              },
              () => ({ runtime: 'unknown', regex: '' }),
            ),
          ),
          'Extra cgroup path shapes, tried before the built-in ones.',
          (c, v) => (c.containers.patterns = v),
          [],
        ),
      },
    }),
    default_targets: key(strings, 'Monitored targets added when the store holds none (the very first start).', (c, v) => (c.defaultTargets = v), [
      'all',
      'host',
    ]),
    rules: group('The rule pack.', {
      keys: {
        dirs: key(
          strings,
          "Rule directories (or files), loaded in this order. Default: the package's rules/, then /etc/vigil/rules.d.",
          (c, v) => (c.ruleDirs = v),
        ),
        hosts: key(
          hostMap,
          'Addresses of host names that rules compare server addresses with (fd.sip.name), answered before DNS: a name the host does not resolve, such as kubernetes.default.svc.cluster.local outside the cluster.',
          (c, v) => (c.ruleHosts = v),
        ),
      },
    }),
    alerts: group('Alert deduplication and rate limits.', {
      keys: {
        dedup_window: key(
          duration,
          'A match of the same rule, container and executable within this window folds into the open alert.',
          (c, v) => (c.alerts.dedupWindowMs = v),
          '60s',
        ),
        rate_per_minute: key(
          int(1, Number.MAX_SAFE_INTEGER),
          'New alerts per rule and container per minute; beyond it matches are counted as suppressed.',
          (c, v) => (c.alerts.ratePerMinute = v),
          20,
        ),
        max_waiting: key(
          int(1, 1_000_000),
          'Alert versions kept in memory while the store cannot write them (a full disk); beyond it the oldest are dropped, counted and alerted.',
          (c, v) => (c.alerts.maxWaiting = v),
          10_000,
        ),
      },
    }),
    api: group('The gRPC API.', {
      keys: {
        socket: key(
          string({ source: '^(?:$|/)', says: 'an absolute path (or empty for none)' }),
          "The gRPC API's unix socket (empty: none); its mode is the access control.",
          (c, v) => (c.api.socket = v),
          '/run/vigil/vigil.sock',
        ),
        socket_group: key(socketGroup, 'The group given the socket (mode 0660); unset: root only (0600).', (c, v) => (c.api.socketGroup = v)),
        listen: key(listen, 'gRPC over TCP, host:port: needs tls and token_file, unless insecure on a loopback address.', (c, v) => (c.api.listen = v)),
        tls: key(
          object<Tls>(
            {
              keys: {
                cert: key(string(), "The TCP listener's certificate (PEM).", (t, v) => (t.cert = v)),
                key: key(string(), 'Its private key (PEM).', (t, v) => (t.key = v)),
                client_ca: key(string(), 'CA bundle client certificates must chain to; when set, clients must present one.', (t, v) => (t.clientCa = v)),
              },
              required: ['cert', 'key'],
            },
            () => ({ cert: '', key: '' }),
          ),
          'TLS for api.listen.',
          (c, v) => (c.api.tls = v),
        ),
        token_file: key(string(), 'The bearer token every TCP call must send; required with api.tls.', (c, v) => (c.api.tokenFile = v)),
        insecure: key(bool, 'Plain TCP without TLS, allowed on a loopback api.listen only.', (c, v) => (c.api.insecure = v), false),
        max_subscribers: key(int(1, 10000), 'Concurrent Events.Subscribe streams; each has its own bounded queue.', (c, v) => (c.api.maxSubscribers = v), 128),
        max_queued_messages: key(
          int(1024, 16_777_216),
          "Messages queued for all Events.Subscribe streams together: past it a stream queues only up to its share (this over the streams open), so the daemon's memory does not grow with the number of slow subscribers.",
          (c, v) => (c.api.maxQueuedMessages = v),
          16384,
        ),
      },
      checks: [
        {
          test: ({ api: a }) =>
            a.listen && !a.tls && !(a.insecure && isLoopback(splitListen(a.listen).host))
              ? `api.listen ${a.listen}: plain TCP is refused; set api.tls and api.token_file (or api.insecure: true on a loopback address)`
              : undefined,
          schema: {
            if: {
              required: ['listen'],
              not: { required: ['insecure'], properties: { insecure: { const: true }, listen: { pattern: LOOPBACK_LISTEN_SOURCE } } },
            },
            then: { required: ['tls'] },
          },
        },
        {
          test: ({ api: a }) => (a.listen && a.tls && !a.tokenFile ? 'api.tls needs api.token_file: TCP callers authenticate with a bearer token' : undefined),
          schema: { if: { required: ['listen', 'tls'] }, then: { required: ['token_file'] } },
        },
      ],
    }),
    responses: group('What alerts may do.', {
      keys: {
        webhooks: key(
          listOf(
            object<Webhook>(
              {
                keys: {
                  url: key(
                    string({ source: '^https?://[^\\s]+$', says: 'an http:// or https:// URL' }),
                    'Where the notify action POSTs the alert as JSON.',
                    (w, v) => (w.url = v),
                  ),
                  timeout: key(duration, 'Per attempt.', (w, v) => (w.timeoutMs = v), '5s'),
                  headers: key(headerMap, 'Extra request headers (an Authorization header, for instance).', (w, v) => (w.headers = v)),
                },
                required: ['url'],
              },
              () => ({ url: '' }),
            ),
          ),
          'Where the notify action POSTs alerts (http or https only).',
          (c, v) => (c.responses.webhooks = v),
          [],
        ),
        kill_host: key(bool, 'Let the kill action act on host processes too (default: container processes only).', (c, v) => (c.responses.killHost = v), false),
        enforce: group('Kernel enforcement: SIGKILL at these syscalls from containers. Off unless enabled.', {
          keys: {
            enabled: key(bool, 'Load the enforcement probe.', (c, v) => (c.responses.enforce.enabled = v), false),
            syscalls: key(strings, 'The syscalls enforcement acts on.', (c, v) => (c.responses.enforce.syscalls = v), [
              'init_module',
              'finit_module',
              'kexec_load',
              'kexec_file_load',
            ]),
          },
        }),
      },
    }),
  },
};

/** The JSON Schema of vigild.yaml (docs/schemas/vigild.schema.json), printed from the parser's key table. */
export function configSchema(): JsonSchema {
  const body = sectionSchema(CONFIG);
  return schemaDocument(
    'vigild.yaml',
    "vigild's configuration file (docs/config.md). Generated from daemon/config.ts by `vigild config schema vigild`; `vigild config check FILE` runs the daemon's own parser.",
    // An empty file is a valid config: every key keeps its default.
    { ...body, type: ['object', 'null'] },
  );
}

/** Reads and validates a YAML config file over the defaults. */
export function loadConfigFile(file: string, base: DaemonConfig = defaultConfig()): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file, base);
}

export function parseConfig(text: string, file: string, base: DaemonConfig = defaultConfig()): DaemonConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at: Where = (node) => {
    const off = node?.range?.[0] ?? 0;
    const p = lines.linePos(off);
    return `${file}:${p.line}:${p.col}`;
  };
  const first = doc.errors[0];
  if (first) {
    const p = first.linePos?.[0];
    throw new ConfigError(`${file}:${p?.line ?? 1}:${p?.col ?? 1}: ${first.message.split('\n')[0]}`);
  }
  const cfg = structuredClone(base);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return cfg;
  if (!isMap(root)) throw new ConfigError(`${at(root)}: the config must be a mapping of keys to values`);
  readSection(CONFIG, root, '', at, cfg);
  return cfg;
}

/** host:port with a numeric port; [v6]:port accepted. */
export function checkListen(text: string, where: () => string = () => 'listen address'): string {
  if (!LISTEN.test(text)) throw new ConfigError(`${where()}: ${JSON.stringify(text)} is not host:port`);
  return text;
}
