import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NS_NAMES } from '../sensor/layout.js';
import { hostNsLink, readHostNs } from './namespaces.js';

/** A fake /proc with ns links for the given pids: inode = base + index of the namespace. */
function fakeProc(pids: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'vgt-ns-'));
  for (const [pid, base] of Object.entries(pids)) {
    mkdirSync(join(root, pid, 'ns'), { recursive: true });
    NS_NAMES.forEach((n, i) => symlinkSync(`${n}:[${base + i}]`, join(root, pid, 'ns', n)));
  }
  return root;
}

test("the host's namespaces are pid 1's, not the daemon's own (a hardened unit or a pod has its own)", async () => {
  const root = fakeProc({ '1': 4026531000, self: 4026532000 });
  try {
    assert.equal(hostNsLink(root, 'mnt'), 'mnt:[4026531000]');
    assert.equal(hostNsLink(root, 'net'), `net:[${4026531000 + NS_NAMES.indexOf('net')}]`);
    assert.deepEqual(readHostNs(root), Object.fromEntries(NS_NAMES.map((n, i) => [n, 4026531000 + i])));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("where pid 1's links are closed, the daemon's own are the reference; none readable: undefined", async () => {
  const root = fakeProc({ self: 4026532000 });
  try {
    assert.equal(hostNsLink(root, 'uts'), `uts:[${4026532000 + NS_NAMES.indexOf('uts')}]`);
    assert.equal(readHostNs(root)?.mnt, 4026532000);
    assert.equal(readHostNs(join(root, 'nowhere')), undefined);
    assert.equal(hostNsLink(join(root, 'nowhere'), 'net'), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
