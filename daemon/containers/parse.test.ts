// cgroup path shapes: a table of paths as each runtime and driver makes them, and what they resolve to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../core/errors.js';
import { CgroupPathParser, systemdUnescape } from './parse.js';

const H = 'a'.repeat(40) + '0123456789abcdef01234567';
const H2 = 'f'.repeat(64);

/** [path, runtime, id, container cgroup path] or [path, undefined] for host / unknown shapes. */
const CASES: Array<[string, string | undefined, string?, string?]> = [
  [`/system.slice/docker-${H}.scope`, 'docker', H, `/system.slice/docker-${H}.scope`],
  [`/docker/${H}`, 'docker', H, `/docker/${H}`],
  [`/docker/${H}/nested/child`, 'docker', H, `/docker/${H}`],
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd_5678_90ab_cdef_1234567890ab.slice/cri-containerd-${H}.scope`, 'containerd', H],
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podabc.slice/crio-${H}.scope`, 'cri-o', H],
  [`/kubepods/besteffort/pod1234abcd-5678-90ab-cdef-1234567890ab/crio-${H}`, 'cri-o', H],
  [`/kubepods.slice/kubepods-podabc.slice/crio-conmon-${H}.scope`, undefined],
  [`/kubepods/burstable/pod1234abcd-5678-90ab-cdef-1234567890ab/${H}`, 'unknown', H],
  [`/machine.slice/libpod-${H}.scope`, 'podman', H],
  [
    `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${H}.scope/container`,
    'podman',
    H,
    `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${H}.scope`,
  ],
  [`/libpod_parent/libpod-${H}`, 'podman', H],
  [`/machine.slice/libpod-conmon-${H}.scope`, undefined],
  ['/lxc.payload.web1', 'lxc', 'web1'],
  ['/lxc/web2', 'lxc', 'web2'],
  ['/lxc.monitor.web1', undefined],
  ['/machine.slice/machine-debian\\x2dbox.scope', 'systemd-nspawn', 'debian-box', '/machine.slice/machine-debian\\x2dbox.scope'],
  ['/system.slice/runc-myapp.scope', 'runc', 'myapp'],
  ['/', undefined],
  ['/user.slice/user-1000.slice/session-3.scope', undefined],
  ['/system.slice/containerd.service', undefined],
  [`/system.slice/docker-${H.slice(0, 12)}.scope`, undefined],
  [`/${H2}`, undefined], // a bare id: only the runtimes' state can say (registry)
];

for (const [path, runtime, id, containerPath] of CASES) {
  test(`parse ${path.length > 70 ? path.slice(0, 67) + '...' : path}`, () => {
    const m = new CgroupPathParser().parse(path);
    if (runtime === undefined) {
      assert.equal(m, undefined);
      return;
    }
    assert.ok(m, 'a match');
    assert.equal(m.runtime, runtime);
    assert.equal(m.id, id);
    if (containerPath !== undefined) assert.equal(m.containerPath, containerPath);
    else assert.ok(path.startsWith(m.containerPath) && m.containerPath.includes(id!), m.containerPath);
  });
}

test('config patterns come first and must have an id group', () => {
  const p = new CgroupPathParser([{ regex: '^/mycorp/jobs/(?<id>[0-9a-z]+)', runtime: 'runc' }]);
  assert.deepEqual(p.parse('/mycorp/jobs/x42/sub'), { runtime: 'runc', id: 'x42', containerPath: '/mycorp/jobs/x42' });
  assert.equal(p.parse(`/docker/${H}`)?.runtime, 'docker');
  for (const bad of [
    { regex: '(', runtime: 'runc' as const },
    { regex: '^/x/(.+)$', runtime: 'runc' as const },
  ]) {
    assert.throws(
      () => new CgroupPathParser([bad]),
      (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_CONFIG',
    );
  }
});

test('config patterns run in linear time: hostile shapes answer, non-linear ones are refused at load', () => {
  const p = new CgroupPathParser([{ regex: '^/(?:a+)+/(?<id>x)$', runtime: 'runc' }]);
  assert.equal(p.parse('/' + 'a'.repeat(4096) + '/y'), undefined);
  assert.equal(p.parse('/' + 'a'.repeat(4096) + '/x')?.id, 'x');
  // [regex, what the message names]
  const REFUSED: Array<[string, string]> = [
    ['^/(?<id>a)(b)\\2$', 'backreferences'],
    ['^/(?<id>a)\\k<id>$', 'backreferences'],
    ['^/(?=x)(?<id>.+)$', 'lookahead'],
    ['^/(?<id>[0-9a-f]{64})$', 'counted repetitions above 16'],
  ];
  for (const [regex, why] of REFUSED) {
    assert.throws(
      () => new CgroupPathParser([{ regex, runtime: 'runc' }]),
      (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_CONFIG' && e.message.includes(why),
      regex,
    );
  }
});

test('systemd unescaping', () => {
  assert.equal(systemdUnescape('a\\x2db\\x2fc'), 'a-b/c');
});
