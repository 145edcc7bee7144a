// ForecastEngine on generated series (fixed seeds) with an in-memory series source and store: early
// warnings after consecutive refreshes and their resolution, none on flat noise, priority and the round
// budget, forecasts stored and served; the worker pool: crash and hang restart the worker and lose no
// alert, a request failing twice is reported.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import type { RuleMatch } from '../detect/rule-match.js';
import type { QueryResult, SeriesId } from '../metrics/series.js';
import type { MetricName, Sample } from '../core/metric-names.js';
import { ForecastEngine, WARNING_POINTS, type RoundStats, type SeriesSource } from './engine.js';
import { ForecastWorkerError } from './errors.js';
import { generate, ramp } from './generate.js';
import { ForecastWorker, type WorkerRequest } from './pool.js';
import type { SeriesInput, SeriesResult } from './series-fit.js';

const MiB = 1 << 20;
const STEP = 5000;

class MemSource implements SeriesSource {
  readonly data = new Map<string, Array<{ time: number; value: number }>>();
  add(target: string, metric: MetricName, time: number, value: number): void {
    const k = `${target}\u0000${metric}`;
    let a = this.data.get(k);
    if (!a) this.data.set(k, (a = []));
    a.push({ time, value });
  }
  async query(target: string, metric: string, from: number, to: number): Promise<QueryResult> {
    const a = this.data.get(`${target}\u0000${metric}`) ?? [];
    return { resolution: 'raw', step: 0, points: a.filter((p) => p.time >= from && p.time <= to) };
  }
  async list(): Promise<SeriesId[]> {
    return [...this.data.keys()].map((k) => {
      const [target, metric] = k.split('\u0000') as [string, string];
      return { target, metric };
    });
  }
}

class MemKeyspace {
  readonly m = new Map<string, Buffer>();
  async putRecord(k: Uint8Array, v: Uint8Array): Promise<void> {
    this.m.set(Buffer.from(k).toString(), Buffer.from(v));
  }
  async getRecord(k: Uint8Array): Promise<Buffer | undefined> {
    return this.m.get(Buffer.from(k).toString());
  }
}

/** An engine on a fake clock; samples are fed with observe(). */
function rig(opts: { worker?: ForecastWorker; roundBudgetMs?: number; consecutive?: number; onRound?: (s: RoundStats) => void } = {}) {
  let now = 1_700_000_000_000;
  const matches: RuleMatch[] = [];
  const ks = new MemKeyspace();
  const source = new MemSource();
  const engine = new ForecastEngine({
    series: source,
    store: { keyspace: () => ks },
    onMatch: (m) => matches.push(m),
    intervalMs: 10_000,
    hostLimits: {},
    now: () => now,
    ...(opts.worker ? { worker: opts.worker } : {}),
    ...(opts.roundBudgetMs ? { roundBudgetMs: opts.roundBudgetMs } : {}),
    ...(opts.consecutive ? { consecutive: opts.consecutive } : {}),
    ...(opts.onRound ? { onRound: opts.onRound } : {}),
  });
  return {
    engine,
    matches,
    ks,
    source,
    setNow: (t: number) => {
      now = t;
    },
  };
}

const engines: ForecastEngine[] = [];
after(async () => {
  for (const e of engines) await e.stop();
});

describe('early warnings', () => {
  test('a memory ramp toward its limit: warned after two refreshes that cross, severity by lead, resolved when it flattens', async () => {
    const r = rig();
    engines.push(r.engine);
    const limit = 512 * MiB;
    const g = ramp(7, 40, 120, limit, STEP);
    const warnings: RuleMatch[] = [];
    let firstWarnAt = -1;
    for (let i = 0; i < g.crossIndex; i++) {
      const t = g.times[i]!;
      r.engine.observe([
        { target: 'c1', metric: 'memory_working_set_bytes', time: t, value: g.values[i]! },
        { target: 'c1', metric: 'memory_limit_bytes', time: t, value: limit },
      ]);
      r.setNow(t);
      if (i % 2 === 1) await r.engine.refresh();
      for (const m of r.matches.splice(0)) {
        if (m.rule.name === 'Memory exhaustion forecast' && m.active) {
          warnings.push(m);
          if (firstWarnAt < 0) firstWarnAt = i;
        }
      }
    }
    assert.ok(firstWarnAt > 40, `warned at ${firstWarnAt}, before the ramp began`);
    const leadS = ((g.crossIndex - firstWarnAt) * STEP) / 1000;
    assert.ok(leadS >= 30, `lead ${leadS} s`);
    const w = warnings[0]!;
    assert.equal(w.rule.kind, 'metric');
    assert.deepEqual(w.rule.tags, ['T1499', 'forecast', 'dos']);
    assert.match(w.message, /^memory of container c1 will reach its limit in about .+ \(95% interval .+ to .+\)/);
    assert.equal(w.metric!.target, 'c1');
    assert.equal(w.metric!.values['memory_limit_bytes'], limit);
    assert.ok(w.metric!.values['forecast_at_ms']! > 0);
    // The warning carries the forecast that justified it: its crossing ahead, its points up to the
    // first at or past the latest crossing (all when the lower bound never crosses; bounded), each
    // inside its interval.
    for (const m of warnings) {
      const f = m.forecast;
      assert.ok(f, 'a warning without its forecast');
      assert.equal(f.target, 'c1');
      assert.equal(f.metric, 'memory_working_set_bytes');
      assert.ok(['linear', 'ets', 'mstl', 'prophet'].includes(f.model));
      assert.equal(f.exhaustion?.limit, limit);
      assert.equal(f.exhaustion.at, m.metric!.values['forecast_at_ms']);
      assert.ok(f.exhaustion.at! >= m.time, 'crossing ahead of the warning');
      assert.ok(f.points.length > 0 && f.points.length <= WARNING_POINTS, `${f.points.length} points`);
      const end = f.exhaustion.latest ?? Infinity;
      assert.ok(f.points.at(-1)!.time >= Math.min(end, f.exhaustion.at!), 'points reach the crossing');
      assert.ok(f.points.length < 2 || f.points.at(-2)!.time < end, 'no points beyond the latest crossing');
      for (const p of f.points) assert.ok(p.lower <= p.value && p.value <= p.upper, JSON.stringify(p));
    }
    // Severity follows the lead: the last warnings (under 2 min to go) are critical.
    assert.equal(warnings[warnings.length - 1]!.rule.severity, 'critical');
    // The stored forecast is served by get() and carries the exhaustion.
    const f = await r.engine.get('c1', 'memory_working_set_bytes');
    assert.ok(f?.exhaustion?.at !== undefined && f.points.length > 0 && f.points.length <= 90);
    assert.ok(r.ks.m.size >= 1);
    // Flat from here: two refreshes that no longer cross resolve it.
    const flat = g.values[g.crossIndex - 40]!;
    let resolved: RuleMatch | undefined;
    for (let i = g.crossIndex; i < g.crossIndex + 200 && !resolved; i++) {
      const t = g.times[0]! + i * STEP;
      r.engine.observe([{ target: 'c1', metric: 'memory_working_set_bytes', time: t, value: flat + (i % 3) * 1000 }]);
      r.setNow(t);
      if (i % 2 === 1) await r.engine.refresh();
      resolved = r.matches.find((m) => m.active === false);
    }
    assert.ok(resolved, 'resolved');
    assert.equal(resolved.rule.name, 'Memory exhaustion forecast');
    assert.equal(r.engine.stats().warningsOpen, 0);
  });

  const peakOver = (shape: Parameters<typeof generate>[0], seed: number, share: number) => {
    const v = generate(shape, 400, seed).values;
    return { series: (i: number) => v[i]!, limit: Math.max(...v) / share };
  };
  const quiet: Array<{ name: string; series: (i: number) => number; limit?: number }> = [
    {
      name: 'flat noise at 90% of the limit',
      series: (i) => generate('noise', 400, 21).values[i]! * 0 + 460 * MiB + generate('noise', 400, 21).values[i]! / 50,
    },
    { name: 'sawtooth (GC) under the limit', series: (i) => generate('sawtooth_gc', 400, 22).values[i]! },
    { name: 'bursts under the limit', series: (i) => generate('bursts', 400, 23).values[i]! },
    // Series seen from the middle of a rise that turns: young trends are not trusted far ahead.
    { name: 'a daily cycle seen from mid-rise, peaking at 90% of the limit', ...peakOver('daily_seasonal', 3002, 0.9) },
    { name: 'a GC sawtooth seen from its first tooth, peaking at 90% of the limit', ...peakOver('sawtooth_gc', 3002, 0.9) },
  ];
  for (const q of quiet) {
    test(`${q.name}: no warning`, async () => {
      const r = rig();
      engines.push(r.engine);
      const vals = Array.from({ length: 400 }, (_, i) => q.series(i));
      const limit = q.limit ?? 512 * MiB;
      assert.ok(Math.max(...vals) < limit);
      for (let i = 0; i < 400; i++) {
        const t = 1_700_000_000_000 + i * STEP;
        r.engine.observe([
          { target: 'c2', metric: 'memory_working_set_bytes', time: t, value: vals[i]! },
          { target: 'c2', metric: 'memory_limit_bytes', time: t, value: limit },
        ]);
        r.setNow(t);
        if (i % 2 === 1) await r.engine.refresh();
      }
      assert.deepEqual(
        r.matches.filter((m) => m.rule.kind === 'metric').map((m) => m.message),
        [],
      );
    });
  }

  test('a level shift raises a notice with the series excerpt', async () => {
    const r = rig();
    engines.push(r.engine);
    const g = generate('noise', 80, 31);
    for (let i = 0; i < 80; i++) {
      r.engine.observe([{ target: 'c3', metric: 'memory_working_set_bytes', time: g.times[i]!, value: g.values[i]! + (i >= 70 ? 40 * MiB : 0) }]);
      r.setNow(g.times[i]!);
      await r.engine.refresh();
    }
    const notices = r.matches.filter((m) => m.rule.name === 'Metric level shift');
    assert.equal(notices.length, 1);
    assert.equal(notices[0]!.rule.severity, 'notice');
    assert.match(notices[0]!.message, /level shift in memory_working_set_bytes of container c3 .* last 20 points: [\d.]+ MiB, /);
  });

  test('the store is read when observe() is not fed (history and limit from the series store)', async () => {
    const r = rig();
    engines.push(r.engine);
    const g = ramp(9, 0, 200, 1000);
    let t = 0;
    for (let i = 0; i < 150; i++) {
      t = g.times[i]!;
      r.source.add('host', 'pids_current', t, g.values[i]!);
      r.source.add('host', 'pids_max', t, 1000);
    }
    for (let k = 0; k < 2; k++) {
      r.setNow(t + k);
      if (k === 1) {
        r.source.add('host', 'pids_current', t + 1, g.values[150]!);
      }
      await r.engine.refresh();
    }
    const f = await r.engine.get('host', 'pids_current');
    assert.ok(f?.exhaustion?.at !== undefined, JSON.stringify(f?.exhaustion));
    const w = r.matches.find((m) => m.rule.name === 'Process count exhaustion forecast');
    assert.ok(w && w.container.id === 'host' && /process count of the host will reach its limit/.test(w.message), w?.message);
  });
});

describe('priority and the round budget', () => {
  test('a round over budget refreshes the series closest to their limits first and defers the rest', async () => {
    const r = rig({ roundBudgetMs: 300 });
    engines.push(r.engine);
    const n = 1000;
    const t0 = 1_700_000_000_000;
    for (let s = 0; s < n; s++) {
      const g = generate('noise', 120, 100 + s);
      const samples: Sample[] = [];
      // Series k sits at k/n of its limit: the last ones are closest.
      for (let i = 0; i < 120; i++)
        samples.push({ target: `c${s}`, metric: 'pids_current', time: t0 + i * STEP, value: ((s + 1) / (n + 1)) * 300 + g.values[i]! / 1e9 });
      samples.push({ target: `c${s}`, metric: 'pids_max', time: t0, value: 300 });
      r.engine.observe(samples);
    }
    r.setNow(t0 + 120 * STEP);
    const t = performance.now();
    const round = await r.engine.refresh();
    const took = performance.now() - t;
    assert.equal(round.due, n);
    assert.ok(round.deferred > 0 && round.refreshed > 0 && round.refreshed + round.deferred === n, JSON.stringify(round));
    assert.ok(took < 300 + 1500, `round took ${took} ms`);
    // The refreshed ones are the closest to the limit.
    for (let s = n - round.refreshed; s < n; s++) assert.ok(await r.engine.get(`c${s}`, 'pids_current'), `c${s} refreshed`);
    assert.equal(await r.engine.get('c0', 'pids_current'), undefined);
  });
});

describe('round end', () => {
  test("onRound gets each round's stats after the round, once per round, concurrent refreshes included", async () => {
    const rounds: RoundStats[] = [];
    const r = rig({ onRound: (s) => rounds.push(s) });
    engines.push(r.engine);
    const t0 = 1_700_000_000_000;
    const g = generate('linear_leak', 40, 3);
    r.engine.observe(g.values.map((v, i) => ({ target: 'c1', metric: 'memory_working_set_bytes', time: t0 + i * STEP, value: v })));
    r.setNow(t0 + 40 * STEP);
    const [a, b] = await Promise.all([r.engine.refresh(), r.engine.refresh()]);
    assert.equal(a, b, 'a refresh during a round joins it');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(rounds, [a]);
    assert.equal(a.refreshed, 1);
    await r.engine.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rounds.length, 2);
  });
});

/** A worker whose first requests fail as told. */
class FaultyWorker extends ForecastWorker {
  plan: Array<WorkerRequest['fault']> = [];
  override run(input: SeriesInput, now?: number): Promise<SeriesResult> {
    const f = this.plan.shift();
    return f ? super.run(input, now, f) : super.run(input, now);
  }
}

describe('worker pool', () => {
  const g = generate('linear_leak', 100, 5);
  const input: SeriesInput = {
    target: 'c',
    metric: 'memory_working_set_bytes',
    times: g.times,
    values: g.values,
    horizonMs: 600_000,
    level: 0.95,
    budgetMs: 100,
  };
  const table: Array<{ fault: WorkerRequest['fault']; counter: 'crashes' | 'timeouts' }> = [
    { fault: 'crash', counter: 'crashes' },
    { fault: 'throw', counter: 'crashes' },
    { fault: 'hang', counter: 'timeouts' },
  ];
  for (const row of table) {
    test(`${row.fault}: the worker is restarted and the request retried once`, async () => {
      const w = new ForecastWorker({ faults: true, graceMs: 500 });
      try {
        const r = await w.run(input, Date.now(), row.fault);
        assert.ok(r.forecast);
        const s = w.stats();
        assert.equal(s[row.counter], 1);
        assert.equal(s.restarts, 1);
        assert.equal(s.retried, 1);
        assert.equal(s.completed, 1);
        // The new worker serves the next request too.
        assert.ok((await w.run(input)).forecast);
      } finally {
        await w.close();
      }
    });
  }
  test('a request failing on the retry too is rejected with VIGIL_FORECAST_WORKER; the next one runs', async () => {
    const w = new ForecastWorker({ faults: true, graceMs: 500 });
    try {
      const first = w.run(input, Date.now(), 'crash', 2);
      await assert.rejects(first, (e: unknown) => e instanceof ForecastWorkerError && e.code === 'VIGIL_FORECAST_WORKER');
      assert.equal(w.stats().failed, 1);
      assert.ok((await w.run(input)).forecast);
    } finally {
      await w.close();
    }
  });
  test('a worker crash during an engine round loses no alert', async () => {
    const worker = new FaultyWorker({ faults: true, graceMs: 500 });
    const r = rig({ worker, consecutive: 2 });
    engines.push(r.engine);
    const limit = 1000;
    const gr = ramp(12, 0, 120, limit);
    // 90 of the ramp's 120 points: the crossing (30 points ahead) is within half the trend's age.
    for (let i = 0; i < 90; i++)
      r.engine.observe([
        { target: 'c9', metric: 'pids_current', time: gr.times[i]!, value: gr.values[i]! },
        { target: 'c9', metric: 'pids_max', time: gr.times[i]!, value: limit },
      ]);
    r.setNow(gr.times[89]!);
    await r.engine.refresh();
    r.engine.observe([{ target: 'c9', metric: 'pids_current', time: gr.times[90]!, value: gr.values[90]! }]);
    r.setNow(gr.times[90]!);
    worker.plan.push('crash');
    await r.engine.refresh();
    const w = r.matches.filter((m) => m.rule.name === 'Process count exhaustion forecast' && m.active);
    assert.equal(w.length, 1, 'the warning of the round in which the worker crashed');
    assert.equal(worker.stats().crashes, 1);
    assert.equal(worker.stats().restarts, 1);
    await worker.close();
  });
});
