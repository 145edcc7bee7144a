// Alerts: what security teams see, page on and act on. Built from detection matches; persisted before
// they are published; every state change and response is recorded on the alert itself.
import type { ContainerRef } from '../core/container.js';
import type { MetricMatch, OutputValue } from '../detect/rule-match.js';
import type { ActionName, Severity } from '../core/severity.js';
import type { Forecast } from '../core/forecast.js';
import type { VigilEvent } from '../sensor/events.js';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** One process of the lineage: the offending process first, then its parent, and so on. */
export interface LineageEntry {
  pid: number;
  exe: string;
  args: string[];
  comm: string;
  uid?: number;
}

export interface AlertTransition {
  state: AlertState;
  /** ISO time. */
  at: string;
  /** Who: a user name or token identity, or 'vigild' for automatic transitions. */
  by: string;
  comment?: string;
}

export interface ActionOutcome {
  action: ActionName;
  ok: boolean;
  /** What happened: "POST https://... 200 after 2 tries", "killed pid 4711", "froze /sys/fs/...". */
  detail: string;
  at: string;
}

export interface Alert {
  /** Stable, unique, sortable by creation time. */
  id: string;
  /** Increases by one with every alert stored (and every update published): resume point for streams. */
  seq: number;
  /** First and last time the rule matched for this alert (ISO). */
  time: string;
  lastSeen: string;
  rule: string;
  severity: Severity;
  tags: string[];
  message: string;
  container: ContainerRef;
  lineage: LineageEntry[];
  /** The triggering events (bounded), oldest first. */
  events: VigilEvent[];
  metric?: MetricMatch;
  /** Early warnings: the forecast that justified the alert (the latest while it stays open; at most
   * MAX_ALERT_FORECAST_POINTS points). */
  forecast?: Forecast;
  /** The fields the rule's output names, with their values at the first match (Falco's output_fields). */
  outputFields?: OutputValue[];
  /** Falco's name of the rule's event source: syscall, or vigil_metrics for metric rules and early warnings. */
  source?: string;
  /** The host the daemon runs on. */
  hostname?: string;
  /** Matches folded into this alert by dedup (1 for a fresh alert). */
  count: number;
  state: AlertState;
  history: AlertTransition[];
  actions: ActionOutcome[];
  /** Matches of this rule that the per-rule rate limit suppressed before this alert was opened (and
   * that no earlier alert reported). Absent when none were. */
  suppressed?: number;
  /** True on a published copy that the store could not write (a full disk): the alert was published
   * rather than lost, and a stream resuming from the store will not see this version of it. */
  unpersisted?: boolean;
}

/** Forecast points an alert carries at most (they are stored with every version of the alert). */
export const MAX_ALERT_FORECAST_POINTS = 120;

/**
 * A forecast as an alert carries it: at most MAX_ALERT_FORECAST_POINTS points, thinned evenly with the
 * last point kept. The forecast stage already trims what it sends (the points up to the crossing);
 * this bounds whatever a match or a caller of the store brings.
 */
export function boundForecast(f: Forecast): Forecast {
  if (f.points.length <= MAX_ALERT_FORECAST_POINTS) return f;
  const every = Math.ceil(f.points.length / MAX_ALERT_FORECAST_POINTS);
  return { ...f, points: f.points.filter((_, i) => (f.points.length - 1 - i) % every === 0) };
}

/** What an alert listener is told about: a new alert, or which kind of change an update is. */
export type AlertChange = 'opened' | 'updated' | 'acknowledged' | 'resolved' | 'actions';
