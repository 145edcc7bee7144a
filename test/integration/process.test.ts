// Process life cycle as `vigild trace -o json` reports it: exec (with args, creds, namespaces), fork,
// exit codes, and a fileless exec from a memfd.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ACT, act, BPF, commonFieldProblems, nsObject, run, Tracer } from './harness.js';

describe('process events', () => {
  let tracer: Tracer;
  before(async () => {
    if (BPF.skip) return;
    tracer = await Tracer.start(['-o', 'json']);
  });
  after(async () => {
    await tracer?.stop();
  });

  test('exec of /bin/echo reports the resolved exe, argv, uid, namespaces and the spawner as ppid', BPF, async () => {
    const marker = `vigil-exec-${process.pid}-${Date.now()}`;
    const r = await run('/bin/echo', ['hello', marker]);
    assert.equal(r.code, 0);
    const e = await tracer.waitForPid(r.pid, 'exec', (ev) => Array.isArray(ev.args) && ev.args.includes(marker));
    assert.deepEqual(commonFieldProblems(e, { pid: r.pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.exe, realpathSync('/bin/echo'), 'exe is the kernel-resolved path');
    assert.deepEqual(e.args, ['/bin/echo', 'hello', marker]);
    assert.equal(e.argc, 3);
    assert.equal(e.args_truncated, false);
    assert.equal(e.retval, 0);
    assert.equal(e.fileless, false);
    assert.equal(e.setuid, false);
    assert.equal(e.comm, 'echo');
    // The child runs in the spawner's namespaces.
    assert.deepEqual(e.ns, nsObject('self'));
    const creds = e.creds as Record<string, unknown>;
    assert.equal(creds.uid, 0);
    assert.equal(creds.euid, 0);
    assert.match(String(creds.cap_effective), /^0x[0-9a-f]+$/);
  });

  test('fork reports the child, and the child exit carries code 3', BPF, async () => {
    const r = await act(['fork-exit', '3']);
    const parent = Number(r.out.pid);
    const child = Number(r.out.child);
    assert.equal(r.out.status, 3);
    const f = await tracer.waitForPid(parent, 'fork', (ev) => ev.child_pid === child);
    assert.deepEqual(commonFieldProblems(f, { pid: parent, ppid: process.pid }), []);
    assert.equal(typeof f.child_vpid, 'number');
    assert.match(String(f.clone_flags), /^0x[0-9a-f]+$/);
    assert.ok(Array.isArray(f.clone_flag_names));
    const x = await tracer.waitForPid(child, 'exit');
    assert.deepEqual(commonFieldProblems(x, { pid: child, ppid: parent }), []);
    assert.equal(x.exit_code, 3);
    assert.equal(x.signal, 0);
    assert.equal(x.core_dumped, false);
  });

  test('a process killed by a signal exits with that signal', BPF, async () => {
    const r = await run('/bin/sh', ['-c', 'kill -9 $$']);
    assert.equal(r.signal, 'SIGKILL');
    const x = await tracer.waitForPid(r.pid, 'exit');
    assert.equal(x.signal, 9);
  });

  test('memfd_create + fexecve: memfd_create syscall with its name, then a fileless exec', BPF, async () => {
    const r = await act(['memfd-exec']);
    const pid = Number(r.out.pid);
    const m = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'memfd_create');
    assert.equal(m.memfd_name, 'vgl-fileless');
    assert.equal(m.retval, Number(r.out.memfd));
    const e = await tracer.waitForPid(pid, 'exec', (ev) => ev.retval === 0 && ev.fileless === true);
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.deepEqual(e.args, ['vgl-fileless']);
    // The kernel names a memfd "/memfd:NAME (deleted)"; whatever the rendering, it names the memfd.
    assert.match(String(e.exe), /memfd:vgl-fileless/);
    // The helper's own exec (from a real file) is not fileless.
    const own = await tracer.waitForPid(pid, 'exec', (ev) => ev.exe === realpathSync(ACT));
    assert.equal(own.fileless, false);
  });
});
