import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BootClock, bootToWallOffsetNs, formatWallNs, parseSecondsNs, suspendedNs, type ClockSources } from './clock.js';

function clocks(monoNs: bigint, wallNs: bigint, uptime: string): ClockSources {
  return { monotonicNs: () => monoNs, wallNs: () => wallNs, uptime: () => uptime };
}

test('RFC 3339 with nanoseconds', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '1970-01-01T00:00:00.000000000Z'],
    [1_700_000_000_000_000_001n, '2023-11-14T22:13:20.000000001Z'],
    [1_796_990_400_123_456_789n, '2026-12-11T12:00:00.123456789Z'],
  ];
  for (const [ns, s] of cases) assert.equal(formatWallNs(ns), s);
});

test('seconds parse exactly', () => {
  assert.equal(parseSecondsNs('12345.67'), 12_345_670_000_000n);
  assert.equal(parseSecondsNs('3'), 3_000_000_000n);
  assert.throws(() => parseSecondsNs('x'));
});

test('no suspend: boottime = monotonic (uptime rounding ignored)', () => {
  // /proc/uptime has 10 ms resolution: 100.00 s against a monotonic clock of 100.004 s.
  assert.equal(suspendedNs(clocks(100_004_000_000n, 0n, '100.00 50.00\n')), 0n);
  const off = bootToWallOffsetNs(clocks(100_004_000_000n, 1_700_000_000_000_000_000n, '100.00 50.00\n'));
  assert.equal(off, 1_700_000_000_000_000_000n - 100_004_000_000n);
});

test('after a suspend, boottime runs ahead of monotonic by the suspended time', () => {
  // Suspended for an hour: uptime (BOOTTIME) 3700 s, monotonic 100 s.
  const c = clocks(100_000_000_000n, 1_700_000_000_000_000_000n, '3700.00 10.00\n');
  assert.equal(suspendedNs(c), 3_600_000_000_000n);
  const clock = new BootClock(bootToWallOffsetNs(c));
  // A record stamped now (boottime 3700 s) converts to now.
  assert.equal(clock.wallNs(3_700_000_000_000n), 1_700_000_000_000_000_000n);
});

test('unreadable /proc/uptime falls back to monotonic', () => {
  assert.equal(suspendedNs({ monotonicNs: () => 1n, wallNs: () => 0n, uptime: () => 'garbage' }), 0n);
});

test('the real clocks: a boottime stamp taken now converts to about now', () => {
  const clock = BootClock.now();
  const up = parseSecondsNs(readFileSync('/proc/uptime', 'utf8').split(' ')[0]!);
  const wallMs = Number(clock.wallNs(up) / 1_000_000n);
  assert.ok(Math.abs(wallMs - Date.now()) < 1000, `${wallMs} vs ${Date.now()}`);
});

test('BootClock.format (cached per second) agrees with formatWallNs across second boundaries', () => {
  const clock = new BootClock(1_700_000_000_999_999_000n);
  for (const k of [0n, 500n, 999n, 1000n, 1001n, 5_000_000_000n, 4_000_000_000n, 1_000n])
    assert.equal(clock.format(k), formatWallNs(k + clock.offsetNs), String(k));
  assert.equal(new BootClock(-10n).format(5n), '1969-12-31T23:59:59.999999995Z');
});
