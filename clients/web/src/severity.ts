// Severity and alert-state vocabulary of the proto enums. The tables are typed against the generated
// enum types, so a value added to the proto fails the web build until it is named here.
import type { AlertState__Output } from '../../../proto/gen/vigil/v1/AlertState.js';
import type { Severity__Output } from '../../../proto/gen/vigil/v1/Severity.js';

export type Severity = Severity__Output;
export type AlertState = AlertState__Output;

/** Lower is more severe (the proto's numbering); UNSPECIFIED sorts last. */
const RANK = {
  SEVERITY_EMERGENCY: 1,
  SEVERITY_ALERT: 2,
  SEVERITY_CRITICAL: 3,
  SEVERITY_ERROR: 4,
  SEVERITY_WARNING: 5,
  SEVERITY_NOTICE: 6,
  SEVERITY_INFORMATIONAL: 7,
  SEVERITY_DEBUG: 8,
  SEVERITY_UNSPECIFIED: 99,
} as const satisfies Record<Severity, number>;

/** Every set severity, most severe first. */
export const SEVERITIES = (Object.keys(RANK) as Severity[]).filter((s) => s !== 'SEVERITY_UNSPECIFIED').sort((a, b) => RANK[a] - RANK[b]);

export function severityRank(s: Severity | string): number {
  return (RANK as Record<string, number>)[s] ?? 99;
}

/** "SEVERITY_CRITICAL" -> "critical". */
export function severityName(s: Severity | string): string {
  return s === 'SEVERITY_UNSPECIFIED' ? '' : s.replace(/^SEVERITY_/, '').toLowerCase();
}

/** CSS class carrying the severity colour: the five bands an operator tells apart at a glance. */
export function severityClass(s: Severity | string): string {
  const r = severityRank(s);
  if (r <= 3) return 'sev-crit';
  if (r === 4) return 'sev-err';
  if (r === 5) return 'sev-warn';
  if (r <= 8) return 'sev-info';
  return 'sev-none';
}

/** Colours of the same bands for canvas drawing (charts' alert markers). */
export function severityColour(s: Severity | string): string {
  switch (severityClass(s)) {
    case 'sev-crit':
      return '#c62828';
    case 'sev-err':
      return '#e65100';
    case 'sev-warn':
      return '#f9a825';
    case 'sev-info':
      return '#1565c0';
    default:
      return '#757575';
  }
}

const STATE_NAMES = {
  ALERT_STATE_UNSPECIFIED: '',
  ALERT_STATE_OPEN: 'open',
  ALERT_STATE_ACKNOWLEDGED: 'acknowledged',
  ALERT_STATE_RESOLVED: 'resolved',
} as const satisfies Record<AlertState, string>;

export function stateName(s: AlertState | string): string {
  return (STATE_NAMES as Record<string, string>)[s] ?? s;
}
