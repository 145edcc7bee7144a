// `vigil ps` output: each resource cell as a table of samples and what it prints, the status ages,
// posture flags, alert counts in the worst severity's colour, and whole tables (host first, 12-char
// ids, wide columns) without colour off a terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSummary, ListContainersResponse } from './proto.js';
import { cpuCell, memCell, pidsCell, postureFlags, psTable, statusCell } from './ps.js';
import { painter, stripAnsi } from './terminal.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const MiB = 1024 * 1024;
const NO_POSTURE = {
  privileged: false,
  host_pid: false,
  host_net: false,
  host_ipc: false,
  host_mnt: false,
  host_user: false,
  host_uts: false,
  sensitive_mounts: [],
  uid_map: '',
  cap_effective: '0x0',
  sources: ['runtime', 'kernel'],
  mismatches: [] as string[],
};

function summary(
  over: Partial<ContainerSummary> & { id?: string; name?: string; image?: string; started?: string; stopped?: string; pod?: string } = {},
): ContainerSummary {
  const { id = 'c0ffee00000112345678', name = 'web-1', image = 'busybox:1.36', started = '2026-11-28T11:54:57Z', stopped, pod, ...rest } = over;
  return {
    info: {
      ref: { id, name, runtime: id === 'host' ? 'host' : 'runc', image, ...(pod ? { pod, namespace: 'prod' } : {}) },
      labels: {},
      cgroup_id: '7',
      cgroup_path: `/vigil/${name}`,
      posture: id === 'host' ? null : NO_POSTURE,
      started_at: started,
      ...(stopped ? { stopped_at: stopped } : {}),
    },
    running: stopped === undefined,
    monitored: true,
    latest: {},
    sampled_at_ms: String(NOW - 3000),
    open_alerts: 0,
    worst_open_severity: 'SEVERITY_UNSPECIFIED',
    ...rest,
  };
}

const CELLS: Array<[string, Record<string, number>, string, string, string]> = [
  // [what, latest, MEM, CPU, PIDS]
  ['never sampled', {}, '-', '-', '-'],
  ['no limits', { memory_working_set_bytes: 12.5 * MiB, cpu_usage_cores: 0.0523, pids_current: 3 }, '12.5MiB', '0.052', '3'],
  [
    'limits',
    { memory_working_set_bytes: 64 * MiB, memory_limit_bytes: 256 * MiB, cpu_usage_cores: 0.25, cpu_quota_cores: 2, pids_current: 3, pids_max: 100 },
    '64MiB/256MiB 25%',
    '0.25/2',
    '3/100',
  ],
  ['a small share keeps a decimal', { memory_working_set_bytes: 12 * MiB, memory_limit_bytes: 256 * MiB }, '12MiB/256MiB 4.7%', '-', '-'],
  ['usage stands in for a missing working set', { memory_usage_bytes: 2048, memory_limit_bytes: 4096 }, '2KiB/4KiB 50%', '-', '-'],
  ['limits known, usage not yet', { memory_limit_bytes: 256 * MiB, cpu_quota_cores: 0.5, pids_max: 10 }, '-/256MiB', '-/0.5', '-/10'],
];

for (const [what, latest, mem, cpu, pids] of CELLS) {
  test(`resource cells: ${what}`, () => {
    assert.equal(memCell(latest), mem);
    assert.equal(cpuCell(latest), cpu);
    assert.equal(pidsCell(latest), pids);
  });
}

test('resource cells near a limit are yellow from 75% and red from 90%, only with colour', () => {
  const paint = painter(true);
  assert.equal(memCell({ memory_working_set_bytes: 80, memory_limit_bytes: 100 }, paint), '\x1b[33m80B/100B 80%\x1b[0m');
  assert.equal(pidsCell({ pids_current: 95, pids_max: 100 }, paint), '\x1b[31m95/100\x1b[0m');
  assert.equal(cpuCell({ cpu_usage_cores: 0.5, cpu_quota_cores: 2 }, paint), '0.5/2');
  assert.equal(memCell({ memory_working_set_bytes: 95, memory_limit_bytes: 100 }), '95B/100B 95%');
});

test("status: running with its age, stopped with how long ago, the host without the daemon's age", () => {
  assert.equal(statusCell(summary(), NOW), 'running 5m3s');
  assert.equal(statusCell(summary({ stopped: '2026-11-28T10:00:00Z' }), NOW), 'stopped 2h ago');
  assert.equal(statusCell(summary({ started: '' }), NOW), 'running');
  assert.equal(statusCell(summary({ id: 'host', name: 'host', started: '2026-11-28T11:59:00Z' }), NOW), 'running');
});

test('posture flags: privileged, each shared host namespace but the user one, each sensitive mount, a mismatch', () => {
  assert.deepEqual(postureFlags(summary()), []);
  const risky = summary();
  risky.info!.posture = {
    ...NO_POSTURE,
    privileged: true,
    host_pid: true,
    host_net: true,
    host_uts: true,
    host_user: true,
    sensitive_mounts: ['/var/run/docker.sock', '/proc/sys'],
  };
  assert.deepEqual(postureFlags(risky), ['PRIV', 'HOSTPID', 'HOSTNET', 'HOSTUTS', 'MNT:/var/run/docker.sock', 'MNT:/proc/sys']);
  const plain = summary();
  plain.info!.posture = { ...NO_POSTURE, host_user: true };
  assert.deepEqual(postureFlags(plain), [], 'no user namespace of its own is the norm, not a flag');
  assert.deepEqual(postureFlags(summary({ id: 'host' })), []);
  const contradicted = summary();
  contradicted.info!.posture = { ...NO_POSTURE, host_net: true, mismatches: ['hostNet: runtime false, kernel true'] };
  assert.deepEqual(postureFlags(contradicted), ['HOSTNET', 'MISMATCH'], "the runtime said otherwise: the flags are the kernel's view");
});

function listing(): ListContainersResponse {
  const web = summary({
    latest: {
      memory_working_set_bytes: 64 * MiB,
      memory_limit_bytes: 256 * MiB,
      cpu_usage_cores: 0.25,
      cpu_quota_cores: 2,
      pids_current: 3,
      pids_max: 100,
      fds_open: 12,
    },
    open_alerts: 2,
    worst_open_severity: 'SEVERITY_CRITICAL',
    pod: 'web-7f9c',
  });
  web.info!.posture = { ...NO_POSTURE, privileged: true, host_pid: true };
  return {
    host: summary({ id: 'host', name: 'host', image: '', latest: { memory_working_set_bytes: 1024 * MiB, cpu_usage_cores: 1.5, pids_current: 312 } }),
    containers: [
      web,
      summary({ id: 'vgt-db', name: 'db', image: '', monitored: false, sampled_at_ms: '0', stopped: '2026-11-28T11:00:00Z', started: '2026-11-28T10:00:00Z' }),
    ],
  };
}

test('table: the host first, 12-character ids, one row per container, no colour codes off a terminal', () => {
  const lines = psTable(listing(), { wide: false, colour: false, now: NOW }).trimEnd().split('\n');
  assert.deepEqual(lines, [
    'CONTAINER ID  NAME   IMAGE         RUNTIME  STATUS          MEM               CPU     PIDS   ALERTS',
    'host          host   -             host     running         1GiB              1.5     312    0',
    'c0ffee000001  web-1  busybox:1.36  runc     running 5m3s    64MiB/256MiB 25%  0.25/2  3/100  2',
    'vgt-db        db     -             runc     stopped 1h ago  -                 -       -      0',
  ]);
});

test('wide: full id, pod, fds, age of the sample (or why there is none), severity word, posture flags', () => {
  const lines = psTable(listing(), { wide: true, colour: false, now: NOW }).trimEnd().split('\n');
  assert.match(lines[0]!, /^CONTAINER ID +NAME +IMAGE +RUNTIME +POD +STATUS +MEM +CPU +PIDS +FDS +SAMPLED +ALERTS +POSTURE$/);
  assert.match(
    lines[2]!,
    /^c0ffee00000112345678 +web-1 +busybox:1\.36 +runc +prod\/web-7f9c +running 5m3s +64MiB\/256MiB 25% +0\.25\/2 +3\/100 +12 +3s ago +2 critical +PRIV,HOSTPID$/,
  );
  assert.match(lines[3]!, /^vgt-db +db +- +runc +- +stopped 1h ago +- +- +- +- +unmonitored +0 +-$/);
});

test("colour: the alert count in the worst severity's colour; the layout is the same as without", () => {
  const coloured = psTable(listing(), { wide: false, colour: true, now: NOW });
  assert.match(coloured, /\x1b\[1;31m2\x1b\[0m$/m);
  assert.equal(stripAnsi(coloured), psTable(listing(), { wide: false, colour: false, now: NOW }));
});
