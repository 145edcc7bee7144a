// One series in, one forecast out: model choice, fits, time to exhaustion and anomaly checks. Runs in
// the forecast worker (and directly in tests and the bench); every augurs call is synchronous WASM.
//
// Model choice (the baseline is what the others must beat):
//   linear   least squares over the recent window (last 120 points): always a candidate, and the
//            answer when the series is short (< 24 points) or the budget is spent
//   ets      AutoETS (no season) when the series has 24 points or more
//   mstl     MSTL + AutoETS when a period is detected and at least two periods are observed
//   prophet  Prophet when a period is detected, 100 points or more and four periods observed (Prophet
//            is for long seasonal series; on short or non-seasonal ones its piecewise trend overfits)
// Among the candidates that the budget allows, the one with the lowest MASE on a backtest of the
// recent tail wins; ties and failures go to the baseline. A model chosen earlier is refitted as is.
import { changepoints, etsForecast, mstlForecast, prophetForecast, type ModelOutput } from './augurs.js';
import { exhaustion } from './exhaustion.js';
import { clippedFit, currentTrend, detectPeriod, linearFit, mase, median, normalQuantile, robustSd } from './stats.js';
import type { AnomalyFinding, SeriesInput, SeriesResult } from './series-fit.js';
import type { Forecast, ForecastModel, ForecastPoint } from '../core/forecast.js';

export const MIN_POINTS = 12;
export const LINEAR_WINDOW = 120;
/** Points given to the augurs models at most (the cost of a fit grows with it). */
export const MAX_FIT_POINTS = 600;
/** Forecast steps at most; longer horizons are forecast on a coarser step. */
export const MAX_HORIZON_STEPS = 360;
export const ALL_MODELS: readonly ForecastModel[] = ['linear', 'ets', 'mstl', 'prophet'];

/** Cost of one fit, ms per input point, measured as fits run (an exponential average per model). */
const costPerPoint: Record<ForecastModel, number> = { linear: 0.0005, ets: 0.08, mstl: 0.12, prophet: 0.6 };

export function estimatedCostMs(model: ForecastModel, points: number): number {
  return costPerPoint[model] * points;
}

function noteCost(model: ForecastModel, points: number, ms: number): void {
  if (points < 20) return;
  costPerPoint[model] = 0.8 * costPerPoint[model] + 0.2 * (ms / points);
}

/**
 * Linear trend over the last `window` values, forecast `horizon` steps of `every` input steps each,
 * with the OLS prediction interval widened by the random-walk spread of the recent steps (a series
 * whose residuals wander would otherwise get intervals far too narrow a long way out).
 */
export function linearForecast(values: readonly number[], horizon: number, level: number, every = 1, window = LINEAR_WINDOW): ModelOutput {
  const w = values.slice(-window);
  const f = linearFit(w);
  const z = normalQuantile(0.5 + level / 2);
  const d: number[] = [];
  for (let i = 1; i < w.length; i++) d.push(w[i]! - w[i - 1]! - f.slope);
  const walk = d.length > 2 ? robustSd(d) : 0;
  const point: number[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const x = f.n - 1 + h * every;
    const ols = f.sigma * Math.sqrt(1 + 1 / Math.max(f.n, 1) + (f.sxx > 0 ? (x - f.xMean) ** 2 / f.sxx : 0));
    const rw = walk * Math.sqrt(h * every) * 0.5;
    const se = Math.sqrt(ols * ols + rw * rw);
    const p = f.intercept + f.slope * x;
    point.push(p);
    lower.push(p - z * se);
    upper.push(p + z * se);
  }
  return { point, lower, upper };
}

function fitModel(
  model: ForecastModel,
  times: readonly number[],
  values: readonly number[],
  period: number,
  stepMs: number,
  horizon: number,
  level: number,
  every: number,
): ModelOutput {
  // The augurs models forecast on the input's own step: fit on a thinned series when `every` > 1.
  const thin = <T>(xs: readonly T[]): T[] => (every > 1 ? xs.filter((_, i) => (xs.length - 1 - i) % every === 0) : [...xs]);
  switch (model) {
    case 'linear':
      return linearForecast(values, horizon, level, every);
    case 'ets':
      return etsForecast(thin(values), horizon, level);
    case 'mstl':
      return mstlForecast(thin(values), [Math.max(2, Math.round(period / every))], horizon, level);
    case 'prophet':
      return prophetForecast(thin(times), thin(values), [Math.max(2, Math.round(period / every))], stepMs * every, horizon, level);
  }
}

function valid(o: ModelOutput, horizon: number): boolean {
  return o.point.length === horizon && o.point.every(Number.isFinite) && o.lower.every(Number.isFinite) && o.upper.every(Number.isFinite);
}

/** The candidate models for a series of n points with period `period` (0: none). */
export function candidates(n: number, period: number, allowed: readonly ForecastModel[] = ALL_MODELS): ForecastModel[] {
  const out: ForecastModel[] = ['linear'];
  if (n >= 24) out.push('ets');
  if (period > 0 && n >= 2 * period + 4) out.push('mstl');
  if (period > 0 && n >= 100 && n >= 4 * period) out.push('prophet');
  return out.filter((m) => m === 'linear' || allowed.includes(m));
}

/** The regular step of a series: the median gap between its points. */
export function stepOf(times: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = Math.max(1, times.length - 60); i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
  return Math.max(1, median(gaps) || 1);
}

/**
 * The augurs models forecastSeries may fit on this input: the candidates for its length and period
 * (or the model it asks for), so the worker compiles their WASM modules (and Prophet's optimiser)
 * before the fit's clock starts. The changepoint detector is compiled on its first use (an anomaly).
 */
export function modelsFor(input: SeriesInput): Exclude<ForecastModel, 'linear'>[] {
  const allowed = input.models ?? ALL_MODELS;
  const n0 = Math.min(input.times.length, input.values.length);
  const n = Math.min(n0, MAX_FIT_POINTS);
  const out = new Set(n >= MIN_POINTS ? candidates(n, detectPeriod(input.values.slice(n0 - n, n0)), allowed) : []);
  if (input.model && allowed.includes(input.model)) out.add(input.model);
  out.delete('linear');
  return [...out] as Exclude<ForecastModel, 'linear'>[];
}

/** Whether forecastSeries may fit Prophet on this input (the worker loads Prophet's optimiser first). */
export function mayUseProphet(input: SeriesInput): boolean {
  return modelsFor(input).includes('prophet');
}

/** Fits, chooses and forecasts one series. Never throws for a model's failure (the baseline stands in). */
export function forecastSeries(input: SeriesInput, now = Date.now()): SeriesResult {
  const started = performance.now();
  const n0 = Math.min(input.times.length, input.values.length);
  const times = input.times.slice(n0 - Math.min(n0, MAX_FIT_POINTS), n0);
  const values = input.values.slice(n0 - Math.min(n0, MAX_FIT_POINTS), n0);
  const n = values.length;
  const result: SeriesResult = { slopePerSec: 0, slopeT: 0, halvesT: [0, 0], trendAgeMs: 0, trendT: 0, period: 0, anomalies: [], fitMs: 0, skipped: [] };
  if (n < MIN_POINTS) {
    result.reason = `${n} points, ${MIN_POINTS} needed`;
    return result;
  }
  const stepMs = stepOf(times);
  const base = linearFit(values.slice(-LINEAR_WINDOW));
  result.slopePerSec = (base.slope / stepMs) * 1000;
  result.slopeT = base.slope === 0 ? 0 : base.slopeSe > 0 ? base.slope / base.slopeSe : Math.sign(base.slope) * Infinity;
  const win = values.slice(-LINEAR_WINDOW);
  const half = Math.floor(win.length / 2);
  const tOf = (xs: readonly number[], fit = linearFit): number => {
    const h = fit(xs);
    return h.slope === 0 ? 0 : h.slopeSe > 0 ? h.slope / h.slopeSe : Math.sign(h.slope) * 1e9;
  };
  result.halvesT = [tOf(win.slice(0, half)), tOf(win.slice(half))];
  const trend = currentTrend(values);
  result.trendAgeMs = times[n - 1]! - times[trend.riseStart]!;
  // The current segment's slope as currentTrend judged it: peaks clipped (a short segment may start
  // with a transient peak).
  result.trendT = tOf(values.slice(trend.segmentStart), clippedFit);
  const period = detectPeriod(values);
  result.period = period;

  const steps = Math.max(1, Math.ceil(input.horizonMs / stepMs));
  const every = Math.max(1, Math.ceil(steps / MAX_HORIZON_STEPS));
  const horizon = Math.ceil(steps / every);
  const deadline = started + input.budgetMs;
  const left = (): number => deadline - performance.now();
  const allowed = input.models ?? ALL_MODELS;

  let chosen: ForecastModel = 'linear';
  const cands = candidates(n, period, allowed);
  if (input.model && cands.includes(input.model)) {
    chosen = input.model;
  } else if (cands.length > 1) {
    // Backtest on the recent tail: fit on all but the last hb points, score the forecast of those.
    const hb = Math.min(horizon * every, Math.max(4, Math.floor(n / 5)), 60);
    const train = values.slice(0, n - hb);
    const trainT = times.slice(0, n - hb);
    const actual = values.slice(n - hb);
    const scores: Partial<Record<ForecastModel, number>> = {};
    for (const m of cands) {
      // Two fits (backtest and final) must fit in what is left of the budget.
      if (m !== 'linear' && estimatedCostMs(m, train.length) + estimatedCostMs(m, n) > left()) {
        result.skipped.push(m);
        continue;
      }
      try {
        const t0 = performance.now();
        const o = fitModel(m, trainT, train, period, stepMs, hb, input.level, 1);
        noteCost(m, train.length, performance.now() - t0);
        if (valid(o, hb)) scores[m] = mase(actual, o.point, train);
      } catch {
        // A model that cannot fit this series is not chosen.
      }
    }
    result.backtest = scores;
    let best = scores.linear ?? Infinity;
    for (const m of cands) {
      const s = scores[m];
      if (m !== 'linear' && s !== undefined && s < best) {
        best = s;
        chosen = m;
      }
    }
  }

  let out: ModelOutput | undefined;
  if (chosen !== 'linear' && estimatedCostMs(chosen, n) <= Math.max(left(), 0) + (input.model ? input.budgetMs : 0)) {
    try {
      const t0 = performance.now();
      out = fitModel(chosen, times, values, period, stepMs, horizon, input.level, every);
      noteCost(chosen, n, performance.now() - t0);
      if (!valid(out, horizon)) out = undefined;
    } catch {
      out = undefined;
    }
  } else if (chosen !== 'linear') {
    result.skipped.push(chosen);
  }
  if (!out) {
    chosen = 'linear';
    out = linearForecast(values, horizon, input.level, every);
  }

  const last = { time: times[n - 1]!, value: values[n - 1]! };
  const points: ForecastPoint[] = [];
  for (let i = 0; i < horizon; i++) {
    const p = out.point[i]!;
    // Resource figures are never negative; an interval is never inverted.
    const lo = Math.max(0, Math.min(out.lower[i]!, p));
    const hi = Math.max(out.upper[i]!, p);
    points.push({ time: last.time + (i + 1) * every * stepMs, value: Math.max(0, p), lower: lo, upper: hi });
  }
  const forecast: Forecast = {
    target: input.target,
    metric: input.metric,
    model: chosen,
    computedAt: now,
    lastObserved: last.time,
    level: input.level,
    points,
  };
  const bt = result.backtest?.[chosen];
  if (bt !== undefined) forecast.mase = bt;
  if (input.limit) {
    // A limit that holds at every instant is reached by the peaks before the level (exhaustion.ts):
    // the second highest ratio of a recent sample to the baseline's line (where the line is above
    // zero). Transient peaks are brief and the samples catch few of them, so a high quantile would
    // miss them; a peak seen twice in the window is taken as what the series does, one seen once
    // may be a glitch.
    let peak = 1;
    if (input.limit.instant) {
      const ratios: number[] = [];
      for (let i = 0; i < win.length; i++) {
        const fit = base.intercept + base.slope * i;
        if (fit > 0) ratios.push(win[i]! / fit);
      }
      if (ratios.length >= MIN_POINTS) peak = Math.max(1, ratios.sort((a, b) => b - a)[1]!);
    }
    forecast.exhaustion = exhaustion(last, points, input.limit.metric, input.limit.value, peak);
    const b = chosen === 'linear' ? out : linearForecast(values, horizon, input.level, every);
    const bp = b.point.map((v, i) => ({ time: last.time + (i + 1) * every * stepMs, value: v, lower: v, upper: v }));
    const bat = exhaustion(last, bp, input.limit.metric, input.limit.value, peak).at;
    if (bat !== undefined) result.baselineAt = bat;
  }
  result.forecast = forecast;
  if (input.anomalies) result.anomalies = findAnomalies(times, values);
  result.fitMs = performance.now() - started;
  return result;
}

/** Points after the change that a level shift needs before it is reported, and the history it is judged on. */
export const SHIFT_POINTS = 4;
const ANOMALY_HISTORY = 40;
const EXCERPT = 20;

/**
 * Anomalies at the end of a series. The last SHIFT_POINTS points are compared with the trend of the
 * ANOMALY_HISTORY points before them (robust noise from their detrended residuals):
 *   level shift  every one of the last points beyond 6 noise widths on the same side, and augurs'
 *                changepoint detector (normal-gamma, on the standardised tail) places a change there
 *   outlier      the third-last point beyond 8 noise widths, the others within 3 (the series came
 *                back: reported two points late, so that the start of a level shift is not one)
 * Steps that are large in absolute terms only (under 5% of the level) are not reported.
 */
export function findAnomalies(times: readonly number[], values: readonly number[]): AnomalyFinding[] {
  const n = values.length;
  if (n < ANOMALY_HISTORY + SHIFT_POINTS) return [];
  const hist = values.slice(n - SHIFT_POINTS - ANOMALY_HISTORY, n - SHIFT_POINTS);
  const f = linearFit(hist);
  const resid = hist.map((v, i) => v - (f.intercept + f.slope * i));
  const level = median(hist);
  const noise = Math.max(robustSd(resid), 1e-9 * Math.abs(level), 1e-12);
  const minStep = 0.05 * Math.abs(level);
  const expected = (k: number): number => f.intercept + f.slope * (ANOMALY_HISTORY + k);
  const z: number[] = [];
  for (let k = 0; k < SHIFT_POINTS; k++) z.push((values[n - SHIFT_POINTS + k]! - expected(k)) / noise);
  const excerpt = values.slice(-EXCERPT);
  const out: AnomalyFinding[] = [];
  const sameSide = z.every((x) => x > 6) || z.every((x) => x < -6);
  const shiftSize = Math.abs(median(values.slice(-SHIFT_POINTS)) - expected(0));
  if (sameSide && shiftSize >= minStep) {
    const tail = values.slice(n - SHIFT_POINTS - ANOMALY_HISTORY);
    const scaled = tail.map((v) => (v - level) / noise / 10);
    let cps: number[] = [];
    try {
      cps = changepoints(scaled);
    } catch {
      cps = [];
    }
    const first = tail.length - SHIFT_POINTS;
    const cp = cps.filter((i) => i >= first - 1 && i <= first + 1).pop();
    if (cp !== undefined) {
      out.push({
        kind: 'level_shift',
        time: times[n - SHIFT_POINTS]!,
        before: expected(0),
        after: median(values.slice(-SHIFT_POINTS)),
        score: Math.abs(median(z)),
        excerpt,
      });
    }
    return out;
  }
  // An outlier is confirmed once the series is back: the spike is third from last.
  const k = SHIFT_POINTS - 3;
  const zl = z[k]!;
  const dev = Math.abs(values[n - SHIFT_POINTS + k]! - expected(k));
  if (Math.abs(zl) > 8 && dev >= minStep && z.every((x, i) => i === k || Math.abs(x) < 3)) {
    out.push({ kind: 'outlier', time: times[n - SHIFT_POINTS + k]!, before: expected(k), after: values[n - SHIFT_POINTS + k]!, score: Math.abs(zl), excerpt });
  }
  return out;
}
