// The daemon's configuration: embedded defaults, overridden by a YAML file and then by flags.
// An unknown key or a value of the wrong type is an error with file:line:column; nothing is guessed.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { RUNTIMES, type Runtime } from './containers/types.js';
import { ConfigError } from './errors.js';

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
    api: { socket: '/run/vigil/vigil.sock', insecure: false, maxSubscribers: 128 },
    responses: { webhooks: [], killHost: false, enforce: { enabled: false, syscalls: ['init_module', 'finit_module', 'kexec_load', 'kexec_file_load'] } },
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
const SIZE = /^(\d+)(|k|ki|kib|m|mi|mib|g|gi|gib)$/i;
const SIZE_MUL: Record<string, number> = { '': 1, k: 1024, ki: 1024, kib: 1024, m: 1 << 20, mi: 1 << 20, mib: 1 << 20, g: 1 << 30, gi: 1 << 30, gib: 1 << 30 };

/** "5s", "24h", "7d" -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** "16MiB", "4096" -> bytes. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Number(m[1]) * SIZE_MUL[m[2]!.toLowerCase()]! : undefined;
}

type Where = (node: YamlNode | null | undefined) => string;

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

  const fail = (node: YamlNode | null | undefined, msg: string): never => {
    throw new ConfigError(`${at(node)}: ${msg}`);
  };
  const str = (node: YamlNode | null | undefined, key: string): string => {
    if (!isScalar(node) || typeof node.value !== 'string') fail(node, `${key} must be a string`);
    return (node as { value: string }).value;
  };
  const bool = (node: YamlNode | null | undefined, key: string): boolean => {
    if (!isScalar(node) || typeof node.value !== 'boolean') fail(node, `${key} must be true or false`);
    return (node as { value: boolean }).value;
  };
  const duration = (node: YamlNode | null | undefined, key: string): number => {
    const v = isScalar(node) ? String(node.value) : '';
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) fail(node, `${key} must be a duration such as 5s, 10m, 24h or 7d`);
    return ms!;
  };
  const strings = (node: YamlNode | null | undefined, key: string): string[] => {
    if (!isSeq(node)) fail(node, `${key} must be a list`);
    return (node as { items: YamlNode[] }).items.map((n) => str(n, `each entry of ${key}`));
  };
  const section = (node: YamlNode | null | undefined, key: string, handlers: Record<string, (v: YamlNode | null) => void>): void => {
    if (!isMap(node)) fail(node, `${key} must be a mapping`);
    for (const pair of (node as { items: Array<{ key: YamlNode; value: YamlNode | null }> }).items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      const h = handlers[k];
      if (!h) fail(pair.key, `unknown key ${JSON.stringify(k)} in ${key} (known: ${Object.keys(handlers).join(', ')})`);
      h!(pair.value);
    }
  };

  section(root, 'the config', {
    data_dir: (v) => (cfg.dataDir = str(v, 'data_dir')),
    log_level: (v) => {
      const s = str(v, 'log_level');
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(s)) fail(v, `log_level must be one of fatal, error, warn, info, debug, trace`);
      cfg.logLevel = s as DaemonConfig['logLevel'];
    },
    http: (v) => {
      section(v, 'http', {
        listen: (x) => (cfg.httpListen = checkListen(str(x, 'http.listen'), () => at(x))),
        token_file: (x) => (cfg.httpTokenFile = str(x, 'http.token_file')),
        auth: (x) => {
          const a = str(x, 'http.auth');
          if (a !== 'token' && a !== 'none') fail(x, 'http.auth must be token or none');
          cfg.httpAuth = a as DaemonConfig['httpAuth'];
        },
      });
      if (cfg.httpAuth === 'none' && !isLoopback(splitListen(cfg.httpListen).host)) fail(v, `http.auth: none is only allowed on a loopback http.listen, not ${cfg.httpListen}`);
    },
    metrics: (v) =>
      section(v, 'metrics', {
        interval: (x) => (cfg.metrics.intervalMs = duration(x, 'metrics.interval')),
        retention: (x) =>
          section(x, 'metrics.retention', {
            raw: (y) => (cfg.metrics.retention.raw = duration(y, 'metrics.retention.raw')),
            '1m': (y) => (cfg.metrics.retention['1m'] = duration(y, 'metrics.retention.1m')),
            '1h': (y) => (cfg.metrics.retention['1h'] = duration(y, 'metrics.retention.1h')),
          }),
      }),
    sensor: (v) =>
      section(v, 'sensor', {
        ring_buffer_size: (x) => {
          const n = parseSize(isScalar(x) ? String(x.value) : '');
          if (n === undefined || n < 4096 || (n & (n - 1)) !== 0) fail(x, 'sensor.ring_buffer_size must be a power of two of at least 4KiB, such as 16MiB');
          cfg.sensor.ringBufferBytes = n!;
        },
        watches: (x) => (cfg.sensor.watches = strings(x, 'sensor.watches')),
        connect_inet: (x) => (cfg.sensor.connectInet = bool(x, 'sensor.connect_inet')),
        failed_exec: (x) => (cfg.sensor.failedExec = bool(x, 'sensor.failed_exec')),
      }),
    containers: (v) =>
      section(v, 'containers', {
        patterns: (x) => {
          if (!isSeq(x)) fail(x, 'containers.patterns must be a list');
          cfg.containers.patterns = (x as { items: YamlNode[] }).items.map((item) => {
            const p: { runtime: Runtime; regex: string } = { runtime: 'unknown', regex: '' };
            section(item, 'each containers.patterns entry', {
              runtime: (y) => {
                const r = str(y, 'runtime');
                if (!(RUNTIMES as readonly string[]).includes(r)) fail(y, `runtime must be one of ${RUNTIMES.join(', ')}`);
                p.runtime = r as Runtime;
              },
              regex: (y) => (p.regex = str(y, 'regex')),
            });
            if (!p.regex) fail(item, 'a containers.patterns entry needs a regex');
            return p;
          });
        },
      }),
    default_targets: (v) => (cfg.defaultTargets = strings(v, 'default_targets')),
    rules: (v) => section(v, 'rules', { dirs: (x) => (cfg.ruleDirs = strings(x, 'rules.dirs')) }),
    alerts: (v) =>
      section(v, 'alerts', {
        dedup_window: (x) => (cfg.alerts.dedupWindowMs = duration(x, 'alerts.dedup_window')),
        rate_per_minute: (x) => {
          if (!isScalar(x) || typeof x.value !== 'number' || !Number.isInteger(x.value) || x.value < 1) fail(x, 'alerts.rate_per_minute must be a whole number of at least 1');
          cfg.alerts.ratePerMinute = (x as { value: number }).value;
        },
        max_waiting: (x) => {
          if (!isScalar(x) || typeof x.value !== 'number' || !Number.isInteger(x.value) || x.value < 1 || x.value > 1_000_000) fail(x, 'alerts.max_waiting must be a whole number from 1 to 1000000');
          cfg.alerts.maxWaiting = (x as { value: number }).value;
        },
      }),
    api: (v) => {
      section(v, 'api', {
        socket: (x) => {
          const p = str(x, 'api.socket');
          if (p !== '' && !p.startsWith('/')) fail(x, 'api.socket must be an absolute path (or empty for none)');
          cfg.api.socket = p;
        },
        socket_group: (x) => {
          const g = isScalar(x) && typeof x.value === 'number' ? String(x.value) : str(x, 'api.socket_group');
          if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(g)) fail(x, 'api.socket_group must be a group name or number');
          cfg.api.socketGroup = g;
        },
        listen: (x) => (cfg.api.listen = checkListen(str(x, 'api.listen'), () => at(x))),
        tls: (x) => {
          const t: { cert: string; key: string; clientCa?: string } = { cert: '', key: '' };
          section(x, 'api.tls', {
            cert: (y) => (t.cert = str(y, 'api.tls.cert')),
            key: (y) => (t.key = str(y, 'api.tls.key')),
            client_ca: (y) => (t.clientCa = str(y, 'api.tls.client_ca')),
          });
          if (!t.cert || !t.key) fail(x, 'api.tls needs both cert and key');
          cfg.api.tls = t;
        },
        token_file: (x) => (cfg.api.tokenFile = str(x, 'api.token_file')),
        insecure: (x) => (cfg.api.insecure = bool(x, 'api.insecure')),
        max_subscribers: (x) => {
          if (!isScalar(x) || typeof x.value !== 'number' || !Number.isInteger(x.value) || x.value < 1 || x.value > 10000) fail(x, 'api.max_subscribers must be a whole number from 1 to 10000');
          cfg.api.maxSubscribers = (x as { value: number }).value;
        },
      });
      const a = cfg.api;
      if (a.listen) {
        const host = splitListen(a.listen).host;
        if (!a.tls && !(a.insecure && isLoopback(host))) fail(v, `api.listen ${a.listen}: plain TCP is refused; set api.tls and api.token_file (or api.insecure: true on a loopback address)`);
        if (a.tls && !a.tokenFile) fail(v, 'api.tls needs api.token_file: TCP callers authenticate with a bearer token');
      }
    },
    responses: (v) =>
      section(v, 'responses', {
        webhooks: (x) => {
          if (!isSeq(x)) fail(x, 'responses.webhooks must be a list');
          cfg.responses.webhooks = (x as { items: YamlNode[] }).items.map((item) => {
            const w: { url: string; headers?: Record<string, string>; timeoutMs?: number } = { url: '' };
            section(item, 'each responses.webhooks entry', {
              url: (y) => {
                w.url = str(y, 'url');
                if (!/^https?:\/\/[^\s]+$/.test(w.url)) fail(y, 'url must be an http:// or https:// URL');
              },
              timeout: (y) => (w.timeoutMs = duration(y, 'timeout')),
              headers: (y) => {
                const h: Record<string, string> = {};
                section(y, 'headers', new Proxy({}, { get: (_t, k: string) => (z: YamlNode | null) => (h[k] = str(z, `headers.${k}`)), has: () => true }) as Record<string, (v: YamlNode | null) => void>);
                w.headers = h;
              },
            });
            if (!w.url) fail(item, 'a webhook needs a url');
            return w;
          });
        },
        kill_host: (x) => (cfg.responses.killHost = bool(x, 'responses.kill_host')),
        enforce: (x) =>
          section(x, 'responses.enforce', {
            enabled: (y) => (cfg.responses.enforce.enabled = bool(y, 'responses.enforce.enabled')),
            syscalls: (y) => (cfg.responses.enforce.syscalls = strings(y, 'responses.enforce.syscalls')),
          }),
      }),
  });
  return cfg;
}

/** host:port with a numeric port; [v6]:port accepted. */
export function checkListen(text: string, where: () => string = () => 'listen address'): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`${where()}: ${JSON.stringify(text)} is not host:port`);
  return text;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function splitListen(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(text.slice(i + 1)) };
}
