// Parsers of the files the metrics sampler reads: cgroup v2 (Documentation/admin-guide/cgroup-v2.rst,
// "Interface Files" and the controller sections), cgroup v1 (Documentation/admin-guide/cgroup-v1/) and
// procfs. Pure functions of the file's text: no I/O, so each is tested by a table.
//
// Leniency: a line that does not follow the format is skipped and a value that is not a number is left
// out (undefined), so one odd line never costs the other figures of the file. Limits come back as
// `null` when the file says the group is unlimited ("max", -1, or v1's PAGE_COUNTER_MAX).

/** A limit: a number, or null for unlimited. */
export type Limit = number | null;

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Flat keyed files, one "key value" per line: v2 cpu.stat, memory.stat, memory.events, v1 cpu.stat,
 * memory.stat, memory.oom_control, /proc/vmstat. Later duplicates win.
 */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = num(line.slice(sp + 1).trim());
    if (v !== undefined) out.set(line.slice(0, sp), v);
  }
  return out;
}

/** A single-value file: memory.current, pids.current, v1 cpuacct.usage, memory.failcnt. */
export function parseSingle(text: string): number | undefined {
  return num(text.trim());
}

/**
 * v1 memory.limit_in_bytes (and memsw) say "unlimited" with PAGE_COUNTER_MAX pages in bytes,
 * 0x7FFFFFFFFFFFF000 with 4 KiB pages (larger pages round it down a little). Anything at or above 2^62
 * bytes is no real limit.
 */
export const V1_UNLIMITED_BYTES = 2 ** 62;

/** A limit file: v2 memory.max, pids.max, v1 pids.max ("max" = unlimited); v1 memory.limit_in_bytes. */
export function parseLimit(text: string): Limit | undefined {
  const t = text.trim();
  if (t === 'max') return null;
  const v = num(t);
  if (v === undefined) return undefined;
  return v < 0 || v >= V1_UNLIMITED_BYTES ? null : v;
}

/** v2 cpu.max: "$MAX $PERIOD" in microseconds; "max" for no quota. Returns the quota in cores. */
export function parseCpuMax(text: string): Limit | undefined {
  const [max, period] = text.trim().split(/\s+/);
  if (max === 'max') return null;
  const q = num(max);
  const p = num(period);
  if (q === undefined || p === undefined || p <= 0) return undefined;
  return q / p;
}

/** v1 cpu.cfs_quota_us (-1 = no quota) over cpu.cfs_period_us, in cores. */
export function cpuQuotaV1(quotaText: string, periodText: string): Limit | undefined {
  const q = num(quotaText.trim());
  const p = num(periodText.trim());
  if (q === undefined) return undefined;
  if (q < 0) return null;
  if (p === undefined || p <= 0) return undefined;
  return q / p;
}

export interface IoTotals {
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

/**
 * v2 io.stat: one line per device, "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" (more
 * keys may follow with io.latency or io.cost: ignored). Summed over devices; discards are left out.
 */
export function parseIoStat(text: string): IoTotals {
  const t: IoTotals = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || !fields[0]!.includes(':')) continue;
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      if (eq <= 0) continue;
      const v = num(f.slice(eq + 1));
      if (v === undefined) continue;
      switch (f.slice(0, eq)) {
        case 'rbytes':
          t.readBytes += v;
          break;
        case 'wbytes':
          t.writeBytes += v;
          break;
        case 'rios':
          t.readOps += v;
          break;
        case 'wios':
          t.writeOps += v;
          break;
      }
    }
  }
  return t;
}

/**
 * v1 blkio.throttle.io_service_bytes(_recursive) and io_serviced(_recursive): "MAJ:MIN Read N",
 * "MAJ:MIN Write N", Sync, Async, Discard, Total per device, then a final "Total N". Read and Write
 * summed over devices.
 */
export function parseBlkioRwstat(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (!dev?.includes(':') || value === undefined) continue;
    const v = num(value);
    if (v === undefined) continue;
    if (op === 'Read') read += v;
    else if (op === 'Write') write += v;
  }
  return { read, write };
}

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time, microseconds. */
  total: number;
}

/**
 * PSI files (cpu.pressure, memory.pressure, io.pressure, /proc/pressure/*):
 * "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a "full" line (the cpu file has "full" since
 * 5.13, all zero outside cgroups). avg values are percentages, 0..100.
 */
export function parsePressure(text: string): { some?: PressureLine; full?: PressureLine } {
  const out: { some?: PressureLine; full?: PressureLine } = {};
  for (const line of text.split('\n')) {
    const [kind, ...rest] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const kv = new Map<string, number>();
    for (const f of rest) {
      const eq = f.indexOf('=');
      const v = eq > 0 ? num(f.slice(eq + 1)) : undefined;
      if (v !== undefined) kv.set(f.slice(0, eq), v);
    }
    const avg10 = kv.get('avg10');
    if (avg10 === undefined) continue;
    out[kind] = { avg10, avg60: kv.get('avg60') ?? 0, avg300: kv.get('avg300') ?? 0, total: kv.get('total') ?? 0 };
  }
  return out;
}

/** cgroup.procs (and tasks): one pid a line. */
export function parsePids(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const v = num(line.trim());
    if (v !== undefined && Number.isInteger(v) && v > 0) out.push(v);
  }
  return out;
}

export interface NetTotals {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/**
 * /proc/<pid>/net/dev: two header lines, then "iface: rx_bytes rx_packets errs drop fifo frame
 * compressed multicast tx_bytes tx_packets ...". Summed over interfaces; `lo` only when asked.
 */
export function parseNetDev(text: string, includeLoopback = false): NetTotals {
  const t: NetTotals = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (iface === '' || (iface === 'lo' && !includeLoopback)) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 10 || f.slice(0, 10).some((x) => !Number.isFinite(x))) continue;
    t.rxBytes += f[0]!;
    t.rxPackets += f[1]!;
    t.txBytes += f[8]!;
    t.txPackets += f[9]!;
  }
  return t;
}

/** /proc/<pid>/io: read_bytes and write_bytes, the bytes this process (and its reaped children) caused to be read from or sent to storage. */
export function parseProcIo(text: string): { readBytes: number; writeBytes: number } | undefined {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const v = num(line.slice(colon + 1).trim());
    if (v !== undefined) m.set(line.slice(0, colon), v);
  }
  const r = m.get('read_bytes');
  const w = m.get('write_bytes');
  if (r === undefined || w === undefined) return undefined;
  // Truncated page-cache writes never reach the disk.
  return { readBytes: r, writeBytes: Math.max(0, w - (m.get('cancelled_write_bytes') ?? 0)) };
}

/**
 * /proc/<pid>/limits: a header line, then "Max open files   <soft>   <hard>   files" among the other
 * limits (proc(5)); columns are padded with spaces. The soft limit of RLIMIT_NOFILE: what open(2),
 * socket(2), accept(2) and dup(2) fail with EMFILE beyond. null for "unlimited".
 */
export function parseNofileLimit(text: string): Limit | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return null;
    const v = num(soft);
    return v !== undefined && Number.isInteger(v) && v >= 0 ? v : undefined;
  }
  return undefined;
}

/** The USER_HZ of /proc/stat: 100 on every architecture Linux exports to user space. */
export const USER_HZ = 100;

/** /proc/stat "cpu" line: busy time of all CPUs in seconds (user nice system irq softirq steal; guest is inside user). */
export function parseProcStatCpu(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 7 || f.some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, , , irq, softirq, steal = 0] = f as [number, number, number, number, number, number, number, number?];
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

/** /proc/meminfo in bytes ("MemTotal:  16318480 kB"). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  return out;
}

/** /proc/loadavg: "0.00 0.01 0.05 2/180 12345": the 180 is the number of tasks (threads) on the host. */
export function parseLoadavgTasks(text: string): number | undefined {
  const m = /\s\d+\/(\d+)\s/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** /proc/sys/fs/file-nr: "allocated  free  max"; allocated file handles of the host. */
export function parseFileNr(text: string): number | undefined {
  return num(text.trim().split(/\s+/)[0]);
}

/**
 * /proc/diskstats: "MAJ MIN name reads merged sectors ms writes merged sectors ms ...". Sectors are
 * 512 bytes whatever the device. Only the named devices are summed (whole disks: partitions and
 * stacked devices such as dm would count the same I/O twice).
 */
export function parseDiskstats(text: string, disks: ReadonlySet<string>): IoTotals {
  const t: IoTotals = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !disks.has(f[2]!)) continue;
    const [reads, , rsect, , writes, , wsect] = f.slice(3, 10).map(Number) as number[];
    if (![reads, rsect, writes, wsect].every((x) => Number.isFinite(x))) continue;
    t.readOps += reads!;
    t.readBytes += rsect! * 512;
    t.writeOps += writes!;
    t.writeBytes += wsect! * 512;
  }
  return t;
}
