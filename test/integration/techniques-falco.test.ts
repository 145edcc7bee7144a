// Falco's stable rules, unmodified, against the behaviours they are written for (as Falco's
// event-generator performs them), done for real in runc containers: the alert carries the rule's
// name and Falco's priority. A benign run in its own container raises none of the file's rules.
// The pipeline is the daemon's (live sensor, enrichers, detector) with only Falco's file loaded.
// This covers the rules whose behaviour busybox and vigil's helpers can perform; docs/falco.md
// lists every rule with its status.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Severity } from '../../daemon/core/severity.js';
import { execAsync, runcMissing, startContainer, type Container } from '../runc.js';
import { BPF, ROOT, assertPrerequisites } from './harness.js';
import { DetectHarness, HELPER_MOUNT, buildHelpers, helperMount, plant, type Helpers } from './detect-harness.js';

const FALCO_RULES = join(ROOT, '..', 'shared', 'falco', 'falco_rules.yaml');
const ACT = `${HELPER_MOUNT}/vigil-act`;
const TECH = `${HELPER_MOUNT}/vigil-tech`;
// Falco's rule names the API server; during the test the detector resolves it here (a service address
// as clusters give the API server, unrouted in the containers).
const K8S_API_NAME = 'kubernetes.default.svc.cluster.local';
const K8S_API = '10.96.0.1';
// A public documentation address (TEST-NET-2): not loopback nor private, as Falco's outbound asks.
const SSH_PEER = '198.51.100.7';
// A bound on waiting for a match that must come (not a latency assertion: it only ends a failing test).
const WAIT_MS = 5000;

interface Behaviour {
  rule: string;
  /** Falco's priority in the file, as vigil's severity. */
  severity: Severity;
  box: 'plain' | 'priv';
  args: string[];
}

const BEHAVIOURS: Behaviour[] = [
  // A web server (a program named nginx) starting a shell: the remote-code-execution pattern.
  { rule: 'Run shell untrusted', severity: 'notice', box: 'plain', args: ['sh', '-c', `ln -sf ${ACT} /tmp/nginx && /tmp/nginx tty-exec /bin/sh -c 'sleep 1'`] },
  // A system user (daemon, uid 1) running a command below sshd (privileged: setgroups needs it here).
  {
    rule: 'System user interactive',
    severity: 'informational',
    box: 'priv',
    args: ['sh', '-c', `ln -sf ${ACT} /tmp/sshd && /tmp/sshd tty-exec ${TECH} as-user 1 /bin/sleep 1`],
  },
  { rule: 'Search Private Keys or Passwords', severity: 'warning', box: 'plain', args: ['grep', '-r', 'BEGIN RSA PRIVATE', '/etc'] },
  { rule: 'Find AWS Credentials', severity: 'warning', box: 'plain', args: ['find', '/root/.aws/credentials'] },
  // Run directly: busybox sh runs an applet it is asked for as /proc/self/exe (comm "exe"), not "nc".
  { rule: 'Netcat Remote Code Execution in Container', severity: 'warning', box: 'plain', args: ['nc', '-e', '/bin/sh', '127.0.0.1', '9'] },
  { rule: 'Read sensitive file untrusted', severity: 'warning', box: 'plain', args: ['cat', '/etc/shadow'] },
  { rule: 'Create Symlink Over Sensitive Files', severity: 'warning', box: 'plain', args: ['ln', '-s', '/etc/shadow', '/tmp/vgt-shadow-link'] },
  { rule: 'Create Hardlink Over Sensitive Files', severity: 'warning', box: 'plain', args: ['ln', '/etc/shadow', '/vgt-shadow-hard'] },
  { rule: 'Clear Log Activities', severity: 'warning', box: 'plain', args: ['sh', '-c', ': > /var/log/syslog'] },
  {
    rule: 'Remove Bulk Data from Disk',
    severity: 'warning',
    box: 'plain',
    args: ['sh', '-c', 'ln -sf /bin/busybox /tmp/shred && /tmp/shred -u /tmp/nothing ; true'],
  },
  { rule: 'PTRACE attached to process', severity: 'warning', box: 'plain', args: [ACT, 'ptrace-attach'] },
  { rule: 'PTRACE anti-debug attempt', severity: 'notice', box: 'plain', args: [ACT, 'ptrace-traceme'] },
  // A shell on a pseudo-terminal, as `kubectl exec -it` starts one; it lives a moment (proc.tty is read
  // from /proc). Its parent must be an entry point the rule knows: runc's re-exec of itself is named
  // "exe", so the helper runs under that name.
  {
    rule: 'Terminal shell in container',
    severity: 'notice',
    box: 'plain',
    args: ['sh', '-c', `ln -sf ${ACT} /tmp/exe && /tmp/exe tty-exec /bin/sh -c 'sleep 1'`],
  },
  // Any program named debugfs (busybox under that name here): the rule goes by the name.
  {
    rule: 'Debugfs Launched in Privileged Container',
    severity: 'warning',
    box: 'priv',
    args: ['sh', '-c', 'ln -sf /bin/busybox /tmp/debugfs && /tmp/debugfs ; true'],
  },
  { rule: 'Fileless execution via memfd_create', severity: 'critical', box: 'plain', args: ['sh', '-c', `${ACT} memfd-exec; true`] },
  { rule: 'Drop and execute new binary in container', severity: 'critical', box: 'plain', args: ['sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 1'] },
  {
    rule: 'Execution from /dev/shm',
    severity: 'warning',
    box: 'priv',
    args: ['sh', '-c', 'mount -o remount,exec /dev/shm && cp /bin/busybox /dev/shm/vgt && /dev/shm/vgt true'],
  },
  { rule: 'Linux Kernel Module Injection Detected', severity: 'warning', box: 'priv', args: [ACT, 'init-module'] },
  // fd.name endswith release_agent: a suffix watch. A fresh named cgroup v1 hierarchy (privileged);
  // the agent written there does not exist, and the hierarchy is unmounted again.
  {
    rule: 'Detect release_agent File Container Escapes',
    severity: 'critical',
    box: 'priv',
    args: [
      'sh',
      '-c',
      'mkdir -p /tmp/vgt-cgf && mount -t cgroup -o none,name=vgtfalco cgroup /tmp/vgt-cgf && echo /nonexistent-vigil-agent > /tmp/vgt-cgf/release_agent; umount /tmp/vgt-cgf',
    ],
  },
  // fd.nameraw with "../" twice, reaching /etc: the traversal open class. The shell execs cat, so
  // cat's parent is not a shell (the rule excepts those).
  {
    rule: 'Directory traversal monitored file read',
    severity: 'warning',
    box: 'plain',
    args: ['sh', '-c', 'mkdir -p /etc/vgt/deep && cd /etc/vgt/deep && exec cat ../../passwd'],
  },
  // arping opens an AF_PACKET socket first thing.
  { rule: 'Packet socket created in container', severity: 'notice', box: 'plain', args: ['sh', '-c', 'arping -c 1 -w 1 -I lo 127.0.0.1; true'] },
  // A listener inside the container, and nc -e connecting to it (retried until the listener is up):
  // the connected socket becomes the child's stdin and stdout through dup2.
  {
    rule: 'Redirect STDOUT/STDIN to Network Connection in Container',
    severity: 'notice',
    box: 'plain',
    args: [
      'sh',
      '-c',
      'nc -l -p 7777 </dev/null >/dev/null & for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 7777 -e /bin/true && break; sleep 0.2; done; kill %1 2>/dev/null; true',
    ],
  },
  // A web server (a program named nginx) reading /etc/shadow once it has run past Falco's 5 s of
  // startup, and lingering so its age is read when the open is evaluated.
  {
    rule: 'Read sensitive file trusted after startup',
    severity: 'warning',
    box: 'plain',
    args: ['sh', '-c', `ln -sf ${ACT} /tmp/nginx && /tmp/nginx read-after 6 /etc/shadow`],
  },
  // The API server's name stands for K8S_API (the detector's host entries, set below); the container
  // has no route there, and the refused connect is still a connect (the rule asks no result of it).
  { rule: 'Contact K8S API Server From Container', severity: 'notice', box: 'plain', args: ['sh', '-c', `nc -w 1 ${K8S_API} 443; true`] },
  // An ssh client (the helper copied to a file named ssh: the rule reads proc.exe) connecting out to
  // 4444. Outbound means a public address and a connect that succeeds or is in progress, so the
  // address is put on the container's own loopback device, with a listener there; the client holds
  // the connection so fd.l4proto finds it in /proc/<pid>/net/tcp.
  {
    rule: 'Disallowed SSH Connection Non Standard Port',
    severity: 'notice',
    box: 'priv',
    args: [
      'sh',
      '-c',
      `ip addr add ${SSH_PEER}/32 dev lo && cp ${ACT} /tmp/ssh && (nc -l -p 4444 </dev/null >/dev/null &) && for i in 1 2 3 4 5 6 7 8 9 10; do /tmp/ssh connect-tcp ${SSH_PEER} 4444 2 | grep -q '"ret":0' && break; sleep 0.2; done; ip addr del ${SSH_PEER}/32 dev lo; true`,
    ],
  },
];

describe("Falco's stable rules fire on their behaviours (real runc containers, Falco's file only)", () => {
  let h: DetectHarness;
  let helpers: Helpers;
  const boxes: Partial<Record<Behaviour['box'] | 'quiet', Container>> = {};

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assert.ok(existsSync(FALCO_RULES), `Falco's stable rules are missing: ${FALCO_RULES} (tests read them from ../shared/falco/ beside the repository)`);
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`Falco technique tests need runc: ${missing}`);
    helpers = buildHelpers();
    h = await DetectHarness.start({ rulesDirs: [FALCO_RULES], connectInet: true, hosts: new Map([[K8S_API_NAME, [K8S_API]]]) });
    const start = (privileged: boolean): Container => startContainer({ args: ['sleep', '600'], privileged, mounts: [helperMount(helpers)] });
    boxes.plain = start(false);
    boxes.priv = start(true);
    boxes.quiet = start(false);
    for (const c of [boxes.plain, boxes.priv, boxes.quiet]) {
      const rootfs = join(c.bundle, 'rootfs');
      plant(rootfs, 'etc/shadow', 'root:$6$vigil$notarealhash:19000:0:99999:7:::\n');
      plant(rootfs, 'var/log/syslog', 'an old line\n', 0o644);
      plant(rootfs, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n', 0o644);
    }
  });

  after(async () => {
    for (const c of Object.values(boxes)) c?.delete();
    await h?.stop();
    helpers?.remove();
  });

  for (const b of BEHAVIOURS) {
    test(`${b.rule}: ${b.args.join(' ')}`, async () => {
      const c = boxes[b.box]!;
      await execAsync(c, b.args);
      const seen = await h.waitMatch(b.rule, (m) => m.container.id === c.id, WAIT_MS);
      assert.equal(seen.match.rule.severity, b.severity);
      assert.ok(seen.match.outputFields && seen.match.outputFields.length > 0, 'the alert carries its output fields');
    });
  }

  test("a benign run raises none of the file's rules", async () => {
    const q = boxes.quiet!;
    for (const args of [
      ['ls', '/'],
      ['cat', '/etc/hostname'],
      ['sh', '-c', 'echo hi > /tmp/x && cat /tmp/x && rm /tmp/x'],
      ['id'],
      ['ps'],
      ['date'],
      ['sh', '-c', 'tail -n 1 /var/log/syslog'],
    ]) {
      await execAsync(q, args);
    }
    // A behaviour after the benign ones, in the same container: once its match is here, the benign
    // commands' events (earlier in the same ring buffer) have been evaluated.
    await execAsync(q, ['find', '/root/.aws/credentials']);
    await h.waitMatch('Find AWS Credentials', (m) => m.container.id === q.id, WAIT_MS);
    const others = h.matches.filter((s) => s.match.container.id === q.id && s.match.rule.name !== 'Find AWS Credentials');
    assert.deepEqual(
      others.map((s) => `${s.match.rule.name}: ${s.match.message}`),
      [],
    );
  });
});
