// Falco rule files in vigil (docs/falco.md): Falco's stable rules load unmodified and each rule's
// status is what docs/falco.md says; Falco's keys, priorities, operators, transformers and field
// names work; what vigil cannot evaluate is skipped with the reason, or an error under --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KTIME, type Creds, type VigilEvent } from '../sensor/events.js';
import { NS, rootCreds } from '../../test/detect-fixtures.js';
import { Detector } from './detector.js';
import { RuleError, RuleSet } from './ruleset.js';
import { resolveField } from './fields.js';
import { formatStatuses, runRules } from '../cli/rules.js';
import { Writable } from 'node:stream';
import type { RuleMatch } from './rule-match.js';

const REPO = join(import.meta.dirname, '../../../..');
const FALCO_RULES = join(REPO, '..', 'shared', 'falco', 'falco_rules.yaml');

function falcoFile(): string {
  // The stable rules are test input kept beside the checkout, never in it: a missing file is a broken
  // test set-up, not a reason to pass.
  assert.ok(
    existsSync(FALCO_RULES),
    `Falco's stable rules are missing: ${FALCO_RULES} (see /work/shared/falco/README.md; tests read them from ../shared/falco/ beside the repository)`,
  );
  return FALCO_RULES;
}

/** Every rule of the stable file and what vigil makes of it (docs/falco.md has the same table). */
export const FALCO_STABLE_STATUS: ReadonlyArray<[string, 'loaded' | 'skipped' | 'never', string]> = [
  // fd.nameraw: the traversal open class sends the argument of opens that contain "../"
  ['Directory traversal monitored file read', 'loaded', ''],
  ['Read sensitive file trusted after startup', 'loaded', ''],
  ['Read sensitive file untrusted', 'loaded', ''],
  ['Run shell untrusted', 'loaded', ''],
  ['System user interactive', 'loaded', ''],
  ['Terminal shell in container', 'loaded', ''],
  ['Contact K8S API Server From Container', 'loaded', ''],
  ['Netcat Remote Code Execution in Container', 'loaded', ''],
  ['Search Private Keys or Passwords', 'loaded', ''],
  ['Clear Log Activities', 'loaded', ''],
  ['Remove Bulk Data from Disk', 'loaded', ''],
  ['Create Symlink Over Sensitive Files', 'loaded', ''],
  ['Create Hardlink Over Sensitive Files', 'loaded', ''],
  ['Packet socket created in container', 'loaded', ''],
  ['Redirect STDOUT/STDIN to Network Connection in Container', 'loaded', ''],
  ['Linux Kernel Module Injection Detected', 'loaded', ''],
  ['Debugfs Launched in Privileged Container', 'loaded', ''],
  // fd.name endswith: a suffix watch
  ['Detect release_agent File Container Escapes', 'loaded', ''],
  ['PTRACE attached to process', 'loaded', ''],
  ['PTRACE anti-debug attempt', 'loaded', ''],
  ['Find AWS Credentials', 'loaded', ''],
  ['Execution from /dev/shm', 'loaded', ''],
  ['Drop and execute new binary in container', 'loaded', ''],
  ['Disallowed SSH Connection Non Standard Port', 'loaded', ''],
  ['Fileless execution via memfd_create', 'loaded', ''],
];

test("Falco's stable rules load unmodified; every rule's status is the documented one", () => {
  const rs = RuleSet.load([falcoFile()]);
  const got = rs.statuses().map(({ rule, status }) => [rule.name, status.state, status.reason ?? ''] as const);
  assert.equal(got.length, 25);
  assert.deepEqual(
    got.map((g) => g[0]),
    FALCO_STABLE_STATUS.map((e) => e[0]),
  );
  for (const [name, state, reason] of FALCO_STABLE_STATUS) {
    const g = got.find((x) => x[0] === name)!;
    assert.equal(g[1], state, `${name}: ${g[2]}`);
    assert.ok(g[2].includes(reason), `${name}: "${g[2]}" should name ${reason}`);
  }
  // Falco's priorities map to vigil's severities; every stable rule is enabled.
  const sev = new Map(rs.rules().map((r) => [r.name, r.severity]));
  assert.equal(sev.get('System user interactive'), 'informational');
  assert.equal(sev.get('Fileless execution via memfd_create'), 'critical');
  assert.equal(sev.get('Search Private Keys or Passwords'), 'warning');
  assert.ok(rs.rules().every((r) => r.enabled));
  // The rules the API lists carry the same status.
  // Every rule of the stable file can fire: socket, dup and the file classes are all traced.
  assert.deepEqual(
    rs
      .rules()
      .filter((r) => r.status?.state === 'never')
      .map((r) => r.name),
    [],
  );
  // The file asks for the container plugin, whose fields vigil has: no warning, and nothing is skipped.
  assert.deepEqual(
    rs.warnings.map((w) => w.message.replace(/:.*/, '')),
    [],
  );
  // The watches it derives include the suffix and the traversal class those two rules need.
  const w = rs.requiredWatches().map((x) => `${x.kind}:${x.path}`);
  assert.ok(w.includes('suffix:release_agent') && w.includes('traversal:../'), w.join(' '));
});

test("rules check prints each rule's status; --strict makes a skipped rule an error with file:line:column", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (a: string[]): Writable => new Writable({ write: (c, _e, cb) => (a.push(String(c)), cb()) });
  assert.equal(await runRules(['check', falcoFile()], { stdout: sink(out), stderr: sink(err) }), 0);
  const text = out.join('');
  assert.match(text, /^loaded\s+Directory traversal monitored file read /m);
  assert.match(text, /^loaded\s+Packet socket created in container /m);
  assert.match(text, /^loaded\s+Redirect STDOUT\/STDIN to Network Connection in Container /m);
  assert.match(text, /^loaded\s+Run shell untrusted /m);
  assert.match(text, /^rules: 25: 25 loaded \(0 of them never fire\), 0 skipped$/m);
  const sOut: string[] = [];
  const sErr: string[] = [];
  assert.equal(await runRules(['check', '--strict', falcoFile()], { stdout: sink(sOut), stderr: sink(sErr) }), 0, sErr.join(''));
  const skipping = dir({ 'r.yaml': '- rule: needs\n  desc: d\n  condition: evt.type = openat and proc.exe_ino.mtime > 0\n  output: o\n  priority: INFO\n' });
  const tErr: string[] = [];
  assert.equal(await runRules(['check', '--strict', join(skipping, 'r.yaml')], { stdout: sink([]), stderr: sink(tErr) }), 1);
  assert.match(tErr.join(''), /r\.yaml:1:3: rule "needs" cannot be evaluated: proc\.exe_ino\.mtime/);
});

// ---- Falco's rule-file format, table-driven --------------------------------------------------------

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-falco-'));
  for (const [n, s] of Object.entries(files)) writeFileSync(join(d, n), s);
  return d;
}

// [rule file, rules' name -> severity]
const PRIORITIES: Array<[string, string]> = [
  ['EMERGENCY', 'emergency'],
  ['Alert', 'alert'],
  ['critical', 'critical'],
  ['ERROR', 'error'],
  ['WARNING', 'warning'],
  ['notice', 'notice'],
  ['INFORMATIONAL', 'informational'],
  ['INFO', 'informational'],
  ['info', 'informational'],
  ['DEBUG', 'debug'],
];

test("priority: every Falco level, any case, maps to vigil's severity (table)", () => {
  for (const [written, sev] of PRIORITIES) {
    const rs = RuleSet.load([dir({ 'r.yaml': `- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: ${written}\n` })]);
    assert.equal(rs.rules()[0]!.severity, sev, written);
  }
});

// [file text, warning or status check]
const FORMAT: Array<[string, string, (rs: RuleSet) => void]> = [
  [
    'engine version newer than vigil implements: a warning, the file loads',
    '- required_engine_version: 9.0.0\n- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: INFO\n',
    (rs) => assert.match(rs.warnings[0]!.message, /asks for Falco engine 9\.0\.0; vigil implements 0\.57\.0/),
  ],
  [
    'old integer engine versions are accepted silently',
    '- required_engine_version: 15\n- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: INFO\n',
    (rs) => assert.deepEqual(rs.warnings, []),
  ],
  [
    "a plugin's rules are skipped with a warning; the plugin is named",
    '- required_plugin_versions:\n    - name: k8saudit\n      version: 0.7.0\n- rule: k\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: WARNING\n  source: k8s_audit\n- rule: s\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: NOTICE\n',
    (rs) => {
      assert.match(rs.warnings[0]!.message, /plugin "k8saudit" is not available/);
      assert.deepEqual(
        rs.statuses().map((s) => [s.rule.name, s.status.state]),
        [
          ['k', 'skipped'],
          ['s', 'loaded'],
        ],
      );
      assert.match(rs.statuses()[0]!.status.reason!, /source "k8s_audit" is a plugin's/);
    },
  ],
  [
    'skip-if-unknown-filter skips a rule with an unknown field instead of failing the file',
    '- rule: r\n  desc: d\n  condition: proc.nosuch = x\n  output: o\n  priority: INFO\n  skip-if-unknown-filter: true\n',
    (rs) => assert.equal(rs.statuses()[0]!.status.state, 'skipped'),
  ],
  [
    'lists of lists, quoted items, macros of macros, override append and replace',
    [
      '- list: a\n  items: [bash, \'"(systemd)"\']\n- list: b\n  items: [a, zsh]\n- macro: m1\n  condition: proc.name in (b)\n- macro: m2\n  condition: m1 and proc.pid > 0',
      '- rule: r\n  desc: d\n  condition: m2\n  output: o\n  priority: NOTICE\n  tags: [t1]',
      '- list: b\n  items: [ksh]\n  override:\n    items: append',
      '- rule: r\n  tags: [t2]\n  priority: ERROR\n  override:\n    tags: append\n    priority: replace',
    ].join('\n') + '\n',
    (rs) => {
      const r = rs.rules()[0]!;
      assert.deepEqual([r.tags, r.severity], [['t1', 't2'], 'error']);
    },
  ],
];

test("a file that redefines another file's list, macro or rule is warned about: items are global by name", () => {
  const rs = RuleSet.load([
    dir({
      '00.yaml': '- list: l\n  items: [a]\n- macro: m\n  condition: proc.name in (l)\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n',
      '10.yaml':
        '- list: l\n  items: [b]\n- macro: m\n  condition: proc.name = b\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n- list: l\n  items: [c]\n  append: true\n',
    }),
  ]);
  assert.deepEqual(
    rs.warnings.map((w) => [w.line, w.message.replace(/ of .*\/00\.yaml:/, ' of 00.yaml:')]),
    [
      [1, 'this list replaces "l" of 00.yaml:1 for every file (append: true or override: extends it instead)'],
      [3, 'this macro replaces "m" of 00.yaml:3 for every file (append: true or override: extends it instead)'],
      [5, 'this rule replaces "r" of 00.yaml:5 for every file (append: true or override: extends it instead)'],
    ],
  );
  // The default pack alone redefines nothing.
  assert.deepEqual(RuleSet.load([join(REPO, 'rules')]).warnings, []);
});

test("Falco's file format: versions, plugins, skip-if-unknown-filter, lists, macros, overrides (table)", () => {
  for (const [what, yaml, check] of FORMAT) {
    const rs = RuleSet.load([dir({ 'r.yaml': yaml })]);
    try {
      check(rs);
    } catch (err) {
      assert.fail(`${what}: ${(err as Error).message}`);
    }
  }
});

// [rule file, line, column, message part]
const ERRORS: Array<[string, number, number, string]> = [
  ['- rule: r\n  desc: d\n  condition: evt.type = chmood\n  output: o\n  priority: INFO\n', 3, 25, 'unknown system call "chmood"'],
  ['- rule: r\n  desc: d\n  condition: evt.type in (open, chmood)\n  output: o\n  priority: INFO\n', 3, 33, 'unknown system call "chmood"'],
  ['- rule: r\n  desc: d\n  condition: fd.nosuch = x\n  output: o\n  priority: INFO\n', 3, 14, 'unknown field "fd.nosuch"'],
  ['- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: LOUD\n', 5, 13, 'priority is one of'],
  ['- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: INFO\n  severity: notice\n', 5, 13, 'same key'],
  ['- rule: r\n  desc: d\n  condition: fd.snet in (10.0.0.0/33)\n  output: o\n  priority: INFO\n', 3, 25, 'CIDR'],
  ['- rule: r\n  desc: d\n  condition: proc.name bcontains zz\n  output: o\n  priority: INFO\n', 3, 34, 'hex'],
];

test('errors of Falco syntax carry file:line:column (table)', () => {
  for (const [yaml, line, column, msg] of ERRORS) {
    const d = dir({ 'bad.yaml': yaml });
    try {
      RuleSet.load([d]);
      assert.fail(`loaded: ${yaml}`);
    } catch (err) {
      assert.ok(err instanceof RuleError, String(err));
      const e = err.errors[0]!;
      assert.deepEqual([e.line, e.column], [line, column], `${yaml} -> ${e.message}`);
      assert.ok(e.message.includes(msg), `${e.message} should contain ${msg}`);
    }
  }
});

// ---- Falco's fields and operators on events ---------------------------------------------------------

const CREDS: Creds = rootCreds('0x210000');

function base(kind: string, extra: Record<string, unknown> = {}): VigilEvent {
  return {
    kind,
    time: '2026-11-28T12:00:00.000Z',
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
    container: { id: 'c1', name: 'web', runtime: 'runc', image: 'docker.io/library/nginx:1.25' },
    proc: {
      exe: '/bin/bash',
      args: ['bash', '-c', 'id'],
      cwd: '/root',
      ancestors: [
        { pid: 1, exe: '/usr/bin/python3', comm: 'python3', args: ['python3', 'app.py'] },
        { pid: 0, exe: '/sbin/init', comm: 'init' },
      ],
    },
    [KTIME]: 0n,
    ...extra,
  } as unknown as VigilEvent;
}
const exec = (): VigilEvent =>
  base('exec', {
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
  });
const memfdExec = (): VigilEvent => ({ ...exec(), exe: '/memfd:x (deleted)', fileless: true }) as unknown as VigilEvent;
const openW = (): VigilEvent =>
  base('file', {
    syscall: 'openat',
    op: 'open',
    retval: 3,
    path: '/var/log/syslog',
    path_resolved: true,
    path_truncated: false,
    open_flags: '0x241',
    open_flag_names: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'],
    mode: '0644',
    write: true,
    create: true,
    ino: 1,
    dev: 1,
    watch_id: 1,
    matched: 'path',
  });
const openFail = (): VigilEvent => ({ ...openW(), retval: -2, open_flag_names: ['O_RDONLY'], write: false, create: false }) as unknown as VigilEvent;
const symlink = (): VigilEvent =>
  base('file', {
    syscall: 'symlinkat',
    op: 'symlink',
    retval: 0,
    path: '/etc/shadow',
    dest: '/tmp/s',
    path_resolved: false,
    path_truncated: false,
    write: true,
    create: true,
    ino: 1,
    dev: 1,
    watch_id: 1,
    matched: 'path',
  });
const connect = (): VigilEvent =>
  base('connect', { syscall: 'connect', retval: 0, family: 'inet', address: '10.1.2.3', port: 443, path_resolved: false, watch_id: 0 });
const ptrace = (): VigilEvent =>
  base('syscall', { syscall: 'ptrace', retval: 0, args: ['0', '0', '0', '0', '0', '0'], ptrace_request: 'PTRACE_ATTACH', target_pid: 7 });
const packetSocket = (): VigilEvent =>
  base('syscall', {
    syscall: 'socket',
    retval: 3,
    args: ['17', '3', '768', '0', '0', '0'],
    socket_domain: 'AF_PACKET',
    socket_type: 'SOCK_RAW',
    socket_protocol: 768,
  });
const dupStdin = (): VigilEvent =>
  base('syscall', { syscall: 'dup2', retval: 0, args: ['3', '0', '0', '0', '0', '0'], fd: 3, new_fd: 0, sock_family: 'inet6' });
const createdExe = (): VigilEvent => ({ ...openW(), path: '/tmp/.x', mode: '0755', matched: 'none', watch_id: 0, created: true }) as unknown as VigilEvent;
const chmodSuid = (): VigilEvent =>
  base('syscall', {
    syscall: 'fchmodat',
    retval: 0,
    args: ['0', '0', '2541', '0', '0', '0'],
    path: '/tmp/sh',
    mode: '04755',
    mode_names: ['S_ISUID', 'S_IRUSR', 'S_IWUSR', 'S_IXUSR', 'S_IRGRP', 'S_IXGRP', 'S_IROTH', 'S_IXOTH'],
  });

// [condition, event, fires]
const FIELDS: Array<[string, () => VigilEvent, boolean]> = [
  ['evt.type in (execve, execveat) and evt.dir = <', exec, true],
  ['evt.type = openat and evt.is_open_write = true and fd.typechar = f and fd.num >= 0', openW, true],
  ['evt.type = openat and evt.is_open_read = true', openW, false],
  ['evt.type = openat and fd.num = -1 and evt.res startswith E and evt.res = ENOENT', openFail, true],
  ['evt.rawres = 3 and evt.res = SUCCESS', openW, true],
  ['evt.arg.flags contains O_TRUNC and fd.directory = /var/log and fd.filename = syslog', openW, true],
  ['evt.is_open_exec = true', openW, false],
  ['fd.name pmatch (/var/log, /srv)', openW, true],
  ['fd.name pmatch (/var/lo)', openW, false],
  ['evt.type = symlinkat and evt.arg.target in (/etc/shadow) and evt.arg.linkpath = /tmp/s', symlink, true],
  ['proc.name = bash and proc.pname = python3 and proc.pcmdline = "python3 app.py"', exec, true],
  ['proc.aname = init and proc.aname[2] = init and not proc.aname = sshd', exec, true],
  ['proc.exepath = /bin/bash and proc.pexepath endswith python3', exec, true],
  ['spawned_process and container.image.repository = docker.io/library/nginx and container.image.tag = "1.25"', exec, true],
  ['thread.cap_effective icontains sys_module and thread.cap_effective contains CAP_SYS_ADMIN', exec, true],
  ['proc.is_exe_from_memfd = true', memfdExec, true],
  ['proc.is_exe_from_memfd = true', exec, false],
  ['evt.type = connect and (fd.typechar = 4 or fd.typechar = 6) and fd.sip = 10.1.2.3 and fd.sport = 443 and fd.sockfamily = ip', connect, true],
  ['fd.snet in ("10.0.0.0/8", "172.16.0.0/12") and fd.net != "127.0.0.0/8"', connect, true],
  ['fd.snet in ("192.168.0.0/16")', connect, false],
  ['fd.sip.name = 10.1.2.3', connect, true],
  ['evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH', ptrace, true],
  ['proc.name intersects (zsh, bash)', exec, true],
  ['proc.argv intersects (-c)', exec, true],
  ['proc.name bcontains 6261 and proc.name bstartswith 62', exec, true],
  ['tolower(proc.name) = bash and toupper(proc.name) = BASH and basename(proc.exe) = bash', exec, true],
  ['len(proc.name) = 4', exec, true],
  ['b64(proc.name) exists', exec, true],
  ['proc.name = val(proc.pname)', exec, false],
  ['proc.pid > val(proc.ppid)', exec, true],
  ['evt.num > 0', exec, true],
  ['spawned_process and k8s.ns.name exists', exec, false],
  ['fd.nameraw contains "../"', openW, false],
  // Falco's packet-socket and stdio-redirect conditions on the probe's socket and dup events.
  ['evt.type = socket and evt.arg.domain contains AF_PACKET', packetSocket, true],
  ['evt.type = socket and evt.arg.domain contains AF_PACKET', dupStdin, false],
  ['evt.type in (dup, dup2, dup3) and evt.rawres in (0, 1, 2) and fd.type in ("ipv4", "ipv6") and fd.num = 0', dupStdin, true],
  ['fd.type in ("ipv4", "ipv6")', packetSocket, false],
  ['evt.is_open_exec = true and file.created = true and file.mode = "0755" and file.name startswith "."', createdExe, true],
  ['file.created = true', openW, false],
  ['evt.arg.mode_names in (S_ISUID, S_ISGID) and evt.arg.path = /tmp/sh', chmodSuid, true],
  ['evt.arg.mode_names in (S_ISGID)', chmodSuid, false],
];

function fire(cond: string, ev: VigilEvent): RuleMatch[] {
  const out: RuleMatch[] = [];
  const rs = RuleSet.load([
    dir({
      'r.yaml': `- macro: spawned_process\n  condition: evt.type in (execve, execveat)\n- rule: r\n  desc: d\n  condition: ${JSON.stringify(cond)}\n  output: "%proc.name %fd.nameraw %proc.aname[2]"\n  priority: WARNING\n`,
    }),
  ]);
  const d = new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS });
  d.evaluate(ev);
  return out;
}

test("Falco's field names, operators and transformers on events (table)", () => {
  for (const [cond, ev, fires] of FIELDS) assert.equal(fire(cond, ev()).length, fires ? 1 : 0, cond);
});

test("output: %field and %field[n]; a field without a value prints <NA>; the match carries each field's value", () => {
  const [m] = fire('proc.name = bash', exec());
  assert.equal(m!.message, 'bash <NA> init');
  assert.deepEqual(m!.outputFields, [
    { name: 'proc.name', value: 'bash' },
    { name: 'fd.nameraw', value: null },
    { name: 'proc.aname[2]', value: 'init' },
  ]);
});

test('a rule whose condition needs a field without data is skipped; one using it in an exclusion loads with a note', () => {
  const rs = RuleSet.load([
    dir({
      'r.yaml':
        '- rule: needs\n  desc: d\n  condition: evt.type = openat and proc.exe_ino.mtime > 0\n  output: o\n  priority: INFO\n' +
        '- rule: excludes\n  desc: d\n  condition: evt.type = openat and fd.name startswith /etc/ and not proc.exe_ino.mtime > 0\n  output: o\n  priority: INFO\n',
    }),
  ]);
  const [needs, excludes] = rs.statuses();
  assert.equal(needs!.status.state, 'skipped');
  assert.match(needs!.status.reason!, /^proc\.exe_ino\.mtime: /);
  assert.equal(excludes!.status.state, 'loaded');
  assert.match(excludes!.status.notes[0]!, /proc\.exe_ino\.mtime has no data/);
  assert.match(formatStatuses(rs), /rules: 2: 1 loaded \(0 of them never fire\), 1 skipped/);
  // A skipped rule is never evaluated.
  const out: RuleMatch[] = [];
  new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS }).evaluate(
    base('file', {
      syscall: 'openat',
      op: 'open',
      retval: 3,
      path: '/etc/x',
      open_flag_names: ['O_RDONLY'],
      write: false,
      create: false,
      path_resolved: true,
      path_truncated: false,
      ino: 1,
      dev: 1,
      watch_id: 1,
      matched: 'path',
    }),
  );
  assert.deepEqual(
    out.map((m) => m.rule.name),
    ['excludes'],
  );
});

test("user.name and group.name come from the process's own /etc/passwd and /etc/group", () => {
  const proc = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  mkdirSync(join(proc, '100', 'root', 'etc'), { recursive: true });
  writeFileSync(join(proc, '100', 'root', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  writeFileSync(join(proc, '100', 'root', 'etc', 'group'), 'root:x:0:\nwww-data:x:33:\n');
  const out: RuleMatch[] = [];
  const rs = RuleSet.load([
    dir({ 'r.yaml': '- rule: r\n  desc: d\n  condition: user.name in (bin, www-data) and group.name = www-data\n  output: "%user.name"\n  priority: INFO\n' }),
  ]);
  const d = new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS, procRoot: proc });
  d.evaluate({ ...exec(), uid: 33, gid: 33, container: { id: 'c-passwd', name: 'w', runtime: 'runc', image: 'i' } } as unknown as VigilEvent);
  assert.deepEqual(
    out.map((m) => m.message),
    ['www-data'],
  );
});

/** The Falco fields issue 14 lists: each must resolve (to data, the nearest data, or a recognised no-data field). */
const ISSUE_FIELDS = [
  'evt.type',
  'evt.dir',
  'evt.arg.flags',
  'evt.rawarg.flags',
  'evt.res',
  'evt.rawres',
  'evt.is_open_read',
  'evt.is_open_write',
  'evt.is_open_exec',
  'proc.name',
  'proc.pname',
  'proc.aname[2]',
  'proc.exepath',
  'proc.pexepath',
  'proc.cmdline',
  'proc.pcmdline',
  'proc.args',
  'proc.tty',
  'proc.sid',
  'proc.vpgid',
  'proc.env',
  'proc.is_exe_upper_layer',
  'proc.is_exe_from_memfd',
  'fd.name',
  'fd.directory',
  'fd.filename',
  'fd.typechar',
  'fd.num',
  'fd.type',
  'fd.sip',
  'fd.dip',
  'fd.sport',
  'fd.dport',
  'fd.l4proto',
  'fd.sockfamily',
  'user.name',
  'user.uid',
  'user.loginuid',
  'group.name',
  'container.id',
  'container.name',
  'container.image.repository',
  'container.image.tag',
  'container.privileged',
  'k8s.ns.name',
  'k8s.pod.name',
];

test('every Falco field the issue lists resolves', () => {
  for (const f of ISSUE_FIELDS) assert.notEqual(typeof resolveField(f), 'string', `${f}: ${String(resolveField(f))}`);
});

test('Falco exceptions: values appended later to an exception of the same name (append: true) use its fields', () => {
  const rs = RuleSet.load([
    dir({
      '00.yaml':
        '- rule: r\n  desc: d\n  condition: evt.type = openat and fd.name startswith /var\n  output: o\n  priority: WARNING\n  exceptions:\n    - name: known\n      fields: [proc.name, fd.name]\n      values: [[zsh, /var/a]]\n',
      '10.yaml': '- rule: r\n  exceptions:\n    - name: known\n      values: [[bash, /var/log/syslog]]\n  append: true\n',
    }),
  ]);
  const out: RuleMatch[] = [];
  const d = new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS });
  d.evaluate(openW());
  d.evaluate({ ...openW(), path: '/var/b' } as unknown as VigilEvent);
  assert.deepEqual(
    out.map((m) => (m.events[0] as { path: string }).path),
    ['/var/b'],
  );
});

test('Falco exceptions: fields, comps (pmatch with a list name too), values', () => {
  const rs = RuleSet.load([
    dir({
      'r.yaml':
        '- list: ok_dirs\n  items: [/var/log]\n' +
        '- rule: r\n  desc: d\n  condition: evt.type = openat and fd.directory startswith /var\n  output: o\n  priority: WARNING\n' +
        '  exceptions:\n    - name: dirs\n      fields: [fd.name, proc.name]\n      comps: [pmatch, in]\n      values:\n        - [ok_dirs, [bash, sh]]\n',
    }),
  ]);
  const out: RuleMatch[] = [];
  const d = new Detector({ rules: rs, onMatch: (m) => out.push(m), hostNs: NS });
  d.evaluate(openW());
  d.evaluate({ ...openW(), path: '/var/lib/x' } as unknown as VigilEvent);
  assert.deepEqual(
    out.map((m) => (m.events[0] as { path: string }).path),
    ['/var/lib/x'],
  );
});

test('absent fields: in a Falco rule (priority:) every comparison is false, != included; a vigil rule (severity:) keeps != true', () => {
  const yaml = (key: string): string => `- rule: r\n  desc: d\n  condition: evt.type = execve and proc.pcmdline != "x y"\n  output: o\n  ${key}: WARNING\n`;
  // The exec event's parent has no argv here: proc.pcmdline is absent.
  const ev = { ...exec(), proc: { exe: '/bin/bash', args: ['bash'], ancestors: [{ pid: 1, exe: '/sbin/init', comm: 'init' }] } } as unknown as VigilEvent;
  const fired = (y: string): number => {
    const out: RuleMatch[] = [];
    new Detector({ rules: RuleSet.load([dir({ 'r.yaml': y })]), onMatch: (m) => out.push(m), hostNs: NS }).evaluate(ev);
    return out.length;
  };
  assert.equal(fired(yaml('priority')), 0);
  assert.equal(fired(yaml('severity')), 1);
});

test('fd.sip.name: static host entries given to the detector answer for a name DNS does not know', () => {
  const y = '- rule: api\n  desc: d\n  condition: evt.type = connect and fd.sip.name = "kubernetes.vigil-test.invalid"\n  output: o\n  priority: NOTICE\n';
  const fired = (hosts?: ReadonlyMap<string, readonly string[]>): number => {
    const out: RuleMatch[] = [];
    new Detector({ rules: RuleSet.load([dir({ 'r.yaml': y })]), onMatch: (m) => out.push(m), hostNs: NS, ...(hosts ? { hosts } : {}) }).evaluate(connect());
    return out.length;
  };
  assert.equal(fired(), 0);
  assert.equal(fired(new Map([['kubernetes.vigil-test.invalid', ['10.1.2.3']]])), 1);
  assert.equal(fired(new Map([['kubernetes.vigil-test.invalid', ['10.9.9.9']]])), 0);
  assert.equal(fired(new Map([['other.invalid', ['10.1.2.3']]])), 0);
});

test('status: creations the probe sends and the metadata address it always sends count as able to fire', () => {
  const rule = (name: string, cond: string): string => `- rule: ${name}\n  desc: d\n  condition: ${JSON.stringify(cond)}\n  output: o\n  priority: INFO\n`;
  const rs = RuleSet.load([
    dir({
      'r.yaml':
        rule('created', 'evt.kind = file and file.created = true and file.name startswith "."') +
        rule('unwatched', 'evt.kind = file and file.name startswith "."') +
        rule('no path', 'evt.kind = file and proc.name = x') +
        rule('metadata', 'evt.kind = connect and net.address = 169.254.169.254') +
        rule('inet', 'evt.kind = connect and net.address = 10.0.0.1'),
    }),
  ]);
  const st = new Map(rs.statuses().map(({ rule: r, status }) => [r.name, status]));
  assert.equal(st.get('created')!.state, 'loaded');
  // a path test the watch table cannot do turns on the all-opens class instead of never firing
  assert.equal(st.get('unwatched')!.state, 'loaded');
  assert.equal(st.get('unwatched')!.opens, 'all opens');
  assert.equal(st.get('no path')!.state, 'never');
  assert.deepEqual(st.get('metadata')!.notes, []);
  assert.match(st.get('inet')!.notes.join(' '), /connect_inet/);
});
