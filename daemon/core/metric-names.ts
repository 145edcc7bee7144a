// Container resource metrics: names follow Prometheus conventions (base units, _total for counters).
// A sampler produces Samples; the store keeps them as series keyed by (target key, metric).

export const METRICS = {
  cpu_usage_seconds_total: 'CPU time used, seconds (counter)',
  cpu_usage_cores: 'CPU used over the last interval, in cores',
  cpu_quota_cores: 'CPU limit in cores (quota / period); absent when unlimited',
  cpu_periods_total: 'CFS enforcement periods (counter)',
  cpu_throttled_periods_total: 'periods in which the group was throttled (counter)',
  cpu_throttled_seconds_total: 'time throttled, seconds (counter)',
  memory_usage_bytes: 'memory in use, page cache included',
  memory_working_set_bytes: 'usage minus inactive file cache (what the OOM killer weighs)',
  memory_limit_bytes: 'memory limit; absent when unlimited',
  memory_failcnt_total: 'times the limit was hit (v1 failcnt, v2 memory.events max)',
  memory_oom_events_total: 'OOM events (counter)',
  memory_oom_kill_events_total: 'processes killed by the OOM killer (counter)',
  pids_current: 'tasks in the group',
  pids_max: 'task limit; absent when unlimited',
  blkio_read_bytes_total: 'bytes read from block devices (counter)',
  blkio_write_bytes_total: 'bytes written to block devices (counter)',
  blkio_read_ops_total: 'block read operations (counter)',
  blkio_write_ops_total: 'block write operations (counter)',
  psi_cpu_some_avg10: 'share of time some tasks stalled on CPU, last 10 s (0..100)',
  psi_cpu_full_avg10: 'share of time all tasks stalled on CPU, last 10 s (0..100)',
  psi_memory_some_avg10: 'share of time some tasks stalled on memory, last 10 s (0..100)',
  psi_memory_full_avg10: 'share of time all tasks stalled on memory, last 10 s (0..100)',
  psi_io_some_avg10: 'share of time some tasks stalled on I/O, last 10 s (0..100)',
  psi_io_full_avg10: 'share of time all tasks stalled on I/O, last 10 s (0..100)',
  net_rx_bytes_total: 'bytes received (counter)',
  net_tx_bytes_total: 'bytes sent (counter)',
  net_rx_packets_total: 'packets received (counter)',
  net_tx_packets_total: 'packets sent (counter)',
  fds_open: 'open file descriptors across the processes of the group',
  fds_process_open: 'open file descriptors of the process of the group nearest its RLIMIT_NOFILE (of the one holding the most when no limit is known)',
  fds_process_limit: "that process's soft RLIMIT_NOFILE (past it, opens fail with EMFILE); absent when unknown",
  sensor_events_dropped_total:
    "events vigil lost (counter): the host's counts every loss (kernel ring buffer, detector and alert queues); a container's, the kernel drops of its own processes' records (it is flooding the sensor)",
} as const;

export type MetricName = keyof typeof METRICS;

/** One value of one metric of one target at one time. */
export interface Sample {
  /** Stable key of what was sampled: a container id, or 'host'. */
  target: string;
  metric: MetricName;
  /** Unix time in milliseconds. */
  time: number;
  value: number;
}
