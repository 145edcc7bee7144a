// Response actions without containers: webhooks on a real 127.0.0.1 server (delivery, retries with
// backoff, giving up, no retry on 4xx, a full queue), config checks, and kill's refusals and kills of
// real host processes. Containers (kill, freeze, enforce) are in test/integration/responses.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { HOST_CONTAINER } from '../core/container.js';
import { Responses, parseProcStat, redactUrl } from './responses.js';
import type { Alert } from './alert.js';

interface Hit {
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
}

async function receiver(statuses: number[]): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ body, headers: req.headers, at: Date.now() });
      res.statusCode = statuses[Math.min(hits.length - 1, statuses.length - 1)] ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook?token=secret`, hits, server };
}

/** /proc/<pid>/stat start time in boot ns (ticks of 10 ms). */
function startNs(pid: number): bigint {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))!.startTicks * 10_000_000n;
}

function event(pid: number, ktime: bigint, cgroupId = 0): VigilEvent {
  return {
    kind: 'exec',
    time: new Date().toISOString(),
    pid,
    tid: pid,
    ppid: 1,
    vpid: pid,
    uid: 0,
    gid: 0,
    loginuid: 0,
    comm: 'sleep',
    cgroup_id: cgroupId,
    ns: { mnt: 0, pid: 0, net: 0, user: 0, uts: 0, ipc: 0, cgroup: 0 },
    [KTIME]: ktime,
  } as unknown as VigilEvent;
}

function alert(o: Partial<Alert> = {}): Alert {
  const now = new Date().toISOString();
  return {
    id: 'a1',
    seq: 1,
    time: now,
    lastSeen: now,
    rule: 'test rule',
    severity: 'critical',
    tags: ['T1611'],
    message: 'm',
    container: { id: 'c1', name: 'c1', runtime: 'runc', image: '' },
    lineage: [],
    events: [],
    count: 1,
    state: 'open',
    history: [],
    actions: [],
    ...o,
  };
}

function sleeper(): { pid: number; exited: Promise<string | null> } {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = new Promise<string | null>((r) => c.on('exit', (_code, sig) => r(sig)));
  return { pid: c.pid!, exited };
}

test('notify: the webhook receives the alert JSON, headers of the config, and the outcome says so', async () => {
  const rx = await receiver([200]);
  try {
    const r = new Responses({ webhooks: [{ url: rx.url, headers: { authorization: 'Bearer t0k' }, timeout: 2000 }] });
    const a = alert();
    const out = await r.run(a, ['notify']);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.action, 'notify');
    assert.equal(out[0]!.ok, true);
    assert.match(out[0]!.detail, /^POST http:\/\/127\.0\.0\.1:\d+\/hook 200 after 1 try$/);
    assert.doesNotMatch(out[0]!.detail, /secret|t0k/);
    assert.equal(rx.hits.length, 1);
    assert.deepEqual(JSON.parse(rx.hits[0]!.body), JSON.parse(JSON.stringify(a)));
    assert.equal(rx.hits[0]!.headers['content-type'], 'application/json');
    assert.equal(rx.hits[0]!.headers.authorization, 'Bearer t0k');
    assert.equal(r.stats().notifyDelivered, 1);
  } finally {
    rx.server.close();
  }
});

test('notify: a failing webhook is retried with growing backoff, then succeeds', async () => {
  const rx = await receiver([503, 500, 200]);
  try {
    const r = new Responses({ webhooks: [{ url: rx.url }], notify: { baseDelayMs: 40, maxAttempts: 5 } }, { random: () => 0.999 });
    const [o] = await r.run(alert(), ['notify']);
    assert.equal(o!.ok, true);
    assert.match(o!.detail, /200 after 3 tries$/);
    assert.equal(rx.hits.length, 3);
    const gap1 = rx.hits[1]!.at - rx.hits[0]!.at;
    const gap2 = rx.hits[2]!.at - rx.hits[1]!.at;
    assert.ok(gap1 >= 35, `first backoff ${gap1} ms`);
    assert.ok(gap2 >= 70, `second backoff ${gap2} ms (doubled)`);
    assert.equal(r.stats().notifyRetries, 2);
  } finally {
    rx.server.close();
  }
});

test('notify: a webhook that keeps failing is given up after maxAttempts, recorded on the outcome', async () => {
  const rx = await receiver([500]);
  try {
    const r = new Responses({ webhooks: [{ url: rx.url }], notify: { baseDelayMs: 5, maxAttempts: 3 } });
    const [o] = await r.run(alert(), ['notify']);
    assert.equal(o!.ok, false);
    assert.match(o!.detail, /500 after 3 tries: gave up$/);
    assert.equal(rx.hits.length, 3);
    assert.equal(r.stats().notifyFailed, 1);
  } finally {
    rx.server.close();
  }
});

test('notify: a 4xx is not retried; a refused connection is retried', async () => {
  const rx = await receiver([404]);
  try {
    const r = new Responses({ webhooks: [{ url: rx.url }], notify: { baseDelayMs: 5, maxAttempts: 3 } });
    const [o] = await r.run(alert(), ['notify']);
    assert.equal(o!.ok, false);
    assert.match(o!.detail, /404 after 1 try: not retried$/);
  } finally {
    rx.server.close();
  }
  const gone = await receiver([200]);
  gone.server.close();
  const r = new Responses({ webhooks: [{ url: gone.url }], notify: { baseDelayMs: 5, maxAttempts: 2 } });
  const [o] = await r.run(alert(), ['notify']);
  assert.equal(o!.ok, false);
  assert.match(o!.detail, /failed \(.*ECONNREFUSED.*\) after 2 tries: gave up$/);
});

test('notify: a slow webhook times out per attempt', async () => {
  const server = createServer(() => undefined); // never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const r = new Responses({ webhooks: [{ url: `http://127.0.0.1:${port}/`, timeout: 100 }], notify: { maxAttempts: 2, baseDelayMs: 5 } });
    const t0 = Date.now();
    const [o] = await r.run(alert(), ['notify']);
    assert.equal(o!.ok, false);
    assert.match(o!.detail, /timed out after 100 ms.* after 2 tries/);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('notify: deliveries beyond maxPending are dropped and counted; close stops the retries', async () => {
  const rx = await receiver([500]);
  try {
    const r = new Responses({ webhooks: [{ url: rx.url }], notify: { baseDelayMs: 10_000, maxAttempts: 5, maxPending: 2, concurrency: 1 } });
    const first = r.run(alert({ id: 'a' }), ['notify']);
    const second = r.run(alert({ id: 'b' }), ['notify']);
    const [third] = await r.run(alert({ id: 'c' }), ['notify']);
    assert.equal(third!.ok, false);
    assert.match(third!.detail, /dropped: 2 deliveries pending/);
    assert.equal(r.stats().notifyDropped, 1);
    await new Promise((res) => setTimeout(res, 100)); // the first attempt has failed and is backing off
    r.close();
    const [o1] = await first;
    const [o2] = await second;
    assert.match(o1!.detail, /stopped at shutdown|not sent/);
    assert.equal(o2!.ok, false);
  } finally {
    rx.server.close();
  }
});

test('config: webhook URLs must be http(s); bad settings are ConfigErrors', () => {
  for (const url of ['file:///etc/passwd', 'ftp://x/', 'not a url', 'gopher://h/']) {
    assert.throws(() => new Responses({ webhooks: [{ url }] }), ConfigError, url);
  }
  assert.throws(() => new Responses({ webhooks: [{ url: 'http://h/', headers: { x: 'a\r\nb' } }] }), ConfigError);
  assert.throws(() => new Responses({ notify: { maxAttempts: 0 } }), ConfigError);
  assert.equal(redactUrl('https://u:p@h:8443/a/b?t=1#f'), 'https://h:8443/a/b');
});

test('notify with no webhook configured: one failed outcome, nothing sent', async () => {
  const [o] = await new Responses({}).run(alert(), ['notify']);
  assert.deepEqual([o!.ok, o!.detail], [false, 'no webhook configured']);
});

test('kill: refuses pid 1, the daemon itself, a missing alert process and host processes by default', async () => {
  const r = new Responses({});
  const host = sleeper();
  try {
    const cases: Array<[string, Alert, RegExp]> = [
      ['pid 1', alert({ lineage: [{ pid: 1, exe: '/sbin/init', args: [], comm: 'init' }] }), /pid 1$/],
      ['self', alert({ lineage: [{ pid: process.pid, exe: '', args: [], comm: 'node' }] }), /the daemon itself/],
      ['none', alert({ lineage: [] }), /names no process/],
      [
        'host',
        alert({
          container: HOST_CONTAINER,
          lineage: [{ pid: host.pid, exe: '/bin/sleep', args: [], comm: 'sleep' }],
          events: [event(host.pid, startNs(host.pid) + 1_000_000n)],
        }),
        /a host process/,
      ],
      // attributed to a container, but in the host's pid namespace and no container cgroup known
      [
        'host ns',
        alert({ lineage: [{ pid: host.pid, exe: '/bin/sleep', args: [], comm: 'sleep' }], events: [event(host.pid, startNs(host.pid) + 1_000_000n)] }),
        /a host process/,
      ],
    ];
    for (const [name, a, re] of cases) {
      const [o] = await r.run(a, ['kill']);
      assert.equal(o!.ok, false, name);
      assert.match(o!.detail, re, name);
    }
    assert.ok(readFileSync(`/proc/${host.pid}/stat`, 'utf8').length > 0, 'the host process still runs');
    assert.equal(r.stats().killRefused, 5);
  } finally {
    process.kill(host.pid, 'SIGKILL');
    await host.exited;
  }
});

test('kill: with killHost, the process of the alert is killed and gone; a stale alert (pid started later) is refused', async () => {
  const r = new Responses({ killHost: true }, { settleMs: 3000 });
  const p = sleeper();
  const start = startNs(p.pid);
  // The event was before the process started: the pid was reused since (the stat start time is later).
  const stale = alert({
    container: HOST_CONTAINER,
    lineage: [{ pid: p.pid, exe: '/bin/sleep', args: [], comm: 'sleep' }],
    events: [event(p.pid, start - 1_000_000_000n)],
  });
  const [refused] = await r.run(stale, ['kill']);
  assert.equal(refused!.ok, false);
  assert.match(refused!.detail, /pid reused/);
  // Same check from the wall-clock time alone (an alert read back from the store has no kernel time).
  const staleWall = alert({
    container: HOST_CONTAINER,
    time: new Date(Date.now() - 5000).toISOString(),
    lineage: [{ pid: p.pid, exe: '', args: [], comm: 'sleep' }],
  });
  const [refused2] = await r.run(staleWall, ['kill']);
  assert.match(refused2!.detail, /pid reused/);

  const fresh = alert({
    container: HOST_CONTAINER,
    lineage: [{ pid: p.pid, exe: '/bin/sleep', args: [], comm: 'sleep' }],
    events: [event(p.pid, start + 5_000_000n)],
  });
  const [o] = await r.run(fresh, ['kill']);
  assert.equal(o!.ok, true, o!.detail);
  assert.equal(o!.detail, `killed pid ${p.pid} (sleep)`);
  assert.equal(await p.exited, 'SIGKILL');
  assert.equal(r.stats().killed, 1);
});

test('freeze: never the host; enforce reports that enforcement is off', async () => {
  const r = new Responses({});
  const [f] = await r.run(alert({ container: HOST_CONTAINER }), ['freeze']);
  assert.equal(f!.ok, false);
  assert.match(f!.detail, /not a container/);
  const [e] = await r.run(alert(), ['enforce']);
  assert.deepEqual([e!.action, e!.ok], ['enforce', false]);
  assert.match(e!.detail, /enforcement is off/);
});

test('parseProcStat: comm with spaces and parentheses', () => {
  const s = parseProcStat('42 (a) b (c)) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 1000 10 18446744073709551615');
  assert.deepEqual(s, { comm: 'a) b (c)', state: 'S', flags: 4194560, startTicks: 12345n });
});
