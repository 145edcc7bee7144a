// Durations, times, values and the sparkline, as tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sparkline } from './sparkline.js';
import { table } from './table.js';
import { painter, stripAnsi, useColour, type ColourMode } from './terminal.js';
import { clock, formatBytes, formatDuration, formatValue, parseTimeArg } from './units.js';

test('parseTimeArg: a duration ago or an ISO time', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  assert.equal(parseTimeArg('1h', now), now - 3600e3);
  assert.equal(parseTimeArg('2026-11-28T11:00:00Z', now), now - 3600e3);
  assert.equal(parseTimeArg('yesterday', now), undefined);
  assert.equal(parseTimeArg('2026-13-45', now), undefined);
});

test('formatDuration: the two largest units', () => {
  const cases: Array<[number, string]> = [
    [800, '800ms'],
    [1000, '1s'],
    [125e3, '2m5s'],
    [3600e3, '1h'],
    [3660e3, '1h1m'],
    [93784e3, '1d2h'],
    [86400e3 + 5e3, '1d'],
    [-90e3, '-1m30s'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('formatValue by metric name', () => {
  assert.equal(formatValue('memory_usage_bytes', 64 << 20), '64MiB');
  assert.equal(formatValue('memory_usage_bytes', 1536), '1.5KiB');
  assert.equal(formatValue('blkio_read_bytes_total', 12), '12B');
  assert.equal(formatValue('cpu_usage_cores', 0.12345), '0.123 cores');
  assert.equal(formatValue('cpu_usage_seconds_total', 12.3456), '12.35s');
  assert.equal(formatValue('pids_current', 17), '17');
  assert.equal(formatBytes(3 * 1024 ** 3), '3GiB');
  assert.equal(clock('2026-11-28T12:00:01.123456789Z'), '12:00:01.123');
  assert.equal(clock(Date.parse('2026-11-28T12:00:01.5Z')), '12:00:01.500');
});

test('sparkline: scaled min..max, flat, gaps, bucketed', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([1, 8]), '▁█');
  assert.equal(sparkline([5, 5, 5]), '▁▁▁');
  assert.equal(sparkline([0, null, 10]), '▁ █');
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([null, undefined]), '  ');
  assert.equal(sparkline([0, 0, 10, 10], 2), '▁█');
  assert.equal(
    [
      ...sparkline(
        Array.from({ length: 500 }, (_, i) => i),
        40,
      ),
    ].length,
    40,
  );
});

test('colour: auto only on a TTY with NO_COLOR unset and TERM not dumb; always and never beat both', () => {
  const cases: Array<[ColourMode | undefined, boolean | undefined, NodeJS.ProcessEnv, boolean]> = [
    // [mode, isTTY, env, colour]
    [undefined, true, {}, true],
    [undefined, false, {}, false],
    [undefined, undefined, {}, false],
    [undefined, true, { NO_COLOR: '1' }, false],
    [undefined, true, { NO_COLOR: '' }, true],
    [undefined, true, { TERM: 'dumb' }, false],
    ['auto', true, {}, true],
    ['auto', true, { NO_COLOR: 'yes' }, false],
    ['always', false, {}, true],
    ['always', false, { NO_COLOR: '1' }, true],
    ['always', true, { TERM: 'dumb' }, true],
    ['never', true, {}, false],
    ['never', false, {}, false],
  ];
  for (const [mode, isTTY, env, want] of cases) {
    const stream = { write: () => true, ...(isTTY !== undefined ? { isTTY } : {}) };
    assert.equal(useColour(stream, env, mode), want, `${mode} tty=${isTTY} ${JSON.stringify(env)}`);
  }
  assert.equal(painter(true)('31', 'x'), '\x1b[31mx\x1b[0m');
  assert.equal(painter(false)('31', 'x'), 'x');
  assert.equal(stripAnsi('\x1b[1;31mab\x1b[0m'), 'ab');
});

test('table: aligned columns, colour not counted, last column unpadded', () => {
  const t = table(
    ['ID', 'STATE', 'RULE'],
    [
      ['a1', '\x1b[31mopen\x1b[0m', 'x'],
      ['a1234', 'acknowledged', 'Read of shadow file'],
    ],
  );
  assert.equal(stripAnsi(t), 'ID     STATE         RULE\na1     open          x\na1234  acknowledged  Read of shadow file\n');
});
