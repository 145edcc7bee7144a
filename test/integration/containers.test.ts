// Container identity end to end: real runc containers (test/runc.ts) whose cgroup paths are shaped as
// docker, containerd/Kubernetes, CRI-O, podman and plain runc make them; `vigild trace -o json` must
// attribute the events of a process inside to that container (runtime and id), print
// container_start (with metadata from the OCI annotations and posture) and container_stop, and give
// host processes the host container. Every identity and posture check runs twice: with runc's
// bootstrap exec'ing wherever scheduling puts it, and forced to exec inside the container's cgroup
// (test/runc.ts), the two orders a monitor sees on a real host.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BOOTSTRAP_MODES, hexId, runcMissing, startContainer, type Container, type ContainerOptions } from '../runc.js';
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
    posture?: {
      privileged: boolean;
      hostPid: boolean;
      hostNet: boolean;
      hostIpc: boolean;
      hostMnt: boolean;
      hostUts: boolean;
      sensitiveMounts: string[];
      uidMap: string;
      sources: string[];
      mismatches: string[];
    };
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
const lifecycle = (e: TraceEvent): Lifecycle | undefined =>
  e.kind === 'container_start' || e.kind === 'container_stop' ? (e as unknown as Lifecycle) : undefined;

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
    early = startContainer({
      cgroupsPath: `/vigiltest/kubepods/besteffort/pod${randomUUID()}/crio-${earlyId}`,
      annotations: { 'io.kubernetes.pod.name': 'early-0', 'io.kubernetes.pod.namespace': 'jobs' },
    });
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

  const SHAPES: Array<{
    name: string;
    runtime: string;
    path: (id: string) => string | undefined;
    id?: 'runc';
    root?: string;
    annotations?: Record<string, string>;
  }> = [
    { name: 'docker (systemd driver)', runtime: 'docker', path: (id) => `/vigiltest/system.slice/docker-${id}.scope` },
    { name: 'docker (cgroupfs driver)', runtime: 'docker', path: (id) => `/vigiltest/docker/${id}` },
    {
      name: 'containerd / Kubernetes',
      runtime: 'containerd',
      path: (id) =>
        `/vigiltest/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${randomUUID().replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`,
    },
    { name: 'CRI-O', runtime: 'cri-o', path: (id) => `/vigiltest/kubepods.slice/kubepods-burstable.slice/crio-${id}.scope` },
    { name: 'podman', runtime: 'podman', path: (id) => `/vigiltest/machine.slice/libpod-${id}.scope` },
    { name: 'plain runc (its default cgroup /<id>)', runtime: 'runc', path: () => undefined, id: 'runc' },
    // Kubernetes with the cgroupfs driver: the path names no runtime; the state's root (containerd
    // runs runc under /run/containerd/runc/<namespace>) or CRI-O's annotations do.
    {
      name: 'Kubernetes cgroupfs, containerd',
      runtime: 'containerd',
      path: (id) => `/vigiltest/kubepods/burstable/pod${randomUUID()}/${id}`,
      root: '/run/containerd/runc/k8s.io',
    },
    {
      name: 'Kubernetes cgroupfs, CRI-O',
      runtime: 'cri-o',
      path: (id) => `/vigiltest/kubepods/besteffort/pod${randomUUID()}/${id}`,
      annotations: { 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.pod.name': 'web-0' },
    },
  ];

  for (const mode of BOOTSTRAP_MODES)
    for (const shape of SHAPES) {
      test(`${shape.name} (bootstrap ${mode}): events inside carry the runtime and id; start at its own program, unprivileged`, BPF, async () => {
        const hex = hexId();
        const cgroupsPath = shape.path(hex);
        const c = start({
          bootstrap: mode,
          ...(cgroupsPath !== undefined ? { cgroupsPath } : {}),
          ...(shape.root ? { root: shape.root } : {}),
          ...(shape.annotations ? { annotations: shape.annotations } : {}),
        });
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
        assertOrdinary(st.container.posture, `${shape.name} (${mode})`);
        // The container's own first program (sleep) carries it too.
        await tracer.waitFor((e) => e.kind === 'exec' && e.pid === c.pid && ref(e)?.id === expectId, `exec of sleep (pid ${c.pid})`);
      });
    }

  /** An ordinary runc container: its own namespaces but user, runc's three capabilities, no host mounts, read from both sources. */
  function assertOrdinary(p: Lifecycle['container']['posture'], what: string): void {
    assert.ok(p, `${what}: posture read`);
    const flags = { privileged: p.privileged, hostPid: p.hostPid, hostNet: p.hostNet, hostIpc: p.hostIpc, hostMnt: p.hostMnt, hostUts: p.hostUts };
    assert.deepEqual(flags, { privileged: false, hostPid: false, hostNet: false, hostIpc: false, hostMnt: false, hostUts: false }, what);
    assert.deepEqual(p.sensitiveMounts, [], `${what}: sensitive mounts`);
    assert.deepEqual(p.sources, ['runtime', 'kernel'], `${what}: sources`);
    assert.deepEqual(p.mismatches, [], `${what}: mismatches`);
    assert.equal(p.uidMap, '0 0 4294967295');
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

  for (const mode of BOOTSTRAP_MODES) {
    test(`a privileged container is recognised; an ordinary one is not (bootstrap ${mode})`, BPF, async () => {
      const privHex = hexId();
      const plainHex = hexId();
      const priv = start({ bootstrap: mode, cgroupsPath: `/vigiltest/docker-${privHex}.scope`, privileged: true });
      const plain = start({ bootstrap: mode, cgroupsPath: `/vigiltest/docker-${plainHex}.scope` });
      await execInside(priv, privHex);
      await execInside(plain, plainHex);
      const p = (await startedEvent(privHex)).container.posture;
      assert.ok(p, 'posture read from the init process');
      assert.equal(p.privileged, true);
      assert.equal(p.hostPid, false);
      assert.deepEqual(p.mismatches, []);
      assertOrdinary((await startedEvent(plainHex)).container.posture, `ordinary (${mode})`);
    });

    test(`a container sharing the host pid namespace (and one with host / and docker.sock mounted) is recognised (bootstrap ${mode})`, BPF, async () => {
      const hex = hexId();
      const c = start({
        bootstrap: mode,
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
      assert.equal(posture.hostNet, false);
      assert.equal(posture.hostMnt, false);
      assert.ok(posture.sensitiveMounts.includes('/host'), `sensitive mounts: ${posture.sensitiveMounts.join(',')}`);
      assert.ok(posture.sensitiveMounts.includes('/var/run/docker.sock'), `sensitive mounts: ${posture.sensitiveMounts.join(',')}`);
      assert.deepEqual(posture.sources, ['runtime', 'kernel']);
      assert.deepEqual(posture.mismatches, [], 'the record and the kernel agree (submounts of the /host rbind are its own)');
    });
  }

  test('container_stop when the container is deleted; host processes carry the host container', BPF, async () => {
    const hex = hexId();
    const c = start({ cgroupsPath: `/vigiltest/libpod_parent/libpod-${hex}` });
    await execInside(c, hex);
    c.delete();
    const stop = lifecycle(
      await tracer.waitFor((e) => lifecycle(e)?.kind === 'container_stop' && lifecycle(e)?.container.id === hex, `container_stop of ${hex}`),
    )!;
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
