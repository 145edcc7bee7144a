// Forecast evaluation (printed; never a test). It runs on series generated from fixed seeds
// (daemon/forecast/generate.ts) and on the series recorded from real runc containers on this machine
// in test/fixtures/series/ (bench/record-series.ts made them; its header says how):
//   1. Backtests: per series shape (generated) and per recorded series, per model, MASE against the
//      naive forecast and 95% interval coverage
//   2. Early warning on ramps toward a limit through the real ForecastEngine on a simulated clock:
//      share warned at least 30 s before the limit, median lead time (generated ramps, and the
//      recorded leak and pids ramp)
//   3. False warnings per hour on series that never reach their limit (generated and recorded)
//   4. The figure comparable to the seed's "threat prediction accuracy" (definition printed)
//   5. Throughput: 1,000 series refreshed on one worker thread
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RuleMatch } from '../daemon/detect/rule-match.js';
import { loadAugurs } from '../daemon/forecast/augurs.js';
import { ForecastEngine, RESOURCES } from '../daemon/forecast/engine.js';
import { generate, ramp, SHAPES } from '../daemon/forecast/generate.js';
import { forecastSeries, MIN_POINTS } from '../daemon/forecast/models.js';
import { coverage, mase, median, naiveScale, rng } from '../daemon/forecast/stats.js';
import type { ForecastModel } from '../daemon/core/forecast.js';
import { METRICS, type MetricName } from '../daemon/core/metric-names.js';

const STEP = 5000;
const MiB = 1 << 20;
const SEEDS = Number(process.env.SEEDS ?? 8);

interface Row {
  mase: number[];
  cov: number[];
}

/**
 * Backtests one series at `origins` forecast origins (the last `holdout` points, then the `holdout`
 * before them, ...): each model forecasts the holdout from the points before it. A model that is not
 * a candidate for the series (no period, too short) has no row. Origins whose training part is flat
 * (the naive forecast is exact, MASE undefined) are skipped and counted.
 */
function backtest(
  name: string,
  metric: MetricName,
  times: number[],
  values: number[],
  holdout: number,
  stepMs: number,
  table: Map<string, Map<string, Row>>,
  origins = 1,
): number {
  const models: Array<ForecastModel | 'auto'> = ['linear', 'ets', 'mstl', 'prophet', 'auto'];
  let flat = 0;
  for (let o = 0; o < origins; o++) {
    const end = values.length - o * holdout;
    if (end - holdout < Math.max(2 * MIN_POINTS, holdout)) break;
    const train = values.slice(0, end - holdout);
    const trainT = times.slice(0, end - holdout);
    const actual = values.slice(end - holdout, end);
    if (naiveScale(train) === 0) {
      flat++;
      continue;
    }
    for (const m of models) {
      const r = forecastSeries({
        target: 'b',
        metric,
        times: trainT,
        values: train,
        horizonMs: holdout * stepMs,
        level: 0.95,
        budgetMs: 60_000,
        ...(m === 'auto' ? {} : { model: m }),
      });
      if (!r.forecast) continue;
      if (m !== 'auto' && r.forecast.model !== m) continue; // not a candidate for this series
      const p = r.forecast.points;
      let row = table.get(name)?.get(m);
      if (!row) {
        if (!table.has(name)) table.set(name, new Map());
        table.get(name)!.set(m, (row = { mase: [], cov: [] }));
      }
      row.mase.push(
        mase(
          actual,
          p.map((x) => x.value),
          train,
        ),
      );
      row.cov.push(
        coverage(
          actual,
          p.map((x) => x.lower),
          p.map((x) => x.upper),
        ),
      );
    }
  }
  return flat;
}

/** A series recorded from a real container (bench/record-series.ts writes them). */
interface Recorded {
  name: string;
  metric: MetricName;
  stepMs: number;
  limit?: { metric: MetricName; value: number };
  reachesLimit: boolean;
  /** When the workload reached its limit (OOM kill, pids.max), unix ms. */
  reachedAt?: number;
  times: number[];
  values: number[];
}

function fixtures(): Recorded[] {
  const dir = join(process.cwd(), 'test/fixtures/series');
  if (!existsSync(dir)) return [];
  const isMetric = (m: unknown): m is MetricName => typeof m === 'string' && m in METRICS;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      const times = d['times'];
      const values = d['values'];
      const limit = d['limit'] as { metric?: unknown; value?: unknown } | undefined;
      const ok =
        isMetric(d['metric']) &&
        typeof d['intervalMs'] === 'number' &&
        typeof d['reachesLimit'] === 'boolean' &&
        Array.isArray(times) &&
        Array.isArray(values) &&
        times.length === values.length &&
        times.every((t, i) => typeof t === 'number' && (i === 0 || t > (times[i - 1] as number))) &&
        values.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
        (limit === undefined || (isMetric(limit.metric) && typeof limit.value === 'number' && limit.value > 0)) &&
        (d['reachedAt'] === undefined || typeof d['reachedAt'] === 'number');
      if (!ok)
        throw new Error(
          `${join(dir, f)}: not a recorded series (metric, intervalMs, reachesLimit, increasing times and finite values of one length, limit {metric, value})`,
        );
      const out: Recorded = {
        name: `real:${f.replace(/\.json$/, '')}`,
        metric: d['metric'] as MetricName,
        stepMs: d['intervalMs'] as number,
        reachesLimit: d['reachesLimit'] as boolean,
        times: times as number[],
        values: values as number[],
      };
      if (limit) out.limit = limit as Recorded['limit'] & object;
      if (typeof d['reachedAt'] === 'number') out.reachedAt = d['reachedAt'];
      return out;
    });
}

interface Simulated {
  id: string;
  metric: MetricName;
  times: number[];
  values: number[];
  /** The limit as sampled (the engine applies its resource's share, CPU 95% of the quota). */
  limit: { metric: MetricName; value: number };
}

/** Runs series through a ForecastEngine on a simulated clock (refresh every 2 samples); returns the matches. */
async function simulate(series: Simulated[]): Promise<RuleMatch[]> {
  let now = 0;
  const matches: RuleMatch[] = [];
  const ks = new Map<string, Buffer>();
  const engine = new ForecastEngine({
    series: { query: async () => ({ resolution: 'raw', step: 0, points: [] }), list: async () => [] },
    store: {
      keyspace: () => ({ putRecord: async (k: Uint8Array, v: Uint8Array) => void ks.set(String(k), Buffer.from(v)), getRecord: async () => undefined }),
    },
    onMatch: (m) => matches.push(m),
    intervalMs: 10_000,
    roundBudgetMs: 600_000,
    hostLimits: {},
    anomalies: false,
    now: () => now,
  });
  const len = Math.max(...series.map((s) => s.times.length));
  for (let i = 0; i < len; i++) {
    for (const s of series) {
      if (i >= s.times.length) continue;
      now = s.times[i]!;
      engine.observe([
        { target: s.id, metric: s.metric, time: s.times[i]!, value: s.values[i]! },
        { target: s.id, metric: s.limit.metric, time: s.times[i]!, value: s.limit.value },
      ]);
    }
    if (i % 2 === 1) await engine.refresh();
  }
  await engine.stop();
  return matches;
}

/** When a recorded series reached its limit: the workload's end (OOM kill, pids.max) or the first sample at the engine's share of it. */
function reachedAt(f: Recorded): number | undefined {
  if (f.reachedAt !== undefined) return f.reachedAt;
  const share = RESOURCES.find((r) => r.metric === f.metric)?.fraction ?? 1;
  const i = f.limit ? f.values.findIndex((v) => v >= f.limit!.value * share) : -1;
  return i >= 0 ? f.times[i] : undefined;
}

async function main(): Promise<void> {
  await loadAugurs();
  const real = fixtures();
  const pts = real.reduce((a, f) => a + f.values.length, 0);
  console.log(
    `forecast bench: ${SEEDS} seeds per shape, 480 points every 5 s, backtest holdout 60 points (5 min); ${real.length} recorded series (${pts} points, test/fixtures/series)\n`,
  );

  // 1. Backtests. A recorded series is one realisation: it is backtested at three origins instead.
  const table = new Map<string, Map<string, Row>>();
  for (const shape of SHAPES)
    for (let s = 1; s <= SEEDS; s++) {
      const g = generate(shape, 480, 1000 + s);
      backtest(shape, 'memory_working_set_bytes', g.times, g.values, 60, STEP, table);
    }
  const flatOnly: string[] = [];
  for (const f of real) {
    const flat = backtest(f.name, f.metric, f.times, f.values, Math.min(60, Math.floor(f.values.length / 4)), f.stepMs, table, 3);
    if (flat > 0 && !table.has(f.name)) flatOnly.push(f.name);
  }
  const fmt = (xs: number[]): string => (xs.length ? median(xs).toFixed(2) : '-');
  console.log('1. backtest: median MASE (vs naive, <1 beats it) / mean 95% coverage, per model ("auto" = chosen by backtest)');
  console.log('   generated: 8 seeds, one origin each; real: one series each, 3 origins, holdout min(60 points, a quarter), 1 s steps');
  console.log(`${'series'.padEnd(40)}${['linear', 'ets', 'mstl', 'prophet', 'auto'].map((m) => m.padStart(16)).join('')}`);
  for (const [name, rows] of table) {
    const cells = ['linear', 'ets', 'mstl', 'prophet', 'auto'].map((m) => {
      const r = rows.get(m);
      return (r ? `${fmt(r.mase)} / ${(r.cov.reduce((a, b) => a + b, 0) / r.cov.length).toFixed(2)}` : 'n/a').padStart(16);
    });
    console.log(`${name.padEnd(40)}${cells.join('')}`);
  }
  if (flatOnly.length) console.log(`   flat in every training window (the naive forecast is exact, no MASE): ${flatOnly.join(', ')}`);

  // 2. Ramps toward a limit: flat 20-120 points, then reaching the limit in 60-360 points (5-30 min).
  const u = rng(77);
  const ramps = Array.from({ length: 40 }, (_, k) => {
    const r = ramp(500 + k, 20 + Math.floor(100 * u()), 60 + Math.floor(300 * u()), 512 * MiB, STEP);
    return {
      id: `ramp${k}`,
      metric: 'memory_working_set_bytes' as const,
      times: r.times.slice(0, r.crossIndex + 1),
      values: r.values.slice(0, r.crossIndex + 1),
      limit: { metric: 'memory_limit_bytes' as const, value: 512 * MiB },
      cross: r.times[r.crossIndex]!,
    };
  });
  const rm = await simulate(ramps);
  const leadOf = (matches: RuleMatch[], id: string, cross: number): number | undefined => {
    const first = matches.find((m) => m.container.id === id && m.active === true);
    return first ? (cross - first.time) / 1000 : undefined;
  };
  const leads: number[] = [];
  let warned30 = 0;
  for (const r of ramps) {
    const lead = leadOf(rm, r.id, r.cross);
    if (lead !== undefined) leads.push(lead);
    if (lead !== undefined && lead >= 30) warned30++;
  }
  console.log(
    `\n2. early warning on ${ramps.length} generated ramps (5 to 30 min to the limit): warned >= 30 s before the limit ${((100 * warned30) / ramps.length).toFixed(0)}% (target >= 90%), median lead ${median(leads).toFixed(0)} s, shortest ${Math.min(...leads).toFixed(0)} s, never warned ${ramps.length - leads.length}`,
  );

  // The recorded series, through one engine of their own (they share a recording clock).
  const withLimit = real.filter((f): f is Recorded & { limit: NonNullable<Recorded['limit']> } => f.limit !== undefined);
  const sim = withLimit.map((f) => ({ id: f.name, metric: f.metric, times: f.times, values: f.values, limit: f.limit }));
  const realMatches = sim.length ? await simulate(sim) : [];
  const realRamps: Array<{ name: string; lead: number | undefined }> = [];
  const realQuiet: Recorded[] = [];
  const excluded: string[] = [];
  for (const f of withLimit) {
    const at = reachedAt(f);
    if (!f.reachesLimit) realQuiet.push(f);
    else if (at !== undefined && at - f.times[0]! >= 2 * MIN_POINTS * f.stepMs) realRamps.push({ name: f.name, lead: leadOf(realMatches, f.name, at) });
    else excluded.push(f.name);
  }
  for (const r of realRamps)
    console.log(
      `   ${r.name}: ${r.lead === undefined ? 'never warned before it reached its limit' : r.lead >= 0 ? `warned ${r.lead.toFixed(0)} s before it reached its limit` : `warned ${(-r.lead).toFixed(0)} s after it reached its limit`}`,
    );
  if (excluded.length) console.log(`   at its limit from the start (nothing to forecast): ${excluded.join(', ')}`);

  // 3. Series that never reach their limit: noise, sawtooth, bursts, seasonal, step, all under 80-95% of it.
  const quietShapes = ['noise', 'sawtooth_gc', 'bursts', 'hourly_seasonal', 'daily_seasonal', 'step'] as const;
  const quiet: Simulated[] = [];
  for (const shape of quietShapes)
    for (let s = 0; s < 6; s++) {
      const g = generate(shape, 720, 3000 + s); // 1 h each
      const peak = Math.max(...g.values);
      quiet.push({
        id: `${shape}${s}`,
        metric: 'memory_working_set_bytes',
        times: g.times,
        values: g.values,
        limit: { metric: 'memory_limit_bytes', value: peak / (0.8 + 0.15 * ((s % 4) / 3)) },
      });
    }
  const qm = await simulate(quiet);
  /** Warnings opened (a warning that resolves and opens again counts twice) and the series warned about. */
  const opened = (matches: RuleMatch[], ids: Set<string>): { n: number; warned: Set<string> } => {
    const open = new Set<string>();
    const warned = new Set<string>();
    let n = 0;
    for (const m of matches) {
      if (!ids.has(m.container.id)) continue;
      if (m.active === true && !open.has(m.container.id)) {
        n++;
        open.add(m.container.id);
        warned.add(m.container.id);
      } else if (m.active === false) open.delete(m.container.id);
    }
    return { n, warned };
  };
  const q = opened(qm, new Set(quiet.map((x) => x.id)));
  const hours = quiet.reduce((a, x) => a + (x.times.length * STEP) / 3_600_000, 0);
  console.log(
    `\n3. false warnings on ${quiet.length} generated series that never reach the limit (${hours.toFixed(0)} series-hours): ${q.n} (${(q.n / hours).toFixed(3)} per hour, target < 0.1)${q.warned.size ? `: ${[...q.warned].join(', ')}` : ''}`,
  );
  const rq = opened(realMatches, new Set(realQuiet.map((f) => f.name)));
  const realHours = realQuiet.reduce((a, f) => a + (f.times[f.times.length - 1]! - f.times[0]! + f.stepMs) / 3_600_000, 0);
  if (realQuiet.length)
    console.log(
      `   on ${realQuiet.length} recorded series that never reach theirs (${realHours.toFixed(2)} series-hours): ${rq.n}${rq.warned.size ? `: ${[...rq.warned].join(', ')}` : ''}`,
    );

  // 4. The comparable figure.
  const correct = warned30 + (quiet.length - q.warned.size);
  console.log(`\n4. accuracy (comparable to the seed's 85% "threat prediction accuracy"): ${((100 * correct) / (ramps.length + quiet.length)).toFixed(1)}%`);
  console.log('   defined as: share of series classified right, where a ramp is right when warned >= 30 s before it reaches its limit and a');
  console.log(`   never-reaching series is right when it is never warned about (${ramps.length} ramps + ${quiet.length} quiet series, generated, fixed seeds)`);
  if (realRamps.length + realQuiet.length) {
    const realCorrect = realRamps.filter((r) => r.lead !== undefined && r.lead >= 30).length + realQuiet.filter((f) => !rq.warned.has(f.name)).length;
    const all = ramps.length + quiet.length + realRamps.length + realQuiet.length;
    console.log(
      `   with the recorded series too (${realRamps.length} reaching + ${realQuiet.length} never reaching): ${((100 * (correct + realCorrect)) / all).toFixed(1)}% (recorded alone ${realCorrect}/${realRamps.length + realQuiet.length})`,
    );
  }

  // 5. Throughput: 1,000 series (3 shapes, 120 to 480 points) through the worker, one round, no round limit.
  const { ForecastWorker } = await import('../daemon/forecast/pool.js');
  const w = new ForecastWorker();
  const t0 = performance.now();
  const byModel: Record<string, number> = {};
  let fit = 0;
  for (let k = 0; k < 1000; k++) {
    const g = generate(SHAPES[k % SHAPES.length]!, 120 + (k % 4) * 120, 9000 + k);
    const r = await w.run({
      target: `c${k}`,
      metric: 'memory_working_set_bytes',
      times: g.times,
      values: g.values,
      horizonMs: 1_800_000,
      level: 0.95,
      budgetMs: 60,
      limit: { metric: 'memory_limit_bytes', value: 1e12 },
      anomalies: true,
    });
    byModel[r.forecast?.model ?? 'none'] = (byModel[r.forecast?.model ?? 'none'] ?? 0) + 1;
    fit += r.fitMs;
  }
  const total = performance.now() - t0;
  await w.close();
  console.log(
    `\n5. 1,000 series (120-480 points, first refresh: backtest model choice, 60 ms budget each) on one worker: ${(total / 1000).toFixed(1)} s (budget 60 s); fits ${(fit / 1000).toFixed(1)} s; models ${JSON.stringify(byModel)}`,
  );
}

await main();
