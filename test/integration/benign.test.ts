// The default rule pack stays quiet on ordinary work: starting and stopping containers with runc,
// shells and package-manager-like file activity inside containers, compiling a C program on the
// host, a web server under a loop of requests, cron-like periodic jobs, and the detector's own
// process. Nothing at warning or above may fire for any of it.
//
// Other test files may run at the same time on this machine (their containers do attacks on
// purpose), so only matches that belong to this file's containers and host processes count.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execAsync, runcMissing, startContainer, type Container } from '../runc.js';
import { BPF, assertPrerequisites, runOk, sleep } from './harness.js';
import { DetectHarness, WARNING_OR_ABOVE, type SeenMatch } from './detect-harness.js';

describe('benign workloads raise nothing at warning or above', () => {
  let h: DetectHarness;
  const ours = new Set<string>();
  const containers: Container[] = [];
  /** Host pids this file started (their descendants count too). */
  const hostPids = new Set<number>([process.pid]);
  let work = '';

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`benign tests need runc: ${missing}`);
    work = realpathSync(mkdtempSync(join(tmpdir(), 'vgt-benign-')));
    h = await DetectHarness.start();
  });

  after(async () => {
    for (const c of containers) c.delete();
    await h?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function start(o: Parameters<typeof startContainer>[0] = {}): Container {
    const c = startContainer({ args: ['sleep', '600'], ...o });
    containers.push(c);
    ours.add(c.id);
    return c;
  }

  /** Matches at warning or above that belong to this file's containers or host processes. */
  function loud(): SeenMatch[] {
    return h.matches.filter((s) => {
      if (!WARNING_OR_ABOVE.has(s.match.rule.severity)) return false;
      if (ours.has(s.match.container.id)) return true;
      if (s.match.container.id !== 'host') return false;
      return s.match.events.some((ev) => hostPids.has(ev.pid) || (ev.proc?.ancestors.some((a) => hostPids.has(a.pid)) ?? false));
    });
  }

  function assertQuiet(what: string): void {
    const l = loud();
    assert.deepEqual(
      l.map((s) => `${s.match.rule.severity} ${s.match.rule.name}: ${s.match.message.trim()}`),
      [],
      `${what} raised matches at warning or above`,
    );
  }

  test('runc start, exec and stop of several containers', { ...BPF, timeout: 60000 }, async () => {
    for (let i = 0; i < 4; i++) {
      const c = start({ memoryLimit: 64 << 20, pidsLimit: 100 });
      const r = await execAsync(c, ['sh', '-c', 'id; hostname; ls /; cat /etc/passwd > /dev/null'], 30000);
      assert.equal(r.code, 0, r.out);
      c.kill('TERM');
      await sleep(100);
      c.delete();
    }
    await sleep(500);
    assertQuiet('container start/stop');
  });

  test('shells and package-manager-like file activity in a container', { ...BPF, timeout: 60000 }, async () => {
    const c = start();
    const script = [
      'set -e',
      // What an installer does: unpack under /usr, record state under /var/lib, rename into place.
      'mkdir -p /usr/lib/pkg /usr/share/doc/pkg /var/lib/pkg/info /var/cache/pkg /etc/pkg',
      'for i in $(seq 1 50); do echo "file $i" > /usr/lib/pkg/f$i.tmp; mv /usr/lib/pkg/f$i.tmp /usr/lib/pkg/f$i; done',
      'echo "Package: pkg" > /var/lib/pkg/status-new && mv /var/lib/pkg/status-new /var/lib/pkg/status',
      'echo conf > /etc/pkg/pkg.conf; chmod 644 /etc/pkg/pkg.conf',
      'tar -cf /var/cache/pkg/a.tar /usr/lib/pkg 2>/dev/null; rm -rf /usr/lib/pkg/f1*',
      'find /usr/lib/pkg -type f | wc -l; grep -r file /usr/lib/pkg | head -3',
      'echo "nobody2:x:65533:65533::/:/bin/false" >> /etc/passwd',
      // What entrypoints do at start: name files, their own configuration, logs to stdout by path.
      'echo "127.0.0.1 vgt-benign" >> /etc/hosts; mkdir -p /etc/app/conf.d; echo "listen 80" > /etc/app/conf.d/default.conf',
      'echo "to stdout" > /proc/self/fd/1; echo "to stderr" > /proc/self/fd/2; mkdir -p /root/.cache; echo x > /root/.cache/tool',
      'sh -c "echo nested; ls /tmp"; env | sort | head -3',
    ].join('\n');
    const r = await execAsync(c, ['sh', '-c', script], 30000);
    assert.equal(r.code, 0, r.out);
    // An interactive-looking shell fed by a pipe, as `kubectl exec -i` does.
    const r2 = await execAsync(c, ['sh', '-c', 'echo "ls /; id" | sh'], 30000);
    assert.equal(r2.code, 0, r2.out);
    await sleep(500);
    assertQuiet('shells and file activity');
  });

  test('compiling a C program on the host', { ...BPF, timeout: 60000 }, async () => {
    const src = join(work, 'hello.c');
    writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    for (let i = 0; i < 3; i++) {
      const r = await runOk('cc', ['-O2', '-o', join(work, `hello${i}`), src], { timeoutMs: 30000 });
      hostPids.add(r.pid);
      const x = await runOk(join(work, `hello${i}`), []);
      hostPids.add(x.pid);
    }
    await sleep(500);
    assertQuiet('compiling');
  });

  test('a web server in a container under a loop of requests', { ...BPF, timeout: 60000 }, async () => {
    const c = start();
    const setup = await execAsync(c, ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html'], 30000);
    assert.equal(setup.code, 0, setup.out);
    c.execDetached(['busybox', 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/www']);
    await sleep(300);
    const t0 = Date.now();
    const r = await execAsync(
      c,
      ['sh', '-c', 'ok=0; for i in $(seq 1 150); do wget -q -O - http://127.0.0.1:8080/index.html > /dev/null && ok=$((ok+1)); done; echo $ok'],
      30000,
    );
    assert.equal(r.code, 0, r.out);
    assert.ok(Number(r.out.trim()) >= 140, `requests served: ${r.out}`);
    await sleep(500);
    assertQuiet(`web server (${Date.now() - t0} ms of requests)`);
  });

  test('cron-like periodic jobs in a container', { ...BPF, timeout: 60000 }, async () => {
    const c = start();
    // A scheduler that runs a rotating-log job every 200 ms for 3 seconds.
    const job = 'date >> /var/log/job.log; if [ $(wc -l < /var/log/job.log) -gt 5 ]; then mv /var/log/job.log /var/log/job.log.1; fi';
    const r = await execAsync(c, ['sh', '-c', `mkdir -p /var/log; for i in $(seq 1 15); do sh -c '${job}'; sleep 0.2; done`], 30000);
    assert.equal(r.code, 0, r.out);
    await sleep(500);
    assertQuiet('cron-like jobs');
  });

  test("the detector's own activity", { ...BPF, timeout: 30000 }, async () => {
    // The sensor, the enrichers and the detector run in this process: whatever they did since the
    // start (reading /proc, cgroup files, runc state) is covered by the host-pid filter above.
    await sleep(1000);
    const mine = h.matches.filter((s) => WARNING_OR_ABOVE.has(s.match.rule.severity) && s.match.events.some((ev) => ev.pid === process.pid));
    assert.deepEqual(
      mine.map((s) => s.match.rule.name),
      [],
    );
    assertQuiet('the whole file');
  });

  test('the runtimes themselves stay quiet while the workloads ran', BPF, () => {
    const runtime = h.matches.filter((s) => WARNING_OR_ABOVE.has(s.match.rule.severity) && s.match.events.some((ev) => /^runc/.test(ev.comm)));
    assert.deepEqual(
      runtime.map((s) => `${s.match.rule.name} [${s.match.container.id}]: ${s.match.message.trim()}`),
      [],
    );
  });
});
