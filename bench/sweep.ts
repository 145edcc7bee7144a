// Metrics sweep benchmark (issue 3): the CPU time one sampling sweep costs over 200 running
// "containers", with and without kept file handles. Printed, never asserted.
//
// A container here is what the sampler sees of one: a cgroup at /vigil-sweep-<pid>/c<i> in every
// hierarchy of this host (v1 controllers and the v2 tree, as runc places a container), with a memory
// limit, a pids limit and a CPU quota, holding one busybox `sleep` in its own network namespace (so the
// sweep reads its /proc/<pid>/net/dev as it would a container's). 200 runc containers would take about
// two minutes to start here; the files a sweep reads are the same.
//
// For each mode: one warm-up sweep (plans each target: which files exist), then SWEEPS sweeps; the
// median and max CPU ms a sweep (process.cpuUsage delta: user + system of this process, the thread
// pool's reads included), the median wall ms, and the opens and reads a sweep made.
//
// Run as root after `make build`: node dist/js/bench/sweep.js
// Env: TARGETS (default 200), SWEEPS (default 10), CONCURRENCY (targets sampled at once, default 8).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';

import { MetricsCollector, type SweepStats } from '../daemon/metrics/collector.js';
import { detectCgroupLayout, type CgroupLayout } from '../daemon/metrics/cgroup-layout.js';
import { Sampler, type MetricsTarget } from '../daemon/metrics/sampler.js';

const TARGETS = Number(process.env.TARGETS ?? 200);
const SWEEPS = Number(process.env.SWEEPS ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const BUSYBOX = process.env.VIGIL_BUSYBOX ?? '/bin/busybox';
const PARENT = `vigil-sweep-${process.pid}`;

/** The hierarchies the sampler reads (cpuset and others would need set-up of their own). */
function hierarchies(layout: CgroupLayout): string[] {
  const v1 = ['cpu', 'cpuacct', 'memory', 'pids', 'blkio'].map((c) => layout.v1Roots.get(c)).filter((r): r is string => r !== undefined);
  return [...new Set([...v1, ...(layout.v2Root ? [layout.v2Root] : [])])];
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // a limit file this hierarchy lacks
  }
}

/** Makes the cgroups and their processes; `procs` gets each process as soon as it runs (for clean-up). */
async function setUp(layout: CgroupLayout, procs: ChildProcess[]): Promise<MetricsTarget[]> {
  const roots = hierarchies(layout);
  const targets: MetricsTarget[] = [];
  for (const r of roots) mkdirSync(join(r, PARENT));
  for (let i = 0; i < TARGETS; i++) {
    const rel = `/${PARENT}/c${i}`;
    for (const r of roots) mkdirSync(join(r, rel));
    const mem = layout.v1Roots.get('memory');
    if (mem) tryWrite(join(mem, rel, 'memory.limit_in_bytes'), String(256 << 20));
    const pids = layout.v1Roots.get('pids');
    if (pids) tryWrite(join(pids, rel, 'pids.max'), '100');
    const cpu = layout.v1Roots.get('cpu');
    if (cpu) tryWrite(join(cpu, rel, 'cpu.cfs_quota_us'), '50000');
    if (layout.v2Root) {
      tryWrite(join(layout.v2Root, rel, 'memory.max'), String(256 << 20));
      tryWrite(join(layout.v2Root, rel, 'pids.max'), '100');
      tryWrite(join(layout.v2Root, rel, 'cpu.max'), '50000 100000');
    }
    const p = spawn(BUSYBOX, ['unshare', '-n', BUSYBOX, 'sleep', '3600'], { stdio: 'ignore' });
    procs.push(p);
    await new Promise<void>((res, rej) => p.once('spawn', res).once('error', rej));
    // unshare execs sleep in the same process: one pid, moved into the cgroup in every hierarchy.
    for (const r of roots) writeFileSync(join(r, rel, 'cgroup.procs'), String(p.pid));
    targets.push({ key: `c${i}`, cgroupPath: rel, pids: [p.pid!] });
  }
  return targets;
}

async function tearDown(layout: CgroupLayout, procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map((p) =>
      p.exitCode !== null || p.signalCode !== null
        ? undefined
        : new Promise((res) => {
            p.once('exit', res);
            p.kill('SIGKILL');
          }),
    ),
  );
  for (const r of hierarchies(layout)) {
    const dir = join(r, PARENT);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) await rmdirRetry(join(dir, e.name));
    await rmdirRetry(dir);
  }
}

/** A killed process leaves its cgroups a moment after its exit is reported: retry EBUSY briefly. */
async function rmdirRetry(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EBUSY' || i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface ModeResult {
  mode: string;
  cpuMs: number[];
  wallMs: number[];
  samples: number;
  opensPerSweep: number;
  readsPerSweep: number;
  handles: number;
  errors: number;
  vanished: number;
}

async function runMode(layout: CgroupLayout, targets: MetricsTarget[], reuse: boolean): Promise<ModeResult> {
  const sampler = await Sampler.create({ layout, reuseHandles: reuse });
  const stats: SweepStats[] = [];
  const collector = new MetricsCollector({ sampler, targets: () => targets, sink: (_s, st) => stats.push(st), concurrency: CONCURRENCY });
  try {
    await collector.sweep(); // warm-up: plans, first opens
    await collector.sweep();
    const before = sampler.reader.stats;
    stats.length = 0;
    for (let i = 0; i < SWEEPS; i++) {
      await collector.sweep();
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = sampler.reader.stats;
    return {
      mode: reuse ? 'kept handles' : 'open/read/close',
      cpuMs: stats.map((s) => s.cpuMs),
      wallMs: stats.map((s) => s.durationMs),
      samples: stats[0]?.samples ?? 0,
      opensPerSweep: (after.opens - before.opens) / SWEEPS,
      readsPerSweep: (after.reads - before.reads) / SWEEPS,
      handles: after.handles,
      errors: stats.reduce((a, s) => a + s.errors, 0),
      vanished: stats.reduce((a, s) => a + s.vanished, 0),
    };
  } finally {
    await sampler.close();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark makes cgroups');
  const layout = await detectCgroupLayout();
  console.log(
    `sweep benchmark: ${TARGETS} targets + host, ${SWEEPS} sweeps a mode, concurrency ${CONCURRENCY}; cgroups ${layout.mode} (v2 ${layout.v2Root ?? 'none'}, v2 controllers [${[...layout.v2Controllers].join(' ')}]); kernel ${release()}; ${cpus().length} CPUs; node ${process.version}`,
  );
  const procs: ChildProcess[] = [];
  const cleanup = (): void => {
    void tearDown(layout, procs).finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    const t0 = performance.now();
    const targets = await setUp(layout, procs);
    console.log(`set-up: ${TARGETS} cgroups with a sleeping process each in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const results: ModeResult[] = [];
    // Alternate the modes twice, so drift in the machine's load touches both.
    for (const reuse of [false, true, false, true]) results.push(await runMode(layout, targets, reuse));
    console.log('');
    console.log(
      'mode              CPU ms/sweep (median, max)   wall ms (median)   opens/sweep   reads/sweep   handles kept   samples/sweep   errors   vanished',
    );
    for (const r of results) {
      console.log(
        `${r.mode.padEnd(17)} ${median(r.cpuMs).toFixed(1).padStart(8)} ${Math.max(...r.cpuMs)
          .toFixed(1)
          .padStart(
            8,
          )}          ${median(r.wallMs).toFixed(1).padStart(8)}        ${r.opensPerSweep.toFixed(0).padStart(8)}      ${r.readsPerSweep.toFixed(0).padStart(8)}      ${String(r.handles).padStart(8)}        ${String(r.samples).padStart(8)}   ${String(r.errors).padStart(6)}   ${String(r.vanished).padStart(6)}`,
      );
    }
    const by = (reuse: string): number => median(results.filter((r) => r.mode === reuse).flatMap((r) => r.cpuMs));
    const open = by('open/read/close');
    const kept = by('kept handles');
    console.log('');
    console.log(
      `CPU ms a sweep over ${TARGETS} targets: ${kept.toFixed(1)} with kept handles, ${open.toFixed(1)} with open/read/close (kept/open ${(kept / open).toFixed(2)}x); per target ${(kept / TARGETS).toFixed(3)} ms`,
    );
    console.log(`at the default 5 s interval: ${((kept / 5000) * 100).toFixed(2)}% of one core`);
  } finally {
    await tearDown(layout, procs);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
