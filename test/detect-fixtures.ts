// Fixtures the detector's unit tests share: one set of namespace inodes and root credentials with
// the capabilities a test needs.
import type { Creds } from '../daemon/sensor/events.js';

/** Namespace inodes of a test event (tests override mnt and pid for a container's own). */
export const NS = { mnt: 1, pid: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7 } as const;

/** Root's credentials with the given effective and permitted capability mask. */
export function rootCreds(caps = '0x0'): Creds {
  return { uid: 0, euid: 0, suid: 0, fsuid: 0, gid: 0, egid: 0, sgid: 0, fsgid: 0, cap_effective: caps, cap_permitted: caps, cap_inheritable: '0x0' };
}
