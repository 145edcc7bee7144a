// Records resource series from real runc containers on this machine into test/fixtures/series/, for
// bench/forecast.ts (backtests, early warning, false warnings). Never a test: it takes minutes.
//
//   node dist/js/bench/record-series.js [--seconds 360] [--interval 1000] [--out test/fixtures/series]
//
// Five workloads run side by side, each in its own runc container (test/runc.ts: busybox-static root
// filesystem, cgroupfs limits) and each sampled by the daemon's own Sampler through a MetricsCollector
// (the same code path as vigild, at a faster interval than its default 5 s):
//   mem-leak    a shell appending to a string under a 64 MiB memory limit until the OOM killer ends it
//   pids-ramp   a shell starting one sleeper every 1 to 1.4 s under pids.max 150
//   cpu-quota   a busy loop for 20 s then idle 10 s, repeated, under a 0.5-core quota
//   idle        `sleep`, under a memory and a pids limit
//   web         busybox httpd on the host network with an in-container wget load whose concurrency
//               steps 1, 2, 4, 2 every 30 s, under memory, pids and CPU limits it never reaches
// Each series of interest is written to <workload>.<metric>.json:
//   { workload, metric, command, intervalMs, recordedAt, kernel, limit?: {metric, value},
//     reachesLimit, reachedAt?: unix ms, times: [unix ms], values: [] }
// The leak's and the ramp's series end with the sweep that saw the OOM kill or pids.max (reachedAt).
// Recorded 2026-11-28 on the project machine (2 cores, kernel 6.18, cgroup v1 hybrid) at 1 s with
// the defaults below; the CPU and web figures include contention from the other workloads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { RESOURCES } from '../daemon/forecast/engine.js';
import { MetricsCollector } from '../daemon/metrics/collector.js';
import { Sampler, type MetricsTarget } from '../daemon/metrics/sampler.js';
import type { MetricName, Sample } from '../daemon/core/metric-names.js';
import { runcMissing, startContainer, type Container, type ContainerOptions } from '../test/runc.js';

const MiB = 1 << 20;

interface Workload {
  name: string;
  options: ContainerOptions;
  /** The series kept (each is measured against its limit as the forecast engine's RESOURCES say). */
  series: MetricName[];
  /** The workload reached its limit (OOM kill, pids.max): its series end with that sweep. */
  done?: (last: Map<MetricName, number>) => boolean;
}

const PORT = 18_000 + (process.pid % 2000);

const WORKLOADS: Workload[] = [
  {
    name: 'mem-leak',
    options: { memoryLimit: 64 * MiB, args: ['sh', '-c', 'x=; while :; do x="$x$(head -c 120000 /dev/zero | tr "\\0" a)"; sleep 0.5; done'] },
    series: ['memory_working_set_bytes'],
    done: (l) => (l.get('memory_oom_kill_events_total') ?? 0) >= 1,
  },
  {
    name: 'pids-ramp',
    options: { pidsLimit: 150, args: ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do sleep 3600 & i=$((i+1)); sleep 1.$((RANDOM % 5)); done; wait'] },
    series: ['pids_current'],
    done: (l) => (l.get('pids_current') ?? 0) >= 150,
  },
  {
    name: 'cpu-quota',
    options: { cpuQuota: 50_000, cpuPeriod: 100_000, args: ['sh', '-c', 'while :; do timeout 20 sh -c "while :; do :; done"; sleep 10; done'] },
    series: ['cpu_usage_cores'],
  },
  {
    name: 'idle',
    options: { memoryLimit: 64 * MiB, pidsLimit: 50, args: ['sleep', '3600'] },
    series: ['memory_working_set_bytes'],
  },
  {
    name: 'web',
    options: {
      hostNet: true,
      memoryLimit: 128 * MiB,
      pidsLimit: 64,
      cpuQuota: 100_000,
      args: [
        'sh',
        '-c',
        `mkdir -p /www && i=0; while [ $i -lt 200 ]; do echo "page $i $(seq 1 $((i * 20)))" > /www/p$i.html; i=$((i+1)); done; ` +
          `busybox httpd -f -p 127.0.0.1:${PORT} -h /www & ` +
          `client() { while :; do wget -q -O /dev/null http://127.0.0.1:${PORT}/p$((RANDOM % 200)).html; sleep 0.0$((RANDOM % 9 + 1)); done; }; ` +
          `while :; do for c in 1 2 4 2; do j=0; p=; while [ $j -lt $c ]; do client & p="$p $!"; j=$((j+1)); done; sleep 30; kill $p 2>/dev/null; done; done`,
      ],
    },
    series: ['memory_working_set_bytes', 'cpu_usage_cores', 'pids_current'],
  },
];

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      seconds: { type: 'string', default: '360' },
      interval: { type: 'string', default: '1000' },
      out: { type: 'string', default: 'test/fixtures/series' },
    },
  });
  const seconds = Number(args.seconds);
  const intervalMs = Number(args.interval);
  if (!(seconds > 0) || !(intervalMs >= 100))
    throw new RangeError(`--seconds must be positive and --interval at least 100 ms (got ${args.seconds}, ${args.interval})`);
  const missing = runcMissing();
  if (missing) throw new Error(`recording needs runc: ${missing}`);
  mkdirSync(args.out, { recursive: true });

  const sampler = await Sampler.create({});
  const running = new Map<string, { w: Workload; c: Container; samples: Sample[]; reachedAt?: number; ended: boolean }>();
  try {
    for (const w of WORKLOADS) {
      const c = startContainer(w.options);
      running.set(c.id, { w, c, samples: [], ended: false });
    }
    const targets = (): MetricsTarget[] =>
      [...running.values()].filter((r) => !r.ended).map((r) => ({ key: r.c.id, cgroupPath: r.c.cgroupPath, pids: [r.c.pid] }));
    const collector = new MetricsCollector({
      sampler,
      targets,
      host: false,
      intervalMs,
      sink: (samples) => {
        const byTarget = new Map<string, Sample[]>();
        for (const s of samples) {
          let l = byTarget.get(s.target);
          if (!l) byTarget.set(s.target, (l = []));
          l.push(s);
        }
        for (const [id, ss] of byTarget) {
          const r = running.get(id);
          if (!r || r.ended) continue;
          r.samples.push(...ss);
          const last = new Map(ss.map((s) => [s.metric, s.value] as const));
          if (r.w.done?.(last)) {
            r.reachedAt = ss[0]!.time;
            r.ended = true;
          }
        }
      },
    });
    collector.start();
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000 && [...running.values()].some((r) => !r.ended)) {
      await new Promise((r) => setTimeout(r, 10_000));
      console.error(`${Math.round((Date.now() - t0) / 1000)} s: ${[...running.values()].map((r) => `${r.w.name}${r.ended ? ' (done)' : ''}`).join(', ')}`);
    }
    await collector.stop();

    for (const r of running.values()) {
      for (const metric of r.w.series) {
        const s = RESOURCES.find((x) => x.metric === metric)!;
        const times: number[] = [];
        const values: number[] = [];
        let limit: number | undefined;
        for (const x of r.samples) {
          if (x.metric === s.limit) limit = x.value;
          if (x.metric !== s.metric) continue;
          times.push(x.time);
          values.push(s.metric === 'cpu_usage_cores' ? Math.round(x.value * 1e4) / 1e4 : Math.round(x.value));
        }
        if (values.length === 0) {
          console.log(`${r.w.name}.${s.metric}: no samples (not written)`);
          continue;
        }
        // The forecast engine warns at a share of some limits (CPU: 95% of the quota); the file keeps
        // the limit as sampled, reachesLimit uses the share.
        const lim = limit !== undefined ? limit * s.fraction : undefined;
        const out = {
          workload: r.w.name,
          metric: s.metric,
          command: r.w.options.args?.join(' ') ?? '',
          limits: {
            memory: r.w.options.memoryLimit ?? null,
            pids: r.w.options.pidsLimit ?? null,
            cpuQuotaCores: r.w.options.cpuQuota !== undefined ? r.w.options.cpuQuota / (r.w.options.cpuPeriod ?? 100_000) : null,
          },
          intervalMs,
          recordedAt: new Date(times[0]!).toISOString(),
          kernel: release(),
          ...(limit !== undefined ? { limit: { metric: s.limit, value: limit } } : {}),
          // The leak is OOM-killed when a transient copy (the shell copies its string on each append)
          // meets the limit, which the samples seldom catch: reaching is the workload's own end (OOM
          // kill, pids.max) as well as a sampled value at the limit.
          reachesLimit: r.reachedAt !== undefined || (lim !== undefined && values.some((v) => v >= lim)),
          ...(r.reachedAt !== undefined ? { reachedAt: r.reachedAt } : {}),
          times,
          values,
        };
        const file = join(args.out, `${r.w.name}.${s.metric}.json`);
        writeFileSync(file, JSON.stringify(out) + '\n');
        console.log(`${file}: ${values.length} points${limit !== undefined ? `, limit ${s.limit} ${limit}${out.reachesLimit ? ' (reached)' : ''}` : ''}`);
      }
    }
  } finally {
    for (const r of running.values()) r.c.delete();
    await sampler.close();
  }
}

await main();
