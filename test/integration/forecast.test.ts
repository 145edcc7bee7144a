// Early warnings on real runc containers (test/runc.ts): the collector samples every 500 ms into the
// series store and the forecast engine (observe()), which refreshes every second with its real worker
// thread. A slow memory leak under a memory limit is warned about before its OOM kill; a process-count
// ramp before pids.max; a flat noisy container gets no warning. Every container made here is removed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { RuleMatch } from '../../daemon/detect/types.js';
import { ForecastEngine } from '../../daemon/forecast/engine.js';
import { MetricsCollector } from '../../daemon/metrics/collector.js';
import { Sampler, type MetricsTarget } from '../../daemon/metrics/sampler.js';
import { SeriesStore } from '../../daemon/metrics/series.js';
import type { Sample } from '../../daemon/metrics/types.js';
import { Store } from '../../daemon/store/store.js';
import { runcMissing, startContainer, type Container } from '../runc.js';

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('forecast early warnings on real containers', () => {
  const containers: Container[] = [];
  let dir: string;
  let store: Store;
  let series: SeriesStore;
  let sampler: Sampler;

  before(async () => {
    const missing = runcMissing();
    if (missing) throw new Error(`forecast integration tests need runc: ${missing}`);
    dir = mkdtempSync(join(tmpdir(), 'vigil-forecast-'));
    store = await Store.open({ dir });
    series = await SeriesStore.open(store, { sweepIntervalMs: 0 });
    sampler = await Sampler.create({});
  });
  after(async () => {
    for (const c of containers) c.delete();
    await sampler?.close();
    await series?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('memory leak -> warned before the OOM kill; pids ramp -> warned before pids.max; flat noise -> none', { timeout: 120_000 }, async () => {
    const leak = startContainer({
      memoryLimit: 48 * MiB,
      args: ['sh', '-c', 'x=; while :; do x="$x$(head -c 300000 /dev/zero | tr "\\0" a)"; sleep 0.2; done'],
    });
    containers.push(leak);
    const ramp = startContainer({ pidsLimit: 40, args: ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do sleep 600 & i=$((i+1)); sleep 0.5; done; wait'] });
    containers.push(ramp);
    const flat = startContainer({
      memoryLimit: 64 * MiB,
      pidsLimit: 50,
      args: ['sh', '-c', 'while :; do x=$(head -c $((RANDOM * 20)) /dev/zero | tr "\\0" a); sleep 0.3; done'],
    });
    containers.push(flat);
    const names = new Map([
      [leak.id, 'leak'],
      [ramp.id, 'ramp'],
      [flat.id, 'flat'],
    ]);
    const targets: MetricsTarget[] = [leak, ramp, flat].map((c) => ({ key: c.id, cgroupPath: c.cgroupPath, pids: [c.pid] }));

    const matches: RuleMatch[] = [];
    const engine = new ForecastEngine({ series, store, onMatch: (m) => matches.push(m), intervalMs: 1000 });
    let oomAt: number | undefined;
    let pidsFullAt: number | undefined;
    let leakLastSeen = 0;
    const collector = new MetricsCollector({
      sampler,
      targets: () => targets,
      host: false,
      intervalMs: 500,
      sink: (samples: Sample[]) => {
        for (const s of samples) {
          if (s.target === leak.id) leakLastSeen = s.time;
          if (s.target === leak.id && s.metric === 'memory_oom_kill_events_total' && s.value >= 1) oomAt ??= s.time;
          if (s.target === ramp.id && s.metric === 'pids_current' && s.value >= 40) pidsFullAt ??= s.time;
        }
        engine.observe(samples);
        void series.write(samples);
      },
    });
    collector.start();
    engine.start();
    const warned = (id: string, rule: string): RuleMatch | undefined => matches.find((m) => m.container.id === id && m.rule.name === rule && m.active === true);
    const t0 = Date.now();
    try {
      while (Date.now() - t0 < 90_000) {
        await sleep(500);
        // The leak is dead when it was OOM-killed or its cgroup went (init killed, no samples for 2 s).
        const leakDone = oomAt !== undefined || (leakLastSeen > 0 && Date.now() - leakLastSeen > 2000);
        if (leakDone && pidsFullAt !== undefined && Date.now() - t0 > 30_000) break;
      }
    } finally {
      await collector.stop();
      await engine.stop();
    }
    const oom = oomAt ?? (leakLastSeen > 0 ? leakLastSeen : undefined);
    const summary = matches.map((m) => `${names.get(m.container.id) ?? m.container.id} ${m.rule.name} ${m.rule.severity} ${m.active} ${m.message}`).join('\n');
    assert.ok(oom !== undefined, `the leak was never OOM-killed\n${summary}`);
    const mw = warned(leak.id, 'Memory exhaustion forecast');
    assert.ok(mw, `no memory warning for the leak\n${summary}`);
    assert.ok(mw.time < oom, `memory warning ${mw.time - oom} ms after the OOM kill`);
    assert.match(mw.message, /^memory of container .* will reach its limit in about .* \(95% interval .* to .*\)/);
    assert.ok(mw.metric!.values['memory_limit_bytes'] === 48 * MiB);

    assert.ok(pidsFullAt !== undefined, `the ramp never reached pids.max\n${summary}`);
    const pw = warned(ramp.id, 'Process count exhaustion forecast');
    assert.ok(pw, `no pids warning for the ramp\n${summary}`);
    assert.ok(pw.time < pidsFullAt, `pids warning ${pw.time - pidsFullAt} ms after pids.max`);

    const fw = matches.filter((m) => m.container.id === flat.id && m.rule.kind === 'metric');
    assert.deepEqual(fw.map((m) => m.message), [], 'the flat noisy container is warned about');
    // The forecasts are stored and served.
    const f = await engine.get(leak.id, 'memory_working_set_bytes');
    assert.ok(f && f.points.length > 0);
    const stats = engine.stats();
    assert.ok(stats.rounds >= 10 && stats.worker.failed === 0, JSON.stringify(stats));
    console.log(`leak warned ${((oom - mw.time) / 1000).toFixed(1)} s before the OOM kill (${mw.rule.severity}); ramp warned ${((pidsFullAt - pw.time) / 1000).toFixed(1)} s before pids.max (${pw.rule.severity})`);
  });
});
