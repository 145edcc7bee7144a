import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricName } from '../core/metric-names.js';
import { NO_SOURCES, SelfMetrics, vigilFamilies } from './families.js';
import { documentedFamilies, MetricsRegistry, MetricsRegistryError, unitOf, type FamilySpec, type Sample } from './prometheus.js';

const fam = (name: string, type: FamilySpec['type'], labels: string[], samples: Sample[]): FamilySpec => ({
  name,
  help: `${name} help`,
  type,
  labels,
  collect: () => samples,
});

test('families render through prom-client: HELP, TYPE, escaped labels, special values', async () => {
  const reg = new MetricsRegistry(
    [
      fam(
        'vigil_events_total',
        'counter',
        ['kind'],
        [
          { labels: { kind: 'exec' }, value: 3 },
          { labels: { kind: 'fi"le\\x\ny' }, value: 0 },
        ],
      ),
      fam('vigil_limit_seconds', 'gauge', [], [{ value: Infinity }]),
    ],
    { defaults: false },
  );
  const { body, contentType } = await reg.render();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  assert.equal(
    body,
    [
      '# HELP vigil_events_total vigil_events_total help',
      '# TYPE vigil_events_total counter',
      'vigil_events_total{kind="exec"} 3',
      'vigil_events_total{kind="fi\\"le\\\\x\\ny"} 0',
      '',
      '# HELP vigil_limit_seconds vigil_limit_seconds help',
      '# TYPE vigil_limit_seconds gauge',
      'vigil_limit_seconds +Inf',
      '',
    ].join('\n'),
  );
});

test('collect() runs at each scrape: a counter shows the running total, a gone series goes', async () => {
  let samples: Sample[] = [{ labels: { kind: 'a' }, value: 1 }];
  const reg = new MetricsRegistry([{ name: 'vigil_x_total', help: 'x', type: 'counter', labels: ['kind'], collect: () => samples }], { defaults: false });
  assert.match((await reg.render()).body, /^vigil_x_total\{kind="a"\} 1$/m);
  samples = [{ labels: { kind: 'b' }, value: 7 }];
  const body = (await reg.render()).body;
  assert.match(body, /^vigil_x_total\{kind="b"\} 7$/m);
  assert.doesNotMatch(body, /kind="a"/);
});

test('bad families are refused', async () => {
  const cases: Array<[string, () => unknown, RegExp | (new (...a: never[]) => Error)]> = [
    ['bad name', () => new MetricsRegistry([fam('1bad', 'gauge', [], [])], { defaults: false }), /Invalid metric name/],
    ['bad label name', () => new MetricsRegistry([fam('ok', 'gauge', ['a-b'], [])], { defaults: false }), /Invalid label name/],
    ['twice', () => new MetricsRegistry([fam('ok', 'gauge', [], []), fam('ok', 'gauge', [], [])], { defaults: false }), MetricsRegistryError],
    ['clash with a standard family', () => new MetricsRegistry([fam('process_resident_memory_bytes', 'gauge', [], [])]), MetricsRegistryError],
  ];
  for (const [what, build, want] of cases) assert.throws(build, want, what);
  // An undeclared label is refused at scrape time (docs/metrics.md lists declared labels only).
  const reg = new MetricsRegistry([fam('vigil_y', 'gauge', ['a'], [{ labels: { b: '1' }, value: 1 }])], { defaults: false });
  await assert.rejects(reg.render(), /not included in initial labelset/);
});

test('units are read off the names', () => {
  const cases: Array<[string, string]> = [
    ['vigil_container_memory_usage_bytes', 'bytes'],
    ['process_cpu_seconds_total', 'seconds'],
    ['vigil_container_psi_cpu_some_ratio', 'ratio (0..1)'],
    ['vigil_container_cpu_usage_cores', 'CPU cores'],
    ['vigil_build_info', 'info (always 1)'],
    ['vigil_events_total', 'count'],
  ];
  for (const [name, unit] of cases) assert.equal(unitOf(name), unit, name);
});

test("vigil's families: names, the standard collectors, no home-made ones, no colliding container labels", async () => {
  const docs = await documentedFamilies(vigilFamilies(NO_SOURCES));
  const names = new Set(docs.map((d) => d.name));
  for (const n of [
    'vigil_build_info',
    'vigil_rule_matches_total',
    'vigil_container_psi_cpu_some_ratio',
    'vigil_host_psi_io_full_ratio',
    'vigil_container_forecast_exhaustion_seconds',
    'process_resident_memory_bytes',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_heap_size_used_bytes',
  ])
    assert.ok(names.has(n), n);
  for (const n of ['nodejs_memory_bytes', 'vigil_event_loop_lag_seconds', 'vigil_container_psi_cpu_some_avg10']) assert.ok(!names.has(n), n);
  for (const d of docs) {
    assert.ok(
      !d.labels.some((l) => ['namespace', 'pod', 'container', 'service', 'instance', 'job', 'endpoint'].includes(l)),
      `${d.name} has a label the Prometheus operator sets on targets`,
    );
    if (d.name.startsWith('vigil_')) assert.equal(d.type === 'counter', d.name.endsWith('_total'), `${d.name}: counters and only counters end in _total`);
  }
});

test('the live sources: container labels, PSI as a ratio, forecasts and rule matches', async () => {
  const now = 1_000_000;
  const latest = new Map<string, Map<MetricName, number>>([
    [
      'c1',
      new Map<MetricName, number>([
        ['psi_cpu_some_avg10', 12.5],
        ['memory_usage_bytes', 100],
      ]),
    ],
    ['host', new Map<MetricName, number>([['memory_usage_bytes', 500]])],
  ]);
  const reg = new MetricsRegistry(
    vigilFamilies({
      ...NO_SOURCES,
      now: () => now,
      latest: () => latest,
      containers: () => [{ id: 'c1', name: 'web', image: 'nginx', runtime: 'runc', pod: 'web-0', namespace: 'prod' } as never],
      rules: () => [
        { name: 'Shell in container', severity: 'warning' },
        { name: 'Quiet', severity: 'notice' },
      ],
      detector: () => ({ rules: [{ name: 'Shell in container', evaluations: 9, matches: 4, timeMs: 0 }] }) as never,
      alertsOpened: () => [{ rule: 'Shell in container', severity: 'warning', count: 2 }],
      forecasts: () => [
        {
          forecast: {
            target: 'c1',
            metric: 'memory_working_set_bytes',
            exhaustion: { limitMetric: 'memory_limit_bytes', limit: 1, at: now + 90_000 },
          } as never,
          warning: true,
        },
        { forecast: { target: 'host', metric: 'pids_current', exhaustion: { limitMetric: 'pids_max', limit: 1 } } as never, warning: false },
      ],
      forecastEngine: () => ({
        series: 6,
        rounds: 12,
        lastRound: { startedAt: now, durationMs: 1500, due: 6, refreshed: 4, deferred: 1, failed: 1, tooShort: 0 },
        fits: { linear: 3, ets: 40, mstl: 2, prophet: 0 },
        warningsOpen: 1,
        warningsRaised: 1,
        warningsResolved: 0,
        anomalies: 0,
        storeErrors: 2,
        worker: { requests: 50, completed: 45, restarts: 1, timeouts: 1, crashes: 0, retried: 1, failed: 1, queued: 0 },
      }),
      build: { version: '1.2.3', commit: 'abc1234', api: 'vigil.v1' },
    }),
    { defaults: false },
  );
  const body = (await reg.render()).body;
  const id = 'container_id="c1",container_name="web",container_image="nginx",container_runtime="runc",container_pod="web-0",container_namespace="prod"';
  for (const line of [
    `vigil_container_psi_cpu_some_ratio{${id}} 0.125`,
    `vigil_container_memory_usage_bytes{${id}} 100`,
    'vigil_host_memory_usage_bytes 500',
    `vigil_container_forecast_exhaustion_seconds{${id},resource="memory"} 90`,
    'vigil_host_forecast_exhaustion_seconds{resource="pids"} +Inf',
    'vigil_forecast_warnings_open 1',
    'vigil_forecast_series 6',
    'vigil_forecast_rounds_total 12',
    'vigil_forecast_last_round_series{outcome="deferred"} 1',
    'vigil_forecast_last_round_series{outcome="failed"} 1',
    'vigil_forecast_last_round_duration_seconds 1.5',
    'vigil_forecast_fits_total{model="ets"} 40',
    'vigil_forecast_worker_events_total{event="restart"} 1',
    'vigil_forecast_worker_events_total{event="timeout"} 1',
    'vigil_forecast_store_errors_total 2',
    'vigil_rule_matches_total{rule="Shell in container",severity="warning"} 4',
    'vigil_rule_matches_total{rule="Quiet",severity="notice"} 0',
    'vigil_alerts_opened_total{rule="Shell in container",severity="warning"} 2',
    'vigil_build_info{version="1.2.3",commit="abc1234",api="vigil.v1"} 1',
  ])
    assert.ok(body.split('\n').includes(line), `${line}\nin\n${body}`);
});

test('SelfMetrics: alerts opened by rule and severity, the last sweep replaces the latest values', async () => {
  const self = new SelfMetrics();
  self.alertOpened('Shell in container', 'warning');
  self.alertOpened('Shell in container', 'warning');
  self.alertOpened('Shell in container', 'critical');
  assert.deepEqual(
    [...self.alertsOpened()],
    [
      { rule: 'Shell in container', severity: 'warning', count: 2 },
      { rule: 'Shell in container', severity: 'critical', count: 1 },
    ],
  );
  const stats = (startedAt: number) => ({ startedAt }) as never;
  self.sweep(
    [
      { target: 'c1', metric: 'pids_current', time: 1, value: 3 },
      { target: 'host', metric: 'pids_current', time: 1, value: 9 },
    ],
    stats(1),
  );
  self.sweep([{ target: 'c1', metric: 'pids_current', time: 2, value: 4 }], stats(2));
  assert.deepEqual([...self.latest], [['c1', new Map([['pids_current', 4]])]], 'a target gone from the sweep is gone');
  self.matchesOutOfScope++;
  const reg = new MetricsRegistry(
    vigilFamilies({ ...NO_SOURCES, latest: () => self.latest, alertsOpened: () => self.alertsOpened(), matchesOutOfScope: () => self.matchesOutOfScope }),
    { defaults: false },
  );
  const lines = (await reg.render()).body.split('\n');
  assert.ok(lines.includes('vigil_alerts_opened_total{rule="Shell in container",severity="critical"} 1'), lines.join('\n'));
  assert.ok(
    lines.some((l) => l.startsWith('vigil_container_pids_current{container_id="c1"') && l.endsWith(' 4')),
    lines.join('\n'),
  );
});
