// IdleTrim's decision, table-driven: it collects and trims only when the record rate since its last
// look is at or below the idle rate, and counts both outcomes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleTrim } from './idle-trim.js';

const cases: Array<{ name: string; counts: number[]; trims: boolean[] }> = [
  { name: 'quiet: every look trims', counts: [0, 100, 200], trims: [true, true] },
  { name: 'a flood: no look trims', counts: [0, 1_000_000, 2_000_000], trims: [false, false] },
  { name: 'a flood that ends: trimmed at the first quiet look', counts: [0, 900_000, 900_100, 900_200], trims: [false, true, true] },
  { name: 'exactly the idle rate counts as idle', counts: [0, 15_000], trims: [true] },
];

for (const c of cases)
  test(`idle trim: ${c.name}`, () => {
    let i = 0;
    let collected = 0;
    let trimmed = 0;
    const t = new IdleTrim({
      records: () => c.counts[i]!,
      collect: () => collected++,
      trim: () => (trimmed++, true),
      intervalMs: 30_000,
      idleRate: 500,
    });
    const got: boolean[] = [];
    for (i = 1; i < c.counts.length; i++) got.push(t.look());
    assert.deepEqual(got, c.trims);
    const n = c.trims.filter(Boolean).length;
    assert.equal(collected, n);
    assert.equal(trimmed, n);
    assert.deepEqual(t.stats, { trims: n, released: n, busy: c.trims.length - n });
  });

test('idle trim: without --expose-gc it still trims malloc', () => {
  let trimmed = 0;
  const t = new IdleTrim({ records: () => 0, trim: () => (trimmed++, false) });
  assert.equal(t.look(), true);
  assert.equal(trimmed, 1);
  assert.deepEqual(t.stats, { trims: 1, released: 0, busy: 0 });
});
