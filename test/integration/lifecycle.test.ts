// The tracer as a whole: --record then --replay gives back the same events, and no vg_ program is
// left in the kernel after the tracer exits on SIGTERM or is killed with SIGKILL.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bpfPrograms, BPF, heldProgramIds, run, sleep, tempDir, Tracer, type TraceEvent } from './harness.js';

/**
 * Starts a tracer, notes the vg_ programs it holds (by id, through its fds: other BPF users on the
 * machine, another vigil included, keep theirs), stops it with `signal`, and returns the ids of its
 * programs still loaded after a grace period (programs are freed after their last fd closes, via RCU).
 */
async function programsLeftAfter(
  signal: NodeJS.Signals,
): Promise<{ held: number[]; left: string[]; tracer: Tracer; st: { code: number | null; signal: NodeJS.Signals | null } }> {
  const tracer = await Tracer.start(['-o', 'json']);
  const ids = heldProgramIds(tracer.pid!);
  const held = bpfPrograms().filter((p) => ids.has(p.id) && p.name.startsWith('vg_'));
  const st = await tracer.stop(signal);
  const deadline = Date.now() + 5000;
  let left = held;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    const now = new Set(bpfPrograms().map((p) => p.id));
    left = held.filter((p) => now.has(p.id));
  }
  return { held: held.map((p) => p.id), left: left.map((p) => `${p.id} ${p.name}`), tracer, st };
}

const KEY_FIELDS = ['kind', 'time', 'pid', 'tid', 'ppid', 'uid', 'comm', 'ns', 'exe', 'args', 'retval', 'creds'];

describe('tracer life cycle', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('--record FILE, then --replay FILE prints the same exec event', BPF, async () => {
    const file = join(dir.path, 'trace.rec');
    const tracer = await Tracer.start(['-o', 'json', '--record', file]);
    const marker = `vigil-record-${process.pid}-${Date.now()}`;
    let live: TraceEvent | undefined;
    let r;
    try {
      r = await run('/bin/echo', [marker]);
      // Recording also prints; wait for the event so it is surely in the file before stopping.
      live = await tracer.waitForPid(r.pid, 'exec', (ev) => Array.isArray(ev.args) && ev.args.includes(marker));
    } finally {
      const st = await tracer.stop('SIGTERM');
      assert.equal(st.code, 0, `the recording tracer exits 0 on SIGTERM (got ${st.code ?? st.signal})\n${tracer.stderr}`);
    }
    assert.ok(existsSync(file) && statSync(file).size > 0, 'the record file is written');

    // A replay needs no BPF and may end before anyone waits for a "ready" line.
    const replay = Tracer.spawn(['-o', 'json', '--replay', file]);
    try {
      const again = await replay.waitForPid(r.pid, 'exec', (ev) => Array.isArray(ev.args) && ev.args.includes(marker));
      for (const f of KEY_FIELDS) assert.deepEqual(again[f], live[f], `replayed ${f} equals the live one`);
      const st = await Promise.race([replay.waitExit(), sleep(10000).then(() => undefined)]);
      assert.ok(st, `the replay ends by itself at the end of the file\n${replay.stderr}`);
      assert.equal(st.code, 0, replay.stderr);
    } finally {
      await replay.stop('SIGKILL');
    }
  });

  test('no vg_ program stays attached after SIGTERM', BPF, async () => {
    const { held, left, tracer, st } = await programsLeftAfter('SIGTERM');
    assert.ok(held.length >= 5, `the tracer held its vg_ programs (exec, fork, exit, sys_enter, sys_exit): ${held.join(', ')}`);
    assert.equal(st.code, 0, `exit code on SIGTERM (got ${st.code ?? st.signal})\n${tracer.stderr}`);
    assert.deepEqual(left, [], 'vg_ programs of the tracer left after SIGTERM');
  });

  test('no vg_ program stays attached after SIGKILL', BPF, async () => {
    const { held, left, st } = await programsLeftAfter('SIGKILL');
    assert.ok(held.length >= 5, `the tracer held its vg_ programs: ${held.join(', ')}`);
    assert.equal(st.signal, 'SIGKILL');
    assert.deepEqual(left, [], 'vg_ programs of the tracer left after SIGKILL (pinned links?)');
  });
});
