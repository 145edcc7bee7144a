// The shared event/alert filter (common/filter.ts): its semantics, its globs and its checks, table-driven
// over a plain record type. The daemon's and the forwarder's readers of their own records are tested
// next to them (daemon/api/filter.test.ts, clients/forwarder/config.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Filter__Output } from '../proto/gen/vigil/v1/Filter.js';
import {
  checkFilterSpec,
  compileFilterLists,
  EVENT_KINDS,
  FILTER_LIMITS,
  type FilterContainer,
  FilterError,
  type FilterLists,
  type FilterSpec,
  type FilterView,
  filterBudget,
  fromProtoFilter,
  toProtoFilter,
} from './filter.js';
import { HOSTILE } from './hostile-patterns.js';
import type { Severity } from './severity.js';

/** A record as the filter sees it: an event (no rule, no severity) or an alert. */
interface Rec {
  kinds: string[];
  rule?: string;
  severity?: Severity;
  container?: FilterContainer;
  exe?: string;
}

const VIEW: FilterView<Rec> = {
  hasKind: (r, kinds) => r.kinds.some((k) => kinds.has(k)),
  rule: (r) => r.rule,
  severity: (r) => r.severity,
  container: (r) => r.container,
  exe: (r) => r.exe,
};

const WEB = { id: 'c0ffee123456', name: 'web-1', namespace: 'prod' };
const EVENT: Rec = { kinds: ['exec'], container: WEB, exe: '/bin/sh' };
const ALERT: Rec = { kinds: ['file'], rule: 'r1', severity: 'error', container: WEB, exe: '/usr/bin/cat' };
const HOST_EVENT: Rec = { kinds: ['exec'], container: { id: 'host', name: 'host' }, exe: '/bin/sh' };
/** A record with neither container nor executable (a registry event without one, say). */
const BARE: Rec = { kinds: ['container_start'] };

const lists = (allow: FilterSpec[], deny: FilterSpec[] = []): FilterLists => ({ allow, deny });

test('semantics: any allow (or none), no deny; fields AND, values OR; rules and min_severity pass events', () => {
  // [name, filters, record, passes]
  const TABLE: Array<[string, FilterLists, Rec, boolean]> = [
    ['no filters', lists([]), EVENT, true],
    ['empty filter matches everything', lists([{}]), BARE, true],
    ['kinds: event', lists([{ kinds: ['exec', 'fork'] }]), EVENT, true],
    ['kinds: other event', lists([{ kinds: ['fork'] }]), EVENT, false],
    ['kinds: alert by its events', lists([{ kinds: ['file'] }]), ALERT, true],
    ['rules: alert', lists([{ rules: ['r2', 'r1'] }]), ALERT, true],
    ['rules: other alert', lists([{ rules: ['r2'] }]), ALERT, false],
    ['rules pass events', lists([{ rules: ['r2'] }]), EVENT, true],
    ['min_severity met', lists([{ min_severity: 'warning' }]), ALERT, true],
    ['min_severity exactly', lists([{ min_severity: 'error' }]), ALERT, true],
    ['min_severity not met', lists([{ min_severity: 'critical' }]), ALERT, false],
    ['min_severity passes events', lists([{ min_severity: 'emergency' }]), EVENT, true],
    ['fields AND', lists([{ rules: ['r1'], min_severity: 'alert' }]), ALERT, false],
    ['allow OR', lists([{ rules: ['zz'] }, { min_severity: 'error' }]), ALERT, true],
    ['container id exact', lists([{ container_ids: ['c0ffee123456'] }]), EVENT, true],
    ['container id prefix', lists([{ container_ids: ['c0ff'] }]), EVENT, true],
    ['container id not a prefix', lists([{ container_ids: ['ffee'] }]), EVENT, false],
    ['host', lists([{ container_ids: ['host'] }]), HOST_EVENT, true],
    ['host is not a prefix', lists([{ container_ids: ['host'] }]), { ...EVENT, container: { id: 'hostile1', name: 'x' } }, false],
    ['container name', lists([{ container_names: ['web-*'] }]), EVENT, true],
    ['pod namespace', lists([{ pod_namespaces: ['prod'] }]), EVENT, true],
    ['pod namespace, other', lists([{ pod_namespaces: ['dev'] }]), EVENT, false],
    ['pod namespace, host has none', lists([{ pod_namespaces: ['prod'] }]), HOST_EVENT, false],
    ['exe', lists([{ exe_globs: ['/usr/bin/*'] }]), ALERT, true],
    // the API's semantics: no container matches no container field, even a glob that matches ''
    ['no container: ids', lists([{ container_ids: ['host'] }]), BARE, false],
    ['no container: names', lists([{ container_names: ['*'] }]), BARE, false],
    ['no container: namespaces', lists([{ pod_namespaces: ['prod'] }]), BARE, false],
    ['no executable', lists([{ exe_globs: ['**'] }]), BARE, false],
    ['deny wins', lists([], [{ container_names: ['web-1'] }]), EVENT, false],
    ['deny wins over allow', lists([{ kinds: ['exec'] }], [{ exe_globs: ['/bin/sh'] }]), EVENT, false],
    ['deny of something else', lists([], [{ container_names: ['db-*'] }]), EVENT, true],
  ];
  for (const [name, f, rec, want] of TABLE) {
    for (const spec of [...f.allow, ...f.deny]) checkFilterSpec(spec, name);
    const pass = compileFilterLists(f, VIEW);
    assert.equal(pass(rec), want, name);
    assert.equal(pass(rec), want, `${name}, asked again (a remembered answer)`);
  }
});

test('globs: exe_globs in path mode, container_names in plain mode', () => {
  // [field, glob, value, passes]
  const TABLE: Array<['exe_globs' | 'container_names', string, string, boolean]> = [
    ['exe_globs', '/usr/bin/*', '/usr/bin/curl', true],
    ['exe_globs', '/usr/*', '/usr/bin/curl', false],
    ['exe_globs', '/bin/*', '/bin/x/sh', false],
    ['exe_globs', '/usr/**', '/usr/bin/curl', true],
    ['exe_globs', '/usr/**', '/usr/lib/x/y', true],
    ['exe_globs', '**/curl', '/usr/bin/curl', true],
    ['exe_globs', '/bin/s?', '/bin/sh', true],
    ['exe_globs', '/bin/[a-c]at', '/bin/cat', true],
    ['exe_globs', '/bin/[!c]at', '/bin/cat', false],
    ['exe_globs', '/usr/bin/[!c]*', '/usr/bin/curl', false],
    ['exe_globs', '/tmp/\\*', '/tmp/*', true],
    ['exe_globs', '/tmp/\\*', '/tmp/x', false],
    ['container_names', 'web-*', 'web-1', true],
    ['container_names', 'web-*', 'web-1/x', true],
    ['container_names', 'w*1', 'web/1', true],
    ['container_names', '[dw]eb-?', 'web-1', true],
    ['container_names', 'db*', 'web-1', false],
    ['container_names', 'a.b', 'axb', false],
    ['container_names', '(x)', '(x)', true],
  ];
  for (const [field, glob, value, want] of TABLE) {
    const rec: Rec = field === 'exe_globs' ? { ...EVENT, exe: value } : { ...EVENT, container: { ...WEB, name: value } };
    assert.equal(compileFilterLists(lists([{ [field]: [glob] }]), VIEW)(rec), want, `${field} ${glob} on ${value}`);
    assert.equal(compileFilterLists(lists([], [{ [field]: [glob] }]), VIEW)(rec), !want, `deny ${field} ${glob} on ${value}`);
  }
});

test('hostile globs: each answer right on values of up to 4096 characters', () => {
  for (const h of HOSTILE) {
    const field = h.mode === 'path' ? 'exe_globs' : 'container_names';
    const rec: Rec = field === 'exe_globs' ? { ...EVENT, exe: h.input } : { ...EVENT, container: { ...WEB, name: h.input } };
    assert.equal(compileFilterLists(lists([{ [field]: [h.pattern] }]), VIEW)(rec), h.want, `${field} ${h.pattern.slice(0, 20)}...`);
    assert.equal(compileFilterLists(lists([], [{ [field]: [h.pattern] }]), VIEW)(rec), !h.want);
  }
});

test('checks: bad values are refused with where and why; the API bounds apply with a budget', () => {
  const many = (n: number, len: number): string[] => Array.from({ length: n }, (_, i) => `/${String(i).padStart(len - 1, 'x')}`);
  // [filters, with the API's budget, message]
  const TABLE: Array<[FilterSpec[], boolean, RegExp]> = [
    [[{ kinds: ['exek'] }], false, /^f\[0\]\.kinds: unknown kind exek \(known: exec, /],
    [[{ min_severity: 'loud' as Severity }], false, /^f\[0\]\.min_severity: one of emergency, alert/],
    [[{ container_ids: ['ab'] }], false, /^f\[0\]\.container_ids: "ab" is shorter than 4 characters \(a prefix needs at least 4 characters\)/],
    [[{ rules: [''] }], false, /^f\[0\]\.rules: empty value/],
    [[{ container_names: ['web-[1'] }], false, /^f\[0\]\.container_names: bad glob "web-\[1" at column 5: unterminated '\['/],
    [[{ exe_globs: ['/bin/x\\'] }], false, /^f\[0\]\.exe_globs: bad glob .* at column 7: trailing backslash/],
    [[{ exe_globs: ['/bin/[z-a]'] }], false, /reversed range/],
    [[{ exe_globs: ['/bin/\u0001'] }], false, /control character/],
    [[{ rules: many(257, 4) }], true, /^f\[0\]\.rules: more than 256 values/],
    [[{ rules: ['x'.repeat(513)] }], true, /^f\[0\]\.rules: a value longer than 512 characters/],
    [[{ exe_globs: many(200, 8) }, { container_names: many(57, 8) }], true, /^f\[1\]\.container_names: more than 256 globs/],
    [[{ exe_globs: many(9, 512) }], true, /^f\[0\]\.exe_globs: globs longer than 4096 characters in all/],
  ];
  for (const [specs, bounded, msg] of TABLE) {
    const budget = bounded ? filterBudget() : undefined;
    assert.throws(
      () => specs.forEach((s, i) => checkFilterSpec(s, `f[${i}]`, budget)),
      (e: unknown) => e instanceof FilterError && e.code === 'VIGIL_FILTER' && msg.test(e.message),
      String(msg),
    );
  }
  // Without a budget (the forwarder's local filters) the API's bounds do not apply...
  checkFilterSpec({ rules: many(257, 4) }, 'f');
  // ...and with one, the budget is spent up to its end and no further.
  const budget = filterBudget();
  checkFilterSpec({ exe_globs: many(200, 8) }, 'f[0]', budget);
  checkFilterSpec({ container_names: many(56, 8) }, 'f[1]', budget);
  assert.deepEqual(budget, { globs: FILTER_LIMITS.globs, chars: 256 * 8 });
});

test('proto filters: enum values to docs names and back; unknown ones refused', () => {
  const proto = (over: Partial<Filter__Output>): Filter__Output => ({ ...toProtoFilter({}), ...over }) as Filter__Output;
  const spec: FilterSpec = {
    kinds: ['exec', 'ns_change', 'container_update'],
    rules: ['r1'],
    min_severity: 'warning',
    container_ids: ['host'],
    container_names: ['web-*'],
    pod_namespaces: ['prod'],
    exe_globs: ['/bin/*'],
  };
  const wire = toProtoFilter(spec);
  assert.deepEqual(wire.kinds, ['EVENT_KIND_EXEC', 'EVENT_KIND_NS_CHANGE', 'EVENT_KIND_CONTAINER_UPDATE']);
  assert.equal(wire.min_severity, 'SEVERITY_WARNING');
  assert.deepEqual(fromProtoFilter(wire as Filter__Output, 'f'), spec);
  assert.deepEqual(fromProtoFilter(proto({}), 'f'), {}, 'an empty proto filter is an empty spec');
  assert.ok(EVENT_KINDS.includes('exec') && EVENT_KINDS.includes('container_start') && !EVENT_KINDS.includes('unspecified'));
  // [filter, message]
  const TABLE: Array<[Partial<Filter__Output>, RegExp]> = [
    [{ kinds: ['EVENT_KIND_UNSPECIFIED'] }, /^f\.kinds: unknown event kind "EVENT_KIND_UNSPECIFIED" \(known: EVENT_KIND_EXEC, /],
    [{ kinds: [99 as unknown as 'EVENT_KIND_EXEC'] }, /^f\.kinds: unknown event kind 99/],
    [{ min_severity: 'SEVERITY_LOUD' as 'SEVERITY_ERROR' }, /^f\.min_severity: unknown severity "SEVERITY_LOUD"/],
  ];
  for (const [over, msg] of TABLE) {
    assert.throws(
      () => fromProtoFilter(proto(over), 'f'),
      (e: unknown) => e instanceof FilterError && msg.test(e.message),
      String(msg),
    );
  }
});
