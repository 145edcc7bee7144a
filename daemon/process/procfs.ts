// Reads processes from /proc: to seed the process table at start and to look up a pid the table
// missed. Every read tolerates the process vanishing in between (it returns undefined).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { ProcessEntry } from './table.js';

/** USER_HZ: /proc/PID/stat times are in clock ticks of 1/100 s on every Linux architecture. */
const NS_PER_TICK = 10_000_000n;

/** Parses /proc/PID/stat: comm is in parentheses and may itself hold spaces and parentheses. */
export function parseStat(text: string): { comm: string; ppid: number; startTicks: bigint } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // Fields after comm: state(3) ppid(4) ... starttime(22): indices 0, 1, ..., 19 of rest.
  const ppid = Number(rest[1]);
  const start = rest[19];
  if (!Number.isInteger(ppid) || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { comm: text.slice(open + 1, close), ppid, startTicks: BigInt(start) };
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** One process of /proc (root selects another procfs, for tests). */
export function readProcess(pid: number, root = '/proc'): ProcessEntry | undefined {
  const dir = `${root}/${pid}`;
  const stat = readOr(`${dir}/stat`);
  const parsed = stat === undefined ? undefined : parseStat(stat);
  if (!parsed) return undefined;
  let exe = '';
  try {
    exe = readlinkSync(`${dir}/exe`);
  } catch {
    // kernel thread or gone: no exe
  }
  const cmdline = readOr(`${dir}/cmdline`) ?? '';
  const args = cmdline === '' ? [] : cmdline.replace(/\0$/, '').split('\0');
  const status = readOr(`${dir}/status`) ?? '';
  const uidLine = /^Uid:\s+(\d+)/m.exec(status);
  const cgroupText = readOr(`${dir}/cgroup`) ?? '';
  // The v2 line ("0::/path") when present, else the first controller's path.
  const v2 = /^0::(.*)$/m.exec(cgroupText);
  const first = /^\d+:[^:]*:(.*)$/m.exec(cgroupText);
  return {
    pid,
    ppid: parsed.ppid,
    exe,
    args,
    comm: parsed.comm,
    uid: uidLine ? Number(uidLine[1]) : 0,
    startNs: parsed.startTicks * NS_PER_TICK,
    cgroup: (v2?.[1] ?? first?.[1] ?? '').trim(),
    cgroupId: 0,
  };
}

/** Every process of /proc (threads are not listed there, only thread groups). */
export function readAllProcesses(root = '/proc'): ProcessEntry[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: ProcessEntry[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const e = readProcess(Number(n), root);
    if (e) out.push(e);
  }
  return out;
}
