// The registry over a fixture cgroup tree and runc state root (no kernel): walk, mkdir/rmdir events,
// start on first exec, metadata from state.json + config.json annotations, misses, grace eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { ContainerRegistry, UNKNOWN_CONTAINER } from './registry.js';
import { RuntimeReader } from './runtimes.js';
import type { ContainerLifecycleEvent } from './container-info.js';
import { HOST_CONTAINER } from '../core/container.js';

const HEX = '0123456789abcdef'.repeat(4);

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
  const v2 = join(dir, 'cgroup');
  const runc = join(dir, 'runc');
  const proc = join(dir, 'proc'); // empty: posture and /proc lookups find nothing
  for (const d of [v2, runc, proc, join(v2, 'system.slice/sshd.service')]) mkdirSync(d, { recursive: true });
  let clock = 1_000_000;
  const reg = new ContainerRegistry({
    mounts: { v2, v1: {} },
    procRoot: proc,
    runtimes: new RuntimeReader({ stateRoots: [{ dir: runc, runtime: 'runc' }], dockerRoot: join(dir, 'docker'), v2Mount: v2 }),
    stopGraceMs: 5000,
    now: () => clock,
  });
  const life: ContainerLifecycleEvent[] = [];
  reg.onLifecycle((e) => life.push(e));
  const mk = (path: string): number => {
    mkdirSync(join(v2, path), { recursive: true });
    return Number(statSync(join(v2, path), { bigint: true }).ino);
  };
  const state = (id: string, path: string, annotations: Record<string, string>): void => {
    const bundle = join(dir, 'bundle-' + id);
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ annotations }));
    mkdirSync(join(runc, id), { recursive: true });
    writeFileSync(
      join(runc, id, 'state.json'),
      JSON.stringify({ id, init_process_pid: 4242, created: 'x', config: { labels: [`bundle=${bundle}`] }, cgroup_paths: { '': join(v2, path) } }),
    );
  };
  /** A process in the fixture's /proc: its cgroup, namespaces (inode numbers), capabilities, mounts, argv. */
  const proc_ = (
    pid: number,
    o: {
      cgroup: string;
      ns: Partial<Record<string, number>>;
      capEff?: string;
      capBnd?: string;
      mountinfo?: string;
      comm?: string;
      cmdline?: string[];
      start?: number;
    },
  ): void => {
    const d = join(proc, String(pid));
    mkdirSync(join(d, 'ns'), { recursive: true });
    writeFileSync(join(d, 'cgroup'), `0::${o.cgroup}\n`);
    writeFileSync(join(d, 'status'), `Name:\tx\nCapEff:\t${o.capEff ?? '0000000020000420'}\nCapBnd:\t${o.capBnd ?? '000001ffffffffff'}\n`);
    writeFileSync(join(d, 'mountinfo'), o.mountinfo ?? '1 0 0:1 / / rw - overlay overlay rw\n');
    writeFileSync(join(d, 'uid_map'), '         0          0 4294967295\n');
    writeFileSync(join(d, 'comm'), `${o.comm ?? 'sleep'}\n`);
    writeFileSync(join(d, 'cmdline'), (o.cmdline ?? ['sleep', '60']).join('\0') + '\0');
    writeFileSync(join(d, 'stat'), `${pid} (${o.comm ?? 'sleep'}) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${o.start ?? pid} 0 0\n`);
    for (const n of ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup']) symlinkSync(`${n}:[${o.ns[n] ?? HOST_NS[n]!}]`, join(d, 'ns', n));
  };
  proc_(1, { cgroup: '/', ns: {}, capEff: '000001ffffffffff', mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n' });
  /** runc's state for a container, with its libcontainer config (namespaces, capabilities, mounts). */
  const runcState = (id: string, path: string, initPid: number, config: Record<string, unknown>): void => {
    mkdirSync(join(runc, id), { recursive: true });
    writeFileSync(
      join(runc, id, 'state.json'),
      JSON.stringify({ id, init_process_pid: initPid, config: { labels: [], ...config }, cgroup_paths: { '': join(v2, path) } }),
    );
  };
  return {
    dir,
    v2,
    reg,
    life,
    mk,
    state,
    proc: proc_,
    runcState,
    tick: (ms: number) => (clock += ms),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The host's namespaces in the fixture's /proc/1 (a container gets others). */
const HOST_NS: Record<string, number> = {
  mnt: 4026531832,
  pid: 4026531836,
  net: 4026531833,
  ipc: 4026531839,
  uts: 4026531838,
  user: 4026531837,
  cgroup: 4026531835,
};
const CONTAINER_NS = { mnt: 4026532173, pid: 4026532176, net: 4026532177, ipc: 4026532175, uts: 4026532174 };
/** What runc's default spec asks for: its own namespaces but user and cgroup, three capabilities. */
const PLAIN_CONFIG = {
  namespaces: ['NEWPID', 'NEWNET', 'NEWIPC', 'NEWUTS', 'NEWNS'].map((type) => ({ type, path: '' })),
  capabilities: { Bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], Effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'] },
  mounts: [
    { source: 'proc', destination: '/proc', device: 'proc', flags: 0 },
    { source: 'sysfs', destination: '/sys', device: 'sysfs', flags: 15 },
  ],
  rootfs: '/tmp/bundle/rootfs',
};

function ev(kind: string, cgroupId: number, extra: Record<string, unknown> = {}): VigilEvent {
  const exec = kind === 'exec' ? { exe: '/bin/busybox', args: ['sleep', '60'] } : {};
  return {
    kind,
    time: '',
    pid: 4242,
    tid: 4242,
    ppid: 1,
    vpid: 1,
    uid: 0,
    gid: 0,
    loginuid: 0,
    comm: 'x',
    cgroup_id: cgroupId,
    ns: { mnt: 0, pid: 0, net: 0, user: 0, uts: 0, ipc: 0, cgroup: 0 },
    retval: 0,
    [KTIME]: 0n,
    ...exec,
    ...extra,
  } as unknown as VigilEvent;
}

const hostNs = { ...HOST_NS };
const containerNs = { ...HOST_NS, ...CONTAINER_NS };

test('start-up walk: host cgroups are host, container shapes are containers', () => {
  const f = fixture();
  try {
    const id = f.mk(`/system.slice/docker-${HEX}.scope`);
    f.reg.prepare('native');
    const sshd = Number(statSync(join(f.v2, 'system.slice/sshd.service'), { bigint: true }).ino);
    const a = ev('syscall', sshd);
    f.reg.enrich(a);
    assert.deepEqual(a.container, HOST_CONTAINER);
    const b = ev('exec', id);
    f.reg.enrich(b);
    assert.equal(b.container?.id, HEX);
    assert.equal(b.container?.runtime, 'docker');
    assert.equal(f.reg.resolve(id)?.cgroupPath, `/system.slice/docker-${HEX}.scope`);
  } finally {
    f.done();
  }
});

test('mkdir, then events: attributed at once, started on the first exec with the state metadata; rmdir stops; grace evicts', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = '/vgt-plain';
    mkdirSync(join(f.dir, 'runc', 'vgt-plain')); // runc makes its state directory before the cgroup
    const id = f.mk(path);
    f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 1, path }));
    const setup = ev('syscall', id);
    f.reg.enrich(setup);
    assert.equal(setup.container?.id, 'vgt-plain');
    assert.equal(setup.container?.runtime, 'runc');
    assert.equal(f.life.length, 0, 'not started before its first program');
    f.state('vgt-plain', path, { 'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'n', 'io.kubernetes.container.name': 'c' });
    const exec = ev('exec', id);
    f.reg.enrich(exec);
    assert.deepEqual(exec.container, { id: 'vgt-plain', name: 'c', runtime: 'runc', image: '', pod: 'p', namespace: 'n' });
    assert.equal(f.life.length, 1);
    assert.equal(f.life[0]!.kind, 'container_start');
    assert.equal(f.life[0]!.container.initPid, 4242);
    assert.equal(f.life[0]!.container.labels['io.kubernetes.pod.name'], 'p');
    assert.equal(f.reg.get('vgt-plain'), f.reg.list()[0], 'get(id) is the listed container');
    assert.equal(f.reg.get('vgt-plain')?.name, 'c');
    assert.equal(f.reg.get('nope'), undefined);
    rmSync(join(f.v2, path), { recursive: true });
    f.reg.enrich(ev('cgroup_rmdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 1, path }));
    assert.equal(f.life[1]?.kind, 'container_stop');
    const late = ev('exit', id);
    f.reg.enrich(late);
    assert.equal(late.container?.id, 'vgt-plain', 'in-flight events still resolve during the grace period');
    assert.ok(f.reg.get('vgt-plain')?.stoppedAt, 'get(id) finds a stopped container during its grace period');
    f.tick(6000);
    f.reg.enrich(ev('syscall', 1));
    assert.equal(f.reg.resolve(id), undefined);
    assert.equal(f.reg.list().length, 0);
    assert.equal(f.reg.get('vgt-plain'), undefined, 'evicted from the id index too');
  } finally {
    f.done();
  }
});

test('an id nobody names is a counted miss (unknown), retried after the interval', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const e = ev('syscall', 999_999_999);
    f.reg.enrich(e);
    assert.deepEqual(e.container, UNKNOWN_CONTAINER);
    f.reg.enrich(ev('syscall', 999_999_999));
    assert.equal(f.reg.stats()['misses'], 2);
  } finally {
    f.done();
  }
});

test('replay: names come from recorded paths only', () => {
  const f = fixture();
  try {
    f.reg.prepare('replay');
    f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: 77, task_cgroup_id: 1, hierarchy_id: 0, level: 2, path: `/x/crio-${HEX}.scope` }));
    const e = ev('exec', 77);
    f.reg.enrich(e);
    assert.equal(e.container?.runtime, 'cri-o');
    const u = ev('exec', 78);
    f.reg.enrich(u);
    assert.deepEqual(u.container, UNKNOWN_CONTAINER);
  } finally {
    f.done();
  }
});

// runc's bootstrap, as traced here: `runc init` exec'd from the host's mount namespace, re-exec'd
// from its memfd copy (whose path resolves to "/"), two forks, then the container's program. runc
// moves it into the cgroup while it runs: before its execs or after them, by scheduling.
for (const order of ['bootstrap execs outside the cgroup', 'bootstrap execs inside the cgroup'] as const) {
  test(`start is the hand-over exec, never the runtime's (${order}); posture from runc's record and the kernel's view`, () => {
    const f = fixture();
    try {
      f.reg.prepare('native');
      const path = `/system.slice/docker-${HEX}.scope`;
      const id = f.mk(path);
      f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 2, path }));
      const execCgroup = order === 'bootstrap execs inside the cgroup' ? id : 1;
      const setup = [
        ev('exec', execCgroup, { pid: 100, tid: 100, exe: '/usr/sbin/runc', args: ['runc', 'init'], ns: hostNs, comm: 'exe' }),
        ev('exec', execCgroup, { pid: 100, tid: 100, exe: '/', args: ['runc', 'init'], ns: hostNs, comm: '5' }),
        ev('fork', id, { pid: 100, tid: 100, child_pid: 101, ns: hostNs, comm: 'runc:[0:PARENT]' }),
        ev('fork', id, { pid: 101, tid: 101, child_pid: 102, ns: containerNs, comm: 'runc:[1:CHILD]' }),
        ev('syscall', id, { pid: 102, tid: 102, ns: containerNs, comm: 'runc:[2:INIT]' }),
        ev('exit', id, { pid: 101, tid: 101, ns: containerNs, comm: 'runc:[1:CHILD]' }),
        ev('exit', id, { pid: 100, tid: 100, ns: hostNs, comm: 'runc:[0:PARENT]' }),
      ];
      for (const e of setup) f.reg.enrich(e);
      assert.equal(f.life.length, 0, 'not started by the runtime');
      for (const e of setup.filter((x) => x.cgroup_id === id)) {
        assert.equal(e.container?.id, HEX, `${e.kind} of ${e.pid} attributed to the container`);
        assert.equal(e.runtime_setup, true, `${e.kind} of ${e.pid} marked as the runtime's`);
      }
      f.runcState(HEX, path, 102, PLAIN_CONFIG);
      f.proc(102, { cgroup: path, ns: CONTAINER_NS });
      const program = ev('exec', id, { pid: 102, tid: 102, vpid: 1, exe: '/bin/busybox', args: ['sleep', '60'], ns: containerNs });
      f.reg.enrich(program);
      assert.equal(program.runtime_setup, undefined, "the container's own program is its own");
      assert.equal(f.life.length, 1);
      const info = f.life[0]!.container;
      assert.equal(f.life[0]!.kind, 'container_start');
      assert.equal(info.initPid, 102);
      assert.deepEqual(info.posture && { ...info.posture }, {
        privileged: false,
        hostPid: false,
        hostNet: false,
        hostIpc: false,
        hostMnt: false,
        hostUser: true,
        hostUts: false,
        sensitiveMounts: [],
        uidMap: '0 0 4294967295',
        capEffective: '0x20000420',
        sources: ['runtime', 'kernel'],
        mismatches: [],
      });
      const later = ev('syscall', id, { pid: 102, tid: 102, ns: containerNs });
      f.reg.enrich(later);
      assert.equal(later.runtime_setup, undefined);
    } finally {
      f.done();
    }
  });
}

test("a lost hand-over exec: the program's acts are its own once its name is not the runtime's", () => {
  // Behind an exec flood in the container the kernel may shed the exec record of a `runc exec`'s
  // program: its later events still say who it is by their comm.
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    f.proc(102, { cgroup: path, ns: CONTAINER_NS });
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs, comm: 'sleep' }));
    assert.equal(f.life[0]?.kind, 'container_start');
    const setup = [
      ev('exec', 1, { pid: 200, tid: 200, exe: '/usr/sbin/runc', args: ['runc', 'init'], ns: hostNs, comm: 'exe' }),
      ev('fork', id, { pid: 200, tid: 200, child_pid: 201, ns: hostNs, comm: 'runc:[0:PARENT]' }),
      ev('fork', id, { pid: 201, tid: 201, child_pid: 202, ns: containerNs, comm: 'runc:[1:CHILD]' }),
      ev('syscall', id, { pid: 202, tid: 202, ns: containerNs, comm: 'runc:[2:INIT]' }),
    ];
    for (const e of setup) f.reg.enrich(e);
    for (const e of setup.slice(1)) assert.equal(e.runtime_setup, true, `${e.kind} of ${e.pid} (${e.comm}) is the runtime's`);
    // No exec record for 202: its next events come from "sh".
    const open = ev('file', id, { pid: 202, tid: 202, ns: containerNs, comm: 'sh' });
    f.reg.enrich(open);
    assert.equal(open.runtime_setup, undefined, "the shell's open is evaluated as the container's");
    const fork = ev('fork', id, { pid: 202, tid: 202, child_pid: 203, ns: containerNs, comm: 'sh' });
    const child = ev('file', id, { pid: 203, tid: 203, ns: containerNs, comm: 'sh' });
    f.reg.enrich(fork);
    f.reg.enrich(child);
    assert.deepEqual([fork.runtime_setup, child.runtime_setup], [undefined, undefined], 'nor is its child the runtime');
    assert.equal(f.reg.stats().bootstrapHandedOverUnseen, 1);
  } finally {
    f.done();
  }
});

test('a program named runc inside a container is not the runtime', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    f.proc(102, { cgroup: path, ns: CONTAINER_NS });
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs }));
    assert.equal(f.life[0]?.kind, 'container_start');
    const fake = ev('exec', id, { pid: 103, tid: 103, exe: '/usr/sbin/runc', args: ['runc', 'init'], ns: containerNs });
    f.reg.enrich(fake);
    assert.equal(fake.runtime_setup, undefined);
    const after = ev('syscall', id, { pid: 103, tid: 103, ns: containerNs });
    f.reg.enrich(after);
    assert.equal(after.runtime_setup, undefined, "its later events are evaluated as the container's");
  } finally {
    f.done();
  }
});

test("where the runtime's record and the kernel disagree, the kernel wins and the field is named", () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    f.runcState(HEX, path, 102, PLAIN_CONFIG);
    // The kernel shows the host's network namespace although the record asked for a new one.
    f.proc(102, { cgroup: path, ns: { ...CONTAINER_NS, net: HOST_NS.net } });
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs }));
    const p = f.life[0]!.container.posture!;
    assert.equal(p.hostNet, true);
    assert.deepEqual(p.mismatches, ['hostNet: runtime false, kernel true']);
  } finally {
    f.done();
  }
});

test('privileged and host-pid from the record alone when the init process is gone', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    const all = [
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_DAC_READ_SEARCH',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_SETGID',
      'CAP_SETUID',
      'CAP_SETPCAP',
      'CAP_LINUX_IMMUTABLE',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_BROADCAST',
      'CAP_NET_ADMIN',
      'CAP_NET_RAW',
      'CAP_IPC_LOCK',
      'CAP_IPC_OWNER',
      'CAP_SYS_MODULE',
      'CAP_SYS_RAWIO',
      'CAP_SYS_CHROOT',
      'CAP_SYS_PTRACE',
      'CAP_SYS_PACCT',
      'CAP_SYS_ADMIN',
      'CAP_SYS_BOOT',
      'CAP_SYS_NICE',
      'CAP_SYS_RESOURCE',
      'CAP_SYS_TIME',
      'CAP_SYS_TTY_CONFIG',
      'CAP_MKNOD',
      'CAP_LEASE',
      'CAP_AUDIT_WRITE',
      'CAP_AUDIT_CONTROL',
      'CAP_SETFCAP',
      'CAP_MAC_OVERRIDE',
      'CAP_MAC_ADMIN',
      'CAP_SYSLOG',
      'CAP_WAKE_ALARM',
      'CAP_BLOCK_SUSPEND',
      'CAP_AUDIT_READ',
      'CAP_PERFMON',
      'CAP_BPF',
      'CAP_CHECKPOINT_RESTORE',
    ];
    f.runcState(HEX, path, 102, {
      ...PLAIN_CONFIG,
      namespaces: PLAIN_CONFIG.namespaces.filter((n) => n.type !== 'NEWPID'),
      capabilities: { Bounding: all, Effective: all },
      mounts: [
        ...PLAIN_CONFIG.mounts,
        { source: '/var/run/docker.sock', destination: '/var/run/docker.sock', device: 'bind', flags: 20480 },
        { source: '/', destination: '/host', device: 'bind', flags: 20481 },
      ],
    });
    f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 2, path }));
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs }));
    const p = f.life[0]!.container.posture!;
    assert.deepEqual(p.sources, ['runtime']);
    assert.equal(p.privileged, true);
    assert.equal(p.hostPid, true);
    assert.equal(p.hostNet, false);
    assert.deepEqual(p.sensitiveMounts, ['/host', '/var/run/docker.sock']);
  } finally {
    f.done();
  }
});

test('metadata written after the start comes as one container_update naming what changed', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    f.proc(102, { cgroup: path, ns: CONTAINER_NS });
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs }));
    assert.equal(f.life[0]!.kind, 'container_start');
    assert.equal(f.life[0]!.container.pod, undefined);
    f.state(HEX, path, { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.container.name': 'web' });
    f.tick(150);
    f.reg.enrich(ev('syscall', id, { pid: 102, tid: 102 }));
    f.tick(150);
    f.reg.enrich(ev('syscall', id, { pid: 102, tid: 102 }));
    const updates = f.life.filter((l) => l.kind === 'container_update');
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.container.pod, 'web-0');
    assert.deepEqual(updates[0]!.changed, ['name', 'pod', 'namespace', 'labels']);
  } finally {
    f.done();
  }
});

test('an emptied cgroup stops its container after the grace period, not at a process exit; its cgroup is never taken for the host', () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/system.slice/docker-${HEX}.scope`;
    const id = f.mk(path);
    writeFileSync(join(f.v2, path, 'cgroup.procs'), '102\n103\n');
    f.proc(102, { cgroup: path, ns: CONTAINER_NS });
    f.reg.enrich(ev('exec', id, { pid: 102, tid: 102, ns: containerNs }));
    f.reg.enrich(ev('exit', id, { pid: 103, tid: 103 }));
    for (let i = 0; i < 20; i++) {
      f.tick(2500);
      f.reg.enrich(ev('syscall', 1));
    }
    assert.equal(f.life.filter((l) => l.kind === 'container_stop').length, 0, 'running while its cgroup holds processes');
    writeFileSync(join(f.v2, path, 'cgroup.procs'), '');
    f.tick(2500);
    f.reg.enrich(ev('syscall', 1));
    assert.equal(f.life.filter((l) => l.kind === 'container_stop').length, 0, 'within the grace period');
    f.tick(5000);
    f.reg.enrich(ev('syscall', 1));
    assert.equal(f.life.filter((l) => l.kind === 'container_stop').length, 1);
    f.tick(6000);
    f.reg.enrich(ev('syscall', 1));
    assert.equal(f.reg.list().length, 0, 'evicted after the grace period');
    const again = ev('syscall', id, { pid: 104, tid: 104 });
    f.reg.enrich(again);
    assert.equal(again.container?.id, HEX);
  } finally {
    f.done();
  }
});

test("start-up walk: the container starts from its oldest process that is not the runtime's", () => {
  const f = fixture();
  try {
    const path = `/system.slice/docker-${HEX}.scope`;
    f.mk(path);
    writeFileSync(join(f.v2, path, 'cgroup.procs'), '90\n150\n200\n');
    // pid 90: a `runc exec` bootstrap joining it (host mount namespace); 200 started before 150 (pids wrap).
    f.proc(90, { cgroup: path, ns: {}, comm: 'runc:[2:INIT]', cmdline: ['runc', 'init'], start: 10 });
    f.proc(150, { cgroup: path, ns: CONTAINER_NS, start: 500 });
    f.proc(200, { cgroup: path, ns: CONTAINER_NS, start: 400 });
    f.reg.prepare('native');
    assert.equal(f.life[0]?.kind, 'container_start');
    assert.equal(f.life[0]!.container.initPid, 200);
    assert.equal(f.life[0]!.container.posture?.hostMnt, false);
  } finally {
    f.done();
  }
});

for (const initComm of ['sleep', 'runc:[2:INIT]'])
  test(`a lost hand-over exec: a later \`runc exec\` does not become the init when the state's init ${initComm === 'sleep' ? 'runs the program' : 'is still the runtime'}`, () => {
    const f = fixture();
    try {
      f.reg.prepare('native');
      const path = `/system.slice/docker-${HEX}.scope`;
      const id = f.mk(path);
      f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 1, path }));
      f.runcState(HEX, path, 200, PLAIN_CONFIG);
      writeFileSync(join(f.v2, path, 'cgroup.procs'), '200\n300\n');
      f.proc(200, { cgroup: path, ns: CONTAINER_NS, comm: initComm, start: 400 });
      f.proc(300, { cgroup: path, ns: CONTAINER_NS, comm: 'cat', cmdline: ['cat', '/etc/hostname'], start: 900 });
      // The first exec seen is the `runc exec`'d cat (pid 300): sleep's own exec record was lost.
      f.reg.enrich(ev('exec', id, { pid: 300, tid: 300, ns: containerNs, exe: '/bin/cat', args: ['cat', '/etc/hostname'] }));
      assert.equal(f.life[0]?.kind, 'container_start');
      assert.equal(f.life[0]!.container.initPid, initComm === 'sleep' ? 200 : 300);
      assert.equal(f.reg.stats().initFromState, initComm === 'sleep' ? 1 : 0);
    } finally {
      f.done();
    }
  });

test("a shapeless cgroup made before the runtime's state: its first exec is looked up at once, not taken for the host's", () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = '/vgt-early';
    const id = f.mk(path);
    f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 1, path }));
    f.reg.enrich(ev('syscall', id));
    mkdirSync(join(f.dir, 'runc', 'vgt-early')); // runc's state directory, within the retry interval
    f.tick(10);
    const exec = ev('exec', id, { pid: 102, tid: 102, ns: containerNs });
    f.reg.enrich(exec);
    assert.equal(exec.container?.id, 'vgt-early');
    assert.equal(f.life[0]?.kind, 'container_start');
    assert.equal(f.life[0]!.container.initPid, 102);
  } finally {
    f.done();
  }
});

test("Kubernetes' cgroupfs shape names no runtime: the runtime's state directory does, once it appears", () => {
  const f = fixture();
  try {
    f.reg.prepare('native');
    const path = `/kubepods/burstable/pod0f8e2c7a-3b1d-4c55-9a77-2d6f1e0b9c41/${HEX}`;
    const id = f.mk(path);
    f.reg.enrich(ev('cgroup_mkdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 4, path }));
    const before = ev('syscall', id, { pid: 100, tid: 100 });
    f.reg.enrich(before);
    assert.deepEqual([before.container?.id, before.container?.runtime], [HEX, 'unknown']);
    mkdirSync(join(f.dir, 'runc', HEX));
    f.tick(150);
    const after = ev('syscall', id, { pid: 100, tid: 100 });
    f.reg.enrich(after);
    assert.equal(after.container?.runtime, 'runc');
  } finally {
    f.done();
  }
});
