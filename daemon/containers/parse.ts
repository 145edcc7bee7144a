// cgroup path -> {runtime, id}: a table of path shapes, tried on each component from the deepest up
// (a cgroup below a container's, e.g. podman's ".../libpod-<id>.scope/container", belongs to it).
// Pure: shapes only. A path no shape knows may still be a container the runtimes' state on disk
// names (plain runc, `ctr`); the registry asks them (runtimes.ts).
import { ConfigError } from '../core/errors.js';
import { linearRegExp, RegexError } from '../core/regex.js';
import type { Runtime } from '../core/container.js';

export interface CgroupMatch {
  runtime: Runtime;
  id: string;
  /** The container's own cgroup: the path up to the component that matched. */
  containerPath: string;
  /** A name the path itself gives (LXC, systemd-nspawn). */
  name?: string;
}

/** A shape from the configuration: a regular expression (linear-time engine, daemon/core/regex.ts) on the whole path with an `id` group. */
export interface PathPattern {
  /** e.g. "/mycorp/(?<id>[0-9a-f]{12,})$"; the match ends the container's own cgroup. */
  regex: string;
  runtime: Runtime;
}

interface Rule {
  runtime: Runtime;
  /** Matches one component; group 1 is the id. */
  re: RegExp;
  /** The parent component must satisfy this (cgroupfs layouts: /docker/<id>, /lxc/<name>). */
  parent?: RegExp;
  /** Some ancestor component must satisfy this. */
  ancestor?: RegExp;
  /** The id is a name (may need systemd unescaping). */
  named?: boolean;
}

const HEX64 = '([0-9a-f]{64})';

/**
 * The shapes, most specific first. systemd drivers name scopes "<prefix>-<id>.scope"; cgroupfs drivers
 * use a directory per container under a runtime's parent. Monitors (conmon, lxc.monitor) are not
 * containers and match nothing.
 */
export const RULES: readonly Rule[] = [
  // docker, systemd driver: /system.slice/docker-<id>.scope
  { runtime: 'docker', re: new RegExp(`^docker-${HEX64}\\.scope$`) },
  // docker, cgroupfs driver: /docker/<id>
  { runtime: 'docker', re: new RegExp(`^${HEX64}$`), parent: /^docker$/ },
  // containerd CRI (Kubernetes), systemd driver: .../kubepods-...-pod<uid>.slice/cri-containerd-<id>.scope
  { runtime: 'containerd', re: new RegExp(`^cri-containerd-${HEX64}\\.scope$`) },
  // CRI-O, systemd driver: crio-<id>.scope; cgroupfs driver: .../pod<uid>/crio-<id>. Not crio-conmon-<id>.
  { runtime: 'cri-o', re: new RegExp(`^crio-${HEX64}(?:\\.scope)?$`) },
  // podman: libpod-<id>.scope (systemd) or /libpod_parent/libpod-<id> (cgroupfs). Not libpod-conmon-<id>.
  { runtime: 'podman', re: new RegExp(`^libpod-${HEX64}(?:\\.scope)?$`) },
  // Kubernetes, cgroupfs driver: /kubepods/<qos>/pod<uid>/<id> names no runtime; the registry reads it
  // from disk: a state under containerd's root (/run/containerd/runc/k8s.io) is containerd's, one under
  // docker's is docker's (cri-dockerd), one under /run/runc with io.kubernetes.cri-o.* annotations is
  // CRI-O's, else plain runc. (The systemd driver's kubepods shapes name theirs: cri-containerd-, crio-, docker-.)
  { runtime: 'unknown', re: new RegExp(`^${HEX64}$`), parent: /^pod[0-9a-f_-]{32,40}$/, ancestor: /^kubepods/ },
  // LXC 4+: /lxc.payload.<name>; older: /lxc.payload/<name>, /lxc/<name>.
  { runtime: 'lxc', re: /^lxc\.payload\.(.+)$/, named: true },
  { runtime: 'lxc', re: /^(?!lxc\.monitor)(.+)$/, parent: /^lxc(?:\.payload)?$/, named: true },
  // systemd-nspawn (and machinectl): /machine.slice/machine-<name>.scope
  { runtime: 'systemd-nspawn', re: /^machine-(.+)\.scope$/, parent: /^machine\.slice$/, named: true },
  // runc's own systemd driver default: runc-<id>.scope
  { runtime: 'runc', re: /^runc-(.+)\.scope$/, named: true },
];

/** systemd unit name escaping: "\x2d" -> "-". */
export function systemdUnescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function compile(patterns: readonly PathPattern[]): Array<{ re: RegExp; runtime: Runtime }> {
  return patterns.map((p, i) => {
    let re: RegExp;
    try {
      // from the config file: run on the linear-time engine like every regex a user writes
      re = linearRegExp(p.regex);
    } catch (err) {
      if (!(err instanceof RegexError)) throw err;
      throw new ConfigError(`containers.patterns[${i}]: invalid regular expression ${JSON.stringify(p.regex)}: ${err.reason}`);
    }
    if (!/\(\?<id>/.test(p.regex)) throw new ConfigError(`containers.patterns[${i}]: ${JSON.stringify(p.regex)} has no (?<id>...) group`);
    return { re, runtime: p.runtime };
  });
}

export class CgroupPathParser {
  private readonly patterns: Array<{ re: RegExp; runtime: Runtime }>;

  /** Throws ConfigError (VIGIL_CONFIG) for a pattern that is not a regular expression with an id group. */
  constructor(patterns: readonly PathPattern[] = []) {
    this.patterns = compile(patterns);
  }

  /** The container a cgroup path belongs to, or undefined (host, or a shape only the disk knows). */
  parse(path: string): CgroupMatch | undefined {
    for (const p of this.patterns) {
      const m = p.re.exec(path);
      const id = m?.groups?.id;
      if (m && id) return { runtime: p.runtime, id, containerPath: path.slice(0, m.index + m[0].length) || '/' };
    }
    const parts = path.split('/').filter(Boolean);
    for (let i = parts.length - 1; i >= 0; i--) {
      const comp = parts[i]!;
      const parent = i > 0 ? parts[i - 1] : undefined;
      for (const r of RULES) {
        const m = r.re.exec(comp);
        if (!m) continue;
        if (r.parent && !(parent !== undefined && r.parent.test(parent))) continue;
        if (r.ancestor && !parts.slice(0, i).some((a) => r.ancestor!.test(a))) continue;
        const raw = m[1]!;
        const id = r.named ? systemdUnescape(raw) : raw;
        const out: CgroupMatch = { runtime: r.runtime, id, containerPath: '/' + parts.slice(0, i + 1).join('/') };
        if (r.named) out.name = id;
        return out;
      }
    }
    return undefined;
  }
}
