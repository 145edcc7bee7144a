// Early warnings on real runc containers (test/runc.ts): the collector samples every 500 ms into the
// series store and the forecast engine (observe()), which refreshes every second with its real worker
// thread. A slow memory leak under a memory limit is warned about before its OOM kill; a process-count
// ramp before pids.max; a flat noisy container gets no warning. The warnings go through the daemon's
// real alert manager and store to a real gRPC server (unix socket), where a client subscribed to
// Events.Subscribe receives them with the forecast that justified them. Every container made here is
// removed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';

import type { Alert__Output } from '../../proto/gen/vigil/v1/Alert.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import { AlertManager } from '../../daemon/alerts/manager.js';
import { AlertStore } from '../../daemon/alerts/store.js';
import { GrpcApi } from '../../daemon/api/grpc.js';
import { clientConstructors } from '../../daemon/api/proto.js';
import type { DaemonServices } from '../../daemon/api/services.js';
import type { RuleMatch } from '../../daemon/detect/rule-match.js';
import { ForecastEngine } from '../../daemon/forecast/engine.js';
import { silentLogger } from '../../daemon/core/log.js';
import { MetricsCollector } from '../../daemon/metrics/collector.js';
import { Sampler, type MetricsTarget } from '../../daemon/metrics/sampler.js';
import { SeriesStore } from '../../daemon/metrics/series.js';
import type { Sample } from '../../daemon/core/metric-names.js';
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
  let alerts: AlertManager;
  let alertStore: AlertStore;
  let api: GrpcApi;
  let events: EventsClient;

  before(async () => {
    const missing = runcMissing();
    if (missing) throw new Error(`forecast integration tests need runc: ${missing}`);
    dir = mkdtempSync(join(tmpdir(), 'vigil-forecast-'));
    store = await Store.open({ dir });
    series = await SeriesStore.open(store, { sweepIntervalMs: 0 });
    sampler = await Sampler.create({});
    alertStore = await AlertStore.open(store, { sweepIntervalMs: 0 });
    alerts = new AlertManager({ store: alertStore, summaryIntervalMs: 0 });
    await alerts.start();
    const unused = (): never => {
      throw new Error('not served by this test');
    };
    const services: DaemonServices = {
      alerts: {
        list: (f, p) => alerts.list(f, p),
        get: (id) => alerts.get(id),
        acknowledge: (id, w, c) => alerts.acknowledge(id, w, c),
        resolve: (id, w, c) => alerts.resolve(id, w, c),
        since: (s, l) => alerts.since(s, l),
        onAlert: (fn) => alerts.onAlert(fn),
        lastSeq: () => alertStore.seq,
        stored: () => alertStore.stats().count,
      },
      containers: { list: () => [], host: unused },
      targets: { addBatch: unused, removeBatch: unused, list: () => [] },
      metrics: { query: (t, m, f, to, st) => series.query(t, m, f, to, st) },
      rules: { list: () => [], validate: unused, reload: unused },
      status: { version: 'test', startedAt: Date.now(), source: () => 'none', probes: () => [], sensorStats: () => undefined },
    };
    api = await GrpcApi.start({ socket: join(dir, 'vigil.sock'), services, logger: silentLogger() });
    const Events = clientConstructors()['Events']!;
    events = new Events(`unix:${join(dir, 'vigil.sock')}`, grpc.credentials.createInsecure()) as unknown as EventsClient;
  });
  after(async () => {
    for (const c of containers) c.delete();
    events?.close();
    await api?.close();
    await alerts?.stop();
    await sampler?.close();
    await series?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('memory leak -> warned before the OOM kill; pids ramp -> warned before pids.max; flat noise -> none', { timeout: 150_000 }, async () => {
    // Both reach their limit in about 45 s from the container's start. The engine trusts a trend seen
    // for T at most T/2 ahead (engine.ts, TREND_CONFIDENCE), so a leak that lives 20 s could be warned
    // 7 s ahead at best; these leave room for a few refreshes. The shell copies its string on each
    // append, so the leak's memory peaks at twice its level: the OOM kill comes at half the limit
    // by the level, which the forecast's peak ratio accounts for.
    const leak = startContainer({
      memoryLimit: 48 * MiB,
      args: ['sh', '-c', 'x=; while :; do x="$x$(head -c 120000 /dev/zero | tr "\\0" a)"; sleep 0.2; done'],
    });
    containers.push(leak);
    const ramp = startContainer({ pidsLimit: 40, args: ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do sleep 600 & i=$((i+1)); sleep 1; done; wait'] });
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

    // Warnings as a client of the API receives them: every alert version, with the time it arrived.
    const received: Array<{ alert: Alert__Output; at: number }> = [];
    const stream = events.Subscribe({ include_alerts: true, allow: [{ container_ids: [leak.id, ramp.id, flat.id] }] });
    stream.on('data', (m: SubscribeResponse__Output) => {
      if (m.message === 'alert' && m.alert) received.push({ alert: m.alert, at: Date.now() });
    });
    stream.on('error', () => undefined); // cancelled at the end
    await new Promise<void>((resolve, reject) => {
      stream.once('metadata', () => resolve());
      stream.once('error', reject);
    });

    const matches: RuleMatch[] = [];
    const engine = new ForecastEngine({
      series,
      store,
      onMatch: (m) => {
        matches.push(m);
        alerts.submit(m);
      },
      intervalMs: 1000,
    });
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
      while (Date.now() - t0 < 100_000) {
        await sleep(500);
        // The leak is dead when it was OOM-killed or its cgroup went (init killed, no samples for 2 s).
        const leakDone = oomAt !== undefined || (leakLastSeen > 0 && Date.now() - leakLastSeen > 2000);
        if (leakDone && pidsFullAt !== undefined && Date.now() - t0 > 30_000) break;
      }
    } finally {
      await collector.stop();
      await engine.stop();
      await alerts.flush();
      await sleep(200); // the last published versions reach the stream
      stream.cancel();
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
    assert.deepEqual(
      fw.map((m) => m.message),
      [],
      'the flat noisy container is warned about',
    );
    // The forecasts are stored and served.
    const f = await engine.get(leak.id, 'memory_working_set_bytes');
    assert.ok(f && f.points.length > 0);
    const stats = engine.stats();
    assert.ok(stats.rounds >= 10 && stats.worker.failed === 0, JSON.stringify(stats));

    // Over gRPC: each warning alert carries its forecast: the opening version's crossing is still in
    // the future when the client gets it and its model is the one the message names, every point lies
    // inside its interval, and a dedup'ed update carries a newer forecast than the version before.
    const got = (id: string, rule: string): Array<{ alert: Alert__Output; at: number }> =>
      received.filter((r) => r.alert.container?.id === id && r.alert.rule === rule && r.alert.state === 'ALERT_STATE_OPEN');
    const memAlerts = got(leak.id, 'Memory exhaustion forecast');
    const pidAlerts = got(ramp.id, 'Process count exhaustion forecast');
    assert.ok(memAlerts.length > 0, `no memory warning alert over gRPC (${received.length} alerts received)`);
    assert.ok(pidAlerts.length > 0, `no pids warning alert over gRPC (${received.length} alerts received)`);
    assert.ok(memAlerts[0]!.at < oom, `the memory warning reached the client ${memAlerts[0]!.at - oom} ms after the OOM kill`);
    for (const versions of [memAlerts, pidAlerts]) {
      const first = versions[0]!;
      const at0 = Number(first.alert.forecast?.exhaustion?.at_ms);
      assert.ok(at0 > first.at, `crossing ${at0 - first.at} ms before the client got the warning (${first.alert.message})`);
      for (const { alert: a } of versions) {
        const f = a.forecast;
        assert.ok(f, `alert ${a.id} (${a.rule}) without its forecast`);
        assert.equal(f.target, a.container!.id);
        assert.ok(f.exhaustion?.at_ms != null, `no crossing in ${JSON.stringify(f.exhaustion)}`);
        const at = Number(f.exhaustion.at_ms);
        assert.ok(at >= Number(f.last_observed_ms), 'crossing before the last observation');
        assert.equal(at, a.metric!.values['forecast_at_ms']);
        assert.ok(f.points.length > 0 && f.points.length <= 120, `${f.points.length} points`);
        for (const p of f.points) assert.ok(p.lower <= p.value && p.value <= p.upper, `point ${JSON.stringify(p)}`);
        assert.ok(['FORECAST_MODEL_LINEAR', 'FORECAST_MODEL_ETS', 'FORECAST_MODEL_MSTL', 'FORECAST_MODEL_PROPHET'].includes(f.model), f.model);
      }
      // The message is the opening match's (dedup keeps it): it names the model of the first forecast.
      const model = first.alert.forecast!.model.replace('FORECAST_MODEL_', '').toLowerCase();
      assert.ok(first.alert.message.endsWith(`model ${model}`) || first.alert.message.includes(`forecast (${model})`), `${model} but: ${first.alert.message}`);
      for (let i = 1; i < versions.length; i++) {
        assert.ok(
          Number(versions[i]!.alert.forecast!.computed_at_ms) > Number(versions[i - 1]!.alert.forecast!.computed_at_ms),
          'an update kept the old forecast',
        );
      }
    }
    const mf = memAlerts[0]!.alert.forecast!;
    assert.equal(mf.metric, 'memory_working_set_bytes');
    assert.equal(mf.exhaustion!.limit_metric, 'memory_limit_bytes');
    assert.equal(mf.exhaustion!.limit, 48 * MiB);
    // The leak's samples catch its transient copies: the crossing allows for those peaks.
    assert.ok(Number(mf.exhaustion!.peak_ratio) > 1.1, `peak ratio ${mf.exhaustion!.peak_ratio}`);
    assert.equal(pidAlerts[0]!.alert.forecast!.exhaustion!.limit, 40);
    console.log(
      `leak warned ${((oom - mw.time) / 1000).toFixed(1)} s before the OOM kill (${mw.rule.severity}); ramp warned ${((pidsFullAt - pw.time) / 1000).toFixed(1)} s before pids.max (${pw.rule.severity})`,
    );
  });
});
