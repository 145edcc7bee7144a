// lineageOf: the process from the event, then its ancestors from the process table's context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KTIME, type ExitEvent, type ProcInfo, type VigilEvent } from '../sensor/events.js';
import { lineageOf, lineageOfEvents } from './lineage.js';
import type { LineageEntry } from './alert.js';

function exitEvent(proc?: ProcInfo): ExitEvent {
  const e: ExitEvent = {
    kind: 'exit',
    time: '2026-11-01T00:00:00.000000000Z',
    pid: 50,
    tid: 50,
    ppid: 40,
    vpid: 1,
    uid: 33,
    gid: 33,
    loginuid: -1,
    comm: 'nginx',
    cgroup_id: 1,
    ns: { mnt: 1, pid: 1, net: 1, user: 1, uts: 1, ipc: 1, cgroup: 1 },
    exit_code: 0,
    signal: 0,
    core_dumped: false,
    [KTIME]: 0n,
  };
  if (proc) e.proc = proc;
  return e;
}

test('lineage (table): process first from the event and its proc, then ancestors; nothing guessed', () => {
  const cases: Array<[string, VigilEvent, LineageEntry[]]> = [
    ['no process table context', exitEvent(), [{ pid: 50, exe: '', args: [], comm: 'nginx', uid: 33 }]],
    [
      'ancestors with args and uid, and one from an older capture without them',
      exitEvent({
        exe: '/usr/sbin/nginx',
        args: ['nginx', '-g', 'daemon off;'],
        ancestors: [
          { pid: 40, exe: '/usr/bin/containerd-shim', comm: 'shim', args: ['shim'], uid: 0 },
          { pid: 1, exe: '/sbin/init', comm: 'init' },
        ],
      }),
      [
        { pid: 50, exe: '/usr/sbin/nginx', args: ['nginx', '-g', 'daemon off;'], comm: 'nginx', uid: 33 },
        { pid: 40, exe: '/usr/bin/containerd-shim', args: ['shim'], comm: 'shim', uid: 0 },
        { pid: 1, exe: '/sbin/init', args: [], comm: 'init' },
      ],
    ],
  ];
  for (const [name, ev, want] of cases) assert.deepEqual(lineageOf(ev), want, name);
  assert.deepEqual(lineageOfEvents([]), []);
  assert.equal(lineageOfEvents([exitEvent(), { ...exitEvent(), pid: 51 }])[0]!.pid, 51, 'the last event completes the match');
});
