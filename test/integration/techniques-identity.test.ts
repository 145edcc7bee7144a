// A file's name is not its identity (issue 13 items 3 and 4): each technique reaches a watched file
// by another path, or the host's files from a container, for real in runc containers, and the
// default pack must still fire on it. The pipeline is the daemon's (live sensor with the watches the
// rules derive, enrichers, detector), as in techniques.test.ts.
//
//   core_pattern and a cgroup's release_agent bind-mounted onto other names, and proc mounted at
//   another place, then opened for writing there (privileged container);
//   the host's /etc mounted at /host-etc, then shadow read there;
//   the host's / mounted at /host, chroot into it, a host program run there;
//   the shocker read: open_by_handle_at of the host's shadow through a host mount.
// Each positive has a negative beside it in the same container (the container's own files, a chroot
// into its own directory), checked once the positive's match shows the events before it were seen.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RuleMatch } from '../../daemon/detect/rule-match.js';
import { execAsync, runcMissing, startContainer, type Container } from '../runc.js';
import { BPF, assertPrerequisites } from './harness.js';
import { DetectHarness, HELPER_MOUNT, buildHelpers, helperMount, plant, type Helpers } from './detect-harness.js';

const TECH = `${HELPER_MOUNT}/vigil-tech`;
// A bound on waiting for a match that must come (it only ends a failing test).
const WAIT_MS = 5000;

describe('file identity and host access: other paths to watched files still fire (real runc containers, default pack)', () => {
  let h: DetectHarness;
  let helpers: Helpers;
  /** Privileged, with the host's / at /host (read-only, not recursive). */
  let priv: Container;
  /** Unprivileged, with the host's /etc at /host-etc (read-only). */
  let hostEtc: Container;
  /** Privileged in the host's pid namespace, with the host's / at /host: its pid 1 is the host's. */
  let hostPid: Container;

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`identity technique tests need runc: ${missing}`);
    helpers = buildHelpers();
    h = await DetectHarness.start();
    priv = startContainer({
      args: ['sleep', '600'],
      privileged: true,
      mounts: [helperMount(helpers), { destination: '/host', source: '/', options: ['bind', 'ro'] }],
    });
    hostEtc = startContainer({ args: ['sleep', '600'], mounts: [{ destination: '/host-etc', source: '/etc', options: ['rbind', 'ro'] }] });
    hostPid = startContainer({
      args: ['sleep', '600'],
      privileged: true,
      hostPid: true,
      mounts: [{ destination: '/host', source: '/', options: ['bind', 'ro'] }],
    });
    plant(join(hostEtc.bundle, 'rootfs'), 'etc/hostname', 'vgt-identity\n', 0o644);
  });

  after(async () => {
    priv?.delete();
    hostEtc?.delete();
    hostPid?.delete();
    await h?.stop();
    helpers?.remove();
  });

  const inBox =
    (c: () => Container, also: (m: RuleMatch) => boolean = () => true) =>
    (m: RuleMatch): boolean =>
      m.container.id === c().id && also(m);

  test('core_pattern bind-mounted onto another name and opened for writing there', async () => {
    // Opened for appending, nothing written: the host's core_pattern keeps its value.
    const r = await execAsync(priv, [
      'sh',
      '-c',
      'touch /tmp/vgt-hook && mount --bind /proc/sys/kernel/core_pattern /tmp/vgt-hook && : >> /tmp/vgt-hook; s=$?; umount /tmp/vgt-hook; exit $s',
    ]);
    assert.equal(r.code, 0, r.out);
    const seen = await h.waitMatch(
      'Write to kernel usermode helper from container',
      inBox(
        () => priv,
        (m) => m.message.includes('/tmp/vgt-hook'),
      ),
      WAIT_MS,
    );
    assert.match(seen.match.message, /\/tmp\/vgt-hook \(proc:\/sys\/kernel\/core_pattern\)/);
  });

  test('proc mounted at another place: a /proc/sys tunable opened for writing there', async () => {
    // This kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off), so the proc identity is shown
    // on a tunable: opened for appending, nothing written.
    const r = await execAsync(priv, [
      'sh',
      '-c',
      'mkdir -p /tmp/vgt-proc && mount -t proc proc /tmp/vgt-proc && : >> /tmp/vgt-proc/sys/kernel/hostname; s=$?; umount /tmp/vgt-proc; exit $s',
    ]);
    assert.equal(r.code, 0, r.out);
    await h.waitMatch(
      'Write to /proc/sys from container',
      inBox(
        () => priv,
        (m) => m.message.startsWith('/tmp/vgt-proc/sys/kernel/hostname opened'),
      ),
      WAIT_MS,
    );
  });

  test('a cgroup v1 release_agent bind-mounted onto another name and written there', async () => {
    const r = await execAsync(priv, [
      'sh',
      '-c',
      [
        'mkdir -p /tmp/vgt-cg && mount -t cgroup -o none,name=vgtident cgroup /tmp/vgt-cg',
        'touch /tmp/vgt-ra && mount --bind /tmp/vgt-cg/release_agent /tmp/vgt-ra',
        'echo /nonexistent-vigil-agent > /tmp/vgt-ra; s=$?; umount /tmp/vgt-ra; umount /tmp/vgt-cg; exit $s',
      ].join(' && '),
    ]);
    assert.equal(r.code, 0, r.out);
    await h.waitMatch(
      'Write to cgroup release_agent',
      inBox(
        () => priv,
        (m) => m.message.includes('file=/tmp/vgt-ra'),
      ),
      WAIT_MS,
    );
  });

  test("the host's /etc mounted at another path: reading shadow there fires, the container's own files do not", async () => {
    // The container's own /etc is the busybox root's; only the host's shadow is read.
    await execAsync(hostEtc, ['cat', '/etc/hostname']);
    const r = await execAsync(hostEtc, ['sh', '-c', 'cat /host-etc/shadow > /dev/null']);
    assert.equal(r.code, 0, r.out);
    const seen = await h.waitMatch(
      'Read of shadow file in container',
      inBox(() => hostEtc),
      WAIT_MS,
    );
    assert.match(seen.match.message, /^\/host-etc\/shadow opened in a container \(fs=\S+:\/etc\/shadow host_mount=true /);
    // Every program it ran is the container's own (busybox from its root): none is a host program.
    assert.deepEqual(
      h.matches.filter((s) => s.match.container.id === hostEtc.id && s.match.rule.name === 'Host program executed in container').map((s) => s.match.message),
      [],
    );
  });

  test("chroot into the host's / and a host program run there; a chroot into the container's own directory does not fire", async () => {
    const own = await execAsync(priv, [
      'sh',
      '-c',
      'mkdir -p /tmp/vgt-jail/bin && cp /bin/busybox /tmp/vgt-jail/bin/ && chroot /tmp/vgt-jail /bin/busybox true',
    ]);
    assert.equal(own.code, 0, own.out);
    const r = await execAsync(priv, ['chroot', '/host', '/bin/true']);
    assert.equal(r.code, 0, r.out);
    const ch = await h.waitMatch(
      'Chroot or pivot_root into a host filesystem from container',
      inBox(() => priv),
      WAIT_MS,
    );
    assert.match(ch.match.message, /path=\/host /);
    const ex = await h.waitMatch(
      'Host program executed in container',
      inBox(
        () => priv,
        (m) => /host program \/host\/\S*true /.test(m.message),
      ),
      WAIT_MS,
    );
    assert.ok(ex.match.message.includes('/host/'), ex.match.message);
    // The chroot into /tmp/vgt-jail (the container's own root filesystem) came first and raised no
    // host-access alert (the busybox copied there and run is drift, which its own rule may report).
    const HOST_RULES = new Set(['Chroot or pivot_root into a host filesystem from container', 'Host program executed in container']);
    const jail = h.matches.filter((s) => s.match.container.id === priv.id && HOST_RULES.has(s.match.rule.name) && s.match.message.includes('vgt-jail'));
    assert.deepEqual(
      jail.map((s) => `${s.match.rule.name}: ${s.match.message}`),
      [],
    );
  });

  test("in a container sharing the host's pid namespace, its own programs are its own and a chroot into the host's / still counts", async () => {
    // The container's root is its mount namespace's, not that of pid 1 (the host's init here).
    const own = await execAsync(hostPid, ['sh', '-c', 'true; ls / > /dev/null']);
    assert.equal(own.code, 0, own.out);
    const r = await execAsync(hostPid, ['chroot', '/host', '/bin/true']);
    assert.equal(r.code, 0, r.out);
    await h.waitMatch(
      'Chroot or pivot_root into a host filesystem from container',
      inBox(() => hostPid),
      WAIT_MS,
    );
    await h.waitMatch(
      'Host program executed in container',
      inBox(
        () => hostPid,
        (m) => /host program \/host\/\S*true /.test(m.message),
      ),
      WAIT_MS,
    );
    const wrong = h.matches.filter(
      (s) => s.match.container.id === hostPid.id && s.match.rule.name === 'Host program executed in container' && !s.match.message.includes('/host/'),
    );
    assert.deepEqual(
      wrong.map((s) => s.match.message),
      [],
    );
  });

  test("the shocker read: open_by_handle_at of the host's shadow through a host mount", async () => {
    const r = await execAsync(priv, [TECH, 'handle-open', '/host/etc/hostname', '/host/etc/shadow']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /"read":\d+/);
    const call = await h.waitMatch(
      'Open by file handle from container',
      inBox(() => priv),
      WAIT_MS,
    );
    assert.match(call.match.message, /mount=\/host\/etc\/hostname /);
    // The file the handle opened is matched by its identity, whatever path names it.
    const read = await h.waitMatch(
      'Read of shadow file in container',
      inBox(
        () => priv,
        (m) => m.message.includes('host_mount=true'),
      ),
      WAIT_MS,
    );
    assert.match(read.match.message, /fs=\S+:\/etc\/shadow /);
  });
});
