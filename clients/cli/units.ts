// Durations, times and quantities as people type and read them. Durations are read by vigil's one
// grammar (common/duration.ts), the same as in rules and the daemon's config.
import { parseDuration } from '../../common/duration.js';

/** A point in time for --since/--until: a duration ago ("1h"), or an ISO/RFC 3339 time. Unix ms. */
export function parseTimeArg(text: string, now: number): number | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

/** 93784000 -> "1d2h", 125000 -> "2m5s", 3600000 -> "1h", 800 -> "800ms": the two largest units. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(Math.round(ms));
  if (abs < 1000) return `${sign}${abs}ms`;
  let rest = Math.round(abs / 1000);
  const counts: Array<[string, number]> = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    counts.push([unit, Math.floor(rest / size)]);
    rest %= size;
  }
  const first = counts.findIndex(([, n]) => n > 0);
  const shown = counts.slice(first, first + 2).filter(([, n]) => n > 0);
  return sign + shown.map(([u, n]) => `${n}${u}`).join('');
}

/** A value with its unit guessed from the metric name: bytes in IEC units, seconds, cores, plain. */
export function formatValue(metric: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (metric.endsWith('_bytes') || metric.endsWith('_bytes_total')) return formatBytes(value);
  if (metric.endsWith('_cores')) return `${round(value)} cores`;
  if (metric.endsWith('_seconds_total')) return `${round(value)}s`;
  return round(value);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${round(v)}${units[i]}`;
}

/** Up to three significant decimals, no trailing zeros. */
export function round(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

/** Local-independent clock of an RFC 3339 time or unix ms: "HH:MM:SS.mmm" (UTC). */
export function clock(time: string | number): string {
  const iso = typeof time === 'number' ? new Date(time).toISOString() : time;
  return iso.length >= 23 ? iso.slice(11, 23) : iso;
}

/** "2026-11-28 12:00:01" (UTC) of an RFC 3339 time or unix ms. */
export function dateTime(time: string | number): string {
  const d = typeof time === 'number' ? new Date(time) : new Date(time);
  if (Number.isNaN(d.getTime())) return String(time);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
