// Denial of service end to end (issue 11, item 7): the real `bin/vigild` on its embedded defaults
// (default targets "all" and "host", the default rule pack from rules/, the 5 s metrics interval;
// only the data dir, the API socket and the HTTP port are the test's own), and seven techniques, each
// in its own runc container with ordinary limits. Each must raise its own DoS rule with that
// container's id on the alert stream (`bin/vigil tail -o json`) within 30 s of the container's start,
// and `bin/vigil ps -o json` must list the container as running while the technique runs. Then
// containers of the same shapes doing ordinary work must raise nothing at warning or above over a
// window as long as the attacks had.
//
// The techniques run in two waves of concurrent containers, so that on 2 cores the ones that burn CPU
// (the UDP flood, the OOM loop, the CPU-starved busy loops) do not starve the fsync writers of the
// CPU they need to keep the disk busy; the descriptor, thread and fork techniques go with the disk.
// Each is bounded in time by itself (busybox timeout, or vigil-dos's own alarm) and every container
// is deleted at the end of its wave. The UDP flood stays on the container's own loopback.
// test/helpers/vigil-dos.c does what busybox cannot (threads, descriptor tables, sendmmsg, fdatasync
// loops); it is built static here and bind-mounted read-only at /opt/vigil.
//
// Run alone: node --test --test-force-exit dist/js/test/integration/dos-daemon.test.js
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runcMissing, startContainer, type Container, type ContainerOptions } from '../runc.js';
import { type AlertTail, Vigild, WARNING_OR_ABOVE, sleep } from '../vigild.js';

const REPO = join(import.meta.dirname, '../../../..');
const MiB = 1024 * 1024;
/** From a container's start to its alert on the stream. */
const DEADLINE_MS = 30_000;
/** How long every technique (and every ordinary workload) runs at most, in seconds. */
const RUN_S = 75;
const HELPER = '/opt/vigil/vigil-dos';

/** `sh -c SCRIPT` ended by busybox timeout after RUN_S (timeout is the container's init: its exit ends the container). */
function bounded(script: string): string[] {
  return ['timeout', '-s', 'KILL', String(RUN_S), 'sh', '-c', script];
}

interface Shape {
  name: string;
  options: ContainerOptions;
}

interface Attack extends Shape {
  rule: string;
  /** 1: disk, descriptors, tasks; 2: CPU, memory, network (see the header). */
  wave: 1 | 2;
}

/** The techniques and the rule each must raise. */
const ATTACKS: Attack[] = [
  {
    name: 'OOM-kill loop',
    wave: 2,
    rule: 'OOM kill loop in container',
    // A crash loop: a child allocates until the OOM killer takes it, restarted 100 ms later.
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, args: [HELPER, 'oom', String(RUN_S)] },
  },
  {
    name: 'CPU starvation under a 0.2-core quota',
    wave: 2,
    rule: 'CPU starvation in container',
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, cpuQuota: 20_000, cpuPeriod: 100_000, args: bounded('(while :; do :; done) & while :; do :; done') },
  },
  {
    name: 'file descriptor exhaustion',
    wave: 1,
    rule: 'Container process at its file descriptor limit',
    // Soft RLIMIT_NOFILE raised to the hard limit (runc's spec: 1024), then open until EMFILE.
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, args: [HELPER, 'fds', String(RUN_S)] },
  },
  {
    name: 'UDP flood on the container loopback',
    wave: 2,
    rule: 'Network flood from container',
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, args: [HELPER, 'udp', String(RUN_S), '9999', '64'] },
  },
  {
    name: 'fsync I/O flood',
    wave: 1,
    rule: 'I/O flood from container',
    // Four writers, each 1 MiB then fdatasync, over and over, into the container's rootfs (a real disk).
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, args: [HELPER, 'fsync', String(RUN_S), '/tmp/flood', '4', '1024'] },
  },
  {
    name: 'thread bomb against pids.max',
    wave: 1,
    rule: 'Container at its process limit',
    options: { memoryLimit: 64 * MiB, pidsLimit: 128, args: [HELPER, 'threads', String(RUN_S)] },
  },
  {
    name: 'slow fork bomb',
    wave: 1,
    rule: 'Container at its process limit',
    // Five processes a second until pids.max; the inner shell dies at the first failed fork and the
    // outer one starts it again, so the table stays full.
    options: { memoryLimit: 64 * MiB, pidsLimit: 64, args: bounded('while :; do sh -c "while :; do sleep 120 & sleep 0.2; done"; sleep 0.2; done') },
  },
];

/** The same shapes (same limits) doing ordinary work. */
const ORDINARY: Shape[] = [
  {
    name: 'memory: 16 MiB held a few seconds at a time',
    options: { memoryLimit: 64 * MiB, pidsLimit: 100, args: bounded(`while :; do ${HELPER} alloc 3 16 > /dev/null; sleep 2; done`) },
  },
  {
    name: 'CPU: short bursts below the 0.2-core quota',
    options: {
      memoryLimit: 64 * MiB,
      pidsLimit: 100,
      cpuQuota: 20_000,
      cpuPeriod: 100_000,
      args: bounded('while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1; done'),
    },
  },
  {
    name: 'files: a few open, a log appended',
    options: {
      memoryLimit: 64 * MiB,
      pidsLimit: 100,
      args: bounded('exec 3</etc/passwd 4</etc/group 5>>/tmp/app.log; while :; do echo tick >&5; cat /etc/hostname > /dev/null; sleep 1; done'),
    },
  },
  {
    name: 'network: a web server and a client on the loopback',
    options: {
      memoryLimit: 64 * MiB,
      pidsLimit: 100,
      args: bounded(
        'mkdir -p /www && echo hello > /www/index.html && busybox httpd -p 127.0.0.1:8080 -h /www && while :; do wget -q -O /dev/null http://127.0.0.1:8080/index.html; sleep 0.2; done',
      ),
    },
  },
  {
    name: 'disk: 1 MiB written and fsynced every second',
    options: {
      memoryLimit: 64 * MiB,
      pidsLimit: 100,
      args: bounded('while :; do dd if=/dev/zero of=/tmp/data bs=64k count=16 conv=fsync 2>/dev/null; sleep 1; done'),
    },
  },
  {
    name: 'threads: a pool of 8',
    options: { memoryLimit: 64 * MiB, pidsLimit: 128, args: [HELPER, 'threads', String(RUN_S), '8'] },
  },
  {
    name: 'processes: a short job three times a second',
    options: { memoryLimit: 64 * MiB, pidsLimit: 64, args: bounded('while :; do sh -c "date > /tmp/now"; sleep 0.3; done') },
  },
];

describe('DoS end to end: vigild on its defaults, techniques in runc containers', () => {
  const helpers = realpathSync(mkdtempSync(join(tmpdir(), 'vigil-dos-')));
  let daemon: Vigild;
  let tail: AlertTail;
  const containers: Container[] = [];

  function start(shape: Shape): Container {
    const c = startContainer({ ...shape.options, mounts: [{ destination: '/opt/vigil', source: helpers, options: ['rbind', 'ro'] }] });
    containers.push(c);
    return c;
  }

  before(async () => {
    const why = runcMissing();
    if (why) assert.fail(why);
    // Built before any container starts, so it is never a file a container dropped.
    chmodSync(helpers, 0o755);
    const cc = spawnSync('cc', ['-static', '-O2', '-Wall', '-Werror', '-o', join(helpers, 'vigil-dos'), join(REPO, 'test/helpers/vigil-dos.c')], {
      encoding: 'utf8',
    });
    assert.equal(cc.status, 0, `cc -static vigil-dos.c: ${cc.error?.message ?? cc.stderr}`);
    daemon = await Vigild.start();
    tail = await daemon.tail();
  });

  after(async () => {
    for (const c of containers) c.delete();
    await tail?.stop();
    await daemon?.stop();
    rmSync(helpers, { recursive: true, force: true });
  });

  /** Starts the wave's containers at once; each must raise its rule within DEADLINE_MS of its start and be listed running. */
  async function wave(attacks: Attack[], t: { diagnostic(msg: string): void }): Promise<void> {
    const started = attacks.map((a) => {
      const at = Date.now();
      return { ...a, at, c: start(a) };
    });
    // Wait a little past the deadline, so a late alert is reported with its latency.
    const seen = await Promise.all(started.map((s) => tail.opened(s.rule, s.c.id, s.at + DEADLINE_MS + 15_000)));

    // While the techniques still run: every container listed, running.
    const listed = daemon.ps();

    const report = started.map((s, i) => {
      const a = seen[i];
      return `${s.name} [${s.c.id}]: ${a ? `${s.rule} after ${((a.at - s.at) / 1000).toFixed(1)} s` : `no "${s.rule}"`}; ps: ${listed.has(s.c.id) ? (listed.get(s.c.id) ? 'running' : 'NOT running') : 'NOT listed'}`;
    });
    const context = `\n${report.join('\n')}\nalerts opened: ${tail.summary()}\nvigild log:\n${daemon.logTail()}`;
    for (const [i, s] of started.entries()) {
      const a = seen[i];
      assert.ok(a, `${s.name}: no "${s.rule}" for ${s.c.id}${context}`);
      assert.ok(a.at - s.at <= DEADLINE_MS, `${s.name}: "${s.rule}" came ${a.at - s.at} ms after the container started${context}`);
      assert.equal(listed.get(s.c.id), true, `${s.name}: vigil ps does not list ${s.c.id} as running${context}`);
    }
    for (const line of report) t.diagnostic(line);
    for (const s of started) s.c.delete();
  }

  test('disk, descriptor and task techniques each raise their own DoS alert within 30 s; ps lists them running', { timeout: 90_000 }, (t) =>
    wave(
      ATTACKS.filter((a) => a.wave === 1),
      t,
    ),
  );

  test('CPU, memory and network techniques each raise their own DoS alert within 30 s; ps lists them running', { timeout: 90_000 }, (t) =>
    wave(
      ATTACKS.filter((a) => a.wave === 2),
      t,
    ),
  );

  test('ordinary containers of the same shapes raise nothing at warning or above', { timeout: 120_000 }, async () => {
    const started = ORDINARY.map((o) => ({ ...o, c: start(o) }));
    const ids = new Set(started.map((s) => s.c.id));
    // As long as the attacks were given, plus the longest hold of the metric rules.
    await sleep(DEADLINE_MS + 5_000);
    const listed = daemon.ps();
    const loud = tail.alerts.filter((a) => a.change === 'ALERT_CHANGE_OPENED' && ids.has(a.container) && WARNING_OR_ABOVE.has(a.severity));
    const name = (id: string): string => started.find((s) => s.c.id === id)?.name ?? id;
    assert.deepEqual(
      loud.map((a) => `${name(a.container)}: ${a.severity} ${a.rule}: ${a.message}`),
      [],
      'ordinary work raised alerts at warning or above',
    );
    for (const s of started) assert.equal(listed.get(s.c.id), true, `${s.name}: vigil ps does not list ${s.c.id} as running`);
    for (const s of started) s.c.delete();
  });
});
