// The one duration grammar, as a table: what each spelling means in milliseconds (or that it is
// refused), and that the JSON Schema pattern the config and rule schemas carry gives the same
// answer as the parser on every row, for both the positive-only and the zero-allowed variants.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationPattern, parseDuration } from './duration.js';

const DAY = 86_400_000;

// [text, milliseconds or undefined when refused]
const TABLE: Array<[string, number | undefined]> = [
  ['250ms', 250],
  ['0.5ms', 0.5],
  ['1s', 1000],
  ['90s', 90_000],
  ['1.5m', 90_000],
  ['10m', 600_000],
  ['1h', 3_600_000],
  ['1.5h', 5_400_000],
  ['24h', DAY],
  ['1d', DAY], // the reason this module exists: rules refused it while the config took it
  ['7d', 7 * DAY],
  ['90d', 90 * DAY],
  ['2w', 14 * DAY],
  ['0s', 0],
  ['0ms', 0],
  ['007s', 7000],
  [' 5s ', 5000],
  ['\t10m\n', 600_000],
  // refused
  ['', undefined],
  ['5', undefined], // no unit: seconds or milliseconds would be a guess
  ['1.5', undefined],
  ['s', undefined],
  ['h', undefined],
  ['-1h', undefined],
  ['+1h', undefined],
  ['.5s', undefined],
  ['5.s', undefined],
  ['1e3ms', undefined],
  ['5 s', undefined],
  ['5S', undefined],
  ['5H', undefined],
  ['5sec', undefined],
  ['5min', undefined],
  ['1y', undefined],
  ['5us', undefined],
  ['1h30m', undefined],
  ['5s5', undefined],
  ['NaNs', undefined],
  ['Infinityh', undefined],
  [`${'9'.repeat(400)}w`, undefined], // overflows to Infinity
];

test('parseDuration: the table', () => {
  for (const [text, ms] of TABLE) assert.equal(parseDuration(text), ms, JSON.stringify(text));
});

test('durationPattern agrees with parseDuration on every row (finite values)', () => {
  const any = new RegExp(durationPattern(false));
  const positive = new RegExp(durationPattern(true));
  for (const [text, ms] of TABLE) {
    // The pattern cannot count digits to foresee an overflow; that row is the parser's alone.
    if (text.length > 100) continue;
    assert.equal(any.test(text), ms !== undefined, `zero allowed: ${JSON.stringify(text)}`);
    assert.equal(positive.test(text), ms !== undefined && ms > 0, `positive: ${JSON.stringify(text)}`);
  }
});
