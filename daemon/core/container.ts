// Container identity as every stage carries it: the `container` object of an event
// (docs/events.md), of a metric sample's target and of an alert. The registry (containers/) fills
// it; the rest of the pipeline only reads it, so it lives on the floor.

/** Where a container came from, recognised from its cgroup path and the runtime's state on disk. */
export const RUNTIMES = ['docker', 'containerd', 'cri-o', 'podman', 'lxc', 'systemd-nspawn', 'runc', 'host', 'unknown'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** The `container` object carried by every event. Host processes: id 'host', runtime 'host'. */
export interface ContainerRef {
  id: string;
  name: string;
  runtime: Runtime;
  image: string;
  /** Kubernetes pod name and namespace when the runtime's metadata names them. */
  pod?: string;
  namespace?: string;
}

/** Host processes and host-wide metrics are attributed to this pseudo-container. */
export const HOST_CONTAINER: ContainerRef = Object.freeze({ id: 'host', name: 'host', runtime: 'host', image: '' });
