// Severities and response actions: set by rules (detect), by early warnings (forecast), carried by
// alerts, filtered on by the API. A contract of every stage, so it lives on the floor.

// The order itself is shared with the clients (the forwarder, the event filter): common/severity.ts.
export { SEVERITIES, type Severity, severityRank } from '../../common/severity.js';

/** What a rule may ask for on a match (docs/rules.md); alerts/responses.ts carries them out. */
export const ACTIONS = ['notify', 'kill', 'freeze', 'enforce'] as const;
export type ActionName = (typeof ACTIONS)[number];
