// Forecasts of container metrics and the early warnings drawn from them. A forecast is stored and
// served (API: Forecasts.Get) and carried by the early-warning alert that it justified.
import type { MetricName } from '../metrics/types.js';

export type ForecastModel = 'linear' | 'ets' | 'mstl' | 'prophet';

export interface ForecastPoint {
  /** Unix ms. */
  time: number;
  value: number;
  /** Prediction interval (95% unless `level` says otherwise). */
  lower: number;
  upper: number;
}

export interface Exhaustion {
  /** The limit the series heads for (memory_limit_bytes, pids_max, ...), and its value. */
  limitMetric: MetricName;
  limit: number;
  /**
   * How far the series' recent samples rose above its trend, as a ratio to it: the crossing is when
   * the forecast times this reaches the limit (the peaks reach it before the level does). Absent
   * when 1.
   */
  peakRatio?: number;
  /** Predicted time the limit is crossed (unix ms), with its interval; absent when not crossed in the horizon. */
  at?: number;
  earliest?: number;
  latest?: number;
}

export interface Forecast {
  /** Container id or 'host'. */
  target: string;
  metric: MetricName;
  model: ForecastModel;
  /** When it was computed (unix ms) and the last observed point it used. */
  computedAt: number;
  lastObserved: number;
  /** Interval level, e.g. 0.95. */
  level: number;
  points: ForecastPoint[];
  exhaustion?: Exhaustion;
  /** Backtest error of this model on this series (MASE against the naive forecast), when measured. */
  mase?: number;
}

/** How sure a forecast is that the limit will be crossed, and what the anomaly checks found. */
export interface AnomalyFinding {
  kind: 'level_shift' | 'outlier';
  /** Unix ms of the first point of the new level (level shift) or of the outlying point. */
  time: number;
  /** Level before and after (level shift) or expected and observed (outlier). */
  before: number;
  after: number;
  /** Size against the series' robust noise (MAD-based standard deviations). */
  score: number;
  /** The last points of the series (oldest first), for the notice. */
  excerpt: number[];
}

/** One series as the worker receives it: regular steps (the collector's interval), oldest first. */
export interface SeriesInput {
  target: string;
  metric: MetricName;
  times: number[];
  values: number[];
  /** Forecast this far past the last point, ms. */
  horizonMs: number;
  level: number;
  /**
   * The limit to test for (absent: forecast only); `instant`: it holds at every instant (memory,
   * pids), so the series' peaks cross it before its level does (exhaustion.ts).
   */
  limit?: { metric: MetricName; value: number; instant?: boolean };
  /** Models allowed (all by default) and a model chosen earlier (skips the backtest when set). */
  models?: ForecastModel[];
  model?: ForecastModel;
  /** Wall-clock budget for this series' fits in the worker, ms. */
  budgetMs: number;
  /** Run anomaly detection on the tail. */
  anomalies?: boolean;
}

/** What the worker returns for one series. */
export interface SeriesResult {
  forecast?: Forecast;
  /** Slope of the baseline over its window (units per second) and its t statistic. */
  slopePerSec: number;
  slopeT: number;
  /** t statistics of the slopes of the two halves of the baseline window (a persistent rise has both high). */
  halvesT: [number, number];
  /**
   * The current trend (stats.currentTrend): how long the series has been rising (ms from the start
   * of the run of rising segments of a piecewise-linear fit that ends with the last one; the last
   * segment's own age when it does not rise) and the t statistic of the last segment's slope (the
   * current rate).
   */
  trendAgeMs: number;
  trendT: number;
  /** When the baseline's point forecast crosses the limit (it must agree with the chosen model for a warning). */
  baselineAt?: number;
  /** Period detected (in steps), 0 when not seasonal. */
  period: number;
  /** Backtest MASE of each model tried (lower is better), when a backtest ran. */
  backtest?: Partial<Record<ForecastModel, number>>;
  anomalies: AnomalyFinding[];
  /** Fit time in the worker, ms, and candidates skipped for lack of budget. */
  fitMs: number;
  skipped: ForecastModel[];
  /** Why no forecast was made (too few points, ...). */
  reason?: string;
}
