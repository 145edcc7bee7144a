// IdleTrim's decision, table-driven: it collects, trims and releases the executable's pages only when
// the record rate since its last look is at or below the idle rate, and counts both outcomes.
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
    let releases = 0;
    const t = new IdleTrim({
      records: () => c.counts[i]!,
      now: () => i * 30_000,
      collect: () => collected++,
      trim: () => (trimmed++, true),
      releaseExecutable: () => (releases++, 4096),
      intervalMs: 30_000,
      idleRate: 500,
    });
    const got: boolean[] = [];
    for (i = 1; i < c.counts.length; i++) got.push(t.look());
    assert.deepEqual(got, c.trims);
    const n = c.trims.filter(Boolean).length;
    assert.equal(collected, n);
    assert.equal(trimmed, n);
    assert.equal(releases, n);
    assert.deepEqual(t.stats, { trims: n, released: n, busy: c.trims.length - n, executableBytes: 4096 * n });
  });

test('idle trim: without --expose-gc or the executable release it still trims malloc', () => {
  let trimmed = 0;
  const t = new IdleTrim({ records: () => 0, trim: () => (trimmed++, false), now: () => 30_000 });
  assert.equal(t.look(), true);
  assert.equal(trimmed, 1);
  assert.deepEqual(t.stats, { trims: 1, released: 0, busy: 0, executableBytes: 0 });
});

test('idle trim: the rate is over the time since the last look, a second at least', () => {
  let records = 0;
  let now = 0;
  const t = new IdleTrim({ records: () => records, trim: () => true, now: () => now, idleRate: 500 });
  // A look 2 s after the last with 800 records: 400/s, idle (the 30 s interval would not matter).
  now = 2_000;
  records = 800;
  assert.equal(t.look(), true);
  // 2 s later with 2,000 more: 1,000/s, busy, though 2,000 over 30 s would be idle.
  now = 4_000;
  records = 2_800;
  assert.equal(t.look(), false);
  // 100 ms later with 400 more: over a second, 400/s, idle.
  now = 4_100;
  records = 3_200;
  assert.equal(t.look(), true);
});
