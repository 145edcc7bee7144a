import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkFormatError, decodeRaw, decodeRollup, encodeRaw, encodeRollup, type Bucket } from './series-chunk.js';

const T0 = 1_764_000_000_000;

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const r = rng(7);
const CASES: Array<{ name: string; times: number[]; values: number[]; maxBytesPerPoint?: number }> = [
  { name: 'empty', times: [], values: [] },
  { name: 'one point', times: [T0], values: [42.5] },
  { name: 'constant, every 5 s', times: Array.from({ length: 240 }, (_, i) => T0 + i * 5000), values: Array(240).fill(0.25), maxBytesPerPoint: 2.1 },
  {
    name: 'counter',
    times: Array.from({ length: 240 }, (_, i) => T0 + i * 5000),
    values: Array.from({ length: 240 }, (_, i) => 1e9 + i * 4096),
    maxBytesPerPoint: 5,
  },
  {
    name: 'random gauge, jittered times',
    times: Array.from({ length: 200 }, (_, i) => T0 + i * 5000 + Math.floor(r() * 40)),
    values: Array.from({ length: 200 }, () => r() * 100),
  },
  {
    name: 'awkward values',
    times: [0, 1, 2, 3, 4, 5, 6, 1e12, 2 ** 52],
    values: [0, -0, -1.5, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 1 / 3],
  },
];

test('raw chunks round-trip exactly', () => {
  for (const c of CASES) {
    const enc = encodeRaw(c.times, c.values);
    const dec = decodeRaw(enc);
    assert.deepEqual(dec.times, c.times, c.name);
    assert.equal(dec.values.length, c.values.length, c.name);
    for (let i = 0; i < c.values.length; i++) assert.ok(Object.is(dec.values[i], c.values[i]), `${c.name} [${i}]: ${dec.values[i]} vs ${c.values[i]}`);
    if (c.maxBytesPerPoint !== undefined)
      assert.ok(enc.length / c.times.length <= c.maxBytesPerPoint, `${c.name}: ${enc.length / c.times.length} bytes a point`);
  }
});

test('rollup chunks round-trip exactly', () => {
  const buckets: Bucket[] = Array.from({ length: 100 }, (_, i) => {
    const a = r() * 10;
    const b = a + r() * 5;
    return { time: T0 + i * 60_000, min: a, max: b, sum: (a + b) * 6, count: 12, last: b - 1 };
  });
  assert.deepEqual(decodeRollup(encodeRollup(buckets)), buckets);
  assert.deepEqual(decodeRollup(encodeRollup([])), []);
});

test('damaged chunks are refused, not misread', () => {
  const raw = encodeRaw(CASES[3]!.times, CASES[3]!.values);
  const rollup = encodeRollup([{ time: T0, min: 1, max: 2, sum: 3, count: 2, last: 2 }]);
  const bad: Array<[string, () => unknown]> = [
    ['raw cut short', () => decodeRaw(raw.subarray(0, raw.length - 3))],
    ['raw with trailing bytes', () => decodeRaw(Buffer.concat([raw, Buffer.from([1])]))],
    ['rollup as raw', () => decodeRaw(rollup)],
    ['raw as rollup', () => decodeRollup(raw)],
    ['rollup cut short', () => decodeRollup(rollup.subarray(0, rollup.length - 1))],
    ['empty', () => decodeRaw(Buffer.alloc(0))],
    ['huge count', () => decodeRaw(Buffer.from([1, 0xff, 0xff, 0x03]))],
  ];
  for (const [name, fn] of bad) assert.throws(fn, ChunkFormatError, name);
});
