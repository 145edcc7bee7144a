// Parsers of cgroup v1/v2 and procfs files: tables of file text -> figures. Texts follow the kernel's
// documentation (cgroup-v2.rst, cgroup-v1/*.rst, proc(5)) and what this machine's kernel prints.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  cpuQuotaV1,
  parseBlkioRwstat,
  parseCpuMax,
  parseDiskstats,
  parseFileNr,
  parseFlatKeyed,
  parseIoStat,
  parseLimit,
  parseLoadavgTasks,
  parseMeminfo,
  parseNetDev,
  parseNofileLimit,
  parsePids,
  parsePressure,
  parseProcIo,
  parseProcStatCpu,
  parseSingle,
} from './parse.js';

describe('flat keyed files', () => {
  const cases: [string, string, Record<string, number>][] = [
    [
      'v2 cpu.stat with the cpu controller',
      'usage_usec 2500000\nuser_usec 1500000\nsystem_usec 1000000\nnr_periods 120\nnr_throttled 30\nthrottled_usec 450000\nnr_bursts 0\nburst_usec 0\n',
      { usage_usec: 2500000, user_usec: 1500000, system_usec: 1000000, nr_periods: 120, nr_throttled: 30, throttled_usec: 450000, nr_bursts: 0, burst_usec: 0 },
    ],
    [
      'v2 cpu.stat core only',
      'usage_usec 1640912958\nuser_usec 435396308\nsystem_usec 1205516649\nnice_usec 0\n',
      { usage_usec: 1640912958, user_usec: 435396308, system_usec: 1205516649, nice_usec: 0 },
    ],
    ['v2 memory.events', 'low 0\nhigh 0\nmax 17\noom 3\noom_kill 2\noom_group_kill 0\n', { low: 0, high: 0, max: 17, oom: 3, oom_kill: 2, oom_group_kill: 0 }],
    ['v1 memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 5\n', { oom_kill_disable: 0, under_oom: 0, oom_kill: 5 }],
    ['v1 cpu.stat', 'nr_periods 40\nnr_throttled 10\nthrottled_time 2500000000\n', { nr_periods: 40, nr_throttled: 10, throttled_time: 2500000000 }],
    ['odd lines are skipped', 'a 1\nnovalue\nb x\n c 3\n\nd 4', { a: 1, d: 4 }],
    ['empty', '', {}],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => assert.deepEqual(Object.fromEntries(parseFlatKeyed(text)), want));
  }
});

describe('single values and limits', () => {
  const singles: [string, number | undefined][] = [
    ['104857600\n', 104857600],
    ['0', 0],
    ['', undefined],
    ['max', undefined],
    ['12x', undefined],
  ];
  for (const [text, want] of singles) test(`parseSingle(${JSON.stringify(text)})`, () => assert.equal(parseSingle(text), want));

  const limits: [string, number | null | undefined][] = [
    ['max\n', null], // v2 memory.max, pids.max; v1 pids.max
    ['268435456\n', 268435456],
    ['9223372036854771712\n', null], // v1 memory.limit_in_bytes unlimited (PAGE_COUNTER_MAX * 4 KiB)
    ['9223372036854775807\n', null],
    ['-1\n', null],
    ['0\n', 0],
    ['junk', undefined],
  ];
  for (const [text, want] of limits) test(`parseLimit(${JSON.stringify(text)})`, () => assert.equal(parseLimit(text), want));
});

describe('CPU quota', () => {
  const v2: [string, number | null | undefined][] = [
    ['max 100000\n', null],
    ['50000 100000\n', 0.5],
    ['250000 100000', 2.5],
    ['50000 0', undefined],
    ['', undefined],
  ];
  for (const [text, want] of v2) test(`cpu.max ${JSON.stringify(text)}`, () => assert.equal(parseCpuMax(text), want));
  const v1: [string, string, number | null | undefined][] = [
    ['-1\n', '100000\n', null],
    ['150000\n', '100000\n', 1.5],
    ['25000', '50000', 0.5],
    ['x', '100000', undefined],
  ];
  for (const [q, p, want] of v1) test(`cfs_quota_us ${q.trim()} / cfs_period_us ${p.trim()}`, () => assert.equal(cpuQuotaV1(q, p), want));
});

describe('block I/O', () => {
  test('v2 io.stat sums devices, leaves out discards and extra keys', () => {
    const text =
      '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021 cost.vrate=100.00 cost.usage=1\n';
    assert.deepEqual(parseIoStat(text), { readBytes: 1459200 + 90430464, writeBytes: 314773504 + 299008000, readOps: 192 + 8950, writeOps: 353 + 1252 });
  });
  test('v2 io.stat empty (no I/O yet)', () => assert.deepEqual(parseIoStat(''), { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 }));
  const rw: [string, string, { read: number; write: number }][] = [
    [
      'v1 rwstat, two devices',
      '8:0 Read 1048576\n8:0 Write 2097152\n8:0 Sync 3145728\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 3145728\n8:16 Read 4096\n8:16 Write 0\n8:16 Total 4096\nTotal 3149824\n',
      { read: 1052672, write: 2097152 },
    ],
    ['v1 rwstat, nothing counted', 'Total 0\n', { read: 0, write: 0 }],
  ];
  for (const [name, text, want] of rw) test(name, () => assert.deepEqual(parseBlkioRwstat(text), want));
  test('/proc/<pid>/io less cancelled writes', () => {
    assert.deepEqual(parseProcIo('rchar: 6976\nwchar: 10\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 1052672\ncancelled_write_bytes: 4096\n'), {
      readBytes: 4096,
      writeBytes: 1048576,
    });
    assert.equal(parseProcIo('rchar: 1\n'), undefined);
  });
  test('/proc/diskstats: named whole disks only, 512-byte sectors', () => {
    const text =
      '   7       0 loop0 50 0 400 10 0 0 0 0 0 10 10 0 0 0 0 0 0\n 254       0 vda 1000 10 20000 500 2000 20 40000 800 0 900 1300 0 0 0 0 0 0\n 254       1 vda1 900 10 18000 450 1900 20 38000 750 0 850 1200\n';
    assert.deepEqual(parseDiskstats(text, new Set(['vda'])), { readBytes: 20000 * 512, writeBytes: 40000 * 512, readOps: 1000, writeOps: 2000 });
  });
});

describe('PSI', () => {
  test('cgroup cpu.pressure with some and full', () => {
    assert.deepEqual(parsePressure('some avg10=12.50 avg60=8.00 avg300=2.00 total=123456\nfull avg10=3.25 avg60=1.00 avg300=0.50 total=23456\n'), {
      some: { avg10: 12.5, avg60: 8, avg300: 2, total: 123456 },
      full: { avg10: 3.25, avg60: 1, avg300: 0.5, total: 23456 },
    });
  });
  test('older kernels: /proc/pressure/cpu has no full line', () => {
    assert.deepEqual(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'), { some: { avg10: 0, avg60: 0, avg300: 0, total: 0 } });
  });
  test('garbage', () => assert.deepEqual(parsePressure('nonsense\nsome total=3\n'), {}));
});

describe('processes and network', () => {
  test('cgroup.procs', () => assert.deepEqual(parsePids('101\n102\n\nx\n0\n'), [101, 102]));
  const netdev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:  120000     900    0    0    0     0          0         0    80000     600    0    0    0     0       0          0
  eth1:1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0
`;
  test('net/dev without lo (default)', () => assert.deepEqual(parseNetDev(netdev), { rxBytes: 121000, rxPackets: 910, txBytes: 82000, txPackets: 620 }));
  test('net/dev with lo', () => assert.deepEqual(parseNetDev(netdev, true), { rxBytes: 126000, rxPackets: 960, txBytes: 87000, txPackets: 670 }));

  const head =
    'Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \n';
  const limits: [string, string, number | null | undefined][] = [
    [
      'soft below hard (a login shell)',
      `${head}Max processes             96367                96367                processes \nMax open files            1024                 1048576              files     \nMax locked memory         8388608              8388608              bytes     \n`,
      1024,
    ],
    ['raised to the hard limit (runc default spec)', `${head}Max open files            1048576              1048576              files     \n`, 1048576],
    ['unlimited', `${head}Max open files            unlimited            unlimited            files     \n`, null],
    ['no open-files line', head, undefined],
    ['garbled value', `${head}Max open files            lots                 1048576              files     \n`, undefined],
  ];
  for (const [name, text, want] of limits) test(`/proc/<pid>/limits RLIMIT_NOFILE: ${name}`, () => assert.equal(parseNofileLimit(text), want));
});

describe('host procfs files', () => {
  test('/proc/stat cpu line: busy seconds', () => {
    assert.equal(parseProcStatCpu('cpu  10000 200 3000 500000 400 0 100 0 0 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n'), (10000 + 200 + 3000 + 100) / 100);
    assert.equal(parseProcStatCpu('intr 1\n'), undefined);
  });
  test('/proc/meminfo in bytes', () => {
    const m = parseMeminfo('MemTotal:       16000000 kB\nMemFree:         4000000 kB\nHugePages_Total:       3\n');
    assert.equal(m.get('MemTotal'), 16000000 * 1024);
    assert.equal(m.get('MemFree'), 4000000 * 1024);
    assert.equal(m.get('HugePages_Total'), 3);
  });
  test('/proc/loadavg tasks', () => assert.equal(parseLoadavgTasks('0.50 0.40 0.30 3/456 78901\n'), 456));
  test('fs.file-nr allocated', () => assert.equal(parseFileNr('3456\t0\t9223372036854775807\n'), 3456));
});
