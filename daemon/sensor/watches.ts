// The watch table: which files and unix sockets produce file and connect records. Default entries
// have stable ids (1..999) so rules and alerts can name them; user entries get ids from 1000 up.
import { ConfigError } from '../core/errors.js';
import { VG_IDENT_PATH_MAX, VG_NAME_MAX, VG_WATCH_PATH_MAX } from './layout.js';
import { FS_MAGICS } from './names.js';
import type { WatchEntry, WatchKind } from './native.js';

export const USER_WATCH_ID_BASE = 1000;

/**
 * Escape and tampering targets. Name entries match the last path component anywhere, which covers
 * cgroup v1 release_agent/notify_on_release under /sys/fs/cgroup without watching that hot tree,
 * and runtime sockets wherever a runtime or a bind mount puts them. Paths the kernel reports are
 * resolved (no symlinks): /var/run/docker.sock is /run/docker.sock on most hosts, which the
 * docker.sock name entry covers; the exact entry is kept for hosts where /var/run is a directory.
 */
export const DEFAULT_WATCHES: readonly WatchEntry[] = Object.freeze([
  { id: 1, kind: 'name', path: 'release_agent' },
  { id: 2, kind: 'name', path: 'notify_on_release' },
  { id: 3, kind: 'name', path: 'core_pattern' },
  { id: 4, kind: 'name', path: 'docker.sock' },
  { id: 5, kind: 'name', path: 'containerd.sock' },
  { id: 6, kind: 'name', path: 'crio.sock' },
  { id: 7, kind: 'name', path: 'podman.sock' },
  { id: 8, kind: 'name', path: 'sysrq-trigger' },
  { id: 9, kind: 'exact', path: '/proc/sys/kernel/modprobe' },
  { id: 10, kind: 'prefix', path: '/proc/sys/' },
  { id: 11, kind: 'exact', path: '/etc/shadow' },
  { id: 12, kind: 'exact', path: '/etc/sudoers' },
  { id: 13, kind: 'prefix', path: '/etc/sudoers.d/' },
  { id: 14, kind: 'prefix', path: '/root/.ssh/' },
  { id: 15, kind: 'exact', path: '/etc/ld.so.preload' },
  { id: 16, kind: 'exact', path: '/var/run/docker.sock' },
  { id: 17, kind: 'exact', path: '/run/containerd/containerd.sock' },
  // Identities: the same targets whatever path reaches them (core_pattern bind-mounted onto another
  // name, the host's /etc mounted at /host-etc, a chroot into the host's /).
  { id: 18, kind: 'fs-name', path: 'release_agent', magic: FS_MAGICS.get('cgroup')! },
  { id: 19, kind: 'fs-name', path: 'notify_on_release', magic: FS_MAGICS.get('cgroup')! },
  { id: 20, kind: 'fs-prefix', path: '/sys/', magic: FS_MAGICS.get('proc')! },
  { id: 21, kind: 'fs-exact', path: '/sysrq-trigger', magic: FS_MAGICS.get('proc')! },
  { id: 22, kind: 'fs-exact', path: '/kernel/uevent_helper', magic: FS_MAGICS.get('sysfs')! },
  { id: 23, kind: 'fs-exact', path: '/register', magic: FS_MAGICS.get('binfmt_misc')! },
  { id: 24, kind: 'fs-exact', path: '/etc/shadow' },
  { id: 25, kind: 'fs-exact', path: '/etc/gshadow' },
  { id: 26, kind: 'fs-exact', path: '/etc/sudoers' },
  { id: 27, kind: 'fs-prefix', path: '/root/.ssh/' },
  { id: 28, kind: 'fs-prefix', path: '/var/lib/kubelet/pki/' },
  { id: 29, kind: 'fs-prefix', path: '/etc/kubernetes/pki/' },
] satisfies WatchEntry[]);

const KINDS: readonly WatchKind[] = [
  'exact',
  'prefix',
  'name',
  'fs-exact',
  'fs-prefix',
  'fs-name',
  'suffix',
  'traversal',
  'write-exact',
  'write-prefix',
  'proc-link',
];

/** Checks one entry against what the probe's maps can hold. */
export function validateWatch(w: WatchEntry): void {
  if (!KINDS.includes(w.kind)) throw new ConfigError(`watch ${JSON.stringify(w.path)}: unknown kind ${JSON.stringify(w.kind)}`);
  if (!Number.isInteger(w.id) || w.id <= 0 || w.id > 0xffffffff) throw new ConfigError(`watch ${w.kind}:${w.path}: bad id ${w.id}`);
  const bytes = Buffer.byteLength(w.path);
  if (w.magic !== undefined && (!Number.isInteger(w.magic) || w.magic < 0 || w.magic > 0xffffffff || !w.kind.startsWith('fs-')))
    throw new ConfigError(`watch ${w.kind}:${w.path}: a magic (${w.magic}) belongs to fs-* kinds, as an unsigned 32-bit number`);
  if (w.kind.startsWith('fs-') && w.kind !== 'fs-name' && bytes >= VG_IDENT_PATH_MAX)
    throw new ConfigError(`watch ${w.kind}:${w.path}: longer than ${VG_IDENT_PATH_MAX - 1} bytes`);
  if (w.kind === 'suffix') {
    if (bytes === 0 || bytes > VG_NAME_MAX)
      throw new ConfigError(`watch suffix:${w.path}: 1 to ${VG_NAME_MAX} bytes (the probe compares the path's last ${VG_NAME_MAX})`);
  } else if (w.kind === 'traversal') {
    if (w.path !== '../') throw new ConfigError(`watch traversal:${w.path}: the traversal class is "traversal:../" (the probe looks for that string)`);
  } else if (w.kind === 'proc-link') {
    if (w.path !== '/proc/') throw new ConfigError(`watch proc-link:${w.path}: the proc-link class is "proc-link:/proc/" (the probe looks for that prefix)`);
  } else if (w.kind === 'name' || w.kind === 'fs-name') {
    if (bytes === 0 || w.path.includes('/') || w.path === '.' || w.path === '..') throw new ConfigError(`watch name:${w.path}: a name is one path component`);
    if (bytes >= VG_NAME_MAX) throw new ConfigError(`watch name:${w.path}: longer than ${VG_NAME_MAX - 1} bytes`);
  } else {
    if (!w.path.startsWith('/')) throw new ConfigError(`watch ${w.kind}:${w.path}: the path must be absolute`);
    if (bytes >= VG_WATCH_PATH_MAX) throw new ConfigError(`watch ${w.kind}:${w.path}: longer than ${VG_WATCH_PATH_MAX - 1} bytes`);
    if (w.path.split('/').some((c) => c === '.' || c === '..'))
      throw new ConfigError(`watch ${w.kind}:${w.path}: no "." or ".." components (the kernel reports resolved paths)`);
  }
}

/**
 * Parses "exact:/path", "prefix:/dir/" or "name:file" (the --watch syntax), and the identity forms
 * "fs-exact:/path", "fs-prefix:/dir/", "fs-name:file", each optionally "@fstype" after the kind
 * ("fs-exact@proc:/sysrq-trigger").
 */
export function parseWatch(spec: string, id: number): WatchEntry {
  const colon = spec.indexOf(':');
  const head = colon > 0 ? spec.slice(0, colon) : '';
  const [kind = '', fs] = head.split('@', 2);
  if (!(KINDS as readonly string[]).includes(kind) || (fs !== undefined && !kind.startsWith('fs-')))
    throw new ConfigError(
      `watch ${JSON.stringify(spec)}: expected exact:/path, prefix:/dir/, name:file, write-exact:/path, write-prefix:/dir/, suffix:end, traversal:../, proc-link:/proc/ or fs-exact[@fstype]:/path, fs-prefix[@fstype]:/dir/, fs-name[@fstype]:file`,
    );
  const w: WatchEntry = { kind: kind as WatchKind, path: spec.slice(colon + 1), id };
  if (fs !== undefined) {
    const magic = FS_MAGICS.get(fs);
    if (magic === undefined)
      throw new ConfigError(`watch ${JSON.stringify(spec)}: unknown filesystem type ${JSON.stringify(fs)} (known: ${[...FS_MAGICS.keys()].join(', ')})`);
    w.magic = magic;
  }
  validateWatch(w);
  return w;
}

/** Defaults (unless disabled) plus user entries; duplicates (same kind and path) keep the first id. */
export function watchTable(user: readonly WatchEntry[], withDefaults = true): WatchEntry[] {
  const out: WatchEntry[] = [];
  const seen = new Set<string>();
  for (const w of [...(withDefaults ? DEFAULT_WATCHES : []), ...user]) {
    validateWatch(w);
    const key = `${w.kind}@${w.magic ?? 0}:${w.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...w });
  }
  return withoutCovered(out);
}

/**
 * Drops path entries another entry already sends, which the probe's tries need: a longer exact
 * entry is what an LPM lookup finds first, and it shadows the prefix above it for the paths it is a
 * prefix of (/etc/shadow would hide /etc/shadow- from a prefix /etc/). So an exact entry below a
 * prefix of its trie goes, and a write entry goes when a read entry (which sends writes too) or a
 * write prefix covers it. Watch ids are only echoed in records, so no rule notices.
 */
export function withoutCovered(table: readonly WatchEntry[]): WatchEntry[] {
  const readPrefixes = table.filter((w) => w.kind === 'prefix').map((w) => w.path);
  const writePrefixes = table.filter((w) => w.kind === 'write-prefix').map((w) => w.path);
  const readExact = new Set(table.filter((w) => w.kind === 'exact').map((w) => w.path));
  const under = (prefixes: readonly string[], w: WatchEntry, strict: boolean): boolean =>
    prefixes.some((p) => w.path.startsWith(p) && (!strict || p !== w.path));
  return table.filter((w) => {
    switch (w.kind) {
      case 'exact':
        return !under(readPrefixes, w, false);
      case 'write-exact':
        return !readExact.has(w.path) && !under(readPrefixes, w, false) && !under(writePrefixes, w, false);
      case 'write-prefix':
        return !under(readPrefixes, w, false) && !under(writePrefixes, w, true);
      default:
        return true;
    }
  });
}
