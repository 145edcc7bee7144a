// Metrics on this machine's real cgroup trees with real runc containers (test/runc.ts): CPU spin,
// memory up to a limit, an OOM kill, a fork burst up to pids.max, file writes and loopback traffic
// each move their metrics; the host target; a container that stops between sweeps; the real v2 tree
// (the mounted cgroup2 hierarchy, or one mounted here) for v2 cpu.stat, PSI and cgroup.procs; the real
// v1 tree alone (a v1-only layout of this host). Every container and cgroup made here is removed.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MetricsCollector, type SweepStats } from '../../daemon/metrics/collector.js';
import { detectCgroupLayout, fixtureLayout, type CgroupLayout } from '../../daemon/metrics/cgroup-layout.js';
import { Sampler, type MetricsTarget } from '../../daemon/metrics/sampler.js';
import type { MetricName, Sample } from '../../daemon/core/metric-names.js';
import { BUSYBOX, runcMissing, startContainer, uniqueId, type Container, type ContainerOptions } from '../runc.js';

const PARENT = `vigil-metrics-${process.pid}`;
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Figures = Partial<Record<MetricName, number>>;

function figures(samples: Sample[]): Figures {
  const out: Figures = {};
  for (const s of samples) out[s.metric] = s.value;
  return out;
}

function target(c: Container, cgroupPath: string): MetricsTarget {
  return { key: c.id, cgroupPath, pids: [c.pid] };
}

/** Samples until `ok` holds (or the time is up), returning the last figures. */
async function sampleUntil(s: Sampler, t: MetricsTarget, ok: (f: Figures) => boolean, timeoutMs = 10000): Promise<Figures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = figures(await s.sampleTarget(t));
    if (ok(f) || Date.now() > deadline) return f;
    await sleep(200);
  }
}

const containers: Container[] = [];
function start(o: ContainerOptions): { c: Container; t: MetricsTarget } {
  const cgroupsPath = `/${PARENT}/${uniqueId()}`;
  const c = startContainer({ ...o, cgroupsPath });
  containers.push(c);
  return { c, t: target(c, cgroupsPath) };
}

/** Removes PARENT (left behind by runc delete) from every hierarchy. */
function removeParentCgroups(layout: CgroupLayout): void {
  const roots = new Set([...layout.v1Roots.values(), ...(layout.v2Root ? [layout.v2Root] : [])]);
  for (const r of roots) {
    const dir = join(r, PARENT);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(join(dir, e.name));
    rmdirSync(dir);
  }
}

describe('metrics on real cgroups', () => {
  let layout: CgroupLayout;
  let sampler: Sampler;

  before(async () => {
    const missing = runcMissing();
    if (missing) throw new Error(`metrics integration tests need runc: ${missing}`);
    layout = await detectCgroupLayout();
    sampler = await Sampler.create({ layout });
  });
  after(async () => {
    for (const c of containers) c.delete();
    await sampler?.close();
    if (layout) removeParentCgroups(layout);
  });

  test('this host: hybrid layout detected; the host target has CPU, memory, pids, PSI, network, fds', async () => {
    assert.equal(layout.mode, 'hybrid', 'this machine mounts v1 controllers and a v2 tree at /sys/fs/cgroup/unified');
    assert.equal(layout.v2Root, '/sys/fs/cgroup/unified');
    assert.equal(layout.v1Roots.get('memory'), '/sys/fs/cgroup/memory');
    const host = { key: 'host', cgroupPath: '' };
    await sampler.sampleTarget(host);
    await sleep(300);
    const f = figures(await sampler.sampleTarget(host));
    for (const m of [
      'cpu_usage_seconds_total',
      'cpu_usage_cores',
      'memory_usage_bytes',
      'memory_working_set_bytes',
      'memory_limit_bytes',
      'memory_oom_kill_events_total',
      'pids_current',
      'pids_max',
      'blkio_read_bytes_total',
      'psi_cpu_some_avg10',
      'psi_memory_full_avg10',
      'psi_io_some_avg10',
      'net_rx_bytes_total',
      'fds_open',
    ] as const) {
      assert.ok(f[m] !== undefined, `host ${m}`);
    }
    assert.ok(f.memory_working_set_bytes! <= f.memory_limit_bytes!);
    assert.ok(f.cpu_usage_cores! >= 0 && f.cpu_usage_cores! <= 64);
  });

  test('CPU spin under a 0.5-core quota: usage in cores, quota, throttled periods and time', async () => {
    const { t } = start({ args: ['sh', '-c', 'while :; do :; done'], cpuQuota: 50000, cpuPeriod: 100000 });
    await sampler.sampleTarget(t);
    await sleep(1500);
    const f = figures(await sampler.sampleTarget(t));
    assert.equal(f.cpu_quota_cores, 0.5);
    assert.ok(f.cpu_usage_cores! > 0.3 && f.cpu_usage_cores! < 0.65, `about half a core, got ${f.cpu_usage_cores}`);
    assert.ok(f.cpu_usage_seconds_total! > 0.4);
    assert.ok(f.cpu_periods_total! >= 10, `periods ${f.cpu_periods_total}`);
    assert.ok(f.cpu_throttled_periods_total! >= 5, `throttled ${f.cpu_throttled_periods_total}`);
    assert.ok(f.cpu_throttled_seconds_total! > 0.05, `throttled time ${f.cpu_throttled_seconds_total}`);
    assert.ok(f.psi_cpu_some_avg10 !== undefined, 'PSI from the v2 tree of a hybrid host');
  });

  test('memory allocation up to a limit: usage, working set, limit and failcnt move', async () => {
    const { c, t } = start({ memoryLimit: 64 * MiB });
    const before = figures(await sampler.sampleTarget(t));
    assert.equal(before.memory_limit_bytes, 64 * MiB);
    // tail holds 30 MB of anonymous memory while it blocks writing to a sleep that never reads.
    c.execDetached(['sh', '-c', 'head -c 30000000 /dev/zero | tail -c 30000000 | sleep 60']);
    const held = await sampleUntil(sampler, t, (f) => f.memory_working_set_bytes! > before.memory_working_set_bytes! + 25 * MiB);
    assert.ok(held.memory_usage_bytes! > before.memory_usage_bytes! + 25 * MiB, `usage ${before.memory_usage_bytes} -> ${held.memory_usage_bytes}`);
    assert.ok(
      held.memory_working_set_bytes! > before.memory_working_set_bytes! + 25 * MiB,
      `working set ${before.memory_working_set_bytes} -> ${held.memory_working_set_bytes}`,
    );
    // Page cache beyond the limit: charged, reclaimed at the limit (failcnt), nobody killed.
    const r = c.exec(['dd', 'if=/dev/zero', 'of=/tmp/big', 'bs=1M', 'count=80']);
    assert.equal(r.status, 0, r.stderr);
    const full = figures(await sampler.sampleTarget(t));
    assert.ok(full.memory_failcnt_total! > (before.memory_failcnt_total ?? 0), `failcnt ${before.memory_failcnt_total} -> ${full.memory_failcnt_total}`);
    assert.ok(full.memory_usage_bytes! <= 64 * MiB);
    assert.equal(full.memory_oom_kill_events_total, 0);
  });

  test('an OOM kill is counted', async () => {
    const { c, t } = start({ memoryLimit: 32 * MiB });
    const before = figures(await sampler.sampleTarget(t));
    assert.equal(before.memory_oom_kill_events_total, 0);
    const r = c.exec(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    assert.notEqual(r.status, 0, 'dd with a 64 MiB buffer is killed in a 32 MiB container');
    const f = await sampleUntil(sampler, t, (x) => x.memory_oom_kill_events_total! >= 1);
    assert.ok(f.memory_oom_kill_events_total! >= 1, `oom kills ${f.memory_oom_kill_events_total}`);
  });

  test('a fork burst up to pids.max', async () => {
    const { c, t } = start({ pidsLimit: 12 });
    const before = figures(await sampler.sampleTarget(t));
    assert.equal(before.pids_max, 12);
    assert.equal(before.pids_current, 1);
    c.execDetached(['sh', '-c', 'for i in $(seq 40); do sleep 60 & done; sleep 60']);
    const f = await sampleUntil(sampler, t, (x) => x.pids_current === 12);
    assert.equal(f.pids_current, 12, 'the burst stops at pids.max');
    assert.ok(f.fds_open! >= before.fds_open! + 2 * 11, `fds over every process: ${before.fds_open} -> ${f.fds_open}`);
  });

  test('file writes move block I/O', async () => {
    const { c, t } = start({});
    const before = figures(await sampler.sampleTarget(t));
    // sh stays alive and reaps dd, so dd's I/O stays in the container's processes (the /proc/<pid>/io source).
    c.execDetached(['sh', '-c', 'dd if=/dev/zero of=/tmp/out bs=1M count=20 conv=fsync 2>/dev/null; sleep 60']);
    const f = await sampleUntil(sampler, t, (x) => x.blkio_write_bytes_total! >= (before.blkio_write_bytes_total ?? 0) + 20 * MiB);
    assert.ok(
      f.blkio_write_bytes_total! >= (before.blkio_write_bytes_total ?? 0) + 20 * MiB,
      `written ${before.blkio_write_bytes_total} -> ${f.blkio_write_bytes_total}`,
    );
    assert.equal(sampler.v1BlockIoFromProc, true, 'this kernel keeps no v1 blkio.throttle counters without a throttle rule');
  });

  test('loopback traffic inside a container moves its network counters; includeLoopback: false leaves it out', async () => {
    const lo = await Sampler.create({ layout, includeLoopback: false });
    try {
      const { c, t } = start({});
      const b0 = figures(await sampler.sampleTarget(t));
      const d0 = figures(await lo.sampleTarget(t));
      // The listener's stdin is a pipe that stays open (at EOF it would close the connection).
      c.execDetached(['sh', '-c', 'sleep 60 | nc -l -p 5555 >/dev/null & sleep 0.5; head -c 5000000 /dev/zero | timeout 5 nc 127.0.0.1 5555; sleep 60']);
      const f = await sampleUntil(sampler, t, (x) => x.net_rx_bytes_total! >= b0.net_rx_bytes_total! + 5000000);
      assert.ok(f.net_rx_bytes_total! >= b0.net_rx_bytes_total! + 5000000, `rx ${b0.net_rx_bytes_total} -> ${f.net_rx_bytes_total}`);
      assert.ok(f.net_tx_bytes_total! >= b0.net_tx_bytes_total! + 5000000);
      assert.ok(f.net_rx_packets_total! > b0.net_rx_packets_total!);
      const d = figures(await lo.sampleTarget(t));
      assert.equal(d0.net_rx_bytes_total, 0, 'the container has only lo');
      assert.equal(d.net_rx_bytes_total, 0, 'lo is left out when asked');
    } finally {
      await lo.close();
    }
  });

  test("a container in the host network namespace gets no network figures (they would be the host's)", async () => {
    const { t } = start({ hostNet: true });
    const f = figures(await sampler.sampleTarget(t));
    assert.equal(f.net_rx_bytes_total, undefined);
    assert.ok(f.memory_usage_bytes !== undefined);
  });

  test('the real v1 tree alone (a v1-only view of this host)', async () => {
    const v1 = await Sampler.create({ layout: fixtureLayout({ v1Roots: Object.fromEntries(layout.v1Roots) }) });
    try {
      const { t } = start({ memoryLimit: 48 * MiB, pidsLimit: 50, cpuQuota: 20000, args: ['sh', '-c', 'sleep 60 & sleep 60 & wait'] });
      const f = await sampleUntil(v1, t, (x) => x.pids_current === 3);
      assert.equal(f.memory_limit_bytes, 48 * MiB);
      assert.equal(f.pids_max, 50);
      assert.equal(f.pids_current, 3);
      assert.equal(f.cpu_quota_cores, 0.2);
      assert.ok(f.memory_usage_bytes! > 0 && f.memory_working_set_bytes! <= f.memory_usage_bytes!);
      assert.equal(f.memory_oom_events_total, undefined, 'v1 has no OOM event count');
      assert.equal(f.psi_cpu_some_avg10, undefined, 'no PSI without a v2 tree');
      assert.ok(f.fds_open! >= 9);
    } finally {
      await v1.close();
    }
  });

  test('a container stopped between sweeps is vanished (kept handles read ENODEV), not an error; the collector counts it', async () => {
    const { c, t } = start({});
    const sweeps: { samples: Sample[]; stats: SweepStats }[] = [];
    const collector = new MetricsCollector({ sampler, targets: () => [t], sink: (samples, stats) => sweeps.push({ samples, stats }) });
    const s1 = await collector.sweep();
    assert.equal(s1.sampled, 2);
    assert.ok(sweeps[0]!.samples.some((s) => s.target === c.id) && sweeps[0]!.samples.some((s) => s.target === 'host'));
    const handles = sampler.reader.stats.handles;
    c.delete();
    const s2 = await collector.sweep();
    assert.deepEqual([s2.targets, s2.sampled, s2.vanished, s2.errors], [2, 1, 1, 0]);
    assert.ok(sampler.reader.stats.handles < handles, "the vanished target's handles are closed");
    assert.ok(!sampler.keys().includes(c.id));
  });
});

describe('metrics on the real cgroup v2 tree', () => {
  let v2Root: string;
  let mounted: string | undefined;
  let dir: string;
  let spinner: ChildProcess | undefined;

  before(async () => {
    const layout = await detectCgroupLayout();
    if (layout.v2Root !== undefined) v2Root = layout.v2Root;
    else {
      mounted = mkdtempSync(join(tmpdir(), 'vigil-cg2-'));
      const r = spawnSync('mount', ['-t', 'cgroup2', 'none', mounted], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`cannot mount cgroup2: ${r.stderr}`);
      v2Root = mounted;
    }
    dir = join(v2Root, `vigil-metrics-v2-${process.pid}`);
    mkdirSync(dir);
  });
  after(() => {
    spinner?.kill('SIGKILL');
    for (let i = 0; i < 50 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        spawnSync('sleep', ['0.1']);
      }
    }
    if (mounted) {
      spawnSync('umount', [mounted]);
      rmSync(mounted, { recursive: true, force: true });
    }
  });

  test('v2 cpu.stat, PSI and cgroup.procs of a spinning process in a v2 cgroup', async () => {
    spinner = spawn(BUSYBOX, ['sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    await new Promise((r) => spinner!.once('spawn', r));
    writeFileSync(join(dir, 'cgroup.procs'), String(spinner.pid));
    const controllers = (await import('node:fs/promises')).readFile(join(v2Root, 'cgroup.controllers'), 'utf8');
    const s = await Sampler.create({ layout: fixtureLayout({ v2Root, v2Controllers: (await controllers).trim().split(/\s+/).filter(Boolean) }) });
    try {
      const t = { key: 'v2', cgroupPath: `/vigil-metrics-v2-${process.pid}` };
      await s.sampleTarget(t);
      await sleep(1000);
      const f = figures(await s.sampleTarget(t));
      assert.ok(f.cpu_usage_cores! > 0.5, `a spinning process uses about a core: ${f.cpu_usage_cores}`);
      assert.ok(f.cpu_usage_seconds_total! > 0.5);
      for (const m of ['psi_cpu_some_avg10', 'psi_cpu_full_avg10', 'psi_memory_some_avg10', 'psi_io_some_avg10'] as const) assert.ok(f[m] !== undefined, m);
      assert.ok(f.fds_open! >= 1, `fds ${f.fds_open}`);
    } finally {
      await s.close();
      spinner.kill('SIGKILL');
      await new Promise((r) => spinner!.once('exit', r));
      spinner = undefined;
    }
  });
});
