// Small statistics the forecasters share: least squares, the current trend (segmented least
// squares), robust scale, the normal quantile, seasonality by autocorrelation, and the backtest
// error measures (MASE against the naive forecast, interval coverage).

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

/** Residuals beyond this many robust noise widths from a line are peaks, not the line's noise. */
const CLIP = 3;

/** The least-squares line of the values, and their residuals from it clipped at CLIP robust noise widths. */
function clippedResiduals(values: readonly number[]): { fit: LinearFit; resid: number[]; lim: number } {
  const fit = linearFit(values);
  const resid = values.map((v, i) => v - (fit.intercept + fit.slope * i));
  const lim = CLIP * robustSd(resid);
  return { fit, resid: resid.map((r) => Math.max(-lim, Math.min(lim, r))), lim };
}

/**
 * The least-squares line of the values with their peaks clipped (residuals beyond CLIP robust noise
 * widths): a few transient peaks at one end of a short stretch move neither its slope nor its noise.
 */
export function clippedFit(values: readonly number[]): LinearFit {
  const { fit, resid, lim } = clippedResiduals(values);
  // Most residuals equal (small counts on a line): no noise width to clip at, and clipping at zero
  // would make any slope exact.
  if (!(lim > 0)) return fit;
  return linearFit(resid.map((r, i) => fit.intercept + fit.slope * i + r));
}

/**
 * The breaks of a piecewise-linear fit of a series (binary segmentation), ascending, without 0. A
 * break splits a stretch of m points into two least-squares lines, each of at least `minSegment`
 * points, and is kept when m ln(RSS1/RSS2) exceeds `penalty` ln m: the Bayesian information criterion
 * charges ln m for each of the three parameters a break adds (a second intercept and slope, the break
 * itself), and searching m places for it costs about 2 ln m more (the modified BIC of Zhang and
 * Siegmund). With 5 ln m a series that is one line plus noise shows a break about 1% of the time, and
 * a ramp out of a flat stretch is found about 7 points after it starts (generated series). Both parts
 * are searched again. A level step, a GC drop, the turn of a season, a change of rate and the start
 * of a ramp are all breaks.
 *
 * Peaks are not breaks: before each search the stretch's residuals from its own line are clipped at
 * three robust noise widths (median absolute deviation), so a lone spike cannot pass for a new level,
 * while a real change, which moves most of the residuals, keeps its size.
 */
export function segmentBreaks(values: readonly number[], minSegment = 8, penalty = 5): number[] {
  // Residuals never vanish in the criterion: a floor far below any real noise (quantised counts
  // fitted exactly would otherwise make every split "infinitely" better).
  const floor = 1e-12;
  const breaks: number[] = [];
  const search = (lo: number, hi: number): void => {
    const m = hi - lo;
    if (m < 2 * minSegment) return;
    // The stretch, clipped about its own line and scaled (large byte counts would lose precision in
    // the squares of the prefix sums).
    const { fit: f, resid } = clippedResiduals(values.slice(lo, hi));
    const y = resid.map((r, i) => f.slope * i + r);
    let scale = 0;
    for (const v of y) scale = Math.max(scale, Math.abs(v));
    if (!(scale > 0)) return;
    const S = { x: [0], xx: [0], y: [0], xy: [0], yy: [0] };
    for (let i = 0; i < m; i++) {
      const v = y[i]! / scale;
      S.x.push(S.x[i]! + i);
      S.xx.push(S.xx[i]! + i * i);
      S.y.push(S.y[i]! + v);
      S.xy.push(S.xy[i]! + i * v);
      S.yy.push(S.yy[i]! + v * v);
    }
    /** Residual sum of squares of the least-squares line through points i..j-1 of the stretch. */
    const rss = (i: number, j: number): number => {
      const k = j - i;
      const sx = S.x[j]! - S.x[i]!;
      const sy = S.y[j]! - S.y[i]!;
      const cxx = S.xx[j]! - S.xx[i]! - (sx * sx) / k;
      const cxy = S.xy[j]! - S.xy[i]! - (sx * sy) / k;
      const cyy = S.yy[j]! - S.yy[i]! - (sy * sy) / k;
      return Math.max(0, cxx > 0 ? cyy - (cxy * cxy) / cxx : cyy);
    };
    const one = rss(0, m);
    let best = Infinity;
    let at = -1;
    for (let b = minSegment; b <= m - minSegment; b++) {
      const two = rss(0, b) + rss(b, m);
      if (two < best) {
        best = two;
        at = b;
      }
    }
    const gain = m * Math.log((one + floor * m) / (best + floor * m));
    if (at < 0 || !(gain > penalty * Math.log(m))) return;
    search(lo, lo + at);
    breaks.push(lo + at);
    search(lo + at, hi);
  };
  search(0, values.length);
  return breaks;
}

/** The current trend of a series: where its last segment starts, and where the rise it is part of began. */
export interface Trend {
  /**
   * First index of the segment that gives the series' current rate: the last segment of the
   * piecewise-linear fit, or the rising one before it when the last is an excursion above that rise.
   */
  segmentStart: number;
  /**
   * First index of the run of rising segments that ends with the current one: walking back, a
   * segment belongs to it while it rises (slope t >= 2) and the next one does not start below where
   * it ends (a GC drop, a restart, a fall end the run). A rise that slows or speeds up is one rise;
   * equal to segmentStart when the current segment does not rise.
   *
   * An excursion does not end a rise: a segment that lies above the line of the rising segment before
   * it, and after which the series is back on that line (or is still above it, at the end). A shell or
   * a runtime that copies its data holds twice its memory for a moment; under CPU contention the
   * moment lasts seconds, long enough to be a segment of its own, and its end is no fall.
   */
  riseStart: number;
}

export function currentTrend(values: readonly number[], minSegment = 8, penalty = 5): Trend {
  const bounds = [0, ...segmentBreaks(values, minSegment, penalty), values.length];
  const fits: LinearFit[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) fits.push(clippedFit(values.slice(bounds[k], bounds[k + 1])));
  const rises = (k: number): boolean => {
    const f = fits[k]!;
    return f.slope > 0 && (f.slopeSe === 0 || f.slope / f.slopeSe >= 2);
  };
  /** Segment k's line, continued to index i of the series. */
  const lineAt = (k: number, i: number): number => fits[k]!.intercept + fits[k]!.slope * (i - bounds[k]!);
  /** Segment k starts on or above the line of segment j (j < k) continued, against both noises. */
  const startsOnLine = (k: number, j: number): boolean => fits[k]!.intercept >= lineAt(j, bounds[k]!) - 3 * Math.max(fits[j]!.sigma, fits[k]!.sigma);
  /** Every point of segment k lies on or above the line of segment j (j < k) continued. */
  const above = (k: number, j: number): boolean => {
    for (let i = bounds[k]!; i < bounds[k + 1]!; i++) if (values[i]! < lineAt(j, i) - 3 * fits[j]!.sigma) return false;
    return true;
  };
  const last = fits.length - 1;
  let current = last;
  if (!rises(last) && last > 0 && rises(last - 1) && above(last, last - 1)) current = last - 1;
  let first = current;
  if (rises(current)) {
    while (first > 0) {
      const prev = first - 1;
      if (rises(prev) && startsOnLine(first, prev)) first = prev;
      else if (prev > 0 && rises(prev - 1) && above(prev, prev - 1) && startsOnLine(first, prev - 1)) first = prev - 1;
      else break;
    }
  }
  return { segmentStart: bounds[current]!, riseStart: bounds[first]! };
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
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
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
