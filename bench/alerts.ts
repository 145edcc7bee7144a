// Alert persistence benchmark (issue 12): alerts per second that the AlertManager stores (LevelDB,
// real disk) and publishes, in two shapes. Printed, never asserted.
//
// - flood: ALERTS matches of distinct executables submitted at once; the worker folds up to its batch
//   size into one store write (group commit), so a synced write costs one fsync per batch.
// - trickle: one match at a time, each waited for until it is published (one write per alert: the
//   latency of a single durable alert, the worst case for a synced store).
//
// The data dir is under VIGIL_BENCH_DIR (default /var/tmp: a real disk, where fsync costs what it costs;
// on a tmpfs it costs nothing). Run after `make build`: node dist/js/bench/alerts.js
// Env: ALERTS (default 20000), TRICKLE (default 500), RUNS (default 3, the median is printed).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AlertManager } from '../daemon/alerts/manager.js';
import { AlertStore } from '../daemon/alerts/store.js';
import type { RuleInfo, RuleMatch } from '../daemon/detect/rule-match.js';
import { silentLogger } from '../daemon/core/log.js';
import { KTIME, type ExecEvent } from '../daemon/sensor/events.js';
import { Store } from '../daemon/store/store.js';

const ALERTS = Number(process.env.ALERTS ?? 20_000);
const TRICKLE = Number(process.env.TRICKLE ?? 500);
const RUNS = Number(process.env.RUNS ?? 3);
const BASE = process.env.VIGIL_BENCH_DIR ?? '/var/tmp';

const RULE: RuleInfo = { name: 'Bench', desc: 'bench', kind: 'event', severity: 'critical', tags: [], enabled: true, actions: [], source: 'bench:1' };

function execEvent(i: number): ExecEvent {
  const ns = { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 };
  const creds = { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, cap_effective: '0x0', cap_permitted: '0x0', cap_inheritable: '0x0' };
  const exe = `/usr/bin/tool-${i}`;
  return {
    kind: 'exec',
    time: new Date().toISOString(),
    pid: 1000 + i,
    tid: 1000 + i,
    ppid: 1,
    vpid: 7,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'tool',
    cgroup_id: 1,
    ns,
    retval: 0,
    exe,
    args: [exe, '--flag'],
    argc: 2,
    args_truncated: false,
    path_truncated: false,
    fileless: false,
    setuid: false,
    setgid: false,
    filecaps: false,
    prior_creds_known: true,
    creds,
    exe_ino: 1,
    exe_dev: 1,
    proc: { exe, args: [exe], ancestors: [{ pid: 1, exe: '/sbin/init', comm: 'init', args: [], uid: 0 }] },
    container: { id: 'c0ffee000001', name: 'web-1', runtime: 'runc', image: 'busybox' },
    [KTIME]: 0n,
  };
}

function match(i: number): RuleMatch {
  return {
    rule: RULE,
    time: Date.now(),
    message: `bench ${i}`,
    container: { id: 'c0ffee000001', name: 'web-1', runtime: 'runc', image: 'busybox' },
    events: [execEvent(i)],
  };
}

async function run(mode: 'flood' | 'trickle', n: number): Promise<{ rate: number; stored: number }> {
  const dir = mkdtempSync(join(BASE, 'vigil-bench-alerts-'));
  const store = await Store.open({ dir: join(dir, 'data'), log: silentLogger() });
  const alertStore = await AlertStore.open(store, { log: silentLogger() });
  const manager = new AlertManager({ store: alertStore, log: silentLogger(), dedupWindowMs: 1, ratePerMinute: 1e9, queueCapacity: n + 16 });
  await manager.start();
  let published = 0;
  let wake: (() => void) | undefined;
  manager.onAlert((a) => {
    if (!a.unpersisted) published++;
    wake?.();
  });
  const t0 = process.hrtime.bigint();
  if (mode === 'flood') {
    for (let i = 0; i < n; i++) manager.submit(match(i));
    await manager.flush();
  } else {
    for (let i = 0; i < n; i++) {
      const want = published + 1;
      const done = new Promise<void>((r) => (wake = () => published >= want && r()));
      manager.submit(match(i));
      await done;
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const stored = alertStore.stats().count;
  await manager.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate: published / secs, stored };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const [mode, n] of [
  ['flood', ALERTS],
  ['trickle', TRICKLE],
] as const) {
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { rate, stored } = await run(mode, n);
    if (stored !== n) throw new Error(`${mode}: ${stored} of ${n} alerts stored`);
    rates.push(rate);
  }
  console.log(
    `alerts ${mode.padEnd(7)} ${String(n).padStart(6)} alerts: ${median(rates).toFixed(0).padStart(7)} alerts/s persisted and published (median of ${RUNS}; runs ${rates.map((x) => x.toFixed(0)).join(', ')})`,
  );
}
