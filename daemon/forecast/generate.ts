// Generated series of the shapes that matter for resource forecasts, from a fixed seed: the unit tests
// and bench/forecast.ts run on exactly the same data every time.
import { gaussian, rng } from './stats.js';

export const SHAPES = ['linear_leak', 'step', 'sawtooth_gc', 'daily_seasonal', 'hourly_seasonal', 'noise', 'bursts'] as const;
export type Shape = (typeof SHAPES)[number];

export interface Generated {
  shape: Shape;
  times: number[];
  values: number[];
}

/** n points, one every stepMs from t0, of the given shape (memory-like magnitudes, ~100 MiB). */
export function generate(shape: Shape, n: number, seed: number, stepMs = 5000, t0 = 1_700_000_000_000): Generated {
  const u = rng(seed);
  const g = gaussian(u);
  const MiB = 1 << 20;
  const base = 100 * MiB * (0.5 + u());
  const noise = 0.5 * MiB * (0.5 + u());
  const times: number[] = [];
  const values: number[] = [];
  const stepAt = Math.floor(n * (0.5 + 0.3 * u()));
  const leak = (0.05 + 0.2 * u()) * MiB; // per step
  const gcEvery = 30 + Math.floor(40 * u());
  // "daily" and "hourly" periods in steps; with 5 s steps a true day is 17,280 points, so the seasonal
  // shapes use short stand-in periods with the same structure (a smooth cycle plus a harmonic).
  const period = shape === 'daily_seasonal' ? 144 : 48;
  let burst = 0;
  for (let i = 0; i < n; i++) {
    let v = base + noise * g();
    switch (shape) {
      case 'linear_leak':
        v += leak * i;
        break;
      case 'step':
        if (i >= stepAt) v += 20 * MiB;
        break;
      case 'sawtooth_gc':
        v += (i % gcEvery) * 0.6 * MiB;
        break;
      case 'daily_seasonal':
      case 'hourly_seasonal':
        v += 15 * MiB * Math.sin((2 * Math.PI * i) / period) + 5 * MiB * Math.sin((4 * Math.PI * i) / period);
        break;
      case 'noise':
        break;
      case 'bursts':
        if (burst > 0) burst--;
        else if (u() < 0.03) burst = 3 + Math.floor(6 * u());
        if (burst > 0) v += 25 * MiB;
        break;
    }
    times.push(t0 + i * stepMs);
    values.push(Math.max(0, v));
  }
  return { shape, times, values };
}

/**
 * A ramp toward a limit: flat for `flat` points, then rising at a random rate so that it reaches
 * `limit` after `rampPoints` more points (noise on top). Returns the index where the limit is reached.
 */
export function ramp(seed: number, flat: number, rampPoints: number, limit: number, stepMs = 5000, t0 = 1_700_000_000_000): Generated & { crossIndex: number } {
  const u = rng(seed);
  const g = gaussian(u);
  const start = limit * (0.2 + 0.3 * u());
  const noise = limit * 0.004 * (0.5 + u());
  const rate = (limit - start) / rampPoints;
  const times: number[] = [];
  const values: number[] = [];
  let crossIndex = -1;
  for (let i = 0; i < flat + rampPoints + 20; i++) {
    const trend = i < flat ? start : start + rate * (i - flat);
    const v = Math.min(limit, trend + noise * g());
    times.push(t0 + i * stepMs);
    values.push(v);
    if (crossIndex < 0 && trend >= limit) crossIndex = i;
  }
  return { shape: 'linear_leak', times, values, crossIndex };
}
