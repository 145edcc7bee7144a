// Numbers as an operator reads them: binary byte units, cores, compact durations, local times.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // Whole bytes, except below 10 B (a rate of 0.5 B/s is not 1 B/s), then three significant digits.
  const digits = i === 0 ? (v < 10 && v !== Math.round(v) ? 1 : 0) : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)} ${BYTE_UNITS[i]}`;
}

export function bytesPerSecond(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : `${bytes(n)}/s`;
}

/** CPU in cores: "1.50", "0.250", "12m" below a hundredth (millicores, as Kubernetes writes them). */
export function cores(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  if (Math.abs(n) < 0.01) return `${Math.round(n * 1000)}m`;
  return n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
}

export function count(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** 45 s, 3m 20s, 2h 5m, 4d 3h. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  let out: string;
  if (s < 60) out = `${s}s`;
  else if (s < 3600) out = `${Math.floor(s / 60)}m ${s % 60}s`;
  else if (s < 86400) {
    s = Math.round(s / 60);
    out = `${Math.floor(s / 60)}h ${s % 60}m`;
  } else {
    s = Math.round(s / 3600);
    out = `${Math.floor(s / 24)}d ${s % 24}h`;
  }
  return neg ? `-${out}` : out;
}

/** "12s ago", "in 4m 10s". */
export function relative(ms: number, now = Date.now()): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  const d = ms - now;
  return d <= 0 ? `${duration(-d)} ago` : `in ${duration(d)}`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local wall-clock time HH:MM:SS. */
export function clock(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time, YYYY-MM-DD HH:MM:SS. */
export function dateTime(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
}

/** An RFC 3339 string (alerts, events) or a decimal unix-ms string (int64 fields) to unix ms. */
export function toMs(v: string | number | undefined | null): number {
  if (v === undefined || v === null || v === '') return NaN;
  if (typeof v === 'number') return v;
  return /^\d+$/.test(v) ? Number(v) : Date.parse(v);
}

export function shortId(id: string): string {
  return id === 'host' ? 'host' : id.slice(0, 12);
}

/** A metric value formatted by what its name says it measures. */
export function metricValue(metric: string, v: number | undefined): string {
  if (metric.endsWith('_bytes_total')) return bytesPerSecond(v);
  if (metric.endsWith('_bytes')) return bytes(v);
  if (metric.endsWith('_cores')) return cores(v);
  return count(v);
}
