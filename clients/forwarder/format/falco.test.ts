// Falco's JSON alert: the shape falcosidekick and Falco's integrations read. A real local HTTP
// receiver stands in for falcosidekick and checks what Falco's http_output sends: one alert per POST,
// Content-Type application/json, and every field with the name and type Falco documents.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { FalcoSink } from '../sinks/http.js';
import { makeAlert } from '../../../test/forwarder-fakes.js';
import type { ForwardRecord } from '../core/record.js';
import { FALCO_PRIORITY, falcoJson, falcoTime } from './falco.js';
import { parseConfig } from '../config.js';

const FIELDS = [
  { name: 'evt.time', integer: '1795867200123456789', value: 'integer' as const },
  { name: 'proc.name', text: 'cat', value: 'text' as const },
  { name: 'proc.pid', integer: '42', value: 'integer' as const },
  { name: 'container.privileged', flag: false, value: 'flag' as const },
  { name: 'metric.cpu', real: 0.5, value: 'real' as const },
  { name: 'user.name' },
];

/** Falco's documented alert keys and what each must be (falco.org: outputs, json_output). */
const FALCO_KEYS: Record<string, (v: unknown) => boolean> = {
  time: (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(v),
  rule: (v) => typeof v === 'string' && v !== '',
  priority: (v) => typeof v === 'string' && Object.values(FALCO_PRIORITY).includes(v),
  output: (v) => typeof v === 'string' && /^\d\d:\d\d:\d\d\.\d{9}: [A-Z][a-z]+ /.test(v),
  output_fields: (v) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length > 0 &&
    typeof (v as Record<string, unknown>)['evt.time'] === 'number' &&
    Object.values(v).every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x)),
  source: (v) => typeof v === 'string' && v !== '',
  tags: (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'),
  hostname: (v) => typeof v === 'string' && v !== '',
};

function checkFalcoAlert(body: unknown): string[] {
  const problems: string[] = [];
  if (typeof body !== 'object' || body === null) return ['not an object'];
  for (const [k, ok] of Object.entries(FALCO_KEYS))
    if (!ok((body as Record<string, unknown>)[k])) problems.push(`${k}: ${JSON.stringify((body as Record<string, unknown>)[k])}`);
  for (const k of Object.keys(body)) if (!(k in FALCO_KEYS)) problems.push(`unexpected key ${k}`);
  return problems;
}

// [alert time as vigil has it, Falco's time]
const TIMES: Array<[string, string]> = [
  ['2026-11-28T12:00:00.123456789Z', '2026-11-28T12:00:00.123456789Z'],
  ['2026-11-28T12:00:00.123Z', '2026-11-28T12:00:00.123000000Z'],
  ['2026-11-28T12:00:00Z', '2026-11-28T12:00:00.000000000Z'],
  ['2026-11-28T13:00:00.5+01:00', '2026-11-28T12:00:00.500000000Z'],
];

test('time: RFC 3339 in UTC with nanoseconds (table)', () => {
  for (const [vigil, falco] of TIMES) assert.equal(falcoTime(vigil), falco, vigil);
});

// [vigil severity, Falco priority]
const PRIORITIES: Array<[string, string]> = [
  ['SEVERITY_EMERGENCY', 'Emergency'],
  ['SEVERITY_ALERT', 'Alert'],
  ['SEVERITY_CRITICAL', 'Critical'],
  ['SEVERITY_ERROR', 'Error'],
  ['SEVERITY_WARNING', 'Warning'],
  ['SEVERITY_NOTICE', 'Notice'],
  ['SEVERITY_INFORMATIONAL', 'Informational'],
  ['SEVERITY_DEBUG', 'Debug'],
];

test("priority: Falco's capitalised level names (table)", () => {
  for (const [sev, pri] of PRIORITIES) {
    const j = JSON.parse(falcoJson(makeAlert(1, { severity: sev as never }), 'h')) as { priority: string };
    assert.equal(j.priority, pri);
  }
});

test("one alert as Falco's JSON: every key, typed output_fields, evt.time exact in nanoseconds, <NA> as null", () => {
  const line = falcoJson(
    makeAlert(7, { output_fields: FIELDS, source: 'syscall', hostname: 'node-1', tags: ['maturity_stable', 'T1059'], message: 'cat ran\nin web-1\n' }),
    'fallback',
  );
  assert.ok(!line.includes('\n'));
  assert.match(line, /"evt\.time":1795867200123456789[,}]/);
  const j = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(checkFalcoAlert(j), []);
  assert.deepEqual(j.output_fields, {
    'evt.time': 1795867200123456789,
    'proc.name': 'cat',
    'proc.pid': 42,
    'container.privileged': false,
    'metric.cpu': 0.5,
    'user.name': null,
  });
  assert.equal(j.output, '12:00:00.123456789: Warning cat ran in web-1');
  assert.deepEqual([j.rule, j.source, j.hostname, j.tags], ['shadow-read', 'syscall', 'node-1', ['maturity_stable', 'T1059']]);
  // An alert of an older daemon (no output fields, source or hostname): still a valid Falco alert.
  const old = JSON.parse(falcoJson(makeAlert(8), 'fallback')) as Record<string, unknown>;
  assert.deepEqual(checkFalcoAlert(old), []);
  assert.deepEqual([old.source, old.hostname], ['syscall', 'fallback']);
});

async function receiver(
  statusFor: (n: number) => number,
): Promise<{ url: string; got: Array<{ type: string | undefined; body: unknown }>; close(): Promise<void> }> {
  const got: Array<{ type: string | undefined; body: unknown }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statusFor(got.length);
      got.push({ type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, got, close: () => new Promise((r) => server.close(() => r())) };
}

const item = (seq: number, change = 'ALERT_CHANGE_OPENED'): ForwardRecord => ({
  type: 'alert',
  seq,
  alert: makeAlert(seq, { output_fields: FIELDS, hostname: 'node-1', source: 'syscall' }),
  change,
});

test("falco sink: POSTs each new alert alone as application/json, as Falco's http_output; a receiver checks every field", async () => {
  const r = await receiver(() => 200);
  const sink = new FalcoSink({ url: r.url, headers: {}, hostname: 'fwd' });
  try {
    await sink.send([item(1), item(2, 'ALERT_CHANGE_ACKNOWLEDGED'), item(3)], new AbortController().signal);
    assert.equal(r.got.length, 2, 'one request per new alert; an acknowledgement is not a new Falco alert');
    for (const g of r.got) {
      assert.equal(g.type, 'application/json');
      assert.deepEqual(checkFalcoAlert(g.body), []);
    }
    assert.deepEqual(
      r.got.map((g) => (g.body as { output: string }).output.replace(/^.*?: /, '')),
      ['Warning cat read /etc/shadow in web-1 (#1)', 'Warning cat read /etc/shadow in web-1 (#3)'],
    );
  } finally {
    await sink.close();
    await r.close();
  }
});

test('falco sink: a failure part-way retries from the alert that failed; a malformed one is dropped alone', async () => {
  const r = await receiver((n) => (n === 1 ? 503 : n === 2 ? 400 : 200));
  const sink = new FalcoSink({ url: r.url, headers: {}, hostname: 'fwd' });
  try {
    await assert.rejects(sink.send([item(1), item(2), item(3)], new AbortController().signal), (err: unknown) => {
      assert.deepEqual((err as { failure: string; remaining: number[] }).failure, 'retry');
      assert.deepEqual((err as { remaining: number[] }).remaining, [1, 2]);
      return true;
    });
    // The retry of [2, 3]: 2 is refused as malformed (400) and dropped, 3 goes through.
    await sink.send([item(2), item(3)], new AbortController().signal);
    assert.equal(r.got.length, 4);
  } finally {
    await sink.close();
    await r.close();
  }
});

// [sink YAML, error part or '' for ok]
const CONFIGS: Array<[string, string]> = [
  ['  - type: falco\n    url: http://127.0.0.1:2801/\n', ''],
  ['  - type: falco\n    url: http://127.0.0.1:2801/\n    headers: {X-Token: abc}\n', ''],
  ['  - type: falco\n', 'url'],
  ['  - type: falco\n    url: http://127.0.0.1:2801/\n    events: true\n', 'alerts only'],
];

test('falco sink config (table)', () => {
  for (const [sink, err] of CONFIGS) {
    const text = `sinks:\n${sink}`;
    if (err === '') assert.equal(parseConfig(text, 'f.yaml').sinks[0]!.type, 'falco');
    else
      assert.throws(
        () => parseConfig(text, 'f.yaml'),
        (e: Error) => e.message.includes(err),
        sink,
      );
  }
});
