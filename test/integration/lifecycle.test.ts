// The tracer as a whole: --record then --replay gives back the same events, and no vg_ program is
// left in the kernel after the tracer exits on SIGTERM or is killed with SIGKILL.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bpfProgramNames, BPF, run, sleep, tempDir, Tracer, type TraceEvent } from './harness.js';

function vgPrograms(): string[] {
  return bpfProgramNames().filter((n) => n.startsWith('vg_'));
}

/** Programs are freed after their last fd closes (RCU): poll for a few seconds. */
async function waitNoVgPrograms(timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = vgPrograms();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = vgPrograms();
  }
  return left;
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
    assert.deepEqual(await waitNoVgPrograms(), [], 'no vg_ program before the test');
    const before = new Set(bpfProgramNames());
    const tracer = await Tracer.start(['-o', 'json']);
    const during = vgPrograms();
    assert.ok(during.length > 0, `the tracer loaded vg_ programs (saw: ${[...new Set(bpfProgramNames())].join(', ')})`);
    const st = await tracer.stop('SIGTERM');
    assert.equal(st.code, 0, `exit code on SIGTERM (got ${st.code ?? st.signal})\n${tracer.stderr}`);
    assert.deepEqual(await waitNoVgPrograms(), [], 'vg_ programs left after SIGTERM');
    const afterNames = bpfProgramNames().filter((n) => !before.has(n));
    assert.deepEqual(afterNames.filter((n) => n.startsWith('vg_')), []);
  });

  test('no vg_ program stays attached after SIGKILL', BPF, async () => {
    const tracer = await Tracer.start(['-o', 'json']);
    assert.ok(vgPrograms().length > 0, 'the tracer loaded vg_ programs');
    const st = await tracer.stop('SIGKILL');
    assert.equal(st.signal, 'SIGKILL');
    assert.deepEqual(await waitNoVgPrograms(), [], 'vg_ programs left after SIGKILL (pinned links?)');
  });
});
