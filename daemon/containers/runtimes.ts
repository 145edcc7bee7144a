// Container metadata from the runtimes' own state on disk, never guessed:
//  - runc state (<root>/<id>/state.json: init pid, cgroup paths, config.labels with "bundle=<dir>"),
//    under runc's roots: /run/runc (runc, CRI-O), /run/containerd/runc/<namespace> (containerd; the
//    "moby" namespace is docker's), /run/docker/runtime-runc/<namespace> (older docker);
//  - the bundle's OCI config.json: annotations, where Kubernetes runtimes record pod name, namespace,
//    uid, container name and image (io.kubernetes.* keys);
//  - docker's /var/lib/docker/containers/<id>/config.v2.json: name, image, labels.
// Every reader returns undefined (or skips the entry) when a file is missing or not what it expects.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Runtime } from '../core/container.js';

/** A runc state directory root and the runtime whose containers it holds. */
export interface StateRoot {
  dir: string;
  runtime: Runtime;
  /** Containers live one level deeper, under a namespace directory (containerd, docker's runtime-runc). */
  namespaced?: boolean;
}

export const DEFAULT_STATE_ROOTS: readonly StateRoot[] = [
  { dir: '/run/runc', runtime: 'runc' },
  { dir: '/run/containerd/runc', runtime: 'containerd', namespaced: true },
  { dir: '/run/docker/runtime-runc', runtime: 'docker', namespaced: true },
];

export interface RuntimeState {
  id: string;
  /** The state directory (…/<id>). */
  dir: string;
  runtime: Runtime;
  initPid?: number;
  created?: string;
  bundle?: string;
  /** The container's v2 cgroup path relative to the v2 mount, when the state names it. */
  v2Path?: string;
  /** config.cgroups.path (cgroupfs driver: the path in every hierarchy). */
  cgroupsPath?: string;
  /** config.labels as key -> value (runc copies the annotations there, plus "bundle"). */
  labels: Record<string, string>;
  /** The parts of the container's configuration that make its posture (runc's libcontainer config). */
  spec?: RuntimeSpec;
}

/** What the runtime was told to give the container: the source of its posture before the kernel confirms it. */
export interface RuntimeSpec {
  /** Namespaces the container gets ("NEWPID", "NEWNET", ...); `path` set when it joins an existing one. */
  namespaces: Array<{ type: string; path: string }>;
  /** Capability names ("CAP_KILL") of the bounding and effective sets. */
  bounding: string[];
  effective: string[];
  /** Mounts as runc makes them: `device` is the file system type or "bind"; `flags` the MS_* flags. */
  mounts: Array<{ source: string; destination: string; device: string; flags: number }>;
  /** The root file system's path on the host. */
  rootfs: string;
  /** uid_map lines "inside host size"; empty when the container is not in a user namespace of its own. */
  uidMappings: string[];
}

export interface Metadata {
  runtime?: Runtime;
  name?: string;
  image?: string;
  pod?: string;
  namespace?: string;
  podUid?: string;
  labels: Record<string, string>;
  initPid?: number;
  /** The posture-making parts of the runtime's configuration, when its state has them. */
  spec?: RuntimeSpec;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const o = obj(v);
  if (o) for (const [k, x] of Object.entries(o)) if (typeof x === 'string') out[k] = x;
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Reads one runc state.json; `v2Mount` turns its absolute v2 cgroup path into a relative one. */
export function readRuncState(dir: string, root: StateRoot, v2Mount: string | undefined, namespace?: string): RuntimeState | undefined {
  const s = readJson(join(dir, 'state.json'));
  if (!s || typeof s.id !== 'string') return undefined;
  const config = obj(s.config) ?? {};
  const labels: Record<string, string> = {};
  if (Array.isArray(config.labels)) {
    for (const l of config.labels) {
      if (typeof l !== 'string') continue;
      const eq = l.indexOf('=');
      if (eq > 0) labels[l.slice(0, eq)] = l.slice(eq + 1);
    }
  }
  // containerd's "moby" namespace is docker's (dockerd runs its containers through containerd).
  const runtime: Runtime = root.runtime === 'containerd' && namespace === 'moby' ? 'docker' : root.runtime;
  const out: RuntimeState = { id: s.id, dir, runtime, labels };
  if (typeof s.init_process_pid === 'number' && s.init_process_pid > 0) out.initPid = s.init_process_pid;
  if (typeof s.created === 'string') out.created = s.created;
  if (labels.bundle) out.bundle = labels.bundle;
  const paths = obj(s.cgroup_paths);
  const unified = paths && typeof paths[''] === 'string' ? (paths[''] as string) : undefined;
  if (unified && v2Mount) {
    const rel = relative(v2Mount, unified);
    if (!rel.startsWith('..')) out.v2Path = '/' + rel;
  }
  const cg = obj(config.cgroups);
  if (cg && typeof cg.path === 'string' && cg.path) out.cgroupsPath = cg.path;
  const spec = readSpec(config);
  if (spec) out.spec = spec;
  return out;
}

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The posture-making parts of a libcontainer config; undefined when it has no namespaces list (not runc's shape). */
export function readSpec(config: Json): RuntimeSpec | undefined {
  if (!Array.isArray(config.namespaces)) return undefined;
  const namespaces: RuntimeSpec['namespaces'] = [];
  for (const n of config.namespaces) {
    const o = obj(n);
    if (o && typeof o.type === 'string') namespaces.push({ type: o.type, path: typeof o.path === 'string' ? o.path : '' });
  }
  const caps = obj(config.capabilities) ?? {};
  const mounts: RuntimeSpec['mounts'] = [];
  if (Array.isArray(config.mounts)) {
    for (const m of config.mounts) {
      const o = obj(m);
      if (!o || typeof o.destination !== 'string') continue;
      mounts.push({
        source: typeof o.source === 'string' ? o.source : '',
        destination: o.destination,
        device: typeof o.device === 'string' ? o.device : '',
        flags: typeof o.flags === 'number' ? o.flags : 0,
      });
    }
  }
  const uidMappings: string[] = [];
  if (Array.isArray(config.uid_mappings)) {
    for (const u of config.uid_mappings) {
      const o = obj(u);
      if (o && typeof o.container_id === 'number' && typeof o.host_id === 'number' && typeof o.size === 'number')
        uidMappings.push(`${o.container_id} ${o.host_id} ${o.size}`);
    }
  }
  return {
    namespaces,
    bounding: names(caps.Bounding),
    effective: names(caps.Effective),
    mounts,
    rootfs: typeof config.rootfs === 'string' ? config.rootfs : '',
    uidMappings,
  };
}

export interface RuntimeReaderOptions {
  stateRoots?: readonly StateRoot[];
  /** docker's data root; its containers/<id>/config.v2.json is read when it exists. */
  dockerRoot?: string;
  v2Mount?: string;
}

export class RuntimeReader {
  readonly stateRoots: readonly StateRoot[];
  readonly dockerRoot: string;
  v2Mount: string | undefined;

  constructor(o: RuntimeReaderOptions = {}) {
    this.stateRoots = o.stateRoots ?? DEFAULT_STATE_ROOTS;
    this.dockerRoot = o.dockerRoot ?? '/var/lib/docker';
    this.v2Mount = o.v2Mount;
  }

  /** State directories that could hold container `id` (they need not exist). */
  private candidateDirs(id: string): Array<{ dir: string; root: StateRoot; ns?: string }> {
    const out: Array<{ dir: string; root: StateRoot; ns?: string }> = [];
    if (!/^[\w.+-]+$/.test(id)) return out;
    for (const root of this.stateRoots) {
      if (root.namespaced) for (const ns of safeReaddir(root.dir)) out.push({ dir: join(root.dir, ns, id), root, ns });
      else out.push({ dir: join(root.dir, id), root });
    }
    return out;
  }

  /** The runtime whose state directory holds `id` (runc makes it before the container's cgroup). */
  stateDirOf(id: string): { dir: string; runtime: Runtime } | undefined {
    for (const c of this.candidateDirs(id)) {
      if (existsSync(c.dir)) return { dir: c.dir, runtime: c.root.runtime === 'containerd' && c.ns === 'moby' ? 'docker' : c.root.runtime };
    }
    return undefined;
  }

  /** The state of container `id`, from whichever root has it. */
  findById(id: string): RuntimeState | undefined {
    for (const c of this.candidateDirs(id)) {
      const s = readRuncState(c.dir, c.root, this.v2Mount, c.ns);
      if (s) return s;
    }
    return undefined;
  }

  /** Every state under every root. */
  all(): RuntimeState[] {
    const out: RuntimeState[] = [];
    for (const root of this.stateRoots) {
      const dirs = root.namespaced
        ? safeReaddir(root.dir).flatMap((ns) => safeReaddir(join(root.dir, ns)).map((id) => ({ dir: join(root.dir, ns, id), ns })))
        : safeReaddir(root.dir).map((id) => ({ dir: join(root.dir, id), ns: undefined }));
      for (const d of dirs) {
        const s = readRuncState(d.dir, root, this.v2Mount, d.ns);
        if (s) out.push(s);
      }
    }
    return out;
  }

  /** The state whose cgroup is `path` (v2 path relative to the mount, or cgroupfs cgroupsPath). */
  findByCgroupPath(path: string): RuntimeState | undefined {
    return this.all().find((s) => s.v2Path === path || s.cgroupsPath === path);
  }

  /** Metadata of container `id` from its state (if given), its bundle's config.json and docker's files. */
  metadata(id: string, state: RuntimeState | undefined): Metadata {
    const labels: Record<string, string> = {};
    const md: Metadata = { labels };
    if (state) {
      for (const [k, v] of Object.entries(state.labels)) if (k !== 'bundle') labels[k] = v;
      if (state.initPid !== undefined) md.initPid = state.initPid;
      if (state.spec) md.spec = state.spec;
      if (state.bundle) {
        const spec = readJson(join(state.bundle, 'config.json'));
        Object.assign(labels, strings(spec?.annotations));
      }
    }
    const docker = this.readDocker(id);
    if (docker) {
      Object.assign(labels, docker.labels);
      md.name = docker.name;
      if (docker.image) md.image = docker.image;
      md.runtime = 'docker';
    }
    applyKubernetes(md, labels);
    if (md.runtime === undefined && state) {
      // CRI-O runs its containers with runc under /run/runc; its annotations say so.
      md.runtime = Object.keys(labels).some((k) => k.startsWith('io.kubernetes.cri-o.')) ? 'cri-o' : state.runtime;
    }
    if (md.name === undefined && state) md.name = state.id;
    return md;
  }

  private readDocker(id: string): { name: string; image: string; labels: Record<string, string> } | undefined {
    if (!/^[0-9a-f]{12,64}$/.test(id)) return undefined;
    const c = readJson(join(this.dockerRoot, 'containers', id, 'config.v2.json'));
    if (!c) return undefined;
    const config = obj(c.Config) ?? {};
    const name = typeof c.Name === 'string' ? c.Name.replace(/^\//, '') : '';
    const image = typeof config.Image === 'string' ? config.Image : '';
    return { name, image, labels: strings(config.Labels) };
  }
}

/** Kubernetes identity from annotations or labels: CRI-O / dockershim keys and containerd CRI keys. */
export function applyKubernetes(md: Metadata, labels: Record<string, string>): void {
  const first = (...keys: string[]): string | undefined => {
    for (const k of keys) if (labels[k]) return labels[k];
    return undefined;
  };
  const pod = first('io.kubernetes.pod.name', 'io.kubernetes.cri.sandbox-name');
  const namespace = first('io.kubernetes.pod.namespace', 'io.kubernetes.cri.sandbox-namespace');
  const podUid = first('io.kubernetes.pod.uid', 'io.kubernetes.cri.sandbox-uid');
  const name = first('io.kubernetes.container.name', 'io.kubernetes.cri.container-name');
  const image = first('io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName', 'io.kubernetes.cri-o.Image', 'io.kubernetes.container.image');
  if (pod) md.pod = pod;
  if (namespace) md.namespace = namespace;
  if (podUid) md.podUid = podUid;
  if (name) md.name = name;
  if (image && !md.image) md.image = image;
  // CRI-O records the pod's labels as one JSON annotation.
  const crioLabels = labels['io.kubernetes.cri-o.Labels'];
  if (crioLabels) {
    try {
      const parsed = strings(JSON.parse(crioLabels));
      for (const [k, v] of Object.entries(parsed)) if (!(k in labels)) labels[k] = v;
    } catch {
      // not JSON: kept as the raw annotation only
    }
  }
}
