import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, sleep } from './backoff.js';

describe('backoff', () => {
  const o = { initialMs: 100, maxMs: 1000 };

  it('doubles per attempt up to the ceiling; jitter spans the upper half of the step', () => {
    const table: Array<[number, number, number]> = [
      [0, 50, 100],
      [1, 100, 200],
      [2, 200, 400],
      [3, 400, 800],
      [4, 500, 1000],
      [60, 500, 1000],
    ];
    for (const [attempt, lo, hi] of table) {
      assert.equal(
        backoffDelay(attempt, o, () => 0),
        lo,
        `attempt ${attempt} low`,
      );
      assert.equal(
        backoffDelay(attempt, o, () => 0.999999),
        hi,
        `attempt ${attempt} high`,
      );
    }
  });

  it('random delays stay inside their bounds', () => {
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(2, o);
      assert.ok(d >= 200 && d <= 400, String(d));
    }
  });

  it('a sleep ends early when aborted', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(10_000, ac.signal);
    assert.ok(Date.now() - t0 < 1000);
  });
});
