// The daemon as an operator runs it: `bin/vigild` with a data dir and an HTTP port, a real runc
// container, /metrics answering with that container's live metrics (labelled with its identity),
// and the store returning its series after the daemon stopped and started again.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SeriesStore } from '../../daemon/metrics/series.js';
import { Store } from '../../daemon/store/store.js';
import { runcMissing, startContainer, type Container } from '../runc.js';

const REPO = join(import.meta.dirname, '../../../..');
const VIGILD = join(REPO, 'bin/vigild');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Running {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startDaemon(args: string[]): Running {
  const child = spawn(VIGILD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

async function waitFor<T>(what: string, d: Running, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (d.child.exitCode !== null) assert.fail(`vigild exited (${d.child.exitCode}) while waiting for ${what}:\n${d.log()}`);
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${d.log().slice(-4000)}`);
    await sleep(250);
  }
}

async function stopDaemon(d: Running): Promise<number | null> {
  d.child.kill('SIGTERM');
  return d.exited;
}

describe('vigild run', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-daemon-'));
  const port = 19000 + (process.pid % 1000);
  const args = ['--data-dir', dataDir, '--http', `127.0.0.1:${port}`, '--api-socket', join(dataDir, 'vigil.sock'), '--log-level', 'info'];
  let container: Container;

  before(() => {
    const why = runcMissing();
    if (why) assert.fail(why);
    container = startContainer({
      memoryLimit: 64 << 20,
      pidsLimit: 50,
      annotations: { 'io.kubernetes.pod.name': 'api-7f9c', 'io.kubernetes.pod.namespace': 'prod' },
    });
  });
  after(() => {
    container?.delete();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('serves /metrics with the container labelled by identity, then keeps its series across a restart', async () => {
    const d = startDaemon(args);
    try {
      const line = await waitFor('the container on /metrics', d, async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return text.split('\n').find((l) => l.startsWith('vigil_container_memory_usage_bytes{') && l.includes(`container_id="${container.id}"`));
      });
      // prefixed: `namespace` and `pod` are the Prometheus operator's target labels (docs/metrics.md)
      assert.match(line, /[{,]container_pod="api-7f9c"/);
      assert.match(line, /[{,]container_namespace="prod"/);
      assert.match(line, /[{,]container_runtime="runc"/);
      assert.doesNotMatch(line, /[{,](pod|namespace)=/);
      assert.ok(Number(line.split(' ').pop()) > 0, line);

      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const limit = text.split('\n').find((l) => l.startsWith('vigil_container_memory_limit_bytes{') && l.includes(container.id));
      assert.equal(Number(limit?.split(' ').pop()), 64 << 20);
      assert.ok(text.split('\n').some((l) => l.startsWith(`vigil_container_pids_max{`) && l.includes(container.id) && l.endsWith(' 50')));
      assert.match(text, /^vigil_host_memory_usage_bytes \d+/m);
      assert.match(text, /^vigil_events_total\{kind="exec"\} \d+/m);
      assert.match(text, /^# TYPE vigil_events_dropped_total counter$/m);
      assert.match(text, /^vigil_events_shed_total\{kind="file"\} \d+$/m);
      assert.match(text, /^vigil_events_coalesced_total\{kind="file"\} \d+$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m);

      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { ok: boolean };
      assert.equal(health.ok, true);
      assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
      // Two sweeps (5 s apart) so the store holds more than one point.
      await sleep(6000);
    } finally {
      assert.equal(await stopDaemon(d), 0, d.log().slice(-4000));
    }

    // The daemon flushed and closed the store on SIGTERM: the series is there for a reader.
    const store = await Store.open({ dir: join(dataDir, 'data') });
    try {
      const series = await SeriesStore.open(store, { sweepIntervalMs: 0 });
      const r = await series.query(container.id, 'memory_usage_bytes', Date.now() - 3600e3, Date.now());
      assert.ok(r.points.length >= 2, `points stored: ${JSON.stringify(r).slice(0, 300)}`);
      await series.close();
    } finally {
      await store.close();
    }

    // A second start on the same data dir keeps the targets (no re-seeding) and the old points.
    const d2 = startDaemon(args);
    try {
      await waitFor('the restarted daemon', d2, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
    } finally {
      assert.equal(await stopDaemon(d2), 0, d2.log().slice(-4000));
    }
  });

  test('a second daemon on the same data dir fails with one clear line, and a bad config names file:line:column', async () => {
    const first = startDaemon(args);
    try {
      await waitFor('the first daemon', first, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
      const second = startDaemon(['--data-dir', dataDir, '--http', `127.0.0.1:${port + 1}`, '--api-socket', join(dataDir, 'second.sock')]);
      assert.equal(await second.exited, 1);
      assert.match(second.log(), /VIGIL_STORE_LOCKED/);
    } finally {
      await stopDaemon(first);
    }
    const cfgDir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(cfgDir, 'bad.yaml'), 'metrics:\n  interval: often\n');
      const bad = startDaemon(['--config', join(cfgDir, 'bad.yaml'), '--data-dir', dataDir, '--api-socket', join(cfgDir, 'bad.sock')]);
      assert.equal(await bad.exited, 1);
      assert.match(bad.log(), /bad\.yaml:2:13: metrics\.interval must be a duration/);
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });

  test("a target's metrics and rules lists narrow what is stored and alerted; the HTTP API is the daemon's own (token file made 0600)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-scope-'));
    const c = startContainer({ memoryLimit: 64 << 20 });
    const p = port + 2;
    writeFileSync(join(dir, 'vigild.yaml'), 'default_targets: [host]\nmetrics:\n  interval: 1s\n');
    const d = startDaemon(['--config', join(dir, 'vigild.yaml'), '--data-dir', dir, '--http', `127.0.0.1:${p}`, '--api-socket', join(dir, 'vigil.sock')]);
    try {
      const api = `http://127.0.0.1:${p}/api/v1`;
      await waitFor('the daemon', d, async () => ((await fetch(`http://127.0.0.1:${p}/healthz`)).ok ? true : undefined));
      assert.equal(statSync(join(dir, 'http.token')).mode & 0o777, 0o600);
      const auth = { authorization: `Bearer ${readFileSync(join(dir, 'http.token'), 'utf8').trim()}`, 'content-type': 'application/json' };
      assert.equal((await fetch(`${api}/containers`)).status, 401);
      const add = await fetch(`${api}/targets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          targets: [{ selector: `id:${c.id}`, metrics: ['memory_working_set_bytes', 'memory_limit_bytes'], rules: ['Read of SSH keys in container'] }],
        }),
      });
      assert.equal(add.status, 200, await add.clone().text());
      type Summary = { info: { ref: { id: string } }; monitored: boolean; latest: Record<string, number> };
      const mine = await waitFor('the container sampled', d, async () => {
        const list = (await (await fetch(`${api}/containers`, { headers: auth })).json()) as { containers: Summary[] };
        const s = list.containers.find((x) => x.info.ref.id === c.id);
        return s && s.latest['memory_working_set_bytes'] !== undefined ? s : undefined;
      });
      assert.equal(mine.monitored, true);
      assert.deepEqual(Object.keys(mine.latest).sort(), ['memory_limit_bytes', 'memory_working_set_bytes']);
      assert.equal(mine.latest['memory_limit_bytes'], 64 << 20);

      c.exec(['sh', '-c', 'echo root:x:0:0 > /etc/shadow; cat /etc/shadow; mkdir -p /root/.ssh; echo key > /root/.ssh/id_rsa; cat /root/.ssh/id_rsa'], {
        timeoutMs: 10000,
      });
      const alerts = await waitFor('the SSH key alert', d, async () => {
        const r = (await (await fetch(`${api}/alerts?container=${c.id}`, { headers: auth })).json()) as { alerts: Array<{ rule: string }> };
        return r.alerts.some((a) => a.rule === 'Read of SSH keys in container') ? r.alerts : undefined;
      });
      // The shadow read matched its rule too, but this container's target lists only the SSH rule.
      assert.deepEqual(
        alerts.map((a) => a.rule),
        ['Read of SSH keys in container'],
      );
      const metrics = await (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
      assert.match(metrics, /^vigil_matches_out_of_scope_total [1-9]/m);
    } finally {
      assert.equal(await stopDaemon(d), 0, d.log().slice(-4000));
      c.delete();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // rules.hosts: Falco's API-server rule names the server by its cluster DNS name, which this host
  // does not resolve; the config gives the name an address and the daemon's rule matches it.
  test("rules.hosts: Falco's K8S API rule fires on a connect to the address the config gives the API server's name", async () => {
    const falco = join(REPO, '..', 'shared', 'falco', 'falco_rules.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-hosts-'));
    const c = startContainer({});
    const p = port + 3;
    writeFileSync(
      join(dir, 'vigild.yaml'),
      [
        'default_targets: [all]',
        'sensor:',
        '  connect_inet: true',
        'rules:',
        `  dirs: [ ${JSON.stringify(falco)} ]`,
        '  hosts: { kubernetes.default.svc.cluster.local: [ 10.96.0.1 ] }',
      ].join('\n'),
    );
    const d = startDaemon(['--config', join(dir, 'vigild.yaml'), '--data-dir', dir, '--http', `127.0.0.1:${p}`, '--api-socket', join(dir, 'vigil.sock')]);
    try {
      const api = `http://127.0.0.1:${p}/api/v1`;
      await waitFor('the daemon', d, async () => ((await fetch(`http://127.0.0.1:${p}/healthz`)).ok ? true : undefined));
      const auth = { authorization: `Bearer ${readFileSync(join(dir, 'http.token'), 'utf8').trim()}` };
      // No route to 10.96.0.1 in the container: the connect fails, and the rule asks no result of it.
      const alert = await waitFor('the K8S API alert', d, async () => {
        c.exec(['sh', '-c', 'nc -w 1 10.96.0.1 443; true'], { timeoutMs: 10000 });
        const r = (await (await fetch(`${api}/alerts?container=${c.id}`, { headers: auth })).json()) as { alerts: Array<{ rule: string; severity: string }> };
        return r.alerts.find((a) => a.rule === 'Contact K8S API Server From Container');
      });
      assert.equal(alert.severity, 'SEVERITY_NOTICE');
    } finally {
      assert.equal(await stopDaemon(d), 0, d.log().slice(-4000));
      c.delete();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
