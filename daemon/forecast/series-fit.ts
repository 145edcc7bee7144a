// What the forecast worker takes and gives back: one series in, its forecast (the record in
// core/forecast.ts), the models' backtests and the anomaly findings out.
import type { Forecast, ForecastModel } from '../core/forecast.js';
import type { MetricName } from '../core/metric-names.js';

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
