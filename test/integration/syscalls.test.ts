// Privileged and escape-relevant system calls reported as `syscall` events, each with its retval and
// the decoded fields of docs/events.md: init_module, finit_module, bpf, ptrace, io_uring_setup.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { act, BPF, commonFieldProblems, nsInode, num, tempDir, Tracer, type TraceEvent } from './harness.js';

function assertArgs(e: TraceEvent): void {
  const args = e.args as unknown[];
  assert.ok(Array.isArray(args) && args.length === 6, `args is 6 entries: ${JSON.stringify(e.args)}`);
  for (const a of args) assert.match(String(a), /^\d+$/, 'raw arguments are decimal strings');
}

describe('privileged syscall events', () => {
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

  test('init_module with garbage: syscall event with a negative retval and the module length', BPF, async () => {
    const r = await act(['init-module']);
    const pid = Number(r.out.pid);
    assert.ok(Number(r.out.ret) < 0, 'the kernel refuses garbage');
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'init_module');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(num(e.retval), Number(r.out.ret));
    assert.ok(num(e.retval) < 0);
    assert.equal(num(e.module_len), Number(r.out.len));
    assertArgs(e);
  });

  test('finit_module on a non-module file: module_path resolved from the fd', BPF, async () => {
    const path = join(dir.path, 'not-a-module.ko');
    writeFileSync(path, 'garbage');
    const r = await act(['finit-module', path]);
    const pid = Number(r.out.pid);
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'finit_module');
    assert.equal(num(e.retval), Number(r.out.ret));
    assert.ok(num(e.retval) < 0);
    assert.equal(e.module_path, path);
  });

  test('bpf(BPF_PROG_LOAD) of a socket filter: bpf_cmd and prog type', BPF, async () => {
    const r = await act(['bpf-prog-load']);
    const pid = Number(r.out.pid);
    assert.ok(Number(r.out.ret) >= 0, `the load succeeded as root (ret ${r.out.ret})`);
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'bpf' && ev.bpf_cmd === 'BPF_PROG_LOAD');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(num(e.retval), Number(r.out.ret));
    assert.equal(num(e.bpf_prog_type), Number(r.out.prog_type));
    assertArgs(e);
    assert.equal(String((e.args as unknown[])[0]), '5', 'args[0] is BPF_PROG_LOAD (5)');
  });

  test("ptrace attach: request name, target pid and the target's pid namespace", BPF, async () => {
    const r = await act(['ptrace-attach']);
    const pid = Number(r.out.pid);
    const child = Number(r.out.child);
    assert.equal(r.out.ret, 0);
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'ptrace' && ev.ptrace_request === 'PTRACE_ATTACH');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(num(e.retval), 0);
    assert.equal(e.target_pid, child);
    assert.equal(e.target_pid_ns, nsInode('self', 'pid'));
    assert.equal(e.target_outside_pid_ns, false);
    assert.ok(num(e.target_cgroup_id) > 0, `target_cgroup_id ${String(e.target_cgroup_id)}`);
  });

  test('io_uring_setup: syscall event with the entries asked for', BPF, async () => {
    const r = await act(['io-uring-setup']);
    const pid = Number(r.out.pid);
    const e = await tracer.waitForPid(pid, 'syscall', (ev) => ev.syscall === 'io_uring_setup');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(num(e.retval), Number(r.out.ret));
    assert.equal(num(e.io_uring_entries), 8);
    assertArgs(e);
  });
});
