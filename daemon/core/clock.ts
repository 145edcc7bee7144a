// Kernel time to wall-clock time. Records carry bpf_ktime_get_boot_ns() (CLOCK_BOOTTIME); events
// carry RFC 3339 wall time with nanoseconds.
//
// The offset wall - boottime is measured once at start:
//  - Node has no clock_gettime(CLOCK_BOOTTIME). process.hrtime is CLOCK_MONOTONIC (libuv), which lags
//    BOOTTIME by the time spent suspended. /proc/uptime is BOOTTIME, but only to 10 ms.
//  - So: boottime ~= monotonic + suspended, where `suspended` = uptime - monotonic from one read of
//    /proc/uptime, rounded to 0 when below /proc/uptime's resolution (servers never suspend, and the
//    nanosecond precision of hrtime is kept). After a real suspend the offset is right to ~10 ms.
//  - Wall time comes from performance.timeOrigin + performance.now() (microseconds), not Date.now().
// A capture stores the offset in its header, so replays print the times of the recording.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const NS_PER_S = 1_000_000_000n;
/** Below this, uptime - monotonic is /proc/uptime's rounding, not suspend time. */
const UPTIME_RESOLUTION_NS = 20_000_000n;

export interface ClockSources {
  /** CLOCK_MONOTONIC in ns. */
  monotonicNs(): bigint;
  /** Wall clock in ns since the epoch (µs precision is fine). */
  wallNs(): bigint;
  /** Contents of /proc/uptime. */
  uptime(): string;
}

export const systemClocks: ClockSources = {
  monotonicNs: () => process.hrtime.bigint(),
  wallNs: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n,
  uptime: () => readFileSync('/proc/uptime', 'utf8'),
};

/** Seconds with up to 9 decimals as ns, exactly (no float rounding). */
export function parseSecondsNs(s: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) throw new Error(`not a number of seconds: ${JSON.stringify(s)}`);
  return BigInt(m[1]!) * NS_PER_S + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** CLOCK_BOOTTIME - CLOCK_MONOTONIC: the time this machine spent suspended, 0 when below resolution. */
export function suspendedNs(clocks: ClockSources = systemClocks): bigint {
  const mono = clocks.monotonicNs();
  let up: bigint;
  try {
    up = parseSecondsNs(clocks.uptime().split(/\s+/)[0] ?? '');
  } catch {
    return 0n;
  }
  const d = up - mono;
  return d > UPTIME_RESOLUTION_NS ? d : 0n;
}

/** wall - boottime in ns: add it to a record's ktime_ns to get wall-clock ns since the epoch. */
export function bootToWallOffsetNs(clocks: ClockSources = systemClocks): bigint {
  const suspended = suspendedNs(clocks);
  const mono = clocks.monotonicNs();
  const wall = clocks.wallNs();
  return wall - (mono + suspended);
}

/** RFC 3339 UTC with nanoseconds: 2026-11-28T12:00:00.123456789Z. */
export function formatWallNs(wallNs: bigint): string {
  let s = wallNs / NS_PER_S;
  let frac = wallNs % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    s -= 1n;
  }
  const iso = new Date(Number(s) * 1000).toISOString(); // ....T12:00:00.000Z
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Converts kernel boot-time stamps of records to RFC 3339 strings. */
export class BootClock {
  readonly offsetNs: bigint;
  private readonly offsetMs: number;
  constructor(offsetNs: bigint) {
    this.offsetNs = offsetNs;
    this.offsetMs = Number(offsetNs) / 1e6;
  }
  static now(clocks: ClockSources = systemClocks): BootClock {
    return new BootClock(bootToWallOffsetNs(clocks));
  }
  /** Wall-clock unix ms (a float: sub-ms precision kept while boot time is under 2^53 ns). */
  wallMs(ktimeNs: bigint): number {
    return Number(ktimeNs) / 1e6 + this.offsetMs;
  }

  wallNs(ktimeNs: bigint): bigint {
    return ktimeNs + this.offsetNs;
  }
  // Events come in bursts within one second: the date-and-second prefix is formatted once per second.
  private lastSec = -1n;
  private lastPrefix = '';
  format(ktimeNs: bigint): string {
    const wall = ktimeNs + this.offsetNs;
    if (wall < 0n) return formatWallNs(wall);
    const sec = wall / NS_PER_S;
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      this.lastPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
    }
    return `${this.lastPrefix}.${(wall - sec * NS_PER_S).toString().padStart(9, '0')}Z`;
  }
}
