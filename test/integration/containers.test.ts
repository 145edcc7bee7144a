// Container identity end to end: real runc containers (test/runc.ts) whose cgroup paths are shaped as
// docker, containerd/Kubernetes, CRI-O, podman and plain runc make them; `vigild trace -o json` must
// attribute the events of a process inside to that container (runtime and id), print
// container_start (with metadata from the OCI annotations and posture) and container_stop, and give
// host processes the host container.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { hexId, runcMissing, startContainer, type Container, type ContainerOptions } from '../runc.js';
import { BPF, assertPrerequisites, run, Tracer, type TraceEvent } from './harness.js';

interface Lifecycle {
  kind: 'container_start' | 'container_stop';
  container: {
    id: string;
    name: string;
    runtime: string;
    image: string;
    pod?: string;
    namespace?: string;
    podUid?: string;
    labels: Record<string, string>;
    cgroupPath: string;
    initPid?: number;
    posture?: { privileged: boolean; hostPid: boolean; hostNet: boolean; sensitiveMounts: string[]; uidMap: string };
  };
}

interface Ref {
  id: string;
  name: string;
  runtime: string;
  image: string;
  pod?: string;
  namespace?: string;
}

const ref = (e: TraceEvent): Ref | undefined => e.container as Ref | undefined;
const lifecycle = (e: TraceEvent): Lifecycle | undefined => (e.kind === 'container_start' || e.kind === 'container_stop' ? (e as unknown as Lifecycle) : undefined);

describe('container identity (real runc containers)', () => {
  let tracer: Tracer;
  const containers: Container[] = [];
  let early: Container | undefined;
  const earlyId = hexId();

  before(async () => {
    if (process.env.VIGIL_ALLOW_NO_BPF === '1' && BPF.skip) return;
    assertPrerequisites();
    const missing = runcMissing();
    if (missing) throw new Error(`container tests need runc: ${missing}`);
    // Running before the tracer starts: found by the start-up walk of the cgroup tree.
    early = startContainer({ cgroupsPath: `/vigiltest/kubepods/besteffort/pod${randomUUID()}/crio-${earlyId}`, annotations: { 'io.kubernetes.pod.name': 'early-0', 'io.kubernetes.pod.namespace': 'jobs' } });
    containers.push(early);
    tracer = await Tracer.start(['-o', 'json']);
  });
  after(async () => {
    for (const c of containers) c.delete();
    await tracer?.stop();
  });

  function start(o: ContainerOptions): Container {
    const c = startContainer({ args: ['sleep', '60'], ...o });
    containers.push(c);
    return c;
  }

  /** Runs `cat /etc/hostname` inside and returns its exec event. */
  async function execInside(c: Container, expectId: string): Promise<TraceEvent> {
    const r = c.exec(['cat', '/etc/hostname']);
    assert.equal(r.status, 0, `runc exec ${c.id}: ${r.stderr}`);
    return tracer.waitFor((e) => e.kind === 'exec' && e.comm === 'cat' && ref(e)?.id === expectId, `exec of cat in ${expectId}`);
  }

  async function startedEvent(id: string): Promise<Lifecycle> {
    return lifecycle(await tracer.waitFor((e) => lifecycle(e)?.kind === 'container_start' && lifecycle(e)?.container.id === id, `container_start of ${id}`))!;
  }

  const SHAPES: Array<{ name: string; runtime: string; path: (id: string) => string | undefined; id?: 'runc' }> = [
    { name: 'docker (systemd driver)', runtime: 'docker', path: (id) => `/vigiltest/system.slice/docker-${id}.scope` },
    { name: 'docker (cgroupfs driver)', runtime: 'docker', path: (id) => `/vigiltest/docker/${id}` },
    {
      name: 'containerd / Kubernetes',
      runtime: 'containerd',
      path: (id) => `/vigiltest/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${randomUUID().replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`,
    },
    { name: 'CRI-O', runtime: 'cri-o', path: (id) => `/vigiltest/kubepods.slice/kubepods-burstable.slice/crio-${id}.scope` },
    { name: 'podman', runtime: 'podman', path: (id) => `/vigiltest/machine.slice/libpod-${id}.scope` },
    { name: 'plain runc (its default cgroup /<id>)', runtime: 'runc', path: () => undefined, id: 'runc' },
  ];

  for (const shape of SHAPES) {
    test(`${shape.name}: events inside carry the runtime and id`, BPF, async () => {
      const hex = hexId();
      const cgroupsPath = shape.path(hex);
      const c = start(cgroupsPath !== undefined ? { cgroupsPath } : {});
      const expectId = shape.id === 'runc' ? c.id : hex;
      if (cgroupsPath !== undefined) assert.equal(c.cgroupPath, cgroupsPath);
      const ev = await execInside(c, expectId);
      assert.equal(ref(ev)?.runtime, shape.runtime);
      assert.equal(ref(ev)?.id, expectId);
      assert.equal(ev.container && Object.keys(ev.container as object).includes('id'), true);
      const st = await startedEvent(expectId);
      assert.equal(st.container.runtime, shape.runtime);
      assert.equal(st.container.cgroupPath, c.cgroupPath);
      assert.equal(st.container.initPid, c.pid);
      // The container's own first program (sleep) carries it too.
      await tracer.waitFor((e) => e.kind === 'exec' && e.pid === c.pid && ref(e)?.id === expectId, `exec of sleep (pid ${c.pid})`);
    });
  }

  test('OCI annotations become pod labels (containerd CRI keys) and name the container', BPF, async () => {
    const hex = hexId();
    const podUid = randomUUID();
    const annotations = {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'api',
      'io.kubernetes.cri.image-name': 'registry.example/api:1.2.3',
      'io.kubernetes.cri.sandbox-name': 'api-7d9f-xk2',
      'io.kubernetes.cri.sandbox-namespace': 'payments',
      'io.kubernetes.cri.sandbox-uid': podUid,
    };
    const c = start({ cgroupsPath: `/vigiltest/kubepods.slice/kubepods-pod${podUid.replace(/-/g, '_')}.slice/cri-containerd-${hex}.scope`, annotations });
    const ev = await execInside(c, hex);
    assert.deepEqual(ref(ev), { id: hex, name: 'api', runtime: 'containerd', image: 'registry.example/api:1.2.3', pod: 'api-7d9f-xk2', namespace: 'payments' });
    const st = await startedEvent(hex);
    assert.equal(st.container.podUid, podUid);
    assert.equal(st.container.pod, 'api-7d9f-xk2');
    for (const [k, v] of Object.entries(annotations)) assert.equal(st.container.labels[k], v, `label ${k}`);
  });

  test('CRI-O / dockershim keys (io.kubernetes.pod.*) on a container running before the tracer started', BPF, async () => {
    const ev = await execInside(early!, earlyId);
    assert.equal(ref(ev)?.runtime, 'cri-o');
    assert.equal(ref(ev)?.pod, 'early-0');
    assert.equal(ref(ev)?.namespace, 'jobs');
  });

  test('a privileged container is recognised; an ordinary one is not', BPF, async () => {
    const privHex = hexId();
    const plainHex = hexId();
    const priv = start({ cgroupsPath: `/vigiltest/docker-${privHex}.scope`, privileged: true });
    const plain = start({ cgroupsPath: `/vigiltest/docker-${plainHex}.scope` });
    await execInside(priv, privHex);
    await execInside(plain, plainHex);
    const p = (await startedEvent(privHex)).container.posture;
    const q = (await startedEvent(plainHex)).container.posture;
    assert.ok(p && q, 'posture read from the init processes');
    assert.equal(p.privileged, true);
    assert.equal(q.privileged, false);
    assert.equal(q.hostPid, false);
    assert.equal(q.hostNet, false);
    assert.deepEqual(q.sensitiveMounts, []);
    assert.equal(q.uidMap, '0 0 4294967295');
  });

  test('a container sharing the host pid namespace (and one with host / and docker.sock mounted) is recognised', BPF, async () => {
    const hex = hexId();
    const c = start({
      cgroupsPath: `/vigiltest/docker-${hex}.scope`,
      hostPid: true,
      mounts: [
        { destination: '/host', source: '/', options: ['rbind', 'ro'] },
        { destination: '/var/run/docker.sock', source: '/dev/null', options: ['bind', 'ro'] },
      ],
    });
    const ev = await execInside(c, hex);
    // In the host pid namespace, the pid inside is the host pid.
    assert.equal(ev.vpid, ev.pid);
    const posture = (await startedEvent(hex)).container.posture;
    assert.ok(posture);
    assert.equal(posture.hostPid, true);
    assert.equal(posture.privileged, false);
    assert.ok(posture.sensitiveMounts.includes('/host'), `sensitive mounts: ${posture.sensitiveMounts.join(',')}`);
    assert.ok(posture.sensitiveMounts.includes('/var/run/docker.sock'), `sensitive mounts: ${posture.sensitiveMounts.join(',')}`);
  });

  test('container_stop when the container is deleted; host processes carry the host container', BPF, async () => {
    const hex = hexId();
    const c = start({ cgroupsPath: `/vigiltest/libpod_parent/libpod-${hex}` });
    await execInside(c, hex);
    c.delete();
    const stop = lifecycle(await tracer.waitFor((e) => lifecycle(e)?.kind === 'container_stop' && lifecycle(e)?.container.id === hex, `container_stop of ${hex}`))!;
    assert.equal(stop.container.runtime, 'podman');
    const r = await run('/bin/true', []);
    const ev = await tracer.waitForPid(r.pid, 'exec');
    assert.deepEqual(ref(ev), { id: 'host', name: 'host', runtime: 'host', image: '' });
  });

  test('every event printed carries a container object', BPF, () => {
    const without = tracer.events.filter((e) => !lifecycle(e) && (typeof e.container !== 'object' || e.container === null));
    assert.equal(without.length, 0, `events without container: ${JSON.stringify(without.slice(0, 3))}`);
    const unknown = tracer.events.filter((e) => ref(e)?.id === 'unknown');
    assert.equal(unknown.length, 0, `events with an unresolved cgroup: ${JSON.stringify(unknown.slice(0, 3))}`);
  });
});
