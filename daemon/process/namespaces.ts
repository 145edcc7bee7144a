// The host's namespaces, the reference for "shares the host's namespace" (ns.is_host, container
// posture, host-network containers). pid 1 is the host's init on a host and, with hostPID, in a
// pod; the daemon's own namespaces are only the fallback, because a hardened unit (PrivateTmp,
// ProtectSystem) or a pod gives vigild a mount, UTS or network namespace of its own, and comparing
// with those would let a container that enters the host's namespaces pass as not doing so.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { NsSet } from '../sensor/events.js';
import { NS_NAMES } from '../sensor/layout.js';

/** The link text of the host's namespace `name` (e.g. "net:[4026531840]"), or undefined. */
export function hostNsLink(procRoot: string, name: string): string | undefined {
  for (const pid of ['1', 'self']) {
    try {
      return readlinkSync(join(procRoot, pid, 'ns', name));
    } catch {
      // pid 1's links are closed to us (ptrace access mode, a sandbox): try the next reference.
    }
  }
  return undefined;
}

/** Inode numbers of the host's namespaces; undefined when not even the daemon's own are readable. */
export function readHostNs(procRoot: string): NsSet | undefined {
  const out = {} as NsSet;
  for (const n of NS_NAMES) {
    const link = hostNsLink(procRoot, n);
    if (link === undefined) return undefined;
    const m = /\[(\d+)\]/.exec(link);
    out[n] = m ? Number(m[1]) : 0;
  }
  return out;
}
