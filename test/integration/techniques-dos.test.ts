// Denial-of-service techniques against the default rule pack, kept apart for their longer run:
// a real fork bomb in a runc container (bounded by the container's pids limit) must raise the
// fork-rate threshold rule with the container's id, and a forking lineage, within a second of the
// threshold being crossed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runcMissing, startContainer, type Container } from '../runc.js';
import { BPF, assertPrerequisites } from './harness.js';
import { DetectHarness, lineage } from './detect-harness.js';

describe('denial-of-service techniques (real runc containers)', () => {
  let h: DetectHarness;
  let c: Container | undefined;

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`DoS technique tests need runc: ${missing}`);
    h = await DetectHarness.start();
  });
  after(async () => {
    c?.delete();
    await h?.stop();
  });

  test('fork bomb -> Fork bomb in container', { ...BPF, timeout: 60000 }, async () => {
    c = startContainer({ args: ['sleep', '600'], pidsLimit: 1000, memoryLimit: 512 << 20 });
    const t0 = Date.now();
    // The classic bomb: every process starts two more in the background and exits; the pids limit
    // keeps the host safe, and `timeout` ends it.
    c.execDetached(['timeout', '6', 'sh', '-c', 'b() { b & b & }; b; sleep 10']);
    const seen = await h.waitMatch('Fork bomb in container', (m) => m.container.id === c!.id && m.time >= t0, 15000);
    const m = seen.match;
    assert.ok(seen.at - m.time <= 1000, `match ${seen.at - m.time} ms after its last event`);
    assert.ok((m.count ?? 0) >= 400, `count ${m.count}`);
    const l = lineage(m);
    assert.match(l.exe ?? '', /\/bin\/busybox$/);
    assert.ok(l.parentComm, `no parent in the lineage: ${JSON.stringify(l)}`);
    c.kill('KILL');
  });
});
