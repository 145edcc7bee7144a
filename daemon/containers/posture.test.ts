// Sensitive mounts from mountinfo: host paths found through the host's own mount table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPathOf, parseMountinfo, sensitiveMounts } from './posture.js';

const HOST = parseMountinfo(
  [
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '22 27 0:21 / /proc rw,relatime shared:2 - proc proc rw',
    '23 27 0:22 / /sys rw,relatime shared:3 - sysfs sysfs rw',
    '28 27 0:25 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755',
    '29 27 0:5 / /dev rw,nosuid shared:6 - devtmpfs udev rw',
  ].join('\n'),
);

const CONTAINER = parseMountinfo(
  [
    '69 45 254:0 /var/lib/vgt/rootfs / rw,relatime - ext4 /dev/vda rw',
    '70 69 0:41 / /proc rw,relatime - proc proc rw',
    '71 69 0:42 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k',
    '72 69 0:43 / /sys ro,nosuid - sysfs sysfs ro',
    '73 69 254:0 / /host ro,relatime - ext4 /dev/vda rw',
    '74 69 0:25 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw',
    '75 69 0:25 /user/1000 /data rw - tmpfs tmpfs rw',
    '76 69 254:0 /etc /hostetc rw - ext4 /dev/vda rw',
    '77 69 254:0 /etc/hosts /etc/hosts rw - ext4 /dev/vda rw',
    '78 69 0:44 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    '79 69 0:5 / /hostdev rw - devtmpfs udev rw',
    '80 69 0:21 / /hostproc rw - proc proc rw',
    '81 69 0:22 / /host/sys rw - sysfs sysfs rw',
    '82 69 254:0 /srv/data\\040dir /srv rw - ext4 /dev/vda rw',
  ].join('\n'),
);

test('host paths through the host mount table', () => {
  assert.equal(hostPathOf(CONTAINER[5]!, HOST), '/run/docker.sock');
  assert.equal(hostPathOf(CONTAINER[4]!, HOST), '/');
  assert.equal(hostPathOf(CONTAINER[13]!, HOST), '/srv/data dir');
  assert.equal(hostPathOf(CONTAINER[1]!, HOST), undefined); // the container's own proc
});

test('sensitive mounts: host /, runtime socket, /etc, writable cgroup and sysfs, devtmpfs, a proc outside /proc', () => {
  assert.deepEqual(sensitiveMounts(CONTAINER, HOST), ['/host', '/host/sys', '/hostdev', '/hostetc', '/hostproc', '/sys/fs/cgroup', '/var/run/docker.sock']);
});

test('an ordinary container has none', () => {
  assert.deepEqual(sensitiveMounts(CONTAINER.slice(0, 4), HOST), []);
});
