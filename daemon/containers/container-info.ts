// What the container registry knows of a container: the full ContainerInfo (the short ContainerRef
// every event, metric and alert carries is in core/container.ts), its posture and its life cycle.
import type { ContainerRef } from '../core/container.js';

/**
 * Security posture of a container: from the runtime's own record of it (runc's state.json holds the
 * OCI config) where there is one, confirmed from the kernel's view of its first program
 * (/proc/<initPid>) once that program runs. The kernel's view wins; each field where the two
 * disagree is named in `mismatches`.
 */
export interface Posture {
  /** Full capability set (as `docker run --privileged`). */
  privileged: boolean;
  /** Namespaces shared with the host (compared with pid 1's inode numbers). */
  hostPid: boolean;
  hostNet: boolean;
  hostIpc: boolean;
  hostMnt: boolean;
  hostUser: boolean;
  hostUts: boolean;
  /** Sensitive host paths mounted in (docker.sock, /, /proc, /sys writable, /dev, ...), as mount points inside. */
  sensitiveMounts: string[];
  /** uid_map of the init process ("0 0 4294967295" when not remapped). */
  uidMap: string;
  capEffective: string; // hex
  /** Where it was read from: "runtime" (the runtime's state), "kernel" (/proc of the init process), or both. */
  sources: PostureSource[];
  /** Fields where the runtime's record and the kernel's view disagree, as "field: runtime X, kernel Y". */
  mismatches: string[];
}

export type PostureSource = 'runtime' | 'kernel';

export interface ContainerInfo extends ContainerRef {
  /** Kubernetes pod uid and every label or annotation the runtime recorded. */
  podUid?: string;
  labels: Record<string, string>;
  /** cgroup v2 id (the directory's inode number) and path relative to the v2 mount. */
  cgroupId: number;
  cgroupPath: string;
  /** Process id (host pid namespace) of the container's first process, when known. */
  initPid?: number;
  posture?: Posture;
  /** ISO time the container was first seen (start, or the daemon's start-up walk). */
  startedAt: string;
  stoppedAt?: string;
}

/**
 * Joins the container lifecycle into the event stream: container_start at the container's own first
 * program, container_update when identity or posture changed after that (metadata the runtime wrote
 * late, a posture confirmed by the kernel), container_stop when its cgroup is removed or has held no
 * process for the grace period.
 */
export interface ContainerLifecycleEvent {
  kind: ContainerLifecycleKind;
  time: string;
  container: ContainerInfo;
  /** container_update only: the ContainerInfo fields that changed ("name", "image", "pod", "posture", ...). */
  changed?: string[];
}

export const CONTAINER_LIFECYCLE_KINDS = ['container_start', 'container_update', 'container_stop'] as const;
export type ContainerLifecycleKind = (typeof CONTAINER_LIFECYCLE_KINDS)[number];
