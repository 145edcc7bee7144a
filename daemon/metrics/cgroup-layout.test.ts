// Layout detection from mountinfo: pure v2, hybrid (this machine), pure v1 with co-mounted
// controllers, and which hierarchy serves each resource.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { layoutFromMounts, parseMountinfo, procsRoots, sourceOf } from './cgroup-layout.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const PURE_V2 = `25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
26 22 0:6 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime shared:5 - securityfs securityfs rw
`;
const PURE_V1 = `30 24 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
33 24 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
34 24 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
35 24 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
36 24 0:32 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,blkio
37 24 0:33 /docker/abc /sys/fs/cgroup/memory/inner rw - cgroup cgroup rw,memory
`;

describe('mountinfo', () => {
  test('fields, optional fields and escapes', () => {
    const [m] = parseMountinfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    assert.deepEqual(m, { root: '/mnt1', mountPoint: '/mnt two', fsType: 'ext3', superOptions: ['rw', 'errors=continue'] });
  });
  test('short lines are skipped', () => assert.deepEqual(parseMountinfo('1 2 3\n\n'), []));
});

describe('layouts', () => {
  test('hybrid: v1 controllers, controller-less v2 tree at unified', () => {
    const l = layoutFromMounts(parseMountinfo(HYBRID), '');
    assert.equal(l.mode, 'hybrid');
    assert.equal(l.v2Root, '/sys/fs/cgroup/unified');
    assert.deepEqual(sourceOf(l, 'memory'), { version: 1, root: '/sys/fs/cgroup/memory' });
    assert.deepEqual(sourceOf(l, 'cpu'), { version: 1, root: '/sys/fs/cgroup/cpu' });
    assert.deepEqual(sourceOf(l, 'cpuacct'), { version: 1, root: '/sys/fs/cgroup/cpuacct' });
    assert.deepEqual(sourceOf(l, 'io'), { version: 1, root: '/sys/fs/cgroup/blkio' });
    assert.deepEqual(sourceOf(l, 'pids'), { version: 1, root: '/sys/fs/cgroup/pids' });
    assert.deepEqual(procsRoots(l), [
      '/sys/fs/cgroup/pids',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/cpu',
      '/sys/fs/cgroup/cpuacct',
      '/sys/fs/cgroup/systemd',
      '/sys/fs/cgroup/unified',
    ]);
  });
  test('hybrid with memory moved to the v2 tree', () => {
    const mounts = parseMountinfo(HYBRID).filter((m) => m.mountPoint !== '/sys/fs/cgroup/memory');
    const l = layoutFromMounts(mounts, 'memory\n');
    assert.deepEqual(sourceOf(l, 'memory'), { version: 2, root: '/sys/fs/cgroup/unified' });
    assert.deepEqual(sourceOf(l, 'pids'), { version: 1, root: '/sys/fs/cgroup/pids' });
  });
  test('pure v2', () => {
    const l = layoutFromMounts(parseMountinfo(PURE_V2), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    assert.equal(l.mode, 'v2');
    assert.equal(l.v2Root, '/sys/fs/cgroup');
    for (const r of ['cpu', 'cpuacct', 'memory', 'pids', 'io'] as const) assert.deepEqual(sourceOf(l, r), { version: 2, root: '/sys/fs/cgroup' }, r);
    assert.deepEqual(procsRoots(l), ['/sys/fs/cgroup']);
  });
  test('pure v2 whose root enables no controller: CPU usage still from cpu.stat', () => {
    const l = layoutFromMounts(parseMountinfo(PURE_V2), '');
    assert.deepEqual(sourceOf(l, 'cpuacct'), { version: 2, root: '/sys/fs/cgroup' });
    assert.equal(sourceOf(l, 'memory'), undefined);
  });
  test('pure v1, cpu and cpuacct co-mounted; sub-tree mounts ignored', () => {
    const l = layoutFromMounts(parseMountinfo(PURE_V1));
    assert.equal(l.mode, 'v1');
    assert.equal(l.v2Root, undefined);
    assert.deepEqual(sourceOf(l, 'cpu'), { version: 1, root: '/sys/fs/cgroup/cpu,cpuacct' });
    assert.deepEqual(sourceOf(l, 'cpuacct'), { version: 1, root: '/sys/fs/cgroup/cpu,cpuacct' });
    assert.deepEqual(sourceOf(l, 'memory'), { version: 1, root: '/sys/fs/cgroup/memory' });
    assert.equal(l.v1Roots.get('name=systemd'), '/sys/fs/cgroup/systemd');
    assert.equal(l.v1Roots.has('xattr'), false);
  });
  test('no cgroup mounted', () => assert.equal(layoutFromMounts([]).mode, 'none'));
});
