// Time to exhaustion: when a forecast crosses a limit. The upper bound crosses first (earliest), then
// the point forecast (at), then the lower bound (latest); each is interpolated between forecast steps
// and absent when that curve stays below the limit over the whole horizon.
//
// Memory and process limits hold at every instant, while the forecast is of the series' level: a
// series whose samples rise above their trend (a shell that copies its string on each append holds
// twice its memory for a moment; bursts of forks) reaches the limit with those peaks first. The
// crossing is then that of the forecast times `peakRatio`, how far recent samples rose above the
// trend in proportion to it (models.ts: the second highest ratio of a sample to the baseline's line
// over its window; about 1 + 3 noise widths / level on a smooth series, close to 2 for the copying
// shell). Proportional, because such peaks grow with what is copied; on additive noise it errs early
// by a few noise widths at most.
import type { Severity } from '../core/severity.js';
import type { MetricName } from '../core/metric-names.js';
import type { Exhaustion, ForecastPoint } from '../core/forecast.js';

/** First time `pick(point)` reaches `limit`, linearly interpolated from the previous point (or `start`). */
function firstCrossing(
  start: { time: number; value: number },
  points: readonly ForecastPoint[],
  limit: number,
  pick: (p: ForecastPoint) => number,
): number | undefined {
  let prevT = start.time;
  let prevV = start.value;
  if (prevV >= limit) return prevT;
  for (const p of points) {
    const v = pick(p);
    if (v >= limit) {
      if (!(v > prevV)) return p.time;
      return prevT + ((limit - prevV) / (v - prevV)) * (p.time - prevT);
    }
    prevT = p.time;
    prevV = v;
  }
  return undefined;
}

/**
 * The exhaustion of `limit` by a forecast that starts after the last observation `last`, whose peaks
 * rise to `peakRatio` times it. A bound that starts above the limit (the upper one, on a series
 * already close) crosses at the last observation.
 */
export function exhaustion(
  last: { time: number; value: number },
  points: readonly ForecastPoint[],
  limitMetric: MetricName,
  limit: number,
  peakRatio = 1,
): Exhaustion {
  const out: Exhaustion = { limitMetric, limit };
  const ratio = Number.isFinite(peakRatio) && peakRatio > 1 ? peakRatio : 1;
  if (ratio > 1) out.peakRatio = ratio;
  const reach = limit / ratio;
  // The last observation is a sample, peaks included: it reaches the limit itself, not limit / ratio.
  const start = { time: last.time, value: last.value / ratio };
  const at = firstCrossing(start, points, reach, (p) => p.value);
  const earliest = firstCrossing(start, points, reach, (p) => p.upper);
  const latest = firstCrossing(start, points, reach, (p) => p.lower);
  if (at !== undefined) out.at = Math.round(at);
  if (earliest !== undefined) out.earliest = Math.round(earliest);
  if (latest !== undefined) out.latest = Math.round(latest);
  // Bounds that cross in the wrong order (a point crossing outside a widening interval) are clamped.
  if (out.at !== undefined && out.earliest !== undefined && out.earliest > out.at) out.earliest = out.at;
  if (out.at !== undefined && out.latest !== undefined && out.latest < out.at) out.latest = out.at;
  return out;
}

/** Early-warning severity by lead time (until the point forecast crosses): undefined beyond 30 min. */
export function severityForLead(leadMs: number): Severity | undefined {
  if (leadMs < 2 * 60_000) return 'critical';
  if (leadMs < 10 * 60_000) return 'error';
  if (leadMs < 30 * 60_000) return 'warning';
  return undefined;
}

/** "4 min", "45 s", "2 h 5 min". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
