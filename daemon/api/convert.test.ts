// Events.Subscribe's messages from the daemon's objects: the container lifecycle kinds (start, update,
// stop) with the posture's sources and mismatches, and runtime_setup on probe events, each encoded and
// decoded by the real proto; filters and field masks that name the new kind and fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { ContainerInfo, ContainerLifecycleEvent, Posture } from '../containers/container-info.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { applyMask, toApiEvent, toApiRule, type StreamEvent } from './convert.js';
import { ApiArgumentError, compileSubscription } from './filter.js';
import { serviceDefinitions } from './proto.js';

const POSTURE: Posture = {
  privileged: false,
  hostPid: false,
  hostNet: true,
  hostIpc: false,
  hostMnt: false,
  hostUser: true,
  hostUts: false,
  sensitiveMounts: ['/var/run/docker.sock'],
  uidMap: '0 0 4294967295',
  capEffective: '0xa80425fb',
  sources: ['runtime', 'kernel'],
  mismatches: ['hostNet: runtime false, kernel true'],
};
const INFO: ContainerInfo = {
  id: 'c0ffee0000011234',
  name: 'web-1',
  runtime: 'runc',
  image: 'busybox:1.36',
  pod: 'web-7f9c',
  namespace: 'prod',
  podUid: 'u-1',
  labels: { app: 'web' },
  cgroupId: 42,
  cgroupPath: '/vigil/web-1',
  initPid: 4700,
  posture: POSTURE,
  startedAt: '2026-11-28T12:00:00.000Z',
};
const T = '2026-11-28T12:00:01.000Z';

/** What a client receives: the message encoded and decoded by the proto, with the loader options every client uses. */
function roundTrip(ev: StreamEvent): NonNullable<SubscribeResponse__Output['event']> {
  const m = serviceDefinitions().Events['Subscribe']!;
  const back = m.responseDeserialize(m.responseSerialize({ event: toApiEvent(ev) })) as SubscribeResponse__Output;
  return back.event!;
}

const probeEvent = (extra: Partial<VigilEvent> = {}): VigilEvent =>
  ({
    kind: 'exit',
    time: T,
    pid: 4701,
    tid: 4701,
    ppid: 4700,
    vpid: 1,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'runc:[2:INIT]',
    cgroup_id: 42,
    ns: { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 },
    container: { id: INFO.id, name: INFO.name, runtime: 'runc', image: INFO.image },
    exit_code: 0,
    signal: 0,
    core_dumped: false,
    [KTIME]: 5n,
    ...extra,
  }) as unknown as VigilEvent;

// [kind, the detail member a client reads, the changed names it sees (container_update)]
const LIFECYCLE: Array<[ContainerLifecycleEvent, string, string[] | undefined]> = [
  [{ kind: 'container_start', time: T, container: INFO }, 'container_start', undefined],
  [
    { kind: 'container_update', time: T, container: INFO, changed: ['name', 'podUid', 'initPid', 'posture'] },
    'container_update',
    ['name', 'pod_uid', 'init_pid', 'posture'],
  ],
  [{ kind: 'container_update', time: T, container: INFO }, 'container_update', []],
  [{ kind: 'container_stop', time: T, container: { ...INFO, stoppedAt: '2026-11-28T12:00:09.000Z' } }, 'container_stop', undefined],
];

test('lifecycle events (table): kind, detail member, container, changed names as the proto spells them, posture sources and mismatches', () => {
  for (const [ev, member, changed] of LIFECYCLE) {
    const e = roundTrip(ev);
    assert.equal(e.kind, `EVENT_KIND_${ev.kind.toUpperCase()}`);
    assert.equal(e.detail, member);
    assert.equal(e.container?.id, INFO.id);
    assert.equal(e.runtime_setup, false);
    const info = member === 'container_update' ? e.container_update?.container : member === 'container_start' ? e.container_start : e.container_stop;
    assert.ok(info, ev.kind);
    assert.equal(info.ref?.name, 'web-1');
    assert.equal(info.init_pid, 4700);
    assert.deepEqual(info.posture?.sources, ['runtime', 'kernel']);
    assert.deepEqual(info.posture?.mismatches, ['hostNet: runtime false, kernel true']);
    assert.equal(info.posture?.host_net, true);
    if (changed) assert.deepEqual(e.container_update?.changed, changed);
  }
});

test('runtime_setup: set on an event of the runtime bootstrap, false (absent) otherwise', () => {
  assert.equal(roundTrip({ ...probeEvent(), runtime_setup: true }).runtime_setup, true);
  assert.equal(roundTrip(probeEvent()).runtime_setup, false);
  assert.equal('runtime_setup' in toApiEvent(probeEvent()), false, 'not sent when unset');
});

const request = (over: Partial<SubscribeRequest__Output>): SubscribeRequest__Output =>
  ({ allow: [], deny: [], include_events: true, include_alerts: false, since_seq: '0', field_mask: null, queue_size: 0, ...over }) as SubscribeRequest__Output;
const filter = (kinds: string[]) => ({
  kinds,
  rules: [],
  min_severity: 'SEVERITY_UNSPECIFIED',
  container_ids: [],
  container_names: [],
  pod_namespaces: [],
  exe_globs: [],
});

test('filters: EVENT_KIND_CONTAINER_UPDATE is a kind; allow and deny by it', () => {
  const [start, update, , stop] = LIFECYCLE.map(([ev]) => ({ type: 'event' as const, ev }));
  const only = compileSubscription(request({ allow: [filter(['EVENT_KIND_CONTAINER_UPDATE'])] } as Partial<SubscribeRequest__Output>));
  assert.deepEqual(
    [start!, update!, stop!].map((it) => only.matches(it)),
    [false, true, false],
  );
  const but = compileSubscription(request({ deny: [filter(['EVENT_KIND_CONTAINER_UPDATE'])] } as Partial<SubscribeRequest__Output>));
  assert.deepEqual(
    [start!, update!, stop!].map((it) => but.matches(it)),
    [true, false, true],
  );
  assert.throws(
    () => compileSubscription(request({ allow: [filter(['EVENT_KIND_CONTAINER_RESTART'])] } as Partial<SubscribeRequest__Output>)),
    (err: Error) => err instanceof ApiArgumentError && /EVENT_KIND_CONTAINER_UPDATE/.test(err.message),
  );
});

test('field masks: container_update.changed and runtime_setup are Event paths', () => {
  const sub = compileSubscription(request({ field_mask: { paths: ['container_update.changed', 'runtime_setup'] } } as Partial<SubscribeRequest__Output>));
  const ev = LIFECYCLE[1]![0];
  assert.deepEqual(applyMask(toApiEvent(ev), sub.eventMask!), {
    kind: 'EVENT_KIND_CONTAINER_UPDATE',
    container_update: { changed: ['name', 'pod_uid', 'init_pid', 'posture'] },
  });
  assert.deepEqual(applyMask(toApiEvent({ ...probeEvent(), runtime_setup: true }), sub.eventMask!), { kind: 'EVENT_KIND_EXIT', runtime_setup: true });
});

// [status on the rule, status and reason in the API]
const RULE_STATUSES: Array<[{ state: 'loaded' | 'skipped' | 'never'; reason?: string } | undefined, string, string]> = [
  [undefined, 'RULE_STATUS_LOADED', ''],
  [{ state: 'loaded' }, 'RULE_STATUS_LOADED', ''],
  [{ state: 'skipped', reason: 'fd.nameraw: no data' }, 'RULE_STATUS_SKIPPED', 'fd.nameraw: no data'],
  [{ state: 'never', reason: 'socket is not traced' }, 'RULE_STATUS_NEVER_FIRES', 'socket is not traced'],
];

test("rules: each rule's status and its reason (table)", () => {
  for (const [status, api, reason] of RULE_STATUSES) {
    const r = toApiRule({
      name: 'r',
      desc: '',
      kind: 'event',
      severity: 'warning',
      tags: [],
      enabled: true,
      actions: [],
      source: 'f:1',
      ...(status ? { status } : {}),
    });
    assert.deepEqual([r.status, r.status_reason], [api, reason]);
  }
});
