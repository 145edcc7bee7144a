// Time-series store benchmark (issue 3): points written per second, bytes on disk per point, and the
// time to query 24 h of one series at 5 s resolution (17,280 points). Printed, never asserted.
//
// The write phase is what the sampler does: every 5 s of (simulated) time one sample for each of
// SERIES series, written as one batch; the store is flushed every 10 s of simulated time, as its
// default flush interval does in real time. The values are a mix: a third noisy float gauges (CPU
// cores), a third integer gauges that change now and then (memory bytes), a third counters.
// Bytes on disk are the data dir's allocated blocks (as du counts them) after a full compaction, over
// every point written (raw, plus the 1 min and 1 h rollups the store keeps for them).
//
// Run after `make build`: node dist/js/bench/store.js
// Env: SERIES (default 1000), HOURS of data per series (default 2), DIR (data dir; a temp dir by default).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { Store } from '../daemon/store/store.js';
import { SeriesStore } from '../daemon/metrics/series.js';
import type { MetricName, Sample } from '../daemon/core/metric-names.js';

const SERIES = Number(process.env.SERIES ?? 1000);
const HOURS = Number(process.env.HOURS ?? 2);
const STEP = 5000;
const HOUR = 3_600_000;

function diskUsage(dir: string): { blocks: number; bytes: number } {
  let blocks = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = diskUsage(p);
      blocks += sub.blocks;
      bytes += sub.bytes;
    } else {
      const st = statSync(p);
      blocks += st.blocks * 512;
      bytes += st.size;
    }
  }
  return { blocks, bytes };
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const METRIC_KINDS: Array<[MetricName, 'noisy' | 'steps' | 'counter']> = [
  ['cpu_usage_cores', 'noisy'],
  ['memory_working_set_bytes', 'steps'],
  ['cpu_usage_seconds_total', 'counter'],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = process.env.DIR ?? mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
  const keep = process.env.DIR !== undefined;
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  const ticks = Math.round((HOURS * HOUR) / STEP);
  const start = now - ticks * STEP;
  console.log(
    `vigil store benchmark: ${SERIES} series x ${ticks} points (${HOURS} h at 5 s), node ${process.version}, ${cpus().length} cores, data dir ${dir}`,
  );

  const store = await Store.open({ dir });
  const series = await SeriesStore.open(store, { flushIntervalMs: 0, sweepIntervalMs: 0, now: () => now });
  try {
    // State per series.
    const rand = rng(42);
    const state = Array.from({ length: SERIES }, (_, i) => ({ target: `c${String(i).padStart(5, '0')}`, kind: METRIC_KINDS[i % 3]!, v: 1e8 * rand() }));
    const batch: Sample[] = new Array<Sample>(SERIES);
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < ticks; k++) {
      const time = start + k * STEP;
      for (let i = 0; i < SERIES; i++) {
        const s = state[i]!;
        const [metric, kind] = s.kind;
        let value: number;
        if (kind === 'noisy') value = rand() * 2;
        else if (kind === 'steps') {
          if (rand() < 0.1) s.v += Math.floor((rand() - 0.5) * 1e6);
          value = Math.floor(s.v);
        } else {
          s.v += Math.floor(rand() * 5e4);
          value = s.v / 1e6;
        }
        batch[i] = { target: s.target, metric, time, value };
      }
      await series.write(batch);
      if (k % 2 === 1) await series.flush();
    }
    await series.flush();
    const writeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const points = ticks * SERIES;
    console.log(
      `write: ${points} points in ${writeSeconds.toFixed(2)} s = ${Math.round(points / writeSeconds)} points/s (${series.stats.chunksWritten} chunk writes in ${series.stats.flushes} flushes)`,
    );

    // One series of 24 h at 5 s for the query.
    const dayPoints = (24 * HOUR) / STEP;
    const day: Sample[] = [];
    for (let k = 0; k < dayPoints; k++) day.push({ target: 'query-target', metric: 'cpu_usage_cores', time: now - (dayPoints - k) * STEP, value: rand() * 2 });
    await series.write(day);
    await series.flush();

    await store.compact();
    const du = diskUsage(dir);
    const allPoints = points + dayPoints;
    console.log(
      `disk: ${(du.blocks / 1048576).toFixed(1)} MiB allocated (${(du.bytes / 1048576).toFixed(1)} MiB apparent) after compaction = ` +
        `${(du.blocks / allPoints).toFixed(2)} bytes/point (${(du.bytes / allPoints).toFixed(2)} apparent), raw + 1 min + 1 h rollups`,
    );

    // Reopen so the query reads from disk, not from the in-memory heads.
    await series.close();
    await store.close();
    const store2 = await Store.open({ dir });
    const series2 = await SeriesStore.open(store2, { flushIntervalMs: 0, sweepIntervalMs: 0, now: () => now });
    const times: number[] = [];
    let got = 0;
    for (let i = 0; i < 7; i++) {
      const q0 = process.hrtime.bigint();
      const r = await series2.query('query-target', 'cpu_usage_cores', now - 24 * HOUR, now, STEP);
      times.push(Number(process.hrtime.bigint() - q0) / 1e6);
      got = r.points.length;
      if (r.resolution !== 'raw') throw new Error(`query picked ${r.resolution}`);
    }
    console.log(
      `query: 24 h of one series at 5 s (${got} points): first ${times[0]!.toFixed(1)} ms, median of the next 6 ${median(times.slice(1)).toFixed(1)} ms`,
    );
    const h = await series2.query('query-target', 'cpu_usage_cores', now - 24 * HOUR, now, HOUR);
    const q1 = process.hrtime.bigint();
    await series2.query('query-target', 'cpu_usage_cores', now - 24 * HOUR, now, HOUR);
    console.log(
      `query: the same 24 h at a 1 h step (${h.resolution} rollups, ${h.points.length} points): ${(Number(process.hrtime.bigint() - q1) / 1e6).toFixed(1)} ms`,
    );
    await series2.close();
    await store2.close();
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
