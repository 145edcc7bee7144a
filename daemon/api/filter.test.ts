// Subscription filters: the daemon's events and alerts as the shared filter reads them (its semantics,
// globs and checks are tested in common/filter.test.ts), and a bad request or one over the
// per-subscription budget refused as INVALID_ARGUMENT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import type { Alert } from '../alerts/alert.js';
import { ApiArgumentError, compileSubscription, type Item } from './filter.js';

const request = (over: Partial<SubscribeRequest__Output>): SubscribeRequest__Output =>
  ({ allow: [], deny: [], include_events: true, include_alerts: false, since_seq: '0', field_mask: null, queue_size: 0, ...over }) as SubscribeRequest__Output;
const filter = (over: {
  kinds?: string[];
  rules?: string[];
  min_severity?: string;
  container_ids?: string[];
  container_names?: string[];
  pod_namespaces?: string[];
  exe_globs?: string[];
}) =>
  ({
    kinds: [],
    rules: [],
    min_severity: 'SEVERITY_UNSPECIFIED',
    container_ids: [],
    container_names: [],
    pod_namespaces: [],
    exe_globs: [],
    ...over,
  }) as unknown as SubscribeRequest__Output['allow'][number];

function execOf(exe: string, name = 'web-1'): Item {
  const ev = {
    kind: 'exec',
    time: '2026-11-28T12:00:00.000Z',
    pid: 7,
    tid: 7,
    ppid: 1,
    vpid: 7,
    uid: 0,
    gid: 0,
    loginuid: 0,
    comm: 'x',
    cgroup_id: 1,
    ns: { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 },
    container: { id: 'c0ffee00', name, runtime: 'runc', image: 'busybox' },
    exe,
    args: [exe],
    [KTIME]: 0n,
  } as unknown as VigilEvent;
  return { type: 'event', ev } as Item;
}

function alertOf(exe: string): Item {
  const alert = {
    id: '01J00000001',
    seq: 1,
    rule: 'r1',
    severity: 'error',
    container: { id: 'c0ffee00', name: 'db-1', runtime: 'runc', image: 'busybox', namespace: 'prod' },
    lineage: [{ pid: 7, exe, comm: 'x' }],
    events: [{ kind: 'file' }],
  } as unknown as Alert;
  return { type: 'alert', alert };
}

test("the daemon's items as the filter reads them: exe, container, kinds, rule and severity, table-driven", () => {
  const exec = execOf('/usr/bin/curl');
  const open = { type: 'event', ev: { ...(execOf('/x') as { ev: object }).ev, kind: 'file', exe: undefined, proc: { exe: '/bin/cat' } } } as unknown as Item;
  const start = {
    type: 'event',
    ev: { kind: 'container_start', time: '2026-11-28T12:00:00.000Z', container: { id: 'c0ffee00', name: 'web-1', runtime: 'runc', image: 'busybox' } },
  } as unknown as Item;
  const alert = alertOf('/usr/sbin/nginx');
  // [filter, [exec event, file event, container_start, alert]]
  const TABLE: Array<[Parameters<typeof filter>[0], [boolean, boolean, boolean, boolean]]> = [
    [{ exe_globs: ['/usr/bin/*'] }, [true, false, false, false]], // an exec's new exe
    [{ exe_globs: ['/bin/cat'] }, [false, true, false, false]], // other events: proc.exe
    [{ exe_globs: ['**'] }, [true, true, false, true]], // a lifecycle event has no exe
    [{ exe_globs: ['/usr/sbin/*'] }, [false, false, false, true]], // an alert: its first lineage entry
    [{ container_names: ['web-*'] }, [true, true, true, false]],
    [{ container_ids: ['c0ffee00'] }, [true, true, true, true]],
    [{ pod_namespaces: ['prod'] }, [false, false, false, true]],
    [{ kinds: ['EVENT_KIND_FILE'] }, [false, true, false, true]], // an alert by its events' kinds
    [{ kinds: ['EVENT_KIND_CONTAINER_START'] }, [false, false, true, false]],
    [{ rules: ['r2'] }, [true, true, true, false]], // rules pass events
    [{ min_severity: 'SEVERITY_CRITICAL' }, [true, true, true, false]],
    [{ min_severity: 'SEVERITY_ERROR' }, [true, true, true, true]],
  ];
  for (const [f, want] of TABLE) {
    const sub = compileSubscription(request({ include_alerts: true, allow: [filter(f)] }));
    assert.deepEqual(
      [exec, open, start, alert].map((it) => sub.matches(it)),
      want,
      JSON.stringify(f),
    );
  }
});

test('bad globs and over-budget requests are refused (INVALID_ARGUMENT), table-driven', () => {
  const many = (n: number, len: number): string[] => Array.from({ length: n }, (_, i) => `/${String(i).padStart(len - 1, 'x')}`);
  // [allow filters, message]
  const TABLE: Array<[Array<{ container_names?: string[]; exe_globs?: string[] }>, RegExp]> = [
    [[{ container_names: ['web-[1'] }], /allow\[0\]\.container_names: bad glob "web-\[1" at column 5: unterminated '\['/],
    [[{ exe_globs: ['/bin/x\\'] }], /allow\[0\]\.exe_globs: bad glob .* at column 7: trailing backslash/],
    [[{ exe_globs: ['/bin/[z-a]'] }], /reversed range/],
    [[{ exe_globs: ['/bin/\u0001'] }], /control character/],
    [[{ exe_globs: many(200, 8) }, { container_names: many(57, 8) }], /allow\[1\]\.container_names: more than 256 globs/],
    [[{ exe_globs: many(9, 512) }], /allow\[0\]\.exe_globs: globs longer than 4096 characters in all/],
  ];
  for (const [allow, msg] of TABLE) {
    assert.throws(
      () => compileSubscription(request({ allow: allow.map(filter) })),
      (e: unknown) => e instanceof ApiArgumentError && msg.test(e.message),
      String(msg),
    );
  }
  // at the budget: accepted
  compileSubscription(request({ allow: [filter({ exe_globs: many(8, 512) })] }));
  compileSubscription(request({ allow: [filter({ exe_globs: many(200, 8) }), filter({ container_names: many(56, 8) })] }));
});
