// Subscription filters: globs in the one grammar (common/glob.ts), refused with their column when bad,
// hostile ones answered right on long values, and the per-subscription glob budget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import { HOSTILE } from '../../common/hostile-patterns.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { ApiArgumentError, compileSubscription, FILTER_LIMITS, type Item } from './filter.js';

const request = (over: Partial<SubscribeRequest__Output>): SubscribeRequest__Output =>
  ({ allow: [], deny: [], include_events: true, include_alerts: false, since_seq: '0', field_mask: null, queue_size: 0, ...over }) as SubscribeRequest__Output;
const filter = (over: { container_names?: string[]; exe_globs?: string[] }) =>
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

test('exe_globs (path mode) and container_names (plain mode), table-driven', () => {
  // [field, glob, value, passes]
  const TABLE: Array<['exe_globs' | 'container_names', string, string, boolean]> = [
    ['exe_globs', '/usr/bin/*', '/usr/bin/curl', true],
    ['exe_globs', '/usr/*', '/usr/bin/curl', false],
    ['exe_globs', '/usr/**', '/usr/bin/curl', true],
    ['exe_globs', '**/curl', '/usr/bin/curl', true],
    ['exe_globs', '/usr/bin/[!c]*', '/usr/bin/curl', false],
    ['exe_globs', '/tmp/\\*', '/tmp/*', true],
    ['exe_globs', '/tmp/\\*', '/tmp/x', false],
    ['container_names', 'web-*', 'web-1', true],
    ['container_names', 'w*1', 'web/1', true],
    ['container_names', '[dw]eb-?', 'web-1', true],
    ['container_names', 'db*', 'web-1', false],
  ];
  for (const [field, glob, value, want] of TABLE) {
    const sub = compileSubscription(request({ allow: [filter({ [field]: [glob] })] }));
    const item = field === 'exe_globs' ? execOf(value) : execOf('/bin/sh', value);
    assert.equal(sub.matches(item), want, `${field} ${glob} on ${value}`);
    // asked twice: the remembered answer is the same
    assert.equal(sub.matches(item), want, `${field} ${glob} on ${value}, again`);
  }
});

test('hostile globs: compiled once, each answer right on values of up to 4096 characters', () => {
  for (const h of HOSTILE) {
    const field = h.mode === 'path' ? 'exe_globs' : 'container_names';
    if (h.pattern.length > FILTER_LIMITS.length) continue;
    const sub = compileSubscription(request({ allow: [filter({ [field]: [h.pattern] })] }));
    const item = field === 'exe_globs' ? execOf(h.input) : execOf('/bin/sh', h.input);
    assert.equal(sub.matches(item), h.want, `${field} ${h.pattern.slice(0, 20)}...`);
    const deny = compileSubscription(request({ deny: [filter({ [field]: [h.pattern] })] }));
    assert.equal(deny.matches(item), !h.want);
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
