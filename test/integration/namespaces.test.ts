// Namespace and credential changes: unshare, setns (nsenter back into the host's mount namespace),
// a tmpfs mount inside a private mount namespace, and a privilege drop through setpriv.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { act, BPF, commonFieldProblems, nsInode, runOk, tempDir, Tracer, type TraceEvent } from './harness.js';

const FULL_CAPS_MASK = /^0x[0-9a-f]*[1-9a-f][0-9a-f]*$/; // a nonzero hex capability set

function nsOf(e: TraceEvent, field: 'old_ns' | 'new_ns'): Record<string, number> {
  const v = e[field];
  assert.ok(v && typeof v === 'object', `${field} is an object: ${JSON.stringify(e)}`);
  return v as Record<string, number>;
}

describe('namespace and credential events', () => {
  let tracer: Tracer;
  const dir = tempDir();
  before(async () => {
    if (BPF.skip) return;
    tracer = await Tracer.start(['-o', 'json']);
  });
  after(async () => {
    await tracer?.stop();
    dir.remove();
  });

  test('unshare -m -u: ns_change with mnt and uts changed, old != new', BPF, async () => {
    const r = await runOk('unshare', ['-m', '-u', 'true']);
    const e = await tracer.waitForPid(r.pid, 'ns_change', (ev) => ev.syscall === 'unshare');
    assert.deepEqual(commonFieldProblems(e, { pid: r.pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.retval, 0);
    const changed = e.changed as string[];
    assert.ok(changed.includes('mnt') && changed.includes('uts'), `changed ${JSON.stringify(changed)}`);
    assert.ok(!changed.includes('net') && !changed.includes('user'), `changed ${JSON.stringify(changed)}`);
    assert.ok((e.flag_names as string[]).includes('CLONE_NEWNS'), `flag_names ${JSON.stringify(e.flag_names)}`);
    assert.ok((e.flag_names as string[]).includes('CLONE_NEWUTS'), `flag_names ${JSON.stringify(e.flag_names)}`);
    const oldNs = nsOf(e, 'old_ns');
    const newNs = nsOf(e, 'new_ns');
    assert.equal(oldNs.mnt, nsInode('self', 'mnt'), "old mnt is the spawner's");
    assert.equal(oldNs.uts, nsInode('self', 'uts'));
    assert.notEqual(newNs.mnt, oldNs.mnt);
    assert.notEqual(newNs.uts, oldNs.uts);
    assert.equal(newNs.net, oldNs.net);
  });

  test('nsenter from inside unshare -m: setns back into the host mount namespace', BPF, async () => {
    // /proc/1 may be unreadable (a sandboxed init); the test runner lives in the host's mount
    // namespace, so its own ns/mnt is the host's.
    const hostMnt = nsInode(process.pid, 'mnt');
    const r = await runOk('unshare', ['-m', 'nsenter', `--mount=/proc/${process.pid}/ns/mnt`, 'true']);
    const u = await tracer.waitForPid(r.pid, 'ns_change', (ev) => ev.syscall === 'unshare');
    assert.notEqual(nsOf(u, 'new_ns').mnt, hostMnt);
    const e = await tracer.waitForPid(r.pid, 'ns_change', (ev) => ev.syscall === 'setns');
    assert.equal(e.retval, 0);
    assert.deepEqual(e.changed, ['mnt']);
    assert.equal(nsOf(e, 'new_ns').mnt, hostMnt, "new mnt inode is the host's");
    assert.equal(nsOf(e, 'old_ns').mnt, nsOf(u, 'new_ns').mnt, 'old mnt inode is the one unshare made');
  });

  test('mount of a tmpfs in a private mount namespace: syscall mount with source, target, fstype', BPF, async () => {
    const target = join(dir.path, 'mnt');
    mkdirSync(target);
    const r = await act(['mount-tmpfs', target]);
    assert.equal(r.out.ret, 0);
    const pid = Number(r.out.pid);
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'mount' && ev.fstype === 'tmpfs');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.retval, 0);
    assert.equal(e.source, 'vgl-tmpfs');
    assert.equal(e.target, target);
    assert.match(String(e.mount_flags), /^0x[0-9a-f]+$/);
    assert.ok((e.mount_flag_names as string[]).includes('MS_NOSUID'), `mount_flag_names ${JSON.stringify(e.mount_flag_names)}`);
    assert.equal((e.args as unknown[]).length, 6);
    // The mount happened in the namespace the helper unshared, not the host's.
    assert.notEqual((e.ns as Record<string, number>).mnt, nsInode('self', 'mnt'));
  });

  test('setpriv drops to 65534 and all capabilities: cred_change with old and new creds', BPF, async () => {
    const r = await runOk('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', 'true']);
    const e = await tracer.waitForPid(
      r.pid,
      'cred_change',
      (ev) => {
        const o = ev.old_creds as Record<string, unknown> | undefined;
        const n = ev.new_creds as Record<string, unknown> | undefined;
        return o?.euid === 0 && n?.euid === 65534;
      },
      'euid 0 -> 65534',
    );
    assert.equal(e.retval, 0);
    assert.equal(typeof e.syscall, 'string');
    const o = e.old_creds as Record<string, unknown>;
    const n = e.new_creds as Record<string, unknown>;
    assert.equal(o.uid, 0);
    assert.equal(n.uid, 65534);
    assert.equal(n.suid, 65534);
    assert.equal(n.fsuid, 65534);
    assert.match(String(o.cap_effective), FULL_CAPS_MASK, 'root had capabilities before');
    assert.match(String(o.cap_permitted), FULL_CAPS_MASK);
    assert.equal(BigInt(String(n.cap_effective)), 0n, 'no effective capabilities after');
    // setpriv sets PR_SET_KEEPCAPS around the uid change, so permitted survives it; the exec of
    // `true` as uid 65534 then clears it. The exec event carries the creds after the exec.
    const x = await tracer.waitForPid(r.pid, 'exec', (ev) => Array.isArray(ev.args) && ev.args[0] === 'true');
    const xc = x.creds as Record<string, unknown>;
    assert.equal(xc.euid, 65534);
    assert.equal(xc.egid, 65534);
    assert.equal(BigInt(String(xc.cap_effective)), 0n, "no effective capabilities in the exec'd program");
    assert.equal(BigInt(String(xc.cap_permitted)), 0n, "no permitted capabilities in the exec'd program");
    assert.equal(BigInt(String(xc.cap_inheritable)), 0n, 'no inheritable capabilities');
    // The gid was dropped by an earlier call of the same process.
    await tracer.waitForPid(r.pid, 'cred_change', (ev) => (ev.new_creds as Record<string, unknown>)?.egid === 65534, 'egid -> 65534');
  });
});
