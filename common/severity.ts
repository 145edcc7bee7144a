// Severities, most severe first: the order the daemon's rules and alerts use (daemon/core/severity.ts
// re-exports it), the forwarder's syslog and CEF levels and the shared event filter's
// `min_severity` (common/filter.ts) compare by. Browser-safe.

/** Falco's eight levels, most severe first: index = syslog severity (RFC 5424 section 6.2.1). */
export const SEVERITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Lower is more severe: compare ranks, never strings. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
