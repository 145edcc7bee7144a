// The sampler over fixture trees (test/fixtures/cgroup-v2, cgroup-v1) whose files follow the kernel's
// documentation: every metric of core/metric-names.ts from the right file, unlimited limits leave no sample,
// cpu_usage_cores from two samples, a vanished cgroup, a controller that goes away, handle reuse.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';

import { fixtureLayout } from './cgroup-layout.js';
import { Sampler, type SamplerOptions } from './sampler.js';
import type { MetricName, Sample } from '../core/metric-names.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');
const V2 = join(ROOT, 'test/fixtures/cgroup-v2');
const V1 = join(ROOT, 'test/fixtures/cgroup-v1');
const MiB = 1024 * 1024;

function byMetric(samples: Sample[]): Partial<Record<MetricName, number>> {
  const out: Partial<Record<MetricName, number>> = {};
  for (const s of samples) {
    assert.equal(out[s.metric], undefined, `${s.metric} sampled once`);
    out[s.metric] = s.value;
  }
  return out;
}

function v2Sampler(base = V2, extra: SamplerOptions = {}): Promise<Sampler> {
  return Sampler.create({
    layout: fixtureLayout({ v2Root: join(base, 'sys/fs/cgroup'), v2Controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }),
    procRoot: join(base, 'proc'),
    sysBlock: join(base, 'sys/block'),
    ...extra,
  });
}

function tempCopy(src: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'vigil-metrics-'));
  cpSync(src, path, { recursive: true, verbatimSymlinks: true });
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

describe('cgroup v2 fixture tree', () => {
  test('a container with every limit: each metric from its file', async () => {
    const s = await v2Sampler();
    try {
      const samples = await s.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }, 1234);
      assert.ok(samples.every((x) => x.target === 'c1' && x.time === 1234));
      assert.deepEqual(byMetric(samples), {
        cpu_usage_seconds_total: 2.5,
        cpu_quota_cores: 0.5,
        cpu_periods_total: 120,
        cpu_throttled_periods_total: 30,
        cpu_throttled_seconds_total: 0.45,
        memory_usage_bytes: 100 * MiB,
        memory_working_set_bytes: 80 * MiB, // memory.current - inactive_file
        memory_limit_bytes: 256 * MiB,
        memory_failcnt_total: 17,
        memory_oom_events_total: 3,
        memory_oom_kill_events_total: 2,
        pids_current: 7,
        pids_max: 100,
        blkio_read_bytes_total: 1459200 + 90430464,
        blkio_write_bytes_total: 314773504 + 299008000,
        blkio_read_ops_total: 192 + 8950,
        blkio_write_ops_total: 353 + 1252,
        psi_cpu_some_avg10: 12.5,
        psi_cpu_full_avg10: 3.25,
        psi_memory_some_avg10: 1.5,
        psi_memory_full_avg10: 0.75,
        psi_io_some_avg10: 4,
        psi_io_full_avg10: 2,
        // eth0 and lo: a container's loopback is its own traffic
        net_rx_bytes_total: 125000,
        net_tx_bytes_total: 85000,
        net_rx_packets_total: 950,
        net_tx_packets_total: 650,
        fds_open: 4 + 2 + 3, // pids 101, 102 and 103 in the child cgroup
        fds_process_open: 4, // pid 101 holds the most; its limits file says 1024
        fds_process_limit: 1024,
      });
    } finally {
      await s.close();
    }
  });

  test("includeLoopback: false leaves a container's lo out", async () => {
    const s = await v2Sampler(V2, { includeLoopback: false });
    try {
      const m = byMetric(await s.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }));
      assert.equal(m.net_rx_bytes_total, 120000);
      assert.equal(m.net_tx_packets_total, 600);
    } finally {
      await s.close();
    }
  });

  test('unlimited limits produce no sample; a process in the host network namespace gives no net figures', async () => {
    const s = await v2Sampler();
    try {
      const m = byMetric(await s.sampleTarget({ key: 'c2', cgroupPath: 'ctr-unlimited' }));
      for (const absent of ['cpu_quota_cores', 'memory_limit_bytes', 'pids_max', 'net_rx_bytes_total', 'net_tx_bytes_total'] as const) {
        assert.equal(m[absent], undefined, `${absent} absent`);
      }
      assert.equal(m.memory_usage_bytes, 8 * MiB);
      assert.equal(m.memory_working_set_bytes, 7 * MiB);
      assert.equal(m.memory_oom_kill_events_total, 0);
      assert.equal(m.blkio_write_bytes_total, 0);
      assert.equal(m.fds_open, 5);
      assert.equal(m.fds_process_open, 5, 'pid 201, the only process');
      assert.equal(m.fds_process_limit, undefined, 'no limits file: no limit');
    } finally {
      await s.close();
    }
  });

  test('a cgroup with no controller enabled: CPU usage, PSI and fds only', async () => {
    const s = await v2Sampler();
    try {
      const m = byMetric(await s.sampleTarget({ key: 'c3', cgroupPath: '/ctr-bare' }));
      assert.deepEqual(Object.keys(m).sort(), [
        'cpu_usage_seconds_total',
        'fds_open',
        'fds_process_open',
        'psi_cpu_full_avg10',
        'psi_cpu_some_avg10',
        'psi_io_full_avg10',
        'psi_io_some_avg10',
        'psi_memory_full_avg10',
        'psi_memory_some_avg10',
      ]);
      assert.equal(m.cpu_usage_seconds_total, 5);
      assert.equal(m.fds_open, 0);
      assert.equal(m.fds_process_open, 0, 'no process: none holds any');
    } finally {
      await s.close();
    }
  });

  test('the host: root cgroup cpu.stat and io.stat, procfs for the rest', async () => {
    const s = await v2Sampler();
    try {
      const m = byMetric(await s.sampleTarget({ key: 'host', cgroupPath: '' }));
      assert.deepEqual(m, {
        cpu_usage_seconds_total: 987.654321,
        memory_usage_bytes: (16000000 - 4000000) * 1024,
        memory_working_set_bytes: (16000000 - 10000000) * 1024,
        memory_limit_bytes: 16000000 * 1024,
        memory_oom_kill_events_total: 4,
        pids_current: 456,
        pids_max: 4194304,
        blkio_read_bytes_total: 1000000,
        blkio_write_bytes_total: 2000000,
        blkio_read_ops_total: 100,
        blkio_write_ops_total: 200,
        psi_cpu_some_avg10: 20,
        psi_cpu_full_avg10: 0,
        psi_memory_some_avg10: 0.5,
        psi_memory_full_avg10: 0.25,
        psi_io_some_avg10: 1,
        psi_io_full_avg10: 0.5,
        net_rx_bytes_total: 7000000,
        net_tx_bytes_total: 3000000,
        net_rx_packets_total: 900,
        net_tx_packets_total: 600,
        fds_open: 3456,
      });
    } finally {
      await s.close();
    }
  });

  test('the host without cgroup CPU or io: /proc/stat and whole disks of /proc/diskstats', async () => {
    const s = await Sampler.create({ layout: fixtureLayout({}), procRoot: join(V2, 'proc'), sysBlock: join(V2, 'sys/block') });
    try {
      const m = byMetric(await s.sampleTarget({ key: 'host', cgroupPath: '/' }));
      assert.equal(m.cpu_usage_seconds_total, (10000 + 200 + 3000 + 100) / 100);
      assert.equal(m.blkio_read_bytes_total, 20000 * 512, 'vda only: loop0 has no device, vda1 is a partition');
      assert.equal(m.blkio_write_ops_total, 2000);
    } finally {
      await s.close();
    }
  });

  test('cpu_usage_cores: usage delta over time delta, from the second sample on', async () => {
    const dir = tempCopy(V2);
    const s = await v2Sampler(dir.path);
    try {
      const first = byMetric(await s.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }));
      assert.equal(first.cpu_usage_cores, undefined, 'no rate from one sample');
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(dir.path, 'sys/fs/cgroup/ctr-limited/cpu.stat'), 'usage_usec 2700000\nnr_periods 121\nnr_throttled 30\nthrottled_usec 450000\n');
      const second = byMetric(await s.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }));
      // 0.2 s of CPU in about 0.2 s: one core (the fixture file is read, not the kernel's).
      assert.ok(second.cpu_usage_cores! > 0.5 && second.cpu_usage_cores! < 1.2, `about 1 core, got ${second.cpu_usage_cores}`);
      assert.equal(second.cpu_usage_seconds_total, 2.7);
    } finally {
      await s.close();
      dir.remove();
    }
  });

  test('a vanished cgroup: no samples, vanished, its state forgotten; a missing file re-plans', async () => {
    const dir = tempCopy(V2);
    // Without kept handles: an open handle of a deleted fixture file still reads, where a kernfs one
    // reads ENODEV (the real tree's case is in test/integration/metrics.test.ts).
    const s = await v2Sampler(dir.path, { reuseHandles: false });
    try {
      const cg = join(dir.path, 'sys/fs/cgroup');
      assert.ok((await s.sampleTarget({ key: 'u', cgroupPath: '/ctr-unlimited' })).length > 0);
      // A controller disabled: its files go, the cgroup stays.
      rmSync(join(cg, 'ctr-unlimited/memory.current'));
      const r1 = await s.sample({ key: 'u', cgroupPath: '/ctr-unlimited' });
      assert.equal(r1.vanished, false);
      assert.deepEqual(r1.errors, []);
      const r2 = byMetric((await s.sample({ key: 'u', cgroupPath: '/ctr-unlimited' })).samples);
      assert.equal(r2.memory_usage_bytes, undefined);
      assert.equal(r2.pids_current, 1);
      // The container stops: the cgroup goes.
      rmSync(join(cg, 'ctr-unlimited'), { recursive: true });
      const r3 = await s.sample({ key: 'u', cgroupPath: '/ctr-unlimited' });
      assert.deepEqual(r3, { samples: [], vanished: true, errors: [] });
      assert.deepEqual(s.keys(), []);
      const r4 = await s.sample({ key: 'never', cgroupPath: '/no-such-cgroup' });
      assert.equal(r4.vanished, true);
      // A host file that goes away costs its figures, never the host.
      assert.ok((await s.sampleTarget({ key: 'host', cgroupPath: '' })).some((x) => x.metric === 'pids_current'));
      rmSync(join(dir.path, 'proc/loadavg'));
      const h = await s.sample({ key: 'host', cgroupPath: '' });
      assert.equal(h.vanished, false);
      assert.ok(h.samples.length > 10 && !h.samples.some((x) => x.metric === 'pids_current'));
    } finally {
      await s.close();
      dir.remove();
    }
  });

  test('the process nearest its RLIMIT_NOFILE: limits of the top process and of those holding 64 or more', async () => {
    const dir = tempCopy(V2);
    const s = await v2Sampler(dir.path);
    const proc = (pid: number, fds: number, soft?: number): void => {
      const fd = join(dir.path, 'proc', String(pid), 'fd');
      mkdirSync(fd, { recursive: true });
      for (let i = 0; i < fds; i++) writeFileSync(join(fd, String(i)), '');
      if (soft !== undefined)
        writeFileSync(
          join(dir.path, 'proc', String(pid), 'limits'),
          `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 1048576              files     \n`,
        );
    };
    const t = { key: 'u', cgroupPath: '/ctr-unlimited' };
    try {
      proc(301, 200, 1048576); // the most descriptors, far from its limit
      proc(302, 70, 72); // fewer, but at 97% of a small limit: EMFILE is near
      proc(303, 10, 12); // fuller still, but below the floor: its limit is not read
      writeFileSync(join(dir.path, 'sys/fs/cgroup/ctr-unlimited/cgroup.procs'), '301\n302\n303\n');
      let m = byMetric(await s.sampleTarget(t));
      assert.equal(m.fds_open, 280);
      assert.deepEqual([m.fds_process_open, m.fds_process_limit], [70, 72]);
      rmSync(join(dir.path, 'proc/302/limits'));
      m = byMetric(await s.sampleTarget(t));
      assert.deepEqual([m.fds_process_open, m.fds_process_limit], [200, 1048576], 'of the limits read, the fullest');
      rmSync(join(dir.path, 'proc/301/limits'));
      m = byMetric(await s.sampleTarget(t));
      assert.deepEqual([m.fds_process_open, m.fds_process_limit], [200, undefined], 'no limit known: the one holding the most');
    } finally {
      await s.close();
      dir.remove();
    }
  });

  test('handle reuse: the same figures, kept handles, fewer opens', async () => {
    const reuse = await v2Sampler(V2, { reuseHandles: true });
    const fresh = await v2Sampler(V2, { reuseHandles: false });
    try {
      for (let i = 0; i < 3; i++) {
        const a = await reuse.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }, 1);
        const b = await fresh.sampleTarget({ key: 'c1', cgroupPath: '/ctr-limited' }, 1);
        assert.deepEqual(
          a.filter((x) => x.metric !== 'cpu_usage_cores'),
          b.filter((x) => x.metric !== 'cpu_usage_cores'),
        );
      }
      assert.ok(reuse.reader.stats.handles > 10, `handles kept: ${reuse.reader.stats.handles}`);
      assert.equal(fresh.reader.stats.handles, 0);
      assert.ok(reuse.reader.stats.opens * 2 < fresh.reader.stats.opens, `${reuse.reader.stats.opens} opens vs ${fresh.reader.stats.opens}`);
      reuse.forget('c1');
      assert.equal(reuse.reader.stats.handles, 0, 'forget closes the target handles');
    } finally {
      await reuse.close();
      await fresh.close();
    }
  });
});

describe('cgroup v1 fixture tree', () => {
  const layout = fixtureLayout({
    v1Roots: { cpu: join(V1, 'cpu'), cpuacct: join(V1, 'cpuacct'), memory: join(V1, 'memory'), pids: join(V1, 'pids'), blkio: join(V1, 'blkio') },
  });
  const dir = tempCopy(join(V2, 'proc'));
  after(() => dir.remove());

  test('v1 files, blkio from the _recursive files when the root counts', async () => {
    const s = await Sampler.create({ layout, procRoot: dir.path, v1BlockIo: 'auto' });
    try {
      assert.equal(s.v1BlockIoFromProc, false);
      assert.deepEqual(byMetric(await s.sampleTarget({ key: 'v1', cgroupPath: '/ctr' })), {
        cpu_usage_seconds_total: 1.5,
        cpu_quota_cores: 1.5,
        cpu_periods_total: 40,
        cpu_throttled_periods_total: 10,
        cpu_throttled_seconds_total: 2.5,
        memory_usage_bytes: 50 * MiB,
        memory_working_set_bytes: 42 * MiB, // usage - total_inactive_file
        memory_limit_bytes: 64 * MiB,
        memory_failcnt_total: 12,
        memory_oom_kill_events_total: 1,
        pids_current: 3,
        blkio_read_bytes_total: 1048576 + 4096,
        blkio_write_bytes_total: 2097152,
        blkio_read_ops_total: 257,
        blkio_write_ops_total: 512,
        fds_open: 0,
        fds_process_open: 0,
      });
    } finally {
      await s.close();
    }
  });

  test("v1 block I/O from the processes' /proc/<pid>/io when asked (no operation counts)", async () => {
    const tree = tempCopy(V1);
    try {
      writeFileSync(join(tree.path, 'pids/ctr/cgroup.procs'), '101\n102\n');
      writeFileSync(join(dir.path, '101/io'), 'rchar: 1\nwchar: 1\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n');
      writeFileSync(join(dir.path, '102/io'), 'rchar: 1\nwchar: 1\nsyscr: 1\nsyscw: 1\nread_bytes: 0\nwrite_bytes: 1000\ncancelled_write_bytes: 0\n');
      const l = fixtureLayout({ v1Roots: { pids: join(tree.path, 'pids'), memory: join(tree.path, 'memory'), blkio: join(tree.path, 'blkio') } });
      const s = await Sampler.create({ layout: l, procRoot: dir.path, v1BlockIo: 'proc' });
      try {
        const m = byMetric(await s.sampleTarget({ key: 'v1', cgroupPath: '/ctr' }));
        assert.equal(m.blkio_read_bytes_total, 4096);
        assert.equal(m.blkio_write_bytes_total, 9192);
        assert.equal(m.blkio_read_ops_total, undefined);
        assert.equal(m.fds_open, 6);
        assert.deepEqual([m.fds_process_open, m.fds_process_limit], [4, 1024], 'pid 101 holds the most');
        assert.equal(m.net_rx_bytes_total, 125000);
      } finally {
        await s.close();
      }
    } finally {
      tree.remove();
    }
  });
});
