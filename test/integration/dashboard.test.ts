// The web dashboard end to end: a real `bin/vigild` (temp data dir, its gRPC unix socket, HTTP on a
// free loopback port with a bearer token, sampling every 500 ms) serving the built app (dist/web),
// real runc containers, and Debian's chromium driven by playwright-core. The overview lists the
// containers; a token-less visit gets the token prompt; a shadow read inside a container reaches the
// live feed within seconds (and a feed filtered to critical alerts does not show it); acknowledging
// it in the alert page changes its state in the daemon (read back over gRPC); a memory ramp under a
// limit gets its charts and a forecast band; a targets batch with a bad selector fails whole and a
// good one is added and removed. Screenshots of every page go to artifacts/screenshots/.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Alert__Output } from '../../proto/gen/vigil/v1/Alert.js';
import type { AlertsClient } from '../../proto/gen/vigil/v1/Alerts.js';
import type { ListTargetsResponse__Output } from '../../proto/gen/vigil/v1/ListTargetsResponse.js';
import type { TargetsClient } from '../../proto/gen/vigil/v1/Targets.js';
import { clientConstructors } from '../../daemon/api/proto.js';
import { execAsync, runcMissing, startContainer, type Container } from '../runc.js';
import { freePort, stopChild, unaryCall } from '../net.js';

const REPO = join(import.meta.dirname, '../../../..');
const VIGILD = join(REPO, 'bin/vigild');
const WEB_INDEX = join(REPO, 'dist/web/index.html');
const SHOTS = join(REPO, 'artifacts/screenshots');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token-0123456789abcdef';
const SHADOW_RULE = 'Read of shadow file in container';
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('web dashboard in headless chromium against a real vigild', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-web-'));
  const sock = join(dir, 'vigil.sock');
  let base = '';
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let browser: Browser | undefined;
  let ctx: BrowserContext | undefined;
  let alertsClient: AlertsClient | undefined;
  let targetsClient: TargetsClient | undefined;
  const containers: Container[] = [];
  let leak: Container;
  let web: Container;
  /** Script errors and CSP violations in any page: the app must run clean under its own policy. */
  const pageProblems: string[] = [];
  let shadowAlertId = '';

  const watch = (page: Page): Page => {
    page.on('pageerror', (e) => pageProblems.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) pageProblems.push(`${page.url()}: ${m.text()}`);
    });
    return page;
  };
  /**
   * A new tab at a route. sessionStorage is per tab, so each new tab is given the token in its URL
   * (as `vigil dashboard` gives it), after the route: #/alerts?min=...&token=...
   */
  const open = async (hash: string): Promise<Page> => {
    const page = watch(await ctx!.newPage());
    await page.goto(`${base}${hash}${hash.includes('?') ? '&' : '?'}token=${TOKEN}`);
    return page;
  };
  const shot = async (page: Page, name: string): Promise<void> => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  before(async () => {
    const why = runcMissing();
    if (why) assert.fail(why);
    if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} missing: apt-get install chromium (make deps installs it)`);
    if (!existsSync(WEB_INDEX)) assert.fail(`${WEB_INDEX} missing: run make web`);
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(dir, 'http.token'), TOKEN + '\n', { mode: 0o600 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    writeFileSync(join(dir, 'vigild.yaml'), `http:\n  listen: 127.0.0.1:${port}\n  token_file: ${join(dir, 'http.token')}\nmetrics:\n  interval: 500ms\n`);
    daemon = spawn(VIGILD, ['--config', join(dir, 'vigild.yaml'), '--data-dir', join(dir, 'data'), '--api-socket', sock, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await fetch(`${base}api/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
      if (r?.status === 200) break;
      if (daemon.exitCode !== null) assert.fail(`vigild exited (${daemon.exitCode}): ${daemonLog.slice(-3000)}`);
      if (Date.now() > deadline) assert.fail(`vigild's HTTP API did not answer on ${base}: ${daemonLog.slice(-3000)}`);
      await sleep(250);
    }
    // The ramp starts first: the forecast engine needs a dozen samples before its next round.
    leak = startContainer({
      memoryLimit: 96 * MiB,
      pidsLimit: 64,
      args: ['sh', '-c', 'x=; while :; do x="$x$(head -c 100000 /dev/zero | tr "\\0" a)"; sleep 0.25; done'],
    });
    containers.push(leak);
    web = startContainer({ args: ['sleep', '3600'] });
    containers.push(web);

    const C = clientConstructors();
    alertsClient = new C['Alerts']!(`unix:${sock}`, grpc.credentials.createInsecure()) as unknown as AlertsClient;
    targetsClient = new C['Targets']!(`unix:${sock}`, grpc.credentials.createInsecure()) as unknown as TargetsClient;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // A fresh context: its own profile, no token in sessionStorage until the page takes it from the URL.
    ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  });

  after(async () => {
    await ctx?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    alertsClient?.close();
    targetsClient?.close();
    for (const c of containers) c.delete();
    await stopChild(daemon);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the overview lists the containers by name and id; the token leaves the URL', async () => {
    const page = watch(await ctx!.newPage());
    await page.goto(`${base}#token=${TOKEN}`);
    for (const c of [leak, web]) {
      const row = page.locator(`[data-testid=container-row][data-id="${c.id}"]`);
      await row.waitFor({ timeout: 15_000 });
      // runc names a container after its id; the page shows both (the id shortened to 12).
      assert.equal(await row.getAttribute('data-name'), c.id);
      assert.match((await row.locator('td.name').textContent()) ?? '', new RegExp(c.id));
      assert.equal((await row.locator('td.mono').textContent())?.trim(), c.id.slice(0, 12));
    }
    await page.locator('[data-testid=container-row][data-id=host]').waitFor();
    assert.doesNotMatch(page.url(), /token/, 'the token is removed from the address bar');
    // The ramp's memory bar is drawn against its limit (once a sweep has read the limit).
    const mem = page.locator(`[data-testid=container-row][data-id="${leak.id}"] td.mem .usage[data-ratio]`);
    await mem.waitFor({ timeout: 10_000 });
    assert.match((await mem.textContent()) ?? '', /\/ 96\.0 MiB/);
    await shot(page, 'overview');
    await page.close();
  });

  test('without a token the page asks for one and then shows the data', async () => {
    const other = await browser!.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      const page = watch(await other.newPage());
      await page.goto(base);
      const prompt = page.getByTestId('token-prompt');
      await prompt.waitFor({ timeout: 10_000 });
      await shot(page, 'token-prompt');
      await page.getByTestId('token-input').fill(TOKEN);
      await prompt.getByRole('button', { name: 'Use token' }).click();
      await page.locator(`[data-testid=container-row][data-id="${web.id}"]`).waitFor({ timeout: 10_000 });
      assert.equal(await prompt.count(), 0);
    } finally {
      await other.close();
    }
  });

  test('a shadow read in a container reaches the live feed within seconds; a critical-only feed does not show it', async () => {
    const feed = await open(`#/alerts?name=${encodeURIComponent(`${web.id.slice(0, -3)}*`)}&rule=${encodeURIComponent(SHADOW_RULE)}`);
    const critical = await open('#/alerts?min=SEVERITY_CRITICAL');
    for (const p of [feed, critical]) await p.locator('[data-testid=stream-state][data-state=open]').waitFor({ timeout: 10_000 });
    // The filter controls show what the URL asked for.
    assert.equal(await feed.locator('select[name=rule]').inputValue(), SHADOW_RULE);
    assert.equal(await critical.locator('select[name=min]').inputValue(), 'SEVERITY_CRITICAL');

    const t0 = Date.now();
    const r = await execAsync(web, ['sh', '-c', 'mkdir -p /etc; echo x > /etc/shadow; cat /etc/shadow']);
    assert.equal(r.code, 0, r.out);
    const item = feed.locator(`[data-testid=alert-item][data-rule="${SHADOW_RULE}"][data-container="${web.id}"]`);
    await item.waitFor({ timeout: 10_000 });
    const latency = Date.now() - t0;
    assert.ok(latency < 10_000, `the alert took ${latency} ms to show`);
    assert.equal(await item.getAttribute('data-state'), 'ALERT_STATE_OPEN');
    shadowAlertId = (await item.getAttribute('data-id')) ?? '';
    assert.ok(shadowAlertId);
    assert.match((await item.textContent()) ?? '', /warning/);
    await shot(feed, 'alerts');

    // The critical-only page subscribed with min_severity CRITICAL: the warning never reaches it.
    await sleep(1500);
    assert.equal(await critical.locator(`[data-testid=alert-item][data-id="${shadowAlertId}"]`).count(), 0, 'a warning shown on a critical-only feed');
    await critical.close();
    console.log(`shadow read -> live feed in ${latency} ms`);

    // Acknowledge it in its page; the daemon has the new state, and the feed shows the new version.
    const page = await open(`#/alerts/${shadowAlertId}`);
    const state = page.getByTestId('alert-state');
    await state.waitFor({ timeout: 10_000 });
    assert.equal(await state.getAttribute('data-state'), 'ALERT_STATE_OPEN');
    assert.equal(await page.getByTestId('alert-rule').textContent(), SHADOW_RULE);
    assert.match((await page.getByTestId('lineage').textContent()) ?? '', /offending\d+\/bin\/busybox/);
    assert.match((await page.getByTestId('events').textContent()) ?? '', /\/etc\/shadow/);
    assert.equal(await page.getByTestId('alert-container').textContent(), web.id);
    await page.getByTestId('comment').fill('checked from the dashboard');
    await page.getByTestId('acknowledge').click();
    await page.locator('[data-testid=alert-state][data-state=ALERT_STATE_ACKNOWLEDGED]').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('acknowledge').isDisabled(), true);
    assert.match((await page.getByTestId('history').textContent()) ?? '', /acknowledged.*dashboard.*checked from the dashboard/);
    await shot(page, 'alert');

    const stored = await unaryCall<object, Alert__Output>(alertsClient!, 'Get', { id: shadowAlertId });
    assert.equal(stored.state, 'ALERT_STATE_ACKNOWLEDGED');
    const last = stored.history.at(-1);
    assert.equal(last?.state, 'ALERT_STATE_ACKNOWLEDGED');
    assert.equal(last?.by, 'dashboard');
    assert.equal(last?.comment, 'checked from the dashboard');
    await feed.locator(`[data-testid=alert-item][data-id="${shadowAlertId}"][data-state=ALERT_STATE_ACKNOWLEDGED]`).waitFor({ timeout: 10_000 });
    await page.close();
    await feed.close();
  });

  test("a targets batch with a bad selector fails whole with the daemon's message; a good one is added and removed", async () => {
    const page = await open('#/targets');
    await page.locator('[data-testid=target-row]').first().waitFor({ timeout: 10_000 });
    const input = page.getByTestId('targets-input');
    await input.fill('name:web-*\nbad[');
    await page.getByTestId('add-targets').click();
    const err = page.getByTestId('error');
    await err.waitFor({ timeout: 10_000 });
    assert.match((await err.textContent()) ?? '', /"bad\["/);
    const listed = async (): Promise<string[]> => (await unaryCall<object, ListTargetsResponse__Output>(targetsClient!, 'List', {})).targets.map((t) => t.id);
    assert.ok(!(await listed()).includes('name:web-*'), 'nothing of the bad batch was added');
    assert.equal(await input.inputValue(), 'name:web-*\nbad[', 'the text stays for fixing');

    await input.fill('# web tier\nname:web-* metrics=memory_working_set_bytes,pids_current\nimage:nginx*\n');
    await page.getByTestId('add-targets').click();
    await page.locator('[data-testid=target-row][data-id="name:web-*"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=target-row][data-id="image:nginx*"]').waitFor();
    assert.match((await page.locator('[data-testid=target-row][data-id="name:web-*"]').textContent()) ?? '', /memory_working_set_bytes, pids_current/);
    assert.ok((await listed()).includes('name:web-*'));
    await shot(page, 'targets');

    for (const id of ['name:web-*', 'image:nginx*']) await page.locator(`[data-testid=target-row][data-id="${id}"] input[type=checkbox]`).check();
    await page.getByTestId('remove-selected').click();
    await page.locator('[data-testid=target-row][data-id="name:web-*"]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.match((await page.getByTestId('targets-note').textContent()) ?? '', /removed 2 targets/);
    const left = await listed();
    assert.ok(!left.includes('name:web-*') && !left.includes('image:nginx*'), left.join(', '));
    await page.close();
  });

  test("the memory ramp's container page draws its charts, its limit and a forecast band, with its alert on the timeline", async () => {
    // An alert of the ramp's own, so the timeline has a marker to draw.
    const r = await execAsync(leak, ['sh', '-c', 'echo x > /etc/shadow; cat /etc/shadow']);
    assert.equal(r.code, 0, r.out);
    const page = await open(`#/containers/${leak.id}?range=15m`);
    const memory = page.getByTestId('chart-memory_working_set_bytes');
    await memory.waitFor({ timeout: 10_000 });
    for (const key of ['cpu_usage_cores', 'pids_current', 'fds_open', 'net_bytes']) await page.getByTestId(`chart-${key}`).waitFor();
    assert.equal(await page.getByTestId('container-id').textContent(), leak.id);
    // The forecast engine refreshes every 30 s; the page reloads its data every 10 s.
    const deadline = Date.now() + 60_000;
    while ((await memory.getAttribute('data-forecast')) !== 'yes') {
      if (Date.now() > deadline)
        assert.fail(`no forecast band on the memory chart after 60 s: ${(await memory.textContent()) ?? ''}\n${daemonLog.slice(-2000)}`);
      await sleep(1000);
    }
    assert.ok(Number(await memory.getAttribute('data-points')) > 20, 'the memory chart has the samples');
    assert.match((await memory.locator('[data-testid=latest]').textContent()) ?? '', /limit 96\.0 MiB/);
    assert.equal((await memory.locator('canvas').count()) > 0, true, 'uPlot drew a canvas');
    // The shadow read shows as a marker once the page has reloaded the container's alerts.
    const markerDeadline = Date.now() + 15_000;
    while (Number(await memory.getAttribute('data-markers')) < 1) {
      if (Date.now() > markerDeadline) assert.fail("the container's alert is not marked on its charts");
      await sleep(500);
    }
    await page.locator(`[data-testid=container-alerts] [data-testid=alert-item][data-rule="${SHADOW_RULE}"]`).waitFor({ timeout: 10_000 });
    await shot(page, 'container');
    await page.close();
  });

  test("an ordinary container is shown confined, from the runtime's record confirmed by the kernel, with no privilege or host-namespace badge", async () => {
    const page = await open(`#/containers/${web.id}`);
    const block = page.locator('.posture-block');
    // Posture settles once the container's own program has exec'd; the page reloads every 10 s.
    const deadline = Date.now() + 30_000;
    while (!/Read from\s*runtime, kernel/.test((await block.textContent().catch(() => '')) ?? '')) {
      if (Date.now() > deadline) assert.fail(`posture never read from runtime and kernel: ${(await block.textContent().catch(() => '')) ?? ''}`);
      await sleep(500);
    }
    // runc (like docker) leaves the container in the host's user namespace unless told otherwise:
    // that badge stays, and it is the only one.
    const risky = (badges: string[]): string[] => badges.filter((b) => b !== 'host user');
    assert.deepEqual(risky(await page.getByTestId('posture').locator('.badge').allTextContents()), []);
    assert.equal(await page.getByTestId('posture-mismatches').count(), 0);
    await page.goto(`${base}#/`);
    const row = page.locator(`[data-testid=container-row][data-id="${web.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.deepEqual(risky(await row.locator('td.posture .badge').allTextContents()), []);
    await page.close();
  });

  test('no script errors or CSP violations in any page', () => {
    assert.deepEqual(pageProblems, []);
  });
});
