// What the detection stage hands downstream: a rule matched. The alerts stage turns matches into
// alerts (dedup, lifecycle, persistence, responses); the detection stage knows nothing of alerts.
import type { ContainerRef } from '../core/container.js';
import type { ActionName, Severity } from '../core/severity.js';
import type { Forecast } from '../core/forecast.js';
import type { VigilEvent } from '../sensor/events.js';

export type RuleKind = 'event' | 'sequence' | 'threshold' | 'metric';

/** A loaded rule as the rest of the daemon sees it (the compiled condition stays inside detect/). */
export interface RuleInfo {
  name: string;
  desc: string;
  kind: RuleKind;
  severity: Severity;
  /** MITRE ATT&CK technique ids (T1611, ...) and categories (container_escape, dos, ...). */
  tags: string[];
  enabled: boolean;
  actions: ActionName[];
  /** Where it was defined (last definition or override): file:line. */
  source: string;
  /** Loaded, skipped (never evaluated) or never fires, with why (detect/status.ts); absent: loaded. */
  status?: { state: 'loaded' | 'skipped' | 'never'; reason?: string };
}

/** Metric readings a metric rule matched on (target = container id or 'host'). */
export interface MetricMatch {
  target: string;
  /** The values of the metrics the condition named, at the time it held. */
  values: Record<string, number>;
  /** How long the condition has held, ms. */
  heldMs: number;
}

/** A field a rule's output names and its value at the match (null: the event did not have it). */
export interface OutputValue {
  name: string;
  value: string | number | boolean | null;
}

export interface RuleMatch {
  rule: RuleInfo;
  /** Unix ms of the (last) triggering event or sample. */
  time: number;
  /** The output template rendered with the triggering event's fields. */
  message: string;
  /** The fields the output names, with their values (Falco's output_fields); absent for matches not made by a rule's output. */
  outputFields?: OutputValue[];
  container: ContainerRef;
  /** The triggering event(s), oldest first: one for event rules, each step for sequences, a bounded
   * sample of the counted events for thresholds; none for metric rules. */
  events: VigilEvent[];
  metric?: MetricMatch;
  /** Threshold rules: the count (or distinct count) that crossed, and the key it was counted by. */
  count?: number;
  key?: string;
  /** Metric rules: false when the condition stopped holding (the alert resolves itself). */
  active?: boolean;
  /** Early warnings of the forecast stage: the forecast that justified the match (the alert carries it). */
  forecast?: Forecast;
}
