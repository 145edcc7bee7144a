// The augurs models (Rust compiled to WASM): MSTL with an AutoETS trend, AutoETS alone, Prophet with
// the wasmstan optimizer, and the normal-gamma changepoint detector. The .wasm files ship inside the
// packages and are compiled from disk once per thread (initSync), each on first use: a series needs
// AutoETS from 24 points, MSTL only once a period shows and Prophet only past 100 points, so a young or
// aperiodic host never pays for the others (about 1.5 MB each: compiled code and linear memory).
// Nothing is fetched at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { ChangepointDetector, initSync as initChangepoint } from '@bsull/augurs/changepoint';
import { AutoETS, initSync as initEts } from '@bsull/augurs/ets';
import { MSTL, initSync as initMstl } from '@bsull/augurs/mstl';
import { Prophet, initSync as initProphet } from '@bsull/augurs/prophet';

export interface ModelOutput {
  point: number[];
  lower: number[];
  upper: number[];
}

/** The augurs WASM modules, by the file name they ship under (`<name>_bg.wasm`). */
export type AugursModule = 'ets' | 'mstl' | 'prophet' | 'changepoint';
const INIT: Record<AugursModule, (o: { module: Buffer }) => unknown> = {
  ets: initEts,
  mstl: initMstl,
  prophet: initProphet,
  changepoint: initChangepoint,
};
const compiled = new Set<AugursModule>();
let wasmDir: string | undefined;

/** Compiles and instantiates one module if this thread has not yet (synchronous: small files, a few ms). */
export function loadModule(name: AugursModule): void {
  if (compiled.has(name)) return;
  wasmDir ??= dirname(createRequire(import.meta.url).resolve('@bsull/augurs/mstl'));
  INIT[name]({ module: readFileSync(join(wasmDir, `${name}_bg.wasm`)) });
  compiled.add(name);
}

/** Which modules this thread has compiled so far. */
export function loadedModules(): AugursModule[] {
  return [...compiled];
}

type ProphetOptimizer = ConstructorParameters<typeof Prophet>[0]['optimizer'];

let optimizer: ProphetOptimizer | undefined;

/**
 * Compiles every WASM module at once (idempotent), for benchmarks and tests that time fits without the
 * first compile in them. With `prophet: false` Prophet's Stan optimiser is left for
 * loadProphetOptimizer(): it is about 16 MB of the worker's memory and only periodic series use it.
 */
export async function loadAugurs(o: { prophet?: boolean } = {}): Promise<void> {
  for (const m of Object.keys(INIT) as AugursModule[]) loadModule(m);
  if (o.prophet ?? true) await loadProphetOptimizer();
}

/** Prophet's optimiser: an ES module with top-level await, so it cannot be loaded inside a fit. */
export async function loadProphetOptimizer(): Promise<void> {
  if (optimizer) return;
  const wasmstan = (await import('@bsull/augurs-prophet-wasmstan')) as { optimizer: ProphetOptimizer };
  optimizer = wasmstan.optimizer;
}

export function prophetLoaded(): boolean {
  return optimizer !== undefined;
}

function output(f: { point: number[]; intervals?: { lower: number[]; upper: number[] } | undefined }): ModelOutput {
  const point = Array.from(f.point);
  return { point, lower: f.intervals ? Array.from(f.intervals.lower) : point, upper: f.intervals ? Array.from(f.intervals.upper) : point };
}

/** AutoETS without seasonality (error, trend chosen by AICc; 'ZZN'). */
export function etsForecast(values: readonly number[], horizon: number, level: number): ModelOutput {
  loadModule('ets');
  const m = new AutoETS(1, 'ZZN');
  try {
    m.fit(Float64Array.from(values));
    return output(m.predict(horizon, level));
  } finally {
    m.free();
  }
}

/** MSTL: seasonal components for each period, AutoETS on the seasonally adjusted rest. */
export function mstlForecast(values: readonly number[], periods: readonly number[], horizon: number, level: number): ModelOutput {
  loadModule('mstl');
  const m = MSTL.ets(Uint32Array.from(periods));
  try {
    m.fit(Float64Array.from(values));
    return output(m.predict(horizon, level));
  } finally {
    m.free();
  }
}

/** Prophet (MAP fit by wasmstan) with one custom seasonality per period (in steps of stepMs). */
export function prophetForecast(
  times: readonly number[],
  values: readonly number[],
  periods: readonly number[],
  stepMs: number,
  horizon: number,
  level: number,
): ModelOutput {
  loadModule('prophet');
  if (!optimizer) throw new Error('Prophet optimizer not loaded: await loadProphetOptimizer() first');
  const m = new Prophet({
    optimizer: optimizer!,
    intervalWidth: level,
    uncertaintySamples: 100,
    yearlySeasonality: { type: 'manual', enabled: false },
    weeklySeasonality: { type: 'manual', enabled: false },
    dailySeasonality: { type: 'manual', enabled: false },
  });
  try {
    for (const p of periods) m.addSeasonality(`p${p}`, { period: (p * stepMs) / 86_400_000, fourierOrder: Math.min(5, Math.max(1, Math.floor(p / 4))) });
    m.fit({ ds: times.map((t) => t / 1000), y: Array.from(values) });
    const last = times[times.length - 1]!;
    const ds: number[] = [];
    for (let i = 1; i <= horizon; i++) ds.push((last + i * stepMs) / 1000);
    return output(m.predict({ ds }).yhat);
  } finally {
    m.free();
  }
}

/** Changepoint indices (Bayesian online detection, normal-gamma prior) of a standardised series. */
export function changepoints(values: readonly number[]): number[] {
  loadModule('changepoint');
  const d = ChangepointDetector.normalGamma();
  try {
    return Array.from(d.detectChangepoints(Float64Array.from(values)).indices);
  } finally {
    d.free();
  }
}
