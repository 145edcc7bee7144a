// Responses end to end, on real runc containers and the real kernel:
//   notify   a webhook on 127.0.0.1 receives the alert JSON; a failing one is retried, then given up
//   kill     a process inside a container is SIGKILLed and gone; a stale alert (the pid now names a
//            process that started after the alert's event) is refused and the process lives
//   freeze   the container's cgroup is frozen (v2 cgroup.freeze, and v1 freezer.state FROZEN), its
//            process stops making progress, and resumes once thawed
//   enforce  with the enforce probe on for mount and init_module from containers, `mount -t tmpfs`
//            in a privileged container never completes (no such mount in the container, the process
//            is killed, the kernel's enforce event says so), the same mount from the host works, and
//            the probe is not loaded at all unless asked for.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Responses, enforceEntries, parseProcStat, thawCgroup } from '../../daemon/alerts/responses.js';
import type { Alert } from '../../daemon/alerts/alert.js';
import { loadNative } from '../../daemon/sensor/addon.js';
import type { NativeSensor } from '../../daemon/sensor/native.js';
import { cgroupIdOf, readCgroupMounts } from '../../daemon/containers/cgroupfs.js';
import { KTIME, type EnforceEvent, type VigilEvent } from '../../daemon/sensor/events.js';
import { Sensor } from '../../daemon/sensor/sensor.js';
import { hostArch, syscallTable } from '../../daemon/sensor/syscalls.js';
import { runcMissing, startContainer, type Container } from '../runc.js';
import { ACT, BPF, assertPrerequisites } from './harness.js';

const TICK_NS = 10_000_000n;
const V2 = readCgroupMounts().v2 ?? '/sys/fs/cgroup';

function startNs(pid: number): bigint {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))!.startTicks * TICK_NS;
}

function alive(pid: number): boolean {
  try {
    const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return s !== undefined && s.state !== 'Z' && s.state !== 'X';
  } catch {
    return false;
  }
}

/** An event of `pid` as the sensor would have made it, at kernel time `ktime`. */
function eventOf(pid: number, ktime: bigint, cgroupId = 0): VigilEvent {
  return {
    kind: 'exec',
    time: new Date().toISOString(),
    pid,
    tid: pid,
    ppid: 0,
    vpid: 0,
    uid: 0,
    gid: 0,
    loginuid: 0xffffffff,
    comm: 'sleep',
    cgroup_id: cgroupId,
    ns: { mnt: 0, pid: 0, net: 0, user: 0, uts: 0, ipc: 0, cgroup: 0 },
    [KTIME]: ktime,
  } as unknown as VigilEvent;
}

function alertFor(c: Container, pid: number, events: VigilEvent[]): Alert {
  const now = new Date().toISOString();
  return {
    id: `alert-${pid}`,
    seq: 1,
    time: now,
    lastSeen: now,
    rule: 'Terminal shell in container',
    severity: 'critical',
    tags: ['T1059'],
    message: 'test',
    container: { id: c.id, name: c.id, runtime: 'runc', image: '' },
    lineage: [{ pid, exe: '/bin/busybox', args: ['sleep', '300'], comm: 'sleep' }],
    events,
    count: 1,
    state: 'open',
    history: [],
    actions: [],
  };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('responses (real containers)', () => {
  const containers: Container[] = [];
  before(() => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`response tests need runc: ${missing}`);
  });
  after(() => {
    for (const c of containers) c.delete();
  });
  const container = (o: Parameters<typeof startContainer>[0] = {}): Container => {
    const c = startContainer(o);
    containers.push(c);
    return c;
  };
  const lookupOf = (c: Container) => (id: string) => (id === c.id ? { cgroupPath: c.cgroupPath, initPid: c.pid } : undefined);

  test('notify: the webhook receives the alert JSON; a failing webhook is retried, then given up', BPF, async () => {
    const bodies: string[] = [];
    let failing = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        if (req.url === '/fail') {
          failing++;
          res.statusCode = 502;
        } else {
          bodies.push(body);
          res.statusCode = 204;
        }
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const c = container();
      const a = alertFor(c, c.pid, [eventOf(c.pid, startNs(c.pid) + TICK_NS)]);
      const r = new Responses({
        webhooks: [
          { url: `http://127.0.0.1:${port}/ok`, timeout: 2000 },
          { url: `http://127.0.0.1:${port}/fail`, timeout: 2000 },
        ],
        notify: { maxAttempts: 3, baseDelayMs: 20 },
      });
      const out = await r.run(a, ['notify']);
      assert.equal(out.length, 2);
      assert.deepEqual(
        out.map((o) => [o.action, o.ok]),
        [
          ['notify', true],
          ['notify', false],
        ],
      );
      assert.match(out[0]!.detail, /\/ok 204 after 1 try$/);
      assert.match(out[1]!.detail, /\/fail 502 after 3 tries: gave up$/);
      assert.equal(failing, 3);
      assert.equal(bodies.length, 1);
      const got = JSON.parse(bodies[0]!) as Alert;
      assert.equal(got.id, a.id);
      assert.equal(got.container.id, c.id);
      assert.equal(got.lineage[0]!.pid, c.pid);
    } finally {
      server.close();
    }
  });

  test('kill: a process inside a container is killed and gone; a stale alert whose pid was reused is refused', BPF, async () => {
    const c = container();
    const pid = c.execDetached(['sleep', '300']);
    assert.ok(alive(pid));
    const start = startNs(pid);
    const r = new Responses({}, { lookupContainer: lookupOf(c), settleMs: 3000 });

    // The alert's event is older than this process: its pid belonged to another process then.
    const stale = alertFor(c, pid, [eventOf(pid, start - 2_000_000_000n)]);
    const [refused] = await r.run(stale, ['kill']);
    assert.equal(refused!.ok, false);
    assert.match(refused!.detail, /pid reused/);
    assert.ok(alive(pid), 'a refused kill leaves the process alone');

    const [o] = await r.run(alertFor(c, pid, [eventOf(pid, start + TICK_NS)]), ['kill']);
    assert.equal(o!.ok, true, o!.detail);
    assert.equal(o!.detail, `killed pid ${pid} (sleep)`);
    assert.equal(alive(pid), false, 'the process is gone');
    assert.ok(alive(c.pid), 'the container itself still runs');
  });

  for (const freezer of ['v2', 'v1'] as const) {
    test(`freeze (${freezer}): the container is frozen and stops making progress; thawed, it resumes`, BPF, async () => {
      const c = container({ args: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done'] });
      const counter = join(c.bundle, 'rootfs/tmp/n');
      const read = (): number => Number(readFileSync(counter, 'utf8').trim() || '0');
      const deadline = Date.now() + 5000;
      while ((!existsSync(counter) || read() < 3) && Date.now() < deadline) await sleep(20);
      assert.ok(read() >= 3, 'the container makes progress before the freeze');

      const r = new Responses({ freezer }, { lookupContainer: lookupOf(c) });
      const [o] = await r.run(alertFor(c, c.pid, [eventOf(c.pid, startNs(c.pid) + TICK_NS)]), ['freeze']);
      assert.equal(o!.ok, true, o!.detail);
      const dir = /^froze (.+)$/.exec(o!.detail)![1]!;
      try {
        if (freezer === 'v2') {
          assert.ok(dir.endsWith(c.cgroupPath), `${dir} is the container's v2 cgroup`);
          assert.equal(readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim(), '1');
          assert.match(readFileSync(join(dir, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
        } else {
          assert.match(dir, /^\/sys\/fs\/cgroup\/freezer\//);
          assert.equal(readFileSync(join(dir, 'freezer.state'), 'utf8').trim(), 'FROZEN');
        }
        const frozenAt = read();
        await sleep(400);
        assert.equal(read(), frozenAt, 'no progress while frozen');
      } finally {
        thawCgroup(dir);
      }
      const thawedAt = read();
      const until = Date.now() + 3000;
      while (read() === thawedAt && Date.now() < until) await sleep(20);
      assert.ok(read() > thawedAt, 'progress resumes after the thaw');
    });
  }

  test('freeze refuses a host alert; kill refuses a host process by default', BPF, async () => {
    const r = new Responses({});
    const host = { id: 'host', name: 'host', runtime: 'host' as const, image: '' };
    const c = container();
    const [f] = await r.run({ ...alertFor(c, process.ppid, []), container: host }, ['freeze']);
    assert.equal(f!.ok, false);
    const [k] = await r.run({ ...alertFor(c, process.ppid, [eventOf(process.ppid, startNs(process.ppid) + TICK_NS)]), container: host }, ['kill']);
    assert.equal(k!.ok, false);
    assert.match(k!.detail, /host process/);
  });
});

describe('enforce (the kernel kills and spoils)', () => {
  const native = loadNative();
  let sensor: Sensor | undefined;
  let sensorNative: NativeSensor | undefined;
  let spoilable = false;
  const cgroupIds: number[] = [];
  const events: EnforceEvent[] = [];
  const containers: Container[] = [];

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`enforce tests need runc: ${missing}`);
  });
  after(async () => {
    for (const c of containers) c.delete();
    await sensor?.close();
  });

  test('without the enforce option the enforce object is not loaded', BPF, async () => {
    const s = Sensor.live(native.createSensor(), {});
    try {
      const ready = await s.open();
      assert.ok(ready.programs.length > 0);
      assert.deepEqual(
        ready.programs.filter((p) => p.object.startsWith('enforce')),
        [],
        'no enforce program',
      );
      assert.ok(native.objects().includes('enforce'), 'it is compiled in');
    } finally {
      await s.close();
    }
  });

  test(
    'mount from a privileged container is stopped: the process is killed (and, where the kernel allows spoiling, no tmpfs is mounted); from the host it works',
    BPF,
    async (t) => {
      const table = syscallTable(hostArch()!);
      const ns = native.createSensor();
      sensorNative = ns;
      sensor = Sensor.live(ns, { enforce: enforceEntries(['mount', 'init_module'], table, { containersOnly: true }) });
      const ready = await sensor.open();
      const prog = ready.programs.find((p) => p.object.startsWith('enforce'));
      assert.ok(prog?.attached, `enforce program attached: ${prog?.reason}`);
      spoilable = prog.object === 'enforce';
      sensor.subscribe((ev) => {
        if (ev.kind === 'enforce') events.push(ev);
      });

      // Starting a container works with mount enforced: its cgroup is not listed yet while the runtime
      // mounts its root, /proc and /dev.
      const c = startContainer({ privileged: true });
      containers.push(c);
      const cgid = cgroupIdOf(join(V2, c.cgroupPath));
      assert.ok(cgid, `v2 cgroup of ${c.id}`);
      ns.setEnforceCgroups!([cgid]);
      cgroupIds.push(cgid);

      const x = c.exec(['mount', '-t', 'tmpfs', 'none', '/mnt'], { timeoutMs: 10000 });
      assert.notEqual(x.status, 0, `mount must not succeed: ${x.stdout}${x.stderr}`);
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.syscall === 'mount') && Date.now() < deadline) await sleep(20);
      const ev = events.find((e) => e.syscall === 'mount');
      assert.ok(ev, 'the kernel reported the enforcement');
      assert.equal(ev.signal_sent, true, 'SIGKILL sent');
      assert.equal(ev.spoil, 'byte0');
      assert.equal(ev.spoil_arg, 1);
      assert.equal(ev.containers_only, true);
      assert.equal(ev.cgroup_id, cgid);
      assert.notEqual(ev.vpid, ev.pid, 'from inside the container pid namespace');
      assert.equal(alive(ev.pid), false, 'the mounting process is gone');
      assert.ok(alive(c.pid), 'the container itself runs on');
      const mounted = / \/mnt .* - tmpfs /.test(readFileSync(`/proc/${c.pid}/mountinfo`, 'utf8'));
      if (spoilable) {
        // The target was spoiled: the call failed before it mounted anything.
        assert.equal(ev.spoiled, true, `target spoiled (spoil_ret ${ev.spoil_ret})`);
        assert.equal(mounted, false, 'no tmpfs on /mnt in the container');
      } else {
        // This kernel refuses bpf_probe_write_user: the kill-only probe was loaded, the spoil is
        // reported as failed, and the call itself may have run to its end (documented).
        // Measured on the project's kernel (6.18, locked down): the tmpfs IS mounted, by a process that
        // never returns to user space. Only the kill is guaranteed there.
        assert.equal(ev.spoiled, false);
        assert.equal(ev.spoil_ret, -1);
        t.diagnostic(`kill-only enforcement (no bpf_probe_write_user): tmpfs on /mnt ${mounted ? 'was mounted' : 'was not mounted'} by the killed process`);
      }

      // The enforce outcome of an alert that carries the event.
      const r = new Responses({ enforce: true });
      const [o] = await r.run({ ...alertFor(c, ev.pid, [ev]) }, ['enforce']);
      assert.equal(o!.ok, true);
      assert.match(o!.detail, new RegExp(`^the kernel killed pid ${ev.pid} at mount; `));

      // The same call from the host is untouched.
      const dir = mkdtempSync(join(tmpdir(), 'vgt-mnt-'));
      try {
        const h = spawnSync('mount', ['-t', 'tmpfs', 'none', dir], { encoding: 'utf8' });
        assert.equal(h.status, 0, h.stderr);
        assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(` ${dir} .* - tmpfs `));
      } finally {
        spawnSync('umount', [dir]);
        rmSync(dir, { recursive: true, force: true });
      }
      const stats = sensor.stats();
      assert.ok((stats.native?.emitted.enforce ?? 0) >= 1, `enforce records counted: ${JSON.stringify(stats.native?.emitted)}`);
    },
  );

  /** A "container" by the probe's definition: a v2 cgroup of its own, listed in vg_enforce_cgroups. */
  function listedCgroup(name: string): { dir: string; cgid: number } {
    const dir = join(V2, `${name}-${process.pid}`);
    mkdirSync(dir);
    const cgid = cgroupIdOf(dir)!;
    cgroupIds.push(cgid);
    (sensorNative as NativeSensor).setEnforceCgroups!(cgroupIds);
    return { dir, cgid };
  }

  /** The kernel's enforce record for `syscall` among the events after index `before` (5 s at most). */
  async function enforceEvent(syscall: string, before: number): Promise<(typeof events)[number] | undefined> {
    const deadline = Date.now() + 5000;
    while (!events.slice(before).some((e) => e.syscall === syscall) && Date.now() < deadline) await sleep(20);
    return events.slice(before).find((e) => e.syscall === syscall);
  }

  test('init_module from a listed cgroup is killed before the call returns; a read-only image cannot be spoiled', BPF, async () => {
    assert.ok(sensor, 'the enforcing sensor of the previous test');
    const { dir, cgid } = listedCgroup('vgt-enforce');
    try {
      const before = events.length;
      const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec ${ACT} init-module`], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.signal, 'SIGKILL', `${r.status} ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /"op":"init-module"/, 'the helper never returned from the call');
      const ev = await enforceEvent('init_module', before);
      assert.ok(ev, 'the kernel reported the enforcement');
      assert.equal(ev.signal_sent, true);
      assert.equal(ev.cgroup_id, cgid);
      // The helper's image is a static const in .rodata: the write cannot take (EFAULT), or this kernel
      // refuses the helper (-1); either way the event says it was not spoiled.
      assert.equal(ev.spoiled, false);
      assert.ok(ev.spoil_ret < 0, `spoil_ret ${ev.spoil_ret}`);
      // A host process in an unlisted cgroup is untouched: the helper returns from the call.
      const h = spawnSync(ACT, ['init-module'], { encoding: 'utf8', timeout: 10000 });
      assert.equal(h.status, 0, h.stderr);
      assert.match(h.stdout, /"op":"init-module"/);
    } finally {
      rmdirSync(dir);
    }
  });

  test('an enforced execve never completes: the new program never runs, in a listed cgroup or a container', BPF, async () => {
    assert.ok(sensor, 'the enforcing sensor of the first enforce test');
    const table = syscallTable(hostArch()!);
    (sensorNative as NativeSensor).setEnforce!(enforceEntries(['mount', 'init_module', 'execve'], table, { containersOnly: true }));
    const marker = join(mkdtempSync(join(tmpdir(), 'vgt-exec-')), 'ran');
    const { dir, cgid } = listedCgroup('vgt-enforce-exec');
    try {
      const before = events.length;
      // The SIGKILL is pending from sys_enter on; execve checks for it while it copies the argument
      // strings, before it replaces the image, so `touch` never starts (not merely never returns).
      const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec /bin/touch ${marker}`], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.signal, 'SIGKILL', `${r.status} ${r.stdout}${r.stderr}`);
      assert.equal(existsSync(marker), false, 'the enforced execve never ran the program');
      const ev = await enforceEvent('execve', before);
      assert.ok(ev, 'the kernel reported the enforcement');
      assert.equal(ev.signal_sent, true);
      assert.equal(ev.cgroup_id, cgid);

      // In the runc container of the first test: `runc exec` fails, the file is not created inside.
      const c = containers[0];
      assert.ok(c && alive(c.pid), 'the container of the first enforce test runs');
      const x = c.exec(['touch', '/tmp/enforced-exec-ran'], { timeoutMs: 10000 });
      assert.notEqual(x.status, 0, 'runc exec of an enforced execve fails');
      assert.equal(existsSync(`/proc/${c.pid}/root/tmp/enforced-exec-ran`), false, 'touch never ran in the container');

      // The same exec from an unlisted (host) cgroup runs.
      const h = spawnSync('/bin/touch', [marker], { encoding: 'utf8', timeout: 10000 });
      assert.equal(h.status, 0, h.stderr);
      assert.equal(existsSync(marker), true);
    } finally {
      (sensorNative as NativeSensor).setEnforce!(enforceEntries(['mount', 'init_module'], table, { containersOnly: true }));
      rmdirSync(dir);
    }
  });
});
