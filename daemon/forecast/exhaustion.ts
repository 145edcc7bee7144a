// Time to exhaustion: when a forecast crosses a limit. The upper bound crosses first (earliest), then
// the point forecast (at), then the lower bound (latest); each is interpolated between forecast steps
// and absent when that curve stays below the limit over the whole horizon.
import type { Severity } from '../detect/types.js';
import type { MetricName } from '../metrics/types.js';
import type { Exhaustion, ForecastPoint } from './types.js';

/** First time `pick(point)` reaches `limit`, linearly interpolated from the previous point (or `start`). */
function firstCrossing(start: { time: number; value: number }, points: readonly ForecastPoint[], limit: number, pick: (p: ForecastPoint) => number): number | undefined {
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
 * The exhaustion of `limit` by a forecast that starts after the last observation `last`. A bound that
 * starts above the limit (the upper one, on a series already close) crosses at the last observation.
 */
export function exhaustion(last: { time: number; value: number }, points: readonly ForecastPoint[], limitMetric: MetricName, limit: number): Exhaustion {
  const out: Exhaustion = { limitMetric, limit };
  const at = firstCrossing(last, points, limit, (p) => p.value);
  const earliest = firstCrossing(last, points, limit, (p) => p.upper);
  const latest = firstCrossing(last, points, limit, (p) => p.lower);
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
