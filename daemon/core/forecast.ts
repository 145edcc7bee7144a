// A forecast of a container metric, as a record: computed by the forecast stage, stored and served
// (API: Forecasts.Get), and carried by the early-warning match (RuleMatch.forecast) and its alert.
// It sits on the floor because detect, alerts and api carry it without depending on the stage that
// computes it.
import type { MetricName } from './metric-names.js';

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
