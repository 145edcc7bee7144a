// Output formats: compact, wide and json lines of alerts and events, colour only when asked, the
// `alerts show` tree, forecasts, metrics lines and gap warnings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryMetricsResponse__Output } from '../../proto/gen/vigil/v1/QueryMetricsResponse.js';
import { formatForecast, formatMetric, parseTargetLines } from './commands.js';
import { containerLabel, formatAlertDetail, formatAlertLine, formatEventLine, formatJson } from './format.js';
import type { Alert, Event, Forecast } from './proto.js';
import { formatMessage, gapLine } from './tail.js';
import type { TailCommand } from './args.js';

const CONTAINER = { id: 'c0ffee0000011234', name: 'web-1', runtime: 'runc', image: 'busybox:1.36', namespace: 'prod', pod: 'web-7f9c' };

function event(over: Partial<Event> = {}): Event {
  return {
    kind: 'EVENT_KIND_FILE',
    time: '2026-11-28T12:00:01.123456789Z',
    ktime_ns: '1',
    pid: 4711,
    tid: 4711,
    ppid: 4710,
    vpid: 7,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'cat',
    cgroup_id: '99',
    ns: null,
    runtime_setup: false,
    proc: { exe: '/bin/busybox', args: ['cat', '/etc/shadow'], ancestors: [{ pid: 4710, exe: '/bin/sh', comm: 'sh', args: ['sh', '-c', 'cat /etc/shadow'] }] },
    container: CONTAINER,
    detail: 'file',
    file: {
      op: 'open',
      retval: 3,
      path: '/etc/shadow',
      path_resolved: true,
      path_truncated: false,
      open_flag_names: ['O_RDONLY'],
      write: false,
      create: false,
      ino: '1',
      dev: 1,
      watch_id: 1,
      matched: 'path',
    },
    ...over,
  };
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: '01JALERT0001',
    seq: '42',
    time: '2026-11-28T12:00:01.200Z',
    last_seen: '2026-11-28T12:00:01.200Z',
    rule: 'Read of shadow file in container',
    severity: 'SEVERITY_WARNING',
    tags: ['T1003.008'],
    message: '/etc/shadow opened in a container\n',
    container: CONTAINER,
    lineage: [
      { pid: 4711, exe: '/bin/busybox', args: ['cat', '/etc/shadow'], comm: 'cat', uid: 0 },
      { pid: 4710, exe: '/bin/sh', args: ['sh', '-c', 'cat /etc/shadow'], comm: 'sh' },
    ],
    events: [event()],
    metric: null,
    count: '1',
    state: 'ALERT_STATE_ACKNOWLEDGED',
    history: [
      { state: 'ALERT_STATE_OPEN', at: '2026-11-28T12:00:01.200Z', by: 'vigild' },
      { state: 'ALERT_STATE_ACKNOWLEDGED', at: '2026-11-28T12:05:00.000Z', by: 'alice', comment: 'looking' },
    ],
    actions: [],
    suppressed: '0',
    unpersisted: false,
    forecast: null,
    output_fields: [
      { name: 'evt.time', integer: '1795867201200000000', value: 'integer' },
      { name: 'fd.name', text: '/etc/shadow', value: 'text' },
      { name: 'proc.pid', integer: '4711', value: 'integer' },
      { name: 'user.name' },
    ],
    source: 'syscall',
    hostname: 'node-1',
    ...over,
  };
}

test('compact alert line: time, severity, rule, container, process, message on one line', () => {
  assert.equal(
    formatAlertLine(alert(), false, { colour: false }),
    '12:00:01.200 warning   Read of shadow file in container  prod/web-7f9c/web-1  /bin/busybox[4711]  /etc/shadow opened in a container',
  );
});

test('wide alert line adds id, seq, state, image, container id, parents, tags', () => {
  const line = formatAlertLine(alert({ count: '3' }), true, { colour: false });
  assert.match(
    line,
    / id=01JALERT0001 seq=42 state=acknowledged count=3 image=busybox:1\.36 container_id=c0ffee0000011234 parents=\/bin\/sh\[4710\] tags=T1003\.008$/,
  );
});

test('colour: severity tag and rule coloured only when asked; none otherwise', () => {
  const plain = formatAlertLine(alert(), false, { colour: false });
  assert.doesNotMatch(plain, /\x1b\[/);
  const coloured = formatAlertLine(alert({ severity: 'SEVERITY_CRITICAL' }), false, { colour: true });
  assert.match(coloured, /\x1b\[1;31mcritical \x1b\[0m/);
  assert.match(coloured, /\x1b\[1mRead of shadow file in container\x1b\[0m/);
  assert.match(formatEventLine(event(), false, { colour: true }), /\x1b\[34mfile {5}\x1b\[0m/);
  assert.doesNotMatch(formatEventLine(event(), true, { colour: false }), /\x1b\[/);
});

test('compact and wide event lines by kind', () => {
  assert.equal(formatEventLine(event(), false, { colour: false }), '12:00:01.123 file      prod/web-7f9c/web-1 /bin/busybox[4711] open /etc/shadow O_RDONLY');
  assert.equal(
    formatEventLine(event(), true, { colour: false }),
    '12:00:01.123 file      prod/web-7f9c/web-1 /bin/busybox[4711] open /etc/shadow O_RDONLY  ppid=4710 uid=0 comm=cat vpid=7 image=busybox:1.36 parents=/bin/sh[4710]',
  );
  const exec = event({
    kind: 'EVENT_KIND_EXEC',
    detail: 'exec',
    file: undefined,
    container: { id: 'host', name: 'host', runtime: 'host', image: '' },
    exec: {
      retval: -2,
      exe: '/bin/nope',
      args: ['nope', 'a b'],
      argc: 2,
      args_truncated: false,
      path_truncated: false,
      fileless: true,
      setuid: false,
      setgid: false,
      filecaps: false,
      prior_creds_known: true,
      creds: { uid: 1000, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, cap_effective: '0x0', cap_permitted: '0x0', cap_inheritable: '0x0' },
      exe_ino: '1',
      exe_dev: 1,
      stdio: [],
    },
  });
  assert.equal(
    formatEventLine(exec, false, { colour: false }),
    '12:00:01.123 exec      host /bin/busybox[4711] /bin/nope "a b" = -2 (failed) (uid 1000 euid 0 fileless)',
  );
  const shell = event({
    kind: 'EVENT_KIND_EXEC',
    detail: 'exec',
    file: undefined,
    exec: { ...exec.exec!, retval: 0, exe: '/bin/sh', args: ['sh'], fileless: false, stdio: ['inet', 'unix', 'file'] },
  });
  assert.equal(
    formatEventLine(shell, false, { colour: false }),
    '12:00:01.123 exec      prod/web-7f9c/web-1 /bin/busybox[4711] /bin/sh (uid 1000 euid 0 stdin=inet stdout=unix)',
  );
  const setup = event({ runtime_setup: true, proc: { exe: '/usr/sbin/runc', args: ['runc', 'init'], ancestors: [] } });
  assert.equal(
    formatEventLine(setup, false, { colour: false }),
    '12:00:01.123 file      prod/web-7f9c/web-1 /usr/sbin/runc[4711] (runtime setup) open /etc/shadow O_RDONLY',
  );
});

// Lifecycle lines (start, update, stop) by kind: compact, and wide with the posture's sources and mismatches.
const POSTURE = {
  privileged: true,
  host_pid: false,
  host_net: true,
  host_ipc: false,
  host_mnt: false,
  host_user: false,
  host_uts: false,
  sensitive_mounts: [],
  uid_map: '',
  cap_effective: '0x1',
  sources: ['runtime'],
  mismatches: [],
};
const INFO = { ref: CONTAINER, labels: {}, cgroup_id: '5', cgroup_path: '/vigil/web-1', posture: POSTURE, started_at: '' };
const CHECKED = { ...POSTURE, sources: ['runtime', 'kernel'], mismatches: ['hostNet: runtime false, kernel true'] };
const LIFECYCLE: Array<[string, Partial<Event>, string, string]> = [
  [
    'start',
    { kind: 'EVENT_KIND_CONTAINER_START', detail: 'container_start', container_start: INFO },
    '12:00:01.123 start     runc:web-1 c0ffee0000011234 image busybox:1.36 cgroup /vigil/web-1 privileged host-net',
    '12:00:01.123 start     runc:web-1 c0ffee0000011234 image busybox:1.36 cgroup /vigil/web-1 privileged host-net  pod=prod/web-7f9c posture_from=runtime',
  ],
  [
    'update: what changed, a mismatch',
    {
      kind: 'EVENT_KIND_CONTAINER_UPDATE',
      detail: 'container_update',
      container_update: { container: { ...INFO, init_pid: 4700, posture: CHECKED }, changed: ['init_pid', 'posture'] },
    },
    '12:00:01.123 update    runc:web-1 c0ffee0000011234 changed init_pid,posture image busybox:1.36 cgroup /vigil/web-1 privileged host-net posture-mismatch',
    '12:00:01.123 update    runc:web-1 c0ffee0000011234 changed init_pid,posture image busybox:1.36 cgroup /vigil/web-1 privileged host-net posture-mismatch  init_pid=4700 pod=prod/web-7f9c posture_from=runtime,kernel mismatches="hostNet: runtime false, kernel true"',
  ],
  [
    'stop, no posture',
    { kind: 'EVENT_KIND_CONTAINER_STOP', detail: 'container_stop', container_stop: { ...INFO, ref: { ...CONTAINER, pod: '', namespace: '' }, posture: null } },
    '12:00:01.123 stop      runc:web-1 c0ffee0000011234 image busybox:1.36 cgroup /vigil/web-1',
    '12:00:01.123 stop      runc:web-1 c0ffee0000011234 image busybox:1.36 cgroup /vigil/web-1',
  ],
];
for (const [name, over, compact, wide] of LIFECYCLE) {
  test(`lifecycle line: ${name}`, () => {
    const e = event({ file: undefined, ...over });
    assert.equal(formatEventLine(e, false, { colour: false }), compact);
    assert.equal(formatEventLine(e, true, { colour: false }), wide);
  });
}

test('json: the message as the API sent it, one line', () => {
  const line = formatJson({ alert: alert(), alert_change: 'ALERT_CHANGE_OPENED' });
  assert.equal(line.includes('\n'), false);
  const back = JSON.parse(line) as { alert: Alert; alert_change: string };
  assert.equal(back.alert.container!.id, CONTAINER.id);
  assert.equal(back.alert_change, 'ALERT_CHANGE_OPENED');
});

test('container labels', () => {
  assert.equal(containerLabel(null), '-');
  assert.equal(containerLabel({ id: 'host', name: 'host', runtime: 'host', image: '' }), 'host');
  assert.equal(containerLabel({ id: 'abcdef0123456789', name: 'abcdef0123456789', runtime: 'runc', image: '' }), 'abcdef012345');
  assert.equal(containerLabel({ id: 'abc', name: 'db', runtime: 'docker', image: '' }), 'db');
});

test('alerts show: header, lineage tree (root first), triggering events, history with who and comment', () => {
  const text = formatAlertDetail(alert(), { colour: false });
  assert.equal(
    text,
    [
      'Alert 01JALERT0001  warning  acknowledged',
      '  rule       Read of shadow file in container',
      '  message    /etc/shadow opened in a container',
      '  time       2026-11-28 12:00:01',
      '  container  prod/web-7f9c/web-1 c0ffee0000011234 (runc, image busybox:1.36)',
      '  tags       T1003.008',
      '  seq        42',
      '',
      'Process lineage',
      '  /bin/sh[4710] -c "cat /etc/shadow"',
      '  └─ /bin/busybox[4711] /etc/shadow  uid 0',
      '',
      'Triggering events (1)',
      '  12:00:01.123 file      prod/web-7f9c/web-1 /bin/busybox[4711] open /etc/shadow O_RDONLY',
      '',
      'History',
      '  2026-11-28 12:00:01  open          by vigild',
      '  2026-11-28 12:05:00  acknowledged  by alice: looking',
      '',
    ].join('\n'),
  );
});

test('forecast: time to exhaustion with its interval, or none in the horizon', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  const f: Forecast = {
    target: 'c0ffee',
    metric: 'memory_working_set_bytes',
    model: 'FORECAST_MODEL_ETS',
    computed_at_ms: String(now - 30e3),
    last_observed_ms: String(now - 35e3),
    level: 0.95,
    points: [{ time_ms: String(now + 3 * 3600e3), value: 60 << 20, lower: 50 << 20, upper: 70 << 20 }],
    exhaustion: {
      limit_metric: 'memory_limit_bytes',
      limit: 64 << 20,
      at_ms: String(now + 2 * 3600e3 + 10 * 60e3),
      earliest_ms: String(now + 100 * 60e3),
      latest_ms: String(now + 170 * 60e3),
    },
    mase: 0.8123,
  };
  assert.equal(
    formatForecast(f, now),
    'memory_working_set_bytes: reaches memory_limit_bytes 64MiB in 2h10m (at 2026-11-28 14:10:00, 95% interval 1h40m .. 2h50m) (ets, computed 30s ago, MASE 0.81)\n',
  );
  const never = { ...f, exhaustion: { limit_metric: 'memory_limit_bytes', limit: 64 << 20 } };
  assert.equal(
    formatForecast(never, now),
    'memory_working_set_bytes: not expected to reach memory_limit_bytes 64MiB before 2026-11-28 15:00:00 (ets, computed 30s ago, MASE 0.81)\n',
  );
});

test('metrics: sparkline with stats on a terminal, plain numbers otherwise', () => {
  const res: QueryMetricsResponse__Output = {
    resolution: 'raw',
    step_ms: '5000',
    points: [0, 1, 2, 3].map((i) => ({
      time_ms: String(Date.parse('2026-11-28T12:00:00Z') + i * 5000),
      value: (i + 1) * 1048576,
      min: 0,
      max: 0,
      last: 0,
      count: '1',
    })),
  };
  assert.equal(formatMetric('memory_usage_bytes', res, true, 10), 'memory_usage_bytes         ▁▃▆█  last 4MiB  min 1MiB  max 4MiB  (4 raw points)\n');
  assert.equal(formatMetric('memory_usage_bytes', res, false, 10).split('\n')[1], 'memory_usage_bytes 2026-11-28T12:00:05.000Z 2097152');
});

test('gap warning lines', () => {
  assert.equal(gapLine({ lost: '17', reason: 'queue_full', lost_alerts: '0', last_seq: '9' }), 'vigil: lost 17 events: subscriber too slow\n');
  assert.equal(
    gapLine({ lost: '5', reason: 'queue_full', lost_alerts: '2', last_seq: '9' }),
    'vigil: lost 5 events: subscriber too slow (2 of them alerts: resume with --since 9 to get them back)\n',
  );
});

test('target batch files: selector and options per line, comments, errors with file:line', () => {
  assert.deepEqual(parseTargetLines('# web\nname:web-* metrics=memory_usage_bytes,pids_current\n\nhost # the host\nimage:nginx* rules=A\n', 't.txt'), [
    { selector: 'name:web-*', metrics: ['memory_usage_bytes', 'pids_current'] },
    { selector: 'host' },
    { selector: 'image:nginx*', rules: ['A'] },
  ]);
  assert.throws(() => parseTargetLines('host\nname:x bogus\n', 't.txt'), /^CliError: t\.txt:2: unexpected "bogus" after the selector/);
});

test("tail -o falco: each new alert as one line of Falco's JSON; later versions of it print nothing", () => {
  const cmd: TailCommand = { name: 'tail', events: false, output: 'falco', allow: [], deny: [] };
  const line = formatMessage({ message: 'alert', alert: alert(), alert_change: 'ALERT_CHANGE_OPENED' } as never, cmd, false)!;
  const j = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j).sort(), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
  assert.deepEqual(
    [j.rule, j.priority, j.source, j.hostname, j.time],
    ['Read of shadow file in container', 'Warning', 'syscall', 'node-1', '2026-11-28T12:00:01.200000000Z'],
  );
  assert.deepEqual(j.output_fields, { 'evt.time': 1795867201200000000, 'fd.name': '/etc/shadow', 'proc.pid': 4711, 'user.name': null });
  assert.equal(j.output, '12:00:01.200000000: Warning /etc/shadow opened in a container');
  assert.equal(formatMessage({ message: 'alert', alert: alert(), alert_change: 'ALERT_CHANGE_ACKNOWLEDGED' } as never, cmd, false), undefined);
});
