// Severities and response actions: set by rules (detect), by early warnings (forecast), carried by
// alerts, filtered on by the API. A contract of every stage, so it lives on the floor.

/** Falco's eight levels, most severe first. */
export const SEVERITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Lower is more severe: compare ranks, never strings. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** What a rule may ask for on a match (docs/rules.md); alerts/responses.ts carries them out. */
export const ACTIONS = ['notify', 'kill', 'freeze', 'enforce'] as const;
export type ActionName = (typeof ACTIONS)[number];
