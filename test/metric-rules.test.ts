// The default pack's metric rules (rules/dos.yaml) against the real detector, fed sample series the
// way the daemon's collector does every 5 s: each DoS condition fires on the right target after its
// hold time, resolves when it clears, and quiet series raise nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerInfo } from '../daemon/containers/container-info.js';
import { Detector } from '../daemon/detect/detector.js';
import { RuleSet } from '../daemon/detect/ruleset.js';
import type { RuleMatch } from '../daemon/detect/rule-match.js';
import type { MetricName, Sample } from '../daemon/core/metric-names.js';

const RULES = join(import.meta.dirname, '../../../rules');
const rules = RuleSet.load([RULES]);
const T0 = 1_800_000_000_000;
const STEP = 5000;

const container: ContainerInfo = {
  id: 'c0ffee',
  name: 'api-7f9c',
  runtime: 'runc',
  image: 'registry.local/api:1',
  labels: {},
  cgroupId: 4242,
  cgroupPath: '/vgt/c0ffee',
  startedAt: new Date(T0).toISOString(),
};

type Series = Partial<Record<MetricName, (i: number) => number>>;

/** Feeds `points` sweeps of the series for `target`; returns every match. */
function run(target: string, series: Series, points: number): RuleMatch[] {
  const got: RuleMatch[] = [];
  const d = new Detector({ rules, onMatch: (m) => got.push(m), now: () => T0 });
  for (let i = 0; i < points; i++) {
    const samples: Sample[] = Object.entries(series).map(([metric, f]) => ({ target, metric: metric as MetricName, time: T0 + i * STEP, value: f!(i) }));
    d.evaluateMetrics(samples, (id) => (id === container.id ? container : undefined));
  }
  return got;
}

const cases: Array<{ name: string; target: string; series: Series; points: number; fires: string[]; resolves?: string[] }> = [
  {
    name: 'pids above 90% of pids.max for 10 s',
    target: container.id,
    series: { pids_current: () => 95, pids_max: () => 100 },
    points: 4,
    fires: ['Container near its process limit'],
  },
  {
    name: 'pids at pids.max',
    target: container.id,
    series: { pids_current: () => 100, pids_max: () => 100 },
    points: 1,
    fires: ['Container near its process limit', 'Container at its process limit'].slice(1),
  },
  {
    name: 'an OOM kill',
    target: container.id,
    series: { memory_oom_kill_events_total: (i) => (i < 2 ? 0 : 1) },
    points: 3,
    fires: ['OOM kill in container'],
  },
  {
    name: 'events dropped faster than 100/s on the host: sensor blinding',
    target: 'host',
    series: { sensor_events_dropped_total: (i) => i * 5000 },
    points: 2,
    fires: ['Sensor blinding'],
  },
  {
    name: 'a few dropped events are not blinding',
    target: 'host',
    series: { sensor_events_dropped_total: (i) => i * 10 },
    points: 4,
    fires: [],
  },
  {
    // The host's figures take in every container's: a container's OOM loop or I/O flood is that
    // container's alert, not the host's too.
    name: "the host's system-wide OOM kills, I/O pressure and traffic raise no container rule",
    target: 'host',
    series: {
      memory_oom_kill_events_total: (i) => i * 3,
      blkio_write_bytes_total: (i) => i * 5_000_000_000,
      psi_io_some_avg10: () => 40,
      net_tx_packets_total: (i) => i * 2_000_000,
      pids_current: () => 100,
      pids_max: () => 100,
    },
    points: 8,
    fires: [],
  },
  {
    name: 'a quiet container under its limits',
    target: container.id,
    series: {
      pids_current: () => 10,
      pids_max: () => 100,
      memory_working_set_bytes: () => 10 << 20,
      memory_limit_bytes: () => 256 << 20,
      memory_oom_kill_events_total: () => 0,
    },
    points: 20,
    fires: [],
  },
];

for (const c of cases) {
  test(`metric rules: ${c.name}`, () => {
    const got = run(c.target, c.series, c.points);
    const fired = got.filter((m) => m.active !== false).map((m) => m.rule.name);
    for (const name of c.fires) {
      assert.ok(fired.includes(name), `${name} fired (got: ${fired.join(', ') || 'none'})`);
      const m = got.find((x) => x.rule.name === name)!;
      assert.equal(m.metric?.target, c.target);
      assert.equal(m.container.id, c.target === 'host' ? 'host' : container.id);
      if (c.target !== 'host') assert.equal(m.container.name, container.name);
    }
    if (c.fires.length === 0) {
      const serious = got.filter((m) => ['emergency', 'alert', 'critical', 'error', 'warning'].includes(m.rule.severity));
      assert.deepEqual(
        serious.map((m) => m.rule.name),
        [],
        'nothing at warning or above',
      );
    }
  });
}

test('metric rules: pids near the limit resolves itself when the count falls back', () => {
  const got = run(container.id, { pids_current: (i) => (i < 4 ? 95 : 20), pids_max: () => 100 }, 6);
  const near = got.filter((m) => m.rule.name === 'Container near its process limit');
  assert.deepEqual(
    near.map((m) => m.active),
    [true, false],
  );
});
