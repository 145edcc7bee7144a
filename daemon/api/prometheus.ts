// /metrics through prom-client: one Registry per exposition, holding prom-client's standard process_*
// and nodejs_* collectors and vigil's own families. Every vigil family is a prom-client Counter or
// Gauge whose collect() reads the daemon's existing counters when a scrape comes in: the hot path
// (a decoded event, a rule match) keeps incrementing plain numbers and never calls into prom-client.
// Families are declared with their label names, so prom-client refuses a sample with an undeclared
// label and docs/metrics.md (metricsMarkdown) lists exactly what the registry serves.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { VigilError } from '../core/errors.js';

export type FamilyType = 'counter' | 'gauge';

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface FamilySpec {
  name: string;
  help: string;
  type: FamilyType;
  /** Every label a sample may carry. */
  labels: readonly string[];
  /** Called at scrape time only. */
  collect: () => Iterable<Sample>;
}

/** A family declared twice, or clashing with a standard collector's. */
export class MetricsRegistryError extends VigilError {
  constructor(message: string) {
    super('VIGIL_METRICS_FAMILY', message);
  }
}

/** prom-client standard families that are not served (see the constructor). */
const LINT_FAILURES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The registry behind /metrics. */
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(families: readonly FamilySpec[], options: { defaults?: boolean } = {}) {
    // prom-client's event-loop lag gauges read a monitorEventLoopDelay histogram that is reset at
    // every scrape, so nodejs_eventloop_lag_p99_seconds is the p99 since the previous scrape (a
    // stall shows once, not for the rest of the uptime).
    if (options.defaults ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named _total, which `promtool check metrics` rejects (only counters end in _total);
      // each is the sum of its per-type family (nodejs_active_handles{type}, ...).
      for (const name of LINT_FAILURES) this.registry.removeSingleMetric(name);
    }
    const seen = new Set(this.registry.getMetricsAsArray().map((m) => m.name));
    for (const f of families) {
      if (seen.has(f.name)) throw new MetricsRegistryError(`metric family ${f.name} is declared twice`);
      seen.add(f.name);
      register(this.registry, f);
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function register(registry: Registry, f: FamilySpec): void {
  const common = { name: f.name, help: f.help, labelNames: [...f.labels], registers: [registry] };
  if (f.type === 'counter') {
    new Counter({
      ...common,
      collect() {
        // A counter is the daemon's running total: set it by clearing and adding the total once.
        this.reset();
        for (const s of f.collect()) this.inc({ ...s.labels }, s.value);
      },
    });
  } else {
    new Gauge({
      ...common,
      collect() {
        this.reset();
        for (const s of f.collect()) this.set({ ...s.labels }, s.value);
      },
    });
  }
}

/** A family's unit, read off its name the way Prometheus' naming conventions spell it. */
export function unitOf(name: string): string {
  const base = name.replace(/_total$/, '');
  for (const [suffix, unit] of [
    ['_bytes', 'bytes'],
    ['_seconds', 'seconds'],
    ['_ratio', 'ratio (0..1)'],
    ['_cores', 'CPU cores'],
    ['_info', 'info (always 1)'],
  ] as const)
    if (base.endsWith(suffix)) return unit;
  return 'count';
}

interface Documented {
  name: string;
  help: string;
  type: string;
  labels: string[];
}

/** Every family the registry serves, sorted by name: vigil's declared ones and prom-client's standard ones. */
export async function documentedFamilies(families: readonly FamilySpec[]): Promise<Documented[]> {
  const reg = new MetricsRegistry(families);
  const out: Documented[] = [];
  for (const metric of reg.registry.getMetricsAsArray()) {
    // Label names as declared (vigil's and the standard collectors' alike), not as seen in samples,
    // which vary with what the process did so far (a GC kind, a handle type). prom-client's typings
    // leave both out of what getMetricsAsArray() returns; every metric it holds has them.
    const m = metric as unknown as { labelNames?: readonly string[]; get(): Promise<{ name: string; help: string; type: unknown }> };
    const declared = m.labelNames ?? [];
    const got = await m.get();
    out.push({ name: got.name, help: got.help, type: String(got.type), labels: [...declared] });
  }
  reg.registry.clear();
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/metrics.md: `vigild metrics-doc > docs/metrics.md`; test/metrics-doc.test.ts holds the file to it. */
export async function metricsMarkdown(families: readonly FamilySpec[], shorthand?: { text: string; labels: readonly string[] }): Promise<string> {
  const rows = await documentedFamilies(families);
  const labelCell = (labels: string[]): string => {
    // A label set every container family carries is written once, in the text above the tables.
    if (shorthand && shorthand.labels.every((l) => labels.includes(l)))
      return [shorthand.text, ...labels.filter((l) => !shorthand.labels.includes(l)).map((l) => `\`${l}\``)].join(', ');
    return labels.map((l) => `\`${l}\``).join(', ');
  };
  const own = rows.filter((r) => r.name.startsWith('vigil_'));
  const std = rows.filter((r) => !r.name.startsWith('vigil_'));
  const table = (rs: Documented[]): string[] => [
    '| family | type | unit | labels | meaning |',
    '|---|---|---|---|---|',
    ...rs.map((r) => `| \`${r.name}\` | ${r.type} | ${unitOf(r.name)} | ${labelCell(r.labels)} | ${cell(r.help)} |`),
  ];
  return [
    '# Metrics',
    '',
    '<!-- Generated by `bin/vigild metrics-doc > docs/metrics.md` from daemon/api/families.ts; test/metrics-doc.test.ts checks it. Do not edit by hand. -->',
    '',
    "vigild serves these families on its HTTP listener's `/metrics` (`http.listen`, default",
    '`127.0.0.1:9470`; off loopback the request needs the bearer token: docs/config.md). Values are read',
    'from the daemon when the scrape comes in. Units follow the names (Prometheus conventions): `_bytes`,',
    '`_seconds`, `_ratio` (0..1), `_cores`; a `_total` is a counter since the daemon started.',
    '',
    'Container families (labels: *container*) carry `container_id`, `container_name`, `container_image`, `container_runtime`,',
    '`container_pod` and `container_namespace`. They are prefixed so that they never collide with the',
    'labels the Prometheus operator gives every target (`namespace`, `pod`, `container`, `service`): the',
    'shipped ServiceMonitor keeps its default `honorLabels: false`, under which colliding labels would be',
    'renamed `exported_namespace`, `exported_pod`, and a query would have to know which of the two it got.',
    '`container_pod` and `container_namespace` are empty outside Kubernetes. The same metrics of the host',
    'itself have no container labels and a `vigil_host_` prefix.',
    '',
    'Alerting rules over these families: `deploy/prometheus/vigil-rules.yaml`; a Grafana dashboard:',
    '`deploy/grafana/vigil.json`.',
    '',
    '## vigil',
    '',
    ...table(own),
    '',
    "## Process and Node.js (prom-client's standard collectors)",
    '',
    '`nodejs_eventloop_lag_*_seconds` are measured since the previous scrape (the histogram is reset at',
    'each), so a stall shows in one scrape and not for the rest of the uptime.',
    '',
    ...table(std),
    '',
  ].join('\n');
}
