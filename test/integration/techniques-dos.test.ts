// Denial-of-service techniques against the default rule pack, kept apart for their longer run:
// a real fork bomb in a runc container (bounded by the container's pids limit) must raise the
// fork bomb rule with the container's id, and a forking lineage, within a second of the threshold
// being crossed; sequential loops that fork just as fast (1,500 short programs, a wget loop against
// a local web server) must not, since their children exit.
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
    assert.ok((m.count ?? 0) >= 100, `count ${m.count}`);
    assert.match(m.message, /fork bomb in .*: \d{3,} live processes/);
    const l = lineage(m);
    assert.match(l.exe ?? '', /\/bin\/busybox$/);
    assert.ok(l.parentComm, `no parent in the lineage: ${JSON.stringify(l)}`);
    c.kill('KILL');
  });

  test('sequential loops of short programs and requests are no fork bomb', { ...BPF, timeout: 120000 }, async () => {
    const loop = startContainer({ args: ['sleep', '600'], pidsLimit: 1000, memoryLimit: 512 << 20 });
    try {
      const t0 = Date.now();
      // 1,500 programs one after another, then 300 requests to a web server in the container.
      let r = loop.exec(['sh', '-c', 'i=0; while [ $i -lt 1500 ]; do /bin/true; i=$((i+1)); done; echo $i'], { timeoutMs: 60000 });
      assert.equal(r.stdout.trim(), '1500', r.stderr);
      r = loop.exec(
        [
          'sh',
          '-c',
          'mkdir -p /www && echo hi > /www/index.html && busybox httpd -p 127.0.0.1:8080 -h /www && i=0; while [ $i -lt 300 ]; do wget -q -O /dev/null http://127.0.0.1:8080/index.html || exit 1; i=$((i+1)); done; echo $i',
        ],
        { timeoutMs: 60000 },
      );
      assert.equal(r.stdout.trim(), '300', r.stderr);
      // Events reach the detector in order: once a shadow read after the loops has matched, every
      // fork of the loops has been evaluated.
      const marker = Date.now();
      loop.exec(['sh', '-c', 'echo x > /etc/shadow; cat /etc/shadow']);
      await h.waitMatch('Read of shadow file in container', (m) => m.container.id === loop.id && m.time >= marker, 15000);
      assert.deepEqual(
        h.find('Fork bomb in container', (m) => m.container.id === loop.id && m.time >= t0).map((s) => s.match.message),
        [],
      );
    } finally {
      loop.delete();
    }
  });
});
