// Small statistics the forecasters share: least squares, robust scale, the normal quantile, seasonality
// by autocorrelation, and the backtest error measures (MASE against the naive forecast, interval coverage).

export interface LinearFit {
  /** value = intercept + slope * x, x in steps from the first point of the window. */
  intercept: number;
  slope: number;
  /** Residual standard deviation, and the standard error of the slope. */
  sigma: number;
  slopeSe: number;
  n: number;
  xMean: number;
  sxx: number;
}

/** Ordinary least squares of values against 0..n-1. */
export function linearFit(values: readonly number[]): LinearFit {
  const n = values.length;
  if (n === 0) return { intercept: 0, slope: 0, sigma: 0, slopeSe: Infinity, n, xMean: 0, sxx: 0 };
  const xMean = (n - 1) / 2;
  let yMean = 0;
  for (const v of values) yMean += v;
  yMean /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - xMean;
    sxy += dx * (values[i]! - yMean);
    sxx += dx * dx;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = yMean - slope * xMean;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = values[i]! - (intercept + slope * i);
    sse += r * r;
  }
  const sigma = n > 2 ? Math.sqrt(sse / (n - 2)) : 0;
  const slopeSe = sxx > 0 && n > 2 ? sigma / Math.sqrt(sxx) : Infinity;
  return { intercept, slope, sigma, slopeSe, n, xMean, sxx };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Robust standard deviation: 1.4826 x the median absolute deviation. */
export function robustSd(xs: readonly number[]): number {
  const m = median(xs);
  return 1.4826 * median(xs.map((x) => Math.abs(x - m)));
}

/**
 * The dominant period (in steps) of a series, or 0. The autocorrelation of the detrended series first
 * has to fall below zero (a smooth or trending series correlates with itself at short lags); the
 * period is then the shortest lag, up to n/3 (three periods observed), whose correlation peaks above
 * `threshold` (and above what noise gives on n points) within 80% of the highest such peak.
 */
export function detectPeriod(values: readonly number[], minLag = 4, threshold = 0.3): number {
  const n = values.length;
  const maxLag = Math.floor(n / 3);
  if (maxLag < minLag + 1) return 0;
  const f = linearFit(values);
  const d = values.map((v, i) => v - (f.intercept + f.slope * i));
  let c0 = 0;
  for (const x of d) c0 += x * x;
  if (c0 <= 0) return 0;
  const r: number[] = [];
  for (let lag = 0; lag <= maxLag + 1; lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += d[i]! * d[i - lag]!;
    r.push(s / c0);
  }
  let lag0 = 1;
  while (lag0 <= maxLag && r[lag0]! >= 0) lag0++;
  const th = Math.max(threshold, 3 / Math.sqrt(n));
  const peaks: Array<[number, number]> = [];
  for (let lag = Math.max(minLag, lag0); lag <= maxLag; lag++) {
    const v = r[lag]!;
    if (v > th && v >= r[lag - 1]! && v >= r[lag + 1]!) peaks.push([lag, v]);
  }
  if (peaks.length === 0) return 0;
  const top = Math.max(...peaks.map((p) => p[1]));
  return peaks.find((p) => p[1] >= 0.8 * top)![0];
}

/** Mean absolute one-step change of the training data: the in-sample error of the naive forecast. */
export function naiveScale(train: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < train.length; i++) s += Math.abs(train[i]! - train[i - 1]!);
  return train.length > 1 ? s / (train.length - 1) : 0;
}

/**
 * Mean absolute scaled error of `predicted` against `actual` (Hyndman and Koehler): 1 is as good as the
 * naive forecast's in-sample one-step error, below 1 better. A flat training series scales by a tiny
 * epsilon so that a perfect forecast scores 0 and any error scores large.
 */
export function mase(actual: readonly number[], predicted: readonly number[], train: readonly number[]): number {
  const scale = Math.max(naiveScale(train), 1e-9 * (Math.abs(train[train.length - 1] ?? 0) + 1));
  let s = 0;
  const n = Math.min(actual.length, predicted.length);
  for (let i = 0; i < n; i++) s += Math.abs(actual[i]! - predicted[i]!);
  return n > 0 ? s / n / scale : NaN;
}

/** Share of actual values inside [lower, upper]. */
export function coverage(actual: readonly number[], lower: readonly number[], upper: readonly number[]): number {
  const n = Math.min(actual.length, lower.length, upper.length);
  let inside = 0;
  for (let i = 0; i < n; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) inside++;
  return n > 0 ? inside / n : NaN;
}

/** A seeded PRNG (mulberry32): the tests and the bench generate the same series on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform source (Box-Muller). */
export function gaussian(u: () => number): () => number {
  return () => {
    const a = Math.max(u(), 1e-12);
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}
