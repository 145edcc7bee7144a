// The registry over a fixture cgroup tree and runc state root (no kernel): walk, mkdir/rmdir events,
// start on first exec, metadata from state.json + config.json annotations, misses, grace eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { ContainerRegistry, UNKNOWN_CONTAINER } from './registry.js';
import { RuntimeReader } from './runtimes.js';
import { HOST_CONTAINER, type ContainerLifecycleEvent } from './types.js';

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
    writeFileSync(join(runc, id, 'state.json'), JSON.stringify({ id, init_process_pid: 4242, created: 'x', config: { labels: [`bundle=${bundle}`] }, cgroup_paths: { '': join(v2, path) } }));
  };
  return { dir, v2, reg, life, mk, state, tick: (ms: number) => (clock += ms), done: () => rmSync(dir, { recursive: true, force: true }) };
}

function ev(kind: string, cgroupId: number, extra: Record<string, unknown> = {}): VigilEvent {
  return { kind, time: '', pid: 4242, tid: 4242, ppid: 1, vpid: 1, uid: 0, gid: 0, loginuid: 0, comm: 'x', cgroup_id: cgroupId, ns: { mnt: 0, pid: 0, net: 0, user: 0, uts: 0, ipc: 0, cgroup: 0 }, retval: 0, [KTIME]: 0n, ...extra } as unknown as VigilEvent;
}

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
    rmSync(join(f.v2, path), { recursive: true });
    f.reg.enrich(ev('cgroup_rmdir', 1, { cgroup_id: id, task_cgroup_id: 1, hierarchy_id: 0, level: 1, path }));
    assert.equal(f.life[1]?.kind, 'container_stop');
    const late = ev('exit', id);
    f.reg.enrich(late);
    assert.equal(late.container?.id, 'vgt-plain', 'in-flight events still resolve during the grace period');
    f.tick(6000);
    f.reg.enrich(ev('syscall', 1));
    assert.equal(f.reg.resolve(id), undefined);
    assert.equal(f.reg.list().length, 0);
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
