// Watched files and unix sockets: opens for write through a relative path and through a symlink
// (the kernel-resolved absolute path is reported), a rename onto a watched name, and a connect to a
// watched docker.sock.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { act, ACT, BPF, commonFieldProblems, runOk, tempDir, Tracer } from './harness.js';

const WATCHED_NAME = 'vgl-watched-name';

describe('file and connect events', () => {
  let tracer: Tracer;
  let server: Server | undefined;
  const dir = tempDir();
  const watched = join(dir.path, 'watched');
  const sub = join(dir.path, 'sub');
  const sock = join(dir.path, 'docker.sock');

  before(async () => {
    mkdirSync(sub);
    if (BPF.skip) return;
    tracer = await Tracer.start(['-o', 'json', '--watch', `exact:${watched}`, '--watch', `name:${WATCHED_NAME}`, '--watch', 'name:docker.sock']);
  });
  after(async () => {
    await tracer?.stop();
    await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
    dir.remove();
  });

  test('open for write through a relative path (../watched) reports the resolved absolute path', BPF, async () => {
    const r = await act(['--chdir', sub, 'open-write', '../watched']);
    const pid = Number(r.out.pid);
    assert.ok(Number(r.out.ret) >= 0);
    const e = await tracer.waitForPid(pid, 'file', (ev) => ev.op === 'open');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.syscall, 'openat');
    assert.equal(e.path, watched);
    assert.equal(e.path_resolved, true);
    assert.equal(e.path_truncated, false);
    assert.equal(e.write, true);
    assert.equal(e.create, true);
    assert.equal(e.retval, Number(r.out.ret));
    assert.equal(e.matched, 'path');
    assert.equal(typeof e.watch_id, 'number');
    assert.ok((e.open_flag_names as string[]).includes('O_WRONLY'), `open_flag_names ${JSON.stringify(e.open_flag_names)}`);
    assert.ok((e.open_flag_names as string[]).includes('O_CREAT'));
    assert.ok(typeof e.ino === 'number' || typeof e.ino === 'string');
  });

  test('open for write through a symlink reports the target path, resolved by the kernel', BPF, async () => {
    writeFileSync(watched, '');
    const link = join(dir.path, 'innocent-link');
    symlinkSync(watched, link);
    const r = await act(['open-write', link]);
    const pid = Number(r.out.pid);
    const e = await tracer.waitForPid(pid, 'file', (ev) => ev.op === 'open');
    assert.equal(e.path, watched);
    assert.equal(e.path_resolved, true);
    assert.equal(e.write, true);
    assert.ok(Number(e.retval) >= 0);
  });

  test('an open of an unwatched path in the same directory is not reported', BPF, async () => {
    const r = await act(['open-write', join(dir.path, 'not-watched')]);
    const pid = Number(r.out.pid);
    // The exit event of the helper comes after any file event it would have caused.
    await tracer.waitForPid(pid, 'exit');
    assert.deepEqual(tracer.find(pid, 'file'), []);
  });

  test('rename onto a watched name: op rename, dest ends with the name', BPF, async () => {
    const from = join(dir.path, 'staging');
    writeFileSync(from, 'x');
    const to = join(sub, WATCHED_NAME);
    const r = await act(['rename', from, to]);
    const pid = Number(r.out.pid);
    assert.equal(r.out.ret, 0);
    const e = await tracer.waitForPid(pid, 'file', (ev) => ev.op === 'rename');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.retval, 0);
    assert.equal(e.path, from);
    assert.equal(e.dest, to);
    assert.ok(String(e.dest).endsWith(`/${WATCHED_NAME}`));
    assert.ok(e.matched === 'dest' || e.matched === 'both', `matched ${String(e.matched)}`);
  });

  test('connect to a unix socket named docker.sock: path reported and resolved', BPF, async () => {
    server = createServer((c) => c.end());
    await new Promise<void>((res, rej) => {
      server!.once('error', rej);
      server!.listen(sock, () => res());
    });
    const r = await act(['connect-unix', sock]);
    const pid = Number(r.out.pid);
    assert.equal(r.out.ret, 0);
    const e = await tracer.waitForPid(pid, 'connect');
    assert.deepEqual(commonFieldProblems(e, { pid, ppid: process.pid, uid: 0 }), []);
    assert.equal(e.syscall, 'connect');
    assert.equal(e.family, 'unix');
    assert.equal(e.path, sock);
    assert.equal(e.path_resolved, true);
    assert.equal(e.retval, 0);
    assert.equal(typeof e.watch_id, 'number');
  });
});

// Write watches and the proc-link class (probes/syscalls.bpf.c vg_watch_write, vg_open_proclink):
// reads below a write watch stay in the kernel, writes are sent even after a read of the same file
// left its negative entry in the per-CPU cache (all on one CPU, so the cache slot is the same).
describe('write watches and the proc-link open class', () => {
  let tracer: Tracer;
  const dir = tempDir();
  const wdir = join(dir.path, 'etc');
  const conf = join(wdir, 'app.conf');
  const outside = join(dir.path, 'entry');

  before(async () => {
    mkdirSync(wdir);
    writeFileSync(conf, 'x\n');
    writeFileSync(outside, 'x\n');
    if (BPF.skip) return;
    tracer = await Tracer.start(['-o', 'json', '--watch', `write-prefix:${wdir}/`, '--watch', 'proc-link:/proc/']);
  });
  after(async () => {
    await tracer?.stop();
    dir.remove();
  });

  test('a read below a write watch is not sent; a write of the same file then is, and a rename below it', BPF, async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runOk('taskset', ['-c', '0', 'cat', conf]);
      await tracer.waitForPid(r.pid, 'exit');
      assert.deepEqual(tracer.find(r.pid, 'file'), [], 'a read-only open below a write watch');
    }
    const w = await runOk('taskset', ['-c', '0', ACT, 'open-write', conf]);
    const e = await tracer.waitForPid(w.pid, 'file', (ev) => ev.op === 'open');
    assert.equal(e.path, conf);
    assert.equal(e.write, true);
    assert.equal(e.matched, 'path');
    const from = join(wdir, 'staging');
    writeFileSync(from, 'x');
    const r = await act(['rename', from, join(wdir, 'renamed')]);
    const m = await tracer.waitForPid(Number(r.out.pid), 'file', (ev) => ev.op === 'rename');
    assert.equal(m.dest, join(wdir, 'renamed'));
  });

  test('a write-open through /proc/self/fd is sent with the argument as written; a read through it is not', BPF, async () => {
    const r = await runOk('sh', ['-c', `exec 3<${outside}; read l </proc/self/fd/3; echo y >/proc/self/fd/3; echo $$`]);
    const pid = Number(r.stdout.trim());
    await tracer.waitForPid(pid, 'exit');
    const files = tracer.find(pid, 'file');
    assert.deepEqual(
      files.map((f) => [f.path, f.path_raw, f.write]),
      [[outside, '/proc/self/fd/3', true]],
    );
  });
});
