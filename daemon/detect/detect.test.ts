import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KTIME, type ExecEvent, type VigilEvent, type Creds } from '../sensor/events.js';
import { NS, rootCreds } from '../../test/detect-fixtures.js';
import { Detector } from './detector.js';
import { RuleError, RuleSet } from './ruleset.js';
import { RuleManager, defaultRuleDirs } from './manager.js';
import { pathKeysOf } from './compile.js';
import { HOSTILE } from '../../common/hostile-patterns.js';
import type { RuleMatch } from './rule-match.js';
import type { ContainerInfo, ContainerLifecycleEvent, Posture } from '../containers/container-info.js';

const CREDS: Creds = rootCreds('0x200000');
const t0 = Date.parse('2026-11-28T12:00:00Z');

function base(kind: string, extra: Record<string, unknown> = {}, ms = 0): VigilEvent {
  return {
    kind,
    time: new Date(t0 + ms).toISOString(),
    pid: 100,
    tid: 100,
    ppid: 1,
    vpid: 1,
    uid: 0,
    gid: 0,
    loginuid: 4294967295,
    comm: 'bash',
    cgroup_id: 9,
    ns: { ...NS },
    container: { id: 'c1', name: 'web', runtime: 'runc', image: 'nginx:1' },
    proc: {
      exe: '/bin/bash',
      args: ['bash', '-c', 'id'],
      cwd: '/root',
      ancestors: [
        { pid: 1, exe: '/sbin/init', comm: 'init' },
        { pid: 0, exe: '/k', comm: 'kthreadd' },
      ],
    },
    [KTIME]: 0n,
    ...extra,
  } as unknown as VigilEvent;
}
const exec = (extra: Record<string, unknown> = {}, ms = 0): VigilEvent =>
  base(
    'exec',
    {
      retval: 0,
      exe: '/bin/bash',
      args: ['bash', '-c', 'id'],
      argc: 3,
      args_truncated: false,
      path_truncated: false,
      fileless: false,
      setuid: false,
      setgid: false,
      filecaps: false,
      prior_creds_known: true,
      creds: CREDS,
      exe_ino: 1,
      exe_dev: 1,
      ...extra,
    },
    ms,
  );
const file = (extra: Record<string, unknown> = {}, ms = 0): VigilEvent =>
  base(
    'file',
    {
      syscall: 'openat',
      op: 'open',
      retval: 3,
      path: '/sys/fs/cgroup/x/release_agent',
      path_resolved: true,
      path_truncated: false,
      write: true,
      create: false,
      ino: 1,
      dev: 1,
      watch_id: 1,
      matched: 'path',
      ...extra,
    },
    ms,
  );
const mount = (extra: Record<string, unknown> = {}, ms = 0): VigilEvent =>
  base(
    'syscall',
    {
      syscall: 'mount',
      retval: 0,
      args: ['0', '0', '0', '0', '0', '0'],
      source: 'cgroup',
      target: '/tmp/x',
      fstype: 'cgroup',
      mount_flag_names: ['MS_RDONLY'],
      ...extra,
    },
    ms,
  );

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  for (const [n, s] of Object.entries(files)) writeFileSync(join(d, n), s);
  return d;
}

function run(rulesYaml: string, events: VigilEvent[]): RuleMatch[] {
  const out: RuleMatch[] = [];
  const d = new Detector({ rules: RuleSet.load([dir({ 'r.yaml': rulesYaml })]), onMatch: (m) => out.push(m), hostNs: NS });
  for (const e of events) d.evaluate(e);
  return out;
}

const rule = (cond: string): string => `- rule: r\n  condition: ${JSON.stringify(cond)}\n  output: "%proc.name"\n  severity: notice\n`;

// [condition, event, fires]
const OPERATORS: Array<[string, () => VigilEvent, boolean]> = [
  ['proc.name = bash', exec, true],
  ['proc.name = sh', exec, false],
  ['proc.name != sh', exec, true],
  ['proc.pid < 101', exec, true],
  ['proc.pid <= 100', exec, true],
  ['proc.pid > 100', exec, false],
  ['proc.pid >= 100', exec, true],
  ['proc.name in (sh, bash)', exec, true],
  ['proc.exe contains bas', exec, true],
  ['proc.exe icontains BAS', exec, true],
  ['proc.exe startswith /bin', exec, true],
  ['proc.exe endswith sh', exec, true],
  ['proc.exe glob "/bin/*"', exec, true],
  ['proc.exe glob "/*"', exec, false],
  ['proc.exe glob "/**"', exec, true],
  ['proc.exe regex "^/bin/(ba)?sh$"', exec, true],
  // the one glob grammar (common/glob.ts): escapes, sets, '/' only by '/' or **
  ['proc.exe glob "/bin/b[a-c]sh"', exec, true],
  ['proc.exe glob "/bin/b[!a]sh"', exec, false],
  ['proc.exe glob "/bin[/]bash"', exec, false],
  ['proc.exe glob "/bin/?ash"', exec, true],
  ['proc.exe glob "/bin/\\\\*"', exec, false],
  ['proc.exe glob "/bin/\\\\*"', () => exec({ exe: '/bin/*' }), true],
  ['proc.exe glob "**/bash"', exec, true],
  ['proc.args glob "-? *"', exec, true],
  ['proc.anames glob "k*d"', exec, true],
  ['proc.pexe exists', exec, true],
  ['file.path exists', exec, false],
  ['not file.path exists', exec, true],
  ['file.path != /x', exec, true],
  ['file.path = /x', exec, false],
  ['proc.aname[2] = kthreadd', exec, true],
  ['proc.anames contains init', exec, true],
  ['proc.args = "-c id"', exec, true],
  ['proc.cmdline = "bash -c id"', exec, true],
  ['cap.effective contains CAP_SYS_ADMIN', exec, true],
  ['ns.is_host = true', exec, true],
  ['container.id != host and (proc.name = sh or proc.name = bash)', exec, true],
  ['not (proc.name = bash)', exec, false],
  ['evt.kind = file and file.write = true and file.name = release_agent', file, true],
  ['file.directory = /sys/fs/cgroup/x', file, true],
  ['evt.arg.fstype = cgroup and evt.arg.mount_flag_names contains MS_RDONLY', mount, true],
  ['evt.syscall = mount and evt.arg.target startswith /tmp', mount, true],
  ['evt.retval = 0 and evt.failed = false', mount, true],
  // Falco's spellings and operators (more in falco.test.ts)
  ['evt.type in (execve, execveat) and evt.dir = <', exec, true],
  ['evt.type = mount and evt.res = SUCCESS', mount, true],
  ['proc.name intersects (zsh, bash) and tolower(proc.exe) endswith bash', exec, true],
  ['fd.name pmatch (/sys/fs/cgroup)', file, true],
  ['fd.name pmatch (/sys/fs/cg)', file, false],
];

test('operators and fields, table-driven', () => {
  for (const [cond, ev, fires] of OPERATORS) assert.equal(run(rule(cond), [ev()]).length, fires ? 1 : 0, cond);
});

// [rule file, line, column, message part]
const ERRORS: Array<[string, number, number, string]> = [
  ['- rule: r\n  condition: proc.nmae = bash\n  severity: notice\n', 2, 14, 'unknown field "proc.nmae"'],
  ['- rule: r\n  condition: >\n    proc.name = bash and\n    proc.pid = abc\n  severity: notice\n', 4, 16, 'is a number'],
  ['- rule: r\n  condition: proc.name bash\n  severity: notice\n', 2, 24, 'unknown operator'],
  ['- rule: r\n  condition: proc.name = bash and no_macro\n  severity: notice\n', 2, 35, 'unknown macro or field'],
  ['- rule: r\n  condition: (proc.name = bash\n  severity: notice\n', 2, 31, 'expected ")"'],
  ['- rule: r\n  condition: proc.pid contains 1\n  severity: notice\n', 2, 14, 'does not apply'],
  ['- rule: r\n  condition: proc.name = bash\n  severity: loud\n', 3, 13, 'severity is one of'],
  ['- rule: r\n  condition: proc.name = bash\n  severity: notice\n  colour: red\n', 4, 3, 'unknown key "colour"'],
  ['- rule: r\n  condition: proc.name = bash\n  output: "%proc.nam"\n  severity: notice\n', 3, 12, 'unknown field'],
  ['- rule: r\n  condition: proc.name in nolist\n  severity: notice\n', 2, 27, 'unknown list'],
  ['- rule: r\n  condition: evt.arg.nope = 1\n  severity: notice\n', 2, 14, 'unknown syscall argument'],
  ['- rule: r\n  condition: proc.exe regex "("\n  severity: notice\n', 2, 29, 'bad regex'],
  ['- rule: r\n  condition: proc.exe regex "(a)\\\\1"\n  severity: notice\n', 2, 29, 'backreferences'],
  ['- rule: r\n  condition: proc.exe regex "(?=x)y"\n  severity: notice\n', 2, 29, 'lookahead and lookbehind'],
  ['- rule: r\n  condition: proc.exe regex "^[0-9a-f]{64}$"\n  severity: notice\n', 2, 29, 'counted repetitions above 16'],
  ['- rule: r\n  condition: proc.exe glob "/bin/[ab"\n  severity: notice\n', 2, 28, 'bad glob "/bin/[ab" at column 6: unterminated \'[\''],
  ['- rule: r\n  condition: metric.pids_current > 1\n  severity: notice\n', 2, 14, 'only metric rules'],
  ['- rule: r\n  condition: evt.syscall = chmood\n  severity: notice\n', 2, 28, 'unknown system call "chmood"'],
  ['- rule: r\n  condition: [oops\n', 3, 1, ''],
  ['- rule: r\n  append: true\n  condition: and proc.pid = 1\n', 1, 3, 'unknown rule'],
  [
    '- rule: r\n  condition: proc.name = bash\n  severity: notice\n  exceptions:\n    - name: e\n      fields: [proc.name, proc.pid]\n      values: [[a]]\n',
    7,
    16,
    'tuple of 2 values',
  ],
];

test('errors carry file:line:column, table-driven', () => {
  for (const [yaml, line, column, msg] of ERRORS) {
    const d = dir({ 'bad.yaml': yaml });
    try {
      RuleSet.load([d]);
      assert.fail(`loaded: ${yaml}`);
    } catch (err) {
      assert.ok(err instanceof RuleError, String(err));
      assert.equal(err.code, 'VIGIL_RULE_PARSE');
      const e = err.errors[0]!;
      assert.equal(e.file, join(d, 'bad.yaml'));
      assert.deepEqual([e.line, e.column], [line, column], `${yaml} -> ${e.message}`);
      assert.ok(e.message.includes(msg), `${e.message} should contain ${msg}`);
    }
  }
});

test('override and append: later files extend lists, macros, rules; enabled-only items', () => {
  const d = dir({
    '00.yaml': `- list: sh\n  items: [sh]\n- macro: m\n  condition: proc.pid = 100\n- rule: a\n  condition: proc.name in (sh) and m\n  output: a\n  severity: notice\n  tags: [T1]\n- rule: b\n  condition: proc.name = bash\n  severity: notice\n`,
    '10.yaml': `- list: sh\n  items: [bash]\n  append: true\n- rule: a\n  override:\n    tags: append\n  tags: [T2]\n- rule: b\n  enabled: false\n`,
  });
  const out: RuleMatch[] = [];
  const rs = RuleSet.load([d]);
  const det = new Detector({ rules: rs, onMatch: (m) => out.push(m) });
  det.evaluate(exec());
  assert.deepEqual(
    out.map((m) => m.rule.name),
    ['a'],
  );
  assert.deepEqual(out[0]!.rule.tags, ['T1', 'T2']);
  assert.equal(rs.rules().find((r) => r.name === 'b')!.enabled, false);
  // A condition appended narrows the rule; a replacement replaces it.
  assert.equal(run(`${rule('proc.name = bash')}- rule: r\n  append: true\n  condition: and proc.pid = 5\n`, [exec()]).length, 0);
  assert.equal(run(`${rule('proc.name = sh')}${rule('proc.name = bash')}`, [exec()]).length, 1);
});

test('exceptions: tuples, comps, list values', () => {
  const yaml = (values: string, comps = ''): string =>
    `- list: runtimes\n  items: [runc, bash]\n${rule('proc.name = bash')}  exceptions:\n    - name: e\n      fields: [proc.name, container.image]\n${comps}      values: ${values}\n`;
  assert.equal(run(yaml('[[bash, "nginx:1"]]'), [exec()]).length, 0);
  assert.equal(run(yaml('[[bash, "redis"]]'), [exec()]).length, 1);
  assert.equal(run(yaml('[[runtimes, "nginx:1"]]'), [exec()]).length, 0);
  assert.equal(run(yaml('[[bash, "ngin*"]]', '      comps: [=, glob]\n'), [exec()]).length, 0);
  assert.equal(run(yaml('[[[sh, bash], "nginx:1"]]'), [exec()]).length, 0);
});

test('every matching rule fires, in load order; candidates by kind and syscall', () => {
  const out = run(`${rule('proc.name = bash').replace('rule: r', 'rule: one')}${rule('proc.pid = 100').replace('rule: r', 'rule: two')}`, [exec()]);
  assert.deepEqual(
    out.map((m) => m.rule.name),
    ['one', 'two'],
  );
  const rs = RuleSet.load([dir({ 'r.yaml': `${rule('evt.syscall = mount and evt.arg.fstype = cgroup')}` })]);
  assert.equal(rs.candidates('syscall', 'mount').length, 1);
  assert.equal(rs.candidates('syscall', 'bpf').length, 0);
  assert.equal(rs.candidates('exec', '').length, 0);
  const nrs = rs
    .requiredSyscalls('x86_64')
    .map((e) => e.nr)
    .sort((a, b) => a - b);
  assert.deepEqual(nrs, [56, 57, 58, 59, 165, 322, 435]); // clone fork vfork execve mount execveat clone3
});

test('watches derived from file.name, file.path, net.path', () => {
  const rs = RuleSet.load([
    dir({
      'r.yaml': rule('file.name in (release_agent, core_pattern) or file.path startswith /etc/ssh/ or file.path glob "/srv/*/key" or net.path = /run/x.sock'),
    }),
  ]);
  assert.deepEqual(
    rs.requiredWatches(5000).map((w) => `${w.id}:${w.kind}:${w.path}`),
    ['5000:name:release_agent', '5001:name:core_pattern', '5002:prefix:/etc/ssh/', '5003:prefix:/srv/', '5004:exact:/run/x.sock'],
  );
});

const SEQ = `- rule: chain\n  type: sequence\n  by: process\n  window: 10s\n  steps:\n    - condition: evt.kind = exec\n    - condition: evt.syscall = mount\n    - condition: evt.kind = file and file.name = release_agent\n  output: "chain %proc.pid"\n  severity: critical\n`;

test('sequences: in order, by process tree, and timing out', () => {
  const child = (e: VigilEvent): VigilEvent =>
    Object.assign(e, { pid: 200, proc: { exe: '/x', args: [], ancestors: [{ pid: 100, exe: '/bin/bash', comm: 'bash' }] } });
  const fired = run(SEQ, [exec({}, 0), mount({}, 1000), child(file({}, 2000))]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.events.length, 3);
  assert.equal(run(SEQ, [exec({}, 0), file({}, 500), mount({}, 1000)]).length, 0, 'out of order');
  assert.equal(run(SEQ, [exec({}, 0), mount({}, 1000), file({}, 11_000)]).length, 0, 'window passed');
  assert.equal(run(SEQ, [exec({}, 0), mount({}, 1000), Object.assign(file({}, 2000), { pid: 999, proc: undefined })]).length, 0, 'unrelated process');
});

test('thresholds: count and distinct per key within the window', () => {
  const thr = `- rule: t\n  type: threshold\n  condition: evt.kind = exec\n  by: container.id\n  window: 1s\n  count: 3\n  severity: warning\n`;
  assert.equal(run(thr, [exec({}, 0), exec({}, 100), exec({}, 200)]).length, 1);
  assert.equal(run(thr, [exec({}, 0), exec({}, 600), exec({}, 1200)]).length, 0);
  const m = run(thr, [exec({}, 0), exec({}, 1), exec({}, 2)])[0]!;
  assert.deepEqual([m.count, m.key, m.events.length], [3, 'c1', 3]);
  const dist = thr.replace('count: 3', 'count: 2\n  distinct: proc.pid');
  assert.equal(run(dist, [exec({}, 0), exec({}, 1), exec({}, 2)]).length, 0);
  assert.equal(run(dist, [exec({}, 0), Object.assign(exec({}, 1), { pid: 7 })]).length, 1);
});

test('rule durations use the grammar of the config and the CLI (common/duration.ts)', () => {
  // window: 1d was refused here while the config's dedup_window: 1d worked.
  const thr = (window: string): string =>
    `- rule: t\n  type: threshold\n  condition: evt.kind = exec\n  by: container.id\n  window: ${window}\n  count: 2\n  severity: warning\n`;
  const HOUR = 3_600_000;
  assert.equal(run(thr('1d'), [exec({}, 0), exec({}, 23 * HOUR)]).length, 1, '1d holds 23 h');
  assert.equal(run(thr('1d'), [exec({}, 0), exec({}, 25 * HOUR)]).length, 0, '1d does not hold 25 h');
  assert.equal(run(thr('1w'), [exec({}, 0), exec({}, 6 * 24 * HOUR)]).length, 1, '1w holds 6 days');
  assert.equal(run(thr('2'), [exec({}, 0), exec({}, 1500)]).length, 1, 'a YAML number is seconds');
  for (const bad of ['0s', '5', '1y', '-1h']) assert.throws(() => run(thr(JSON.stringify(bad)), []), /window is a duration/, bad);
});

test('metric rules: hold for a duration, resolve when clear', () => {
  const out: RuleMatch[] = [];
  const rs = RuleSet.load([
    dir({
      'r.yaml': `- rule: m\n  type: metric\n  condition: metric.pids_current / metric.pids_max > 0.9 and delta(metric.pids_current) >= 0\n  for: 30s\n  output: "%container.name %metric.pids_current"\n  severity: warning\n`,
    }),
  ]);
  const det = new Detector({ rules: rs, onMatch: (m) => out.push(m) });
  const s = (t: number, cur: number): Array<{ target: string; metric: 'pids_current' | 'pids_max'; time: number; value: number }> => [
    { target: 'c1', metric: 'pids_current', time: t, value: cur },
    { target: 'c1', metric: 'pids_max', time: t, value: 100 },
  ];
  const info = () => ({
    id: 'c1',
    name: 'web',
    runtime: 'runc' as const,
    image: 'nginx',
    labels: {},
    cgroupId: 9,
    cgroupPath: '/x',
    startedAt: '2026-01-01T00:00:00Z',
  });
  for (const [t, v] of [
    [0, 95],
    [10_000, 95],
    [20_000, 96],
    [30_000, 97],
    [40_000, 97],
    [50_000, 10],
  ] as const)
    det.evaluateMetrics(s(t, v), info);
  // delta() needs a previous sample: the condition first holds at 10 s, so 30 s later it fires.
  assert.deepEqual(
    out.map((m) => [m.active, m.time, m.message]),
    [
      [true, 40_000, 'web 97'],
      [false, 50_000, 'web 10'],
    ],
  );
});

test('lifecycle events are evaluated', () => {
  const out: RuleMatch[] = [];
  const rs = RuleSet.load([dir({ 'r.yaml': rule('evt.kind = container_start and container.privileged = true') })]);
  const det = new Detector({ rules: rs, onMatch: (m) => out.push(m) });
  const posture: Posture = {
    privileged: true,
    hostPid: false,
    hostNet: false,
    hostIpc: false,
    hostMnt: false,
    hostUser: false,
    hostUts: false,
    sensitiveMounts: [],
    uidMap: '',
    capEffective: '0x1',
    sources: ['kernel'],
    mismatches: [],
  };
  det.evaluateLifecycle({
    kind: 'container_start',
    time: '2026-01-01T00:00:00Z',
    container: { id: 'c1', name: 'web', runtime: 'runc', image: 'x', labels: {}, cgroupId: 1, cgroupPath: '/', startedAt: '2026-01-01T00:00:00Z', posture },
  });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.container.name, 'web');
});

// One container's life: started with the runtime's record of its posture, updated once the kernel's
// view (which contradicts the runtime on hostNet) and a late name came in, then stopped. Each rule sees
// the lifecycle kinds its condition can hold for: a container_start rule fires once, not again on the
// update; a rule has to name container_update to see it.
const RUNTIME_POSTURE: Posture = {
  privileged: true,
  hostPid: false,
  hostNet: false,
  hostIpc: false,
  hostMnt: false,
  hostUser: false,
  hostUts: false,
  sensitiveMounts: [],
  uidMap: '0 0 4294967295',
  capEffective: '0x1ffffffffff',
  sources: ['runtime'],
  mismatches: [],
};
const KERNEL_POSTURE: Posture = { ...RUNTIME_POSTURE, hostNet: true, sources: ['runtime', 'kernel'], mismatches: ['hostNet: runtime false, kernel true'] };
const CONTAINER_INFO: ContainerInfo = {
  id: 'c1',
  name: 'c1',
  runtime: 'runc',
  image: 'busybox',
  labels: {},
  cgroupId: 9,
  cgroupPath: '/vigil/c1',
  startedAt: '2026-11-28T12:00:00Z',
  posture: RUNTIME_POSTURE,
};
const LIFE: ContainerLifecycleEvent[] = [
  { kind: 'container_start', time: '2026-11-28T12:00:00Z', container: CONTAINER_INFO },
  {
    kind: 'container_update',
    time: '2026-11-28T12:00:01Z',
    container: { ...CONTAINER_INFO, name: 'web', initPid: 4242, posture: KERNEL_POSTURE },
    changed: ['name', 'initPid', 'posture'],
  },
  {
    kind: 'container_stop',
    time: '2026-11-28T12:00:09Z',
    container: { ...CONTAINER_INFO, name: 'web', posture: KERNEL_POSTURE, stoppedAt: '2026-11-28T12:00:09Z' },
  },
];
// [condition, kinds it fires on (in order), whether container_update is a candidate]
const LIFECYCLE_RULES: Array<[string, string[], boolean]> = [
  ['evt.kind = container_start and container.privileged = true', ['container_start'], false],
  ['evt.kind = container_start and container.host_net = true', [], false],
  ['evt.kind = container_update', ['container_update'], true],
  ['evt.kind = container_update and container.changed contains posture', ['container_update'], true],
  ['evt.kind = container_update and container.changed contains image', [], true],
  ['evt.kind = container_update and container.posture_mismatches contains "hostNet: runtime false, kernel true"', ['container_update'], true],
  ['evt.kind = container_update and container.posture_sources contains kernel and container.host_net = true', ['container_update'], true],
  ['evt.kind = container_update and container.changed contains posture and container.posture_mismatches startswith "hostNet:"', ['container_update'], true],
  ['evt.kind = container_update and container.posture_mismatches startswith "hostPid:"', [], true],
  ['evt.kind in (container_start, container_update) and container.privileged = true', ['container_start', 'container_update'], true],
  ['evt.kind = container_stop and container.name = web', ['container_stop'], false],
  ['container.changed exists', ['container_update'], true],
  // The default pack's "Container posture differs from its runtime's record": any mismatch at all.
  ['evt.kind in (container_start, container_update) and container.posture_mismatches regex "^[A-Za-z]+: runtime "', ['container_update'], true],
];

test('lifecycle kinds (table): container_update reaches only the rules that can hold for it; start rules fire once', () => {
  for (const [cond, kinds, updateCandidate] of LIFECYCLE_RULES) {
    const out: RuleMatch[] = [];
    const rs = RuleSet.load([dir({ 'r.yaml': rule(cond) })]);
    assert.equal(rs.candidates('container_update', '').length > 0, updateCandidate, `${cond}: candidate for container_update`);
    const det = new Detector({ rules: rs, onMatch: (m) => out.push(m) });
    const fired: string[] = [];
    for (const lc of LIFE) {
      const before = out.length;
      det.evaluateLifecycle(lc);
      if (out.length > before) fired.push(lc.kind);
    }
    assert.deepEqual(fired, kinds, cond);
    assert.equal(det.stats().lifecycle, LIFE.length);
    for (const m of out) assert.equal(m.container.id, 'c1');
  }
});

// Events of runc init setting a container up (runtime_setup) that would match each rule when the
// container did them: [rules, events].
const SETUP: Array<[string, string, VigilEvent[]]> = [
  ['event rule', rule('proc.name = bash'), [exec()]],
  ['file rule', rule('evt.kind = file and file.name = release_agent and file.write = true'), [file()]],
  ['syscall rule', rule('evt.syscall = mount and evt.arg.fstype = cgroup'), [mount()]],
  ['sequence', SEQ, [exec({}, 0), mount({}, 1000), file({}, 2000)]],
  [
    'threshold',
    `- rule: t\n  type: threshold\n  condition: evt.kind = exec\n  by: container.id\n  window: 1s\n  count: 2\n  severity: warning\n`,
    [exec({}, 0), exec({}, 1), exec({}, 2)],
  ],
];

test('runtime_setup (table): no rule evaluates a runtime bootstrap event; each is counted', () => {
  for (const [name, yaml, events] of SETUP) {
    assert.ok(
      run(
        yaml,
        events.map((e) => ({ ...e })),
      ).length > 0,
      `${name}: fires as the container's own action`,
    );
    const out: RuleMatch[] = [];
    const rs = RuleSet.load([dir({ 'r.yaml': yaml })]);
    const det = new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS });
    for (const e of events) det.evaluate({ ...e, runtime_setup: true });
    assert.equal(out.length, 0, `${name}: nothing fires`);
    const st = det.stats();
    assert.deepEqual([st.events, st.runtimeSetupSkipped, st.matches], [events.length, events.length, 0], name);
    assert.ok(
      st.rules.every((r) => r.evaluations === 0),
      `${name}: no rule evaluated`,
    );
  }
  // A sequence the bootstrap began is not continued by the container's own events.
  const out: RuleMatch[] = [];
  const det = new Detector({ rules: RuleSet.load([dir({ 'r.yaml': SEQ })]), onMatch: (m) => out.push(m) });
  det.evaluate({ ...exec({}, 0), runtime_setup: true });
  det.evaluate(mount({}, 1000));
  det.evaluate(file({}, 2000));
  assert.equal(out.length, 0);
  assert.equal(det.stats().runtimeSetupSkipped, 1);
});

test('runtime_setup: the credentials of the bootstrap are still tracked (cap.gained of the next exec)', () => {
  const gained = rule('evt.kind = exec and cap.gained contains CAP_SYS_ADMIN');
  const none = { ...CREDS, cap_effective: '0x0', cap_permitted: '0x0' };
  // runc init ran without CAP_SYS_ADMIN; the program it then executed has it.
  const fired = run(gained, [{ ...exec({ creds: none }, 0), runtime_setup: true }, exec({}, 10)]);
  assert.equal(fired.length, 1);
  assert.equal(run(gained, [{ ...exec({ creds: CREDS }, 0), runtime_setup: true }, exec({}, 10)]).length, 0, 'nothing gained');
});

test('reload under load loses no events; a bad reload keeps the rules in force', async () => {
  const d = dir({ 'r.yaml': rule('proc.name = bash') });
  let matches = 0;
  const det = new Detector({ rules: RuleSet.empty(), onMatch: () => matches++ });
  const mgr = new RuleManager({ dirs: [d], onReload: (rs) => det.swap(rs), watch: false });
  det.swap(mgr.start());
  let sent = 0;
  const pump = async (): Promise<void> => {
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 200; i++, sent++) det.evaluate(exec());
      await new Promise((r) => setImmediate(r));
    }
  };
  const reloads = (async () => {
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(d, 'r.yaml'), rule(i % 2 ? 'proc.name = bash' : 'proc.pid = 100'));
      assert.equal(await mgr.reload(), true);
      await new Promise((r) => setImmediate(r));
    }
    writeFileSync(join(d, 'r.yaml'), rule('proc.nope = 1'));
    assert.equal(await mgr.reload(), false);
  })();
  await Promise.all([pump(), reloads]);
  assert.equal(matches, sent);
  assert.equal(mgr.counters.failures, 1);
  det.evaluate(exec());
  assert.equal(matches, sent + 1, 'the last good rules stay in force');
  mgr.close();
});

test('swap keeps the state of unchanged rules', () => {
  const out: RuleMatch[] = [];
  const d = dir({ 'r.yaml': SEQ });
  const det = new Detector({ rules: RuleSet.load([d]), onMatch: (m) => out.push(m) });
  det.evaluate(exec({}, 0));
  det.evaluate(mount({}, 100));
  det.swap(RuleSet.load([d]));
  det.evaluate(file({}, 200));
  assert.equal(out.length, 1);
});

// The path index (basename, path, prefix) must never drop a match: the real rule pack, narrowed and
// not, over many synthetic file, connect, mount and exec events must fire the same rules on the same
// events in the same order.
test('path index: narrowing never drops a match (real rules, synthetic events) and narrows', () => {
  const pack = [defaultRuleDirs()[0]!];
  const narrowed = RuleSet.load(pack);
  const full = RuleSet.load(pack, { narrow: false });
  // Every key the rules name, and neighbours of each (inside, beside, above a prefix).
  const vals = new Set<string>(['/', '/tmp/a', '/var/log/app.log', '/etc/passwd', 'relative/x', '']);
  for (const r of narrowed.compiled())
    for (const t of r.trees)
      for (const kind of ['file', 'connect'] as const)
        for (const k of pathKeysOf(t, kind) ?? []) {
          if (k.type === 'name') ['/x/', '/proc/1/', '/sys/fs/cgroup/a/', ''].forEach((d) => vals.add(d + k.v)), vals.add(`/x/${k.v}x`);
          else if (k.type === 'exact') vals.add(k.v), vals.add(k.v + 'x'), vals.add(k.v.slice(0, -1));
          else vals.add(k.v), vals.add(k.v + 'f'), vals.add(k.v + 'a/b'), vals.add(k.v.slice(0, -1));
        }
  const paths = [...vals];
  let seed = 42;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  const HOST = { id: 'host', name: 'host', runtime: 'host', image: '' };
  const C1 = { id: 'c1', name: 'web', runtime: 'runc', image: 'nginx:1' };
  const OPS: Array<[string, string]> = [
    ['open', 'openat'],
    ['open', 'open'],
    ['rename', 'renameat2'],
    ['link', 'linkat'],
    ['symlink', 'symlinkat'],
    ['unlink', 'unlinkat'],
  ];
  const events: VigilEvent[] = [];
  for (let i = 0; i < 20_000; i++) {
    const ms = i * 5;
    const who = { pid: 100 + rnd(4), comm: pick(['bash', 'cat', 'runc', 'passwd', 'curl']), container: rnd(5) === 0 ? HOST : C1 };
    const r = rnd(20);
    let ev: VigilEvent;
    if (r < 14) {
      const [op, syscall] = pick(OPS);
      const dest = op === 'rename' || op === 'link' || op === 'symlink' ? { dest: pick(paths) } : {};
      // opens carry an identity, on the filesystems the identity rules name or another
      const ident = op === 'open' && rnd(2) === 0 ? { fs_path: pick(paths), fs_type: pick(['proc', 'sysfs', 'cgroup', 'ext4']), host_mount: rnd(2) === 0 } : {};
      ev = file({ op, syscall, path: pick(paths), write: rnd(2) === 0, create: rnd(3) === 0, retval: rnd(4) === 0 ? -2 : 3, ...dest, ...ident }, ms);
    } else if (r < 17)
      ev = base(
        'connect',
        rnd(2)
          ? { syscall: 'connect', retval: 0, family: 'unix', path: pick(paths), path_resolved: true, watch_id: 1 }
          : { syscall: 'connect', retval: 0, family: 'inet', address: '10.0.0.1', port: 2375, path_resolved: false, watch_id: 0 },
        ms,
      );
    else if (r < 19) ev = mount({ fstype: pick(['cgroup', 'cgroup2', 'proc', 'ext4']) }, ms);
    else ev = exec({ exe: pick(['/bin/bash', '/usr/bin/nsenter', '/dev/shm/x']), comm: who.comm }, ms);
    Object.assign(ev, who);
    events.push(ev);
  }
  const fire = (rs: RuleSet): { out: string[]; det: Detector } => {
    const out: string[] = [];
    const idx = new Map(events.map((e, i) => [e, i]));
    const det = new Detector({ rules: rs, onMatch: (m) => out.push(`${m.rule.name}@${m.events.map((e) => idx.get(e)).join(',')}:${m.message}`), hostNs: NS });
    for (const e of events) det.evaluate(e);
    return { out, det };
  };
  const a = fire(narrowed);
  const b = fire(full);
  assert.ok(b.out.length > 200, `the synthetic events match often enough (${b.out.length})`);
  assert.ok(new Set(b.out.map((m) => m.split('@')[0])).size >= 10, 'many rules fire');
  assert.deepEqual(a.out, b.out);
  // It narrows: fewer evaluations, and the expensive file rules leave the always-candidates.
  const evals = (d: Detector): number => d.stats().rules.reduce((x, r) => x + r.evaluations, 0);
  assert.ok(evals(a.det) < evals(b.det) / 2, `${evals(a.det)} vs ${evals(b.det)}`);
  const n = narrowed.narrowing('file', 'openat');
  assert.equal(n.always + n.keyed, narrowed.candidates('file', 'openat').length);
  assert.ok(n.keyed >= 10, `keyed ${n.keyed}`);
  // (the /proc magic-link rule is one: it keys on the argument as written, which the index does not hold)
  assert.ok(n.always <= 5, `always ${n.always}`);
  const plain = file({ path: '/var/log/app.log' });
  assert.equal(narrowed.candidatesOf(plain as never).length, n.always);
  assert.ok(narrowed.candidatesOf(file({ path: '/etc/shadow' }) as never).length > n.always);
  assert.ok(
    narrowed
      .candidatesOf(file({ path: '/x/y', op: 'rename', syscall: 'renameat2', dest: '/sys/fs/cgroup/a/release_agent' }) as never)
      .some((r) => r.info.name === 'Write to cgroup release_agent'),
  );
  const c = narrowed.narrowing('connect', 'connect');
  assert.ok(c.keyed >= 1, `connect keyed ${c.keyed}`);
});

// Necessary constraints only: nothing from `not`, `!=`, or an `or` with an unconstrained branch.
const KEYS: Array<[string, string[] | null]> = [
  ['file.name = a', ['path:name:a']],
  ['evt.kind = file and file.name in (a, b)', ['path:name:a', 'path:name:b']],
  ['file.path startswith /p/ and proc.name = x', ['path:prefix:/p/']],
  ['file.path glob "/srv/*/key"', ['path:prefix:/srv/']],
  ['file.path glob "/srv/\\\\*/key"', ['path:exact:/srv/*/key']],
  ['file.path glob "/srv/a\\\\*b/*"', ['path:prefix:/srv/a*b/']],
  ['file.name glob "a\\\\?"', ['path:name:a?']],
  ['file.directory = /etc', ['path:prefix:/etc/']],
  ['file.name = a or file.dest_name = a', ['path:name:a', 'dest:name:a']],
  ['file.name = a or proc.name = x', null],
  ['not file.name = a', null],
  ['file.name != a', null],
  ['file.name contains a', null],
  ['(evt.kind = connect and net.name = s) or (evt.kind = file and file.name = t)', ['path:name:t']],
];
test('hostile globs and regexes in rules: loaded, evaluated on 4096-character values, answered right', () => {
  // No clock: a backtracking engine would not finish these; the answers are checked.
  for (const h of HOSTILE) {
    if (h.mode !== 'path') continue;
    const cond = `proc.exe glob ${JSON.stringify(h.pattern)}`;
    assert.equal(run(rule(cond), [exec({ exe: h.input })]).length, h.want ? 1 : 0, cond.slice(0, 40));
  }
  const long = 'a'.repeat(4096);
  // [regex, value, fires]: classic catastrophic-backtracking shapes
  const REGEXES: Array<[string, string, boolean]> = [
    ['^(a+)+b$', long, false],
    ['^(a|aa)*c$', long, false],
    ['(a*)*b', long + 'b', true],
    ['^(.*a){16}b$', long, false],
    ['^(?:a|a?){16}a{16}$', 'a'.repeat(31), true],
    ['^(\\w+\\s?)*$', long + '!', false],
  ];
  for (const [re, value, fires] of REGEXES) {
    const cond = `proc.exe regex ${JSON.stringify(re)}`;
    assert.equal(run(rule(cond), [exec({ exe: value })]).length, fires ? 1 : 0, re);
  }
});

test('path index: necessary keys of a condition', () => {
  for (const [cond, want] of KEYS) {
    const rs = RuleSet.load([dir({ 'r.yaml': rule(cond) })]);
    const got = pathKeysOf(rs.compiled()[0]!.trees[0]!, 'file');
    assert.deepEqual(got === null ? null : got.map((k) => `${k.on}:${k.type}:${k.v}`), want, cond);
  }
});

test('proc.stdin_type and proc.stdin_socket: a socket on fd 0 is told inet or unix from /proc/<pid>/net', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  const proc = (pid: number, fd0: string): void => {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
    mkdirSync(join(root, String(pid), 'net'), { recursive: true });
    symlinkSync(fd0, join(root, String(pid), 'fd', '0'));
    writeFileSync(
      join(root, String(pid), 'net', 'tcp'),
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1\n',
    );
    writeFileSync(
      join(root, String(pid), 'net', 'unix'),
      'Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000003 00000000 00000000 0001 03 5151\n',
    );
  };
  proc(201, 'socket:[4242]');
  proc(202, 'socket:[5151]');
  proc(203, 'socket:[6161]');
  proc(204, 'pipe:[7]');
  const sockets = new Map<number, unknown>();
  const rules = RuleSet.load([
    dir({ 'r.yaml': '- rule: r\n  condition: evt.kind = exec\n  output: "%proc.stdin_type %proc.stdin_socket"\n  severity: notice\n' }),
  ]);
  const d = new Detector({ rules, onMatch: (m) => sockets.set(m.events[0]!.pid, m.message), hostNs: NS, procRoot: root });
  for (const pid of [201, 202, 203, 204]) d.evaluate(exec({ pid, tid: pid }));
  assert.deepEqual(
    [...sockets],
    [
      [201, 'socket inet'],
      [202, 'socket unix'],
      [203, 'socket other'],
      [204, 'pipe <NA>'],
    ],
  );
});

test("proc.exe_written_after_start of a process already gone is read through its container's first process, in the same mount namespace only", () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  // The container's first process (pid 500) is running; the execs evaluated (pid 600, 601) have exited.
  mkdirSync(join(root, '500', 'ns'), { recursive: true });
  mkdirSync(join(root, '500', 'root', 'tmp'), { recursive: true });
  symlinkSync(`mnt:[${NS.mnt}]`, join(root, '500', 'ns', 'mnt'));
  writeFileSync(join(root, '500', 'root', 'tmp', 'sleep'), 'dropped'); // written now: after the start
  const info: ContainerInfo = { ...CONTAINER_INFO, id: 'c1', initPid: 500, startedAt: '2026-01-01T00:00:00Z' };
  const seen: number[] = [];
  const rules = RuleSet.load([dir({ 'r.yaml': rule('evt.kind = exec and proc.exe_written_after_start = true') })]);
  const d = new Detector({ rules, onMatch: (m) => seen.push(m.events[0]!.pid), hostNs: NS, procRoot: root, resolveContainer: () => info });
  const dropped = { exe: '/tmp/sleep', proc: { exe: '/tmp/sleep', args: ['/tmp/sleep', '1'], cwd: '/', ancestors: [] } };
  d.evaluate(exec({ pid: 600, tid: 600, ...dropped }));
  // Another mount namespace sees other files under the same path: not answered through pid 500.
  d.evaluate(exec({ pid: 601, tid: 601, ...dropped, ns: { ...NS, mnt: NS.mnt + 1 } }));
  assert.deepEqual(seen, [600]);
});

test('proc.stdin_type and proc.stdin_socket of an exec come from its record: a process gone before evaluation is still classified', () => {
  // An empty /proc: every process here has exited by the time the rule runs (a backlog behind a flood).
  const root = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  const seen = new Map<number, unknown>();
  const rules = RuleSet.load([
    dir({ 'r.yaml': '- rule: r\n  condition: evt.kind = exec\n  output: "%proc.stdin_type %proc.stdin_socket %proc.stdout_type"\n  severity: notice\n' }),
  ]);
  const d = new Detector({ rules, onMatch: (m) => seen.set(m.events[0]!.pid, m.message), hostNs: NS, procRoot: root });
  const STDIO: Array<[number, ExecEvent['stdio']]> = [
    [401, ['inet', 'inet', 'inet']],
    [402, ['unix', 'pipe', 'file']],
    [403, ['socket', 'tty', 'tty']],
    [404, ['closed', 'anon', 'closed']],
    [405, undefined], // a failed exec: not read in the kernel, and /proc has nothing either
  ];
  for (const [pid, stdio] of STDIO) d.evaluate(exec({ pid, tid: pid, stdio }));
  assert.deepEqual(
    [...seen],
    [
      [401, 'socket inet socket'],
      [402, 'socket unix pipe'],
      [403, 'socket other tty'],
      [404, '<NA> <NA> anon'],
      [405, '<NA> <NA> <NA>'],
    ],
  );
});

test('default pack, reverse shells: a shell reading commands from a socket fires, a script or -c on a unix socket does not', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  // pid 301: stdin on a unix socket (what agents and Node's child_process hand a shell); 302: on TCP.
  for (const [pid, inode, table] of [
    [301, 5151, 'unix'],
    [302, 4242, 'tcp'],
  ] as const) {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
    mkdirSync(join(root, String(pid), 'net'), { recursive: true });
    symlinkSync(`socket:[${inode}]`, join(root, String(pid), 'fd', '0'));
    writeFileSync(
      join(root, String(pid), 'net', 'tcp'),
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
        (table === 'tcp' ? `   0: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 20 4 30 10 -1\n` : ''),
    );
    writeFileSync(
      join(root, String(pid), 'net', 'unix'),
      'Num       RefCount Protocol Flags    Type St Inode Path\n' + (table === 'unix' ? `0000000000000000: 00000003 00000000 00000000 0001 03 ${inode}\n` : ''),
    );
  }
  const fired: string[] = [];
  const d = new Detector({
    rules: RuleSet.load([defaultRuleDirs()[0]!]),
    onMatch: (m) => fired.push(`${m.rule.name}: ${m.events[0]!.pid} ${(m.events[0] as { args?: string[] }).args?.join(' ')}`),
    hostNs: NS,
    procRoot: root,
  });
  const host = { id: 'host', name: 'host', runtime: 'host', image: '' };
  // [argv, pid, fires]
  const cases: Array<[string[], number, boolean]> = [
    [['bash'], 301, true],
    [['bash', '-i'], 301, true],
    [['sh', '-s'], 301, true],
    [['bash', '/root/.pyenv/libexec/pyenv-which', 'python3'], 301, false],
    [['sh', '-c', 'id'], 301, false],
    [['sh', '-c', 'id'], 302, true],
    [['bash', '/tmp/x.sh'], 302, true],
  ];
  for (const [args, pid] of cases) d.evaluate(exec({ pid, tid: pid, args, argc: args.length, exe: `/bin/${args[0]}`, comm: args[0], container: host }));
  const want = cases.filter(([, , f]) => f).map(([args, pid]) => `Reverse shell on host: ${pid} ${args.join(' ')}`);
  assert.deepEqual(
    fired.filter((f) => f.startsWith('Reverse shell')),
    want,
  );
});

test('identity, suffix and traversal watches derived from conditions', () => {
  const rs = RuleSet.load([
    dir({
      'r.yaml':
        [
          '- rule: helper',
          '  desc: d',
          '  condition: evt.kind = file and (file.path = /proc/sys/kernel/core_pattern or (file.fs_type = proc and file.fs_path in (/sys/kernel/core_pattern)))',
          '  output: o',
          '  severity: critical',
          '- rule: agent',
          '  desc: d',
          '  condition: evt.kind = file and file.fs_type = cgroup and file.fs_name = release_agent',
          '  output: o',
          '  severity: critical',
          '- rule: keys',
          '  desc: d',
          '  condition: evt.kind = file and (file.fs_path startswith /root/.ssh/ or fd.name endswith /authorized_keys)',
          '  output: o',
          '  severity: warning',
          '- rule: traversal',
          '  desc: d',
          '  condition: evt.kind = file and fd.name startswith /etc/ and fd.nameraw contains "../"',
          '  output: o',
          '  severity: warning',
        ].join('\n') + '\n',
    }),
  ]);
  const got = rs.requiredWatches(1).map((w) => `${w.kind}${w.magic === undefined ? '' : `@0x${w.magic.toString(16)}`}:${w.path}`);
  assert.deepEqual(got.sort(), [
    'exact:/proc/sys/kernel/core_pattern',
    'fs-exact@0x9fa0:/sys/kernel/core_pattern',
    'fs-name@0x27e0eb:release_agent',
    'fs-prefix:/root/.ssh/',
    'suffix:/authorized_keys',
    // the traversal rule's /etc/ prefix is not watched: the rule only holds for the traversal class
    'traversal:../',
  ]);
  // The identity rules are indexed by the identity: an event reaching core_pattern by another path
  // is a candidate of the helper rule, an unrelated one is not.
  const names = (ev: object): string[] => rs.candidatesOf({ kind: 'file', syscall: 'openat', ...ev }).map((r) => r.info.name);
  assert.ok(names({ path: '/tmp/hook', fs_path: '/sys/kernel/core_pattern' }).includes('helper'));
  assert.ok(!names({ path: '/tmp/other', fs_path: '/tmp/other' }).includes('helper'));
});

test('open classes derived from conditions: write watches, all (write-)opens, proc-link', () => {
  const cases: Array<[string, string[], string]> = [
    // write intent makes the paths write entries (reads below them stay in the kernel)
    ['evt.kind = file and file.write = true and file.path startswith /etc/', ['write-prefix:/etc/'], 'watched writes'],
    ['evt.is_open_write = true and fd.name startswith /etc', ['write-prefix:/etc'], 'watched writes'],
    ['evt.kind = file and file.write = true and fd.directory in (/bin, /sbin)', ['write-prefix:/bin/', 'write-prefix:/sbin/'], 'watched writes'],
    ['evt.kind = file and file.op in (rename, unlink) and file.path = /etc/hosts', ['write-exact:/etc/hosts'], 'watched writes'],
    [
      'evt.kind = file and file.write = true and fd.name pmatch (/etc, /usr/lib/)',
      ['write-exact:/etc', 'write-prefix:/etc/', 'write-exact:/usr/lib', 'write-prefix:/usr/lib/'],
      'watched writes',
    ],
    // write intent on one branch only: that branch's entries only
    [
      'evt.kind = file and ((file.write = true and file.path startswith /etc/) or file.path = /etc/shadow)',
      ['write-prefix:/etc/', 'exact:/etc/shadow'],
      'watched',
    ],
    // no write intent: read entries, as before
    ['evt.kind = file and file.path startswith /etc/ssh/', ['prefix:/etc/ssh/'], 'watched'],
    // paths the table cannot hold: every open, or every write when the condition requires one
    ['evt.kind = file and fd.name contains passwd', ['prefix:/'], 'all opens'],
    ['evt.is_open_write = true and fd.name contains passwd', ['write-prefix:/'], 'all write-opens'],
    ['evt.kind = file and file.write = true and file.path glob "*/.ssh/*"', ['write-prefix:/'], 'all write-opens'],
    // ... unless another test of the same `and` narrows it
    ['evt.kind = file and file.path startswith /etc/ and file.path contains passwd', ['prefix:/etc/'], 'watched'],
    // an `or` with one branch the table cannot hold needs every open
    ['evt.kind = file and (file.path startswith /etc/ or file.path contains id_rsa)', ['prefix:/etc/', 'prefix:/'], 'all opens'],
    // creations the probe reports on its own need no class
    ['evt.kind = file and file.created = true and file.name startswith "."', [], 'none'],
    // write-opens through /proc magic links
    ['evt.kind = file and file.write = true and fd.nameraw glob "/proc/*/fd/*"', ['proc-link:/proc/'], 'proc-link write-opens'],
    ['evt.kind = file and fd.nameraw glob "/proc/*/fd/*"', ['traversal:../'], 'traversal opens'],
  ];
  for (const [cond, want, cls] of cases) {
    const rs = RuleSet.load([dir({ 'r.yaml': rule(cond) })]);
    const [st] = rs.statuses();
    assert.deepEqual(
      rs.requiredWatches(1).map((w) => `${w.kind}:${w.path}`),
      want,
      cond,
    );
    assert.equal(st!.status.opens, cls, cond);
  }
});

test('the default pack sends no broad open class', () => {
  const rs = RuleSet.load(defaultRuleDirs());
  const broad = rs.statuses().filter(({ status }) => status.opens === 'all opens' || status.opens === 'all write-opens');
  assert.deepEqual(
    broad.map(({ rule: r }) => r.name),
    [],
  );
  assert.ok(!rs.requiredWatches().some((w) => w.path === '/'));
});
