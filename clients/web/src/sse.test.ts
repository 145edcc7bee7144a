// The dashboard's pure modules, tested under Node (the root tsconfig compiles these files only; the
// rest of clients/web needs the DOM and is covered by test/integration/dashboard.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes, cores, count, duration, metricValue, toMs } from './format.js';
import { SseParser, type SseMessage } from './sse.js';

const STREAM = [
  ': ping',
  'event: alert',
  'id: 41',
  'data: {"a":1}',
  '',
  'data: line one',
  'data: line two',
  '',
  'event: heartbeat',
  '',
  'event: gap',
  'data',
  '',
  'id: bad\0id',
  'data:no space',
  '',
  '',
].join('\r\n');

const WANT: SseMessage[] = [
  { event: 'alert', id: '41', data: '{"a":1}' },
  // The id persists across messages; no event field means "message".
  { event: 'message', id: '41', data: 'line one\nline two' },
  // An event with no data dispatches nothing; a bare "data" field is an empty line of data.
  { event: 'gap', id: '41', data: '' },
  // An id with NUL is ignored; one space after the colon is stripped, none is fine.
  { event: 'message', id: '41', data: 'no space' },
];

test('SSE parser: fields, comments, multi-line data, id persistence; the same whatever the chunking and line endings', () => {
  for (const eol of ['\r\n', '\n', '\r']) {
    const text = STREAM.split('\r\n').join(eol);
    const whole = new SseParser().push(text);
    assert.deepEqual(whole, WANT, `whole stream, ${JSON.stringify(eol)}`);
    // One character at a time: a \r\n split across chunks is one line ending, not two.
    const p = new SseParser();
    const bytewise = [...text].flatMap((ch) => p.push(ch));
    assert.deepEqual(bytewise, WANT, `char by char, ${JSON.stringify(eol)}`);
    assert.equal(p.id, '41');
  }
  // An unfinished message stays buffered until its blank line arrives.
  const p = new SseParser();
  assert.deepEqual(p.push('event: alert\ndata: x\n'), []);
  assert.deepEqual(p.push('\n'), [{ event: 'alert', id: '', data: 'x' }]);
});

test('dashboard number formats, table-driven', () => {
  const cases: Array<[string, string]> = [
    [bytes(0), '0 B'],
    [bytes(512), '512 B'],
    [bytes(0.5), '0.5 B'],
    [bytes(1536), '1.50 KiB'],
    [bytes(96 * 1024 * 1024), '96.0 MiB'],
    [bytes(-2048), '-2.00 KiB'],
    [bytes(undefined), '–'],
    [cores(0), '0'],
    [cores(0.004), '4m'],
    [cores(0.25), '0.250'],
    [cores(1.5), '1.50'],
    [cores(12.34), '12.3'],
    [count(42), '42'],
    [count(12_345), '12.3k'],
    [count(2_500_000), '2.5M'],
    [duration(45_000), '45s'],
    [duration(200_000), '3m 20s'],
    [duration(7_500_000), '2h 5m'],
    [duration(-90_000), '-1m 30s'],
    [metricValue('memory_limit_bytes', 1024), '1.00 KiB'],
    [metricValue('net_rx_bytes_total', 2048), '2.00 KiB/s'],
    [metricValue('cpu_quota_cores', 2), '2.00'],
    [metricValue('pids_current', 7), '7'],
    [String(toMs('1764331200000')), '1764331200000'],
    [String(toMs('2025-11-28T12:00:00.000Z')), String(Date.UTC(2025, 10, 28, 12))],
    [String(toMs('')), 'NaN'],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
});
