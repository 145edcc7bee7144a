// Real Prometheus against a real vigild (Debian's prometheus package, a test-only package of `make
// test`): the server scrapes `bin/vigild` every second with the bearer token from the daemon's
// http.token (credentials_file, as deploy/README.md tells operators), and answers PromQL for a runc
// container's memory and pids series; `promtool check metrics` passes on /metrics; the shipped
// alerting rules pass `promtool check rules` and their unit tests, and load and evaluate without
// error in the server; every query of the shipped Grafana dashboard returns data.
// Everything listens on 127.0.0.1, on free ports, with its own config and data dirs.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, stopChild } from '../net.js';
import { runcMissing, startContainer, type Container } from '../runc.js';
import { sleep, Vigild } from '../vigild.js';

const REPO = join(import.meta.dirname, '../../../..');
const RULES = join(REPO, 'deploy/prometheus/vigil-rules.yaml');
const RULE_TESTS = join(REPO, 'deploy/prometheus/vigil-rules.test.yaml');
const DASHBOARD = join(REPO, 'deploy/grafana/vigil.json');
/** Long enough for a loaded 2-core machine; every wait ends as soon as its condition holds. */
const DEADLINE_MS = 180_000;

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

class Prometheus {
  private log = '';
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr!.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
    });
  }

  static async start(config: string): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);
    const listen = `127.0.0.1:${await freePort()}`;
    const child = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const p = new Prometheus(`http://${listen}`, child, dir);
    await p.until('Prometheus ready', async () => ((await fetch(`${p.url}/-/ready`)).ok ? true : undefined), 60_000);
    return p;
  }

  /** An instant PromQL query: the vector, or a failure with Prometheus' error. */
  async query(expr: string): Promise<PromResult[]> {
    const res = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromResult[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    assert.equal(body.data!.resultType, 'vector', expr);
    return body.data!.result;
  }

  async until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = DEADLINE_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      if (this.child.exitCode !== null) assert.fail(`prometheus exited (${this.child.exitCode}) waiting for ${what}:\n${this.log}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (last error: ${String(last)})\n${this.log}`);
      await sleep(500);
    }
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A dashboard query as Grafana would send it, with the test's variable values. */
function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m);
}

describe('Prometheus scrapes vigild', () => {
  let d: Vigild;
  let prom: Prometheus;
  let container: Container;
  const MEMORY_LIMIT = 64 << 20;
  const PIDS_LIMIT = 40;

  before(async () => {
    const why = runcMissing();
    if (why) assert.fail(why);
    // A 1 s sweep: the container's forecasts need 12 points before their first fit.
    d = await Vigild.start('metrics:\n  interval: 1s\n', DEADLINE_MS);
    container = startContainer({ memoryLimit: MEMORY_LIMIT, pidsLimit: PIDS_LIMIT });
    // On loopback vigild serves /metrics without the token; the scrape sends it all the same, as
    // it must off loopback (the Kubernetes pod), so the config below is the one operators use.
    prom = await Prometheus.start(
      [
        'global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:',
        '  - job_name: vigil',
        `    authorization: {type: Bearer, credentials_file: ${JSON.stringify(d.httpTokenFile)}}`,
        `    static_configs: [{targets: [${JSON.stringify(d.http)}]}]`,
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    container?.delete();
    await prom?.stop();
    await d?.stop();
  });

  test('PromQL answers for the runc container memory and pids series, by its container id', async () => {
    const id = container.id;
    const memory = await prom.until('the container memory series', async () => {
      const r = await prom.query(`vigil_container_memory_working_set_bytes{job="vigil",container_id="${id}"}`);
      return r.length > 0 ? r : undefined;
    });
    assert.equal(memory.length, 1);
    assert.ok(Number(memory[0]!.value[1]) > 0, JSON.stringify(memory));
    assert.equal(memory[0]!.metric['container_name'], id, 'runc names a container by its id');
    assert.equal(memory[0]!.metric['container_runtime'], 'runc');
    assert.equal(memory[0]!.metric['namespace'], undefined, 'no label that the Prometheus operator sets on targets');
    const limit = await prom.query(`vigil_container_memory_limit_bytes{container_id="${id}"}`);
    assert.equal(Number(limit[0]?.value[1]), MEMORY_LIMIT);
    const pids = await prom.until('the container pids series', async () => {
      const r = await prom.query(`vigil_container_pids_current{container_id="${id}"}`);
      return r.length > 0 ? r : undefined;
    });
    assert.ok(Number(pids[0]!.value[1]) >= 1, JSON.stringify(pids));
    // A ratio across two families: the label sets match one to one, as the alerting rules need.
    const used = await prom.query(`vigil_container_pids_current{container_id="${id}"} / vigil_container_pids_max{container_id="${id}"}`);
    assert.equal(used.length, 1);
    assert.ok(Number(used[0]!.value[1]) > 0 && Number(used[0]!.value[1]) <= 1);
    const up = await prom.query('up{job="vigil"}');
    assert.equal(up[0]?.value[1], '1');
  });

  test('promtool check metrics passes on /metrics', async () => {
    const token = readFileSync(d.httpTokenFile, 'utf8').trim();
    const text = await (await fetch(`http://${d.http}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.match(text, /^vigil_build_info\{version="[^"]+",commit="[^"]+",api="vigil\.v1"\} 1$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
    // The process table's evictions by reason: a flood's dead processes go before live ones (tuning.md, Under load).
    for (const reason of ['exited', 'exited_early', 'lru'])
      assert.match(text, new RegExp(`^vigil_process_cache_evictions_total\\{reason="${reason}"\\} \\d+$`, 'm'));
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
    assert.equal((r.stdout + r.stderr).trim(), '');
  });

  test('the alerting rules pass promtool check and their unit tests, and evaluate in the server', async () => {
    const cases: Array<[string, string[]]> = [
      ['check rules', ['check', 'rules', RULES]],
      ['test rules', ['test', 'rules', RULE_TESTS]],
    ];
    for (const [what, args] of cases) {
      const r = spawnSync('promtool', args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool ${what}:\n${r.stdout}${r.stderr}`);
    }
    // Loaded by the server and evaluated against vigild's real series: no rule errs.
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = await prom.until('every rule evaluated', async () => {
      const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Rule[] }> } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001-')) ? all : undefined;
    });
    // Every alert of the file is loaded (none dropped by the server).
    assert.equal(rules.length, [...readFileSync(RULES, 'utf8').matchAll(/^\s+- alert: /gm)].length);
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  });

  test('every query of the Grafana dashboard returns data', async () => {
    // An alert in the container, so the alerts panel has a series.
    const run = container.exec(['sh', '-c', 'mkdir -p /etc; echo x > /etc/shadow; cat /etc/shadow']);
    assert.equal(run.status, 0, run.stderr);
    // A subscriber, so the subscriber drops target has one (at 0).
    const tail = await d.tail();
    try {
      const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
        panels: Array<{ title: string; type: string; targets?: Array<{ expr: string; refId: string }> }>;
      };
      const vars = { job: 'vigil', instance: '.*', container: container.id, __rate_interval: '30s' };
      const queries = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ what: `${p.title} ${t.refId}`, expr: substitute(t.expr, vars) })));
      assert.ok(queries.length >= 13, `${queries.length} queries`);
      for (const q of queries) {
        assert.doesNotMatch(q.expr, /\$/, `${q.what}: a variable left unsubstituted`);
        await prom.until(`data for "${q.what}": ${q.expr}`, async () => ((await prom.query(q.expr)).length > 0 ? true : undefined));
      }
    } finally {
      await tail.stop();
    }
  });
});
