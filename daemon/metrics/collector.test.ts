// The collector over a fake sampler: the host first, bounded concurrency, vanished and failing
// targets counted (not fatal), forgotten targets, no overlapping sweeps, the timer, warn logs
// through a pino destination.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';

import { createLogger } from '../core/log.js';
import { MetricsCollector, type SweepStats } from './collector.js';
import type { MetricsTarget, TargetResult } from './sampler.js';
import type { Sample } from '../core/metric-names.js';

class FakeSampler {
  inFlight = 0;
  maxInFlight = 0;
  calls: string[] = [];
  forgotten: string[] = [];
  known = new Set<string>();
  delayMs = 5;
  behaviour = new Map<string, 'vanish' | 'throw' | 'partial'>();

  async sample(t: MetricsTarget, now = Date.now()): Promise<TargetResult> {
    this.calls.push(t.key);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight--;
    const b = this.behaviour.get(t.key);
    if (b === 'throw') throw new Error(`boom ${t.key}`);
    if (b === 'vanish') return { samples: [], vanished: true, errors: [] };
    this.known.add(t.key);
    const s: Sample = { target: t.key, metric: 'pids_current', time: now, value: 1 };
    return { samples: [s], vanished: false, errors: b === 'partial' ? [new Error('EACCES: memory.stat')] : [] };
  }
  forget(key: string): void {
    this.forgotten.push(key);
    this.known.delete(key);
  }
  keys(): string[] {
    return [...this.known];
  }
}

function logSink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

const targets = (n: number): MetricsTarget[] => Array.from({ length: n }, (_, i) => ({ key: `c${i}`, cgroupPath: `/c${i}` }));

describe('MetricsCollector', () => {
  test('one sweep: host then targets, at most `concurrency` at once, stats and samples to the sink', async () => {
    const fake = new FakeSampler();
    const got: { samples: Sample[]; stats: SweepStats }[] = [];
    const c = new MetricsCollector({ sampler: fake, targets: () => targets(20), sink: (samples, stats) => got.push({ samples, stats }), concurrency: 3 });
    const stats = await c.sweep();
    assert.equal(fake.calls[0], 'host');
    assert.equal(fake.calls.length, 21);
    assert.equal(fake.maxInFlight, 3);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.samples.length, 21);
    assert.ok(
      got[0]!.samples.every((s) => s.time === stats.startedAt),
      'one time per sweep',
    );
    assert.deepEqual(
      { targets: stats.targets, sampled: stats.sampled, vanished: stats.vanished, errors: stats.errors, samples: stats.samples },
      { targets: 21, sampled: 21, vanished: 0, errors: 0, samples: 21 },
    );
    assert.ok(stats.durationMs > 0 && stats.cpuMs >= 0);
    assert.deepEqual(c.lastSweep, stats);
  });

  test('vanished targets are counted and debug-logged; failures counted and warned once a minute', async () => {
    const fake = new FakeSampler();
    fake.behaviour.set('c1', 'vanish').set('c2', 'throw').set('c3', 'partial');
    const log = logSink();
    const c = new MetricsCollector({
      sampler: fake,
      targets: () => targets(4),
      sink: () => {},
      host: false,
      logger: createLogger({ destination: log.stream, level: 'debug' }),
    });
    const s1 = await c.sweep();
    assert.deepEqual([s1.sampled, s1.vanished, s1.errors, s1.samples], [2, 1, 2, 2]);
    await c.sweep();
    assert.deepEqual(c.totals, { sweeps: 2, overruns: 0, vanished: 2, errors: 4, samples: 4 });
    const warns = log.lines.filter((l) => l.level === 40);
    assert.deepEqual(warns.map((w) => w.target).sort(), ['c2', 'c3'], 'one warning per failing target in a minute');
    assert.ok(
      log.lines.some((l) => l.level === 20 && l.target === 'c1'),
      'vanished at debug',
    );
  });

  test('targets no longer listed are forgotten', async () => {
    const fake = new FakeSampler();
    let list = targets(3);
    const c = new MetricsCollector({ sampler: fake, targets: () => list, sink: () => {}, host: false });
    await c.sweep();
    list = list.slice(1);
    await c.sweep();
    assert.deepEqual(fake.forgotten, ['c0']);
  });

  test('a throwing sink does not stop the collector', async () => {
    const fake = new FakeSampler();
    let n = 0;
    const c = new MetricsCollector({
      sampler: fake,
      targets: () => [],
      sink: () => {
        n++;
        throw new Error('full');
      },
    });
    await c.sweep();
    await c.sweep();
    assert.equal(n, 2);
  });

  test('start/stop: sweeps every interval, never two at once (a slow sweep skips a tick)', async () => {
    const fake = new FakeSampler();
    fake.delayMs = 70;
    const sweeps: SweepStats[] = [];
    const c = new MetricsCollector({ sampler: fake, targets: () => targets(1), sink: (_s, st) => sweeps.push(st), intervalMs: 50, concurrency: 1 });
    c.start();
    assert.ok(c.started);
    await new Promise((r) => setTimeout(r, 400));
    await c.stop();
    assert.ok(!c.started);
    const n = sweeps.length;
    assert.ok(n >= 2, `swept ${n} times`);
    assert.ok(c.totals.overruns >= 1, 'a sweep longer than the interval skips the next tick');
    assert.equal(fake.maxInFlight, 1, 'never two sweeps at once');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sweeps.length, n, 'no sweep after stop');
  });

  test('default interval 5 s; a bad interval is refused', () => {
    const c = new MetricsCollector({ sampler: new FakeSampler(), targets: () => [], sink: () => {} });
    assert.equal(c.intervalMs, 5000);
    assert.throws(() => new MetricsCollector({ sampler: new FakeSampler(), targets: () => [], sink: () => {}, intervalMs: 0 }), RangeError);
  });
});
