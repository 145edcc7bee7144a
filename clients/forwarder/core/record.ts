// What flows through the forwarder: the messages of Events.Subscribe (generated from proto/, never
// hand-copied), and the plain JSON documents the sinks ship. Alerts carry `seq`, the resume point;
// events carry none and are forwarded at most once (the daemon keeps no event history to replay).
import type { Alert__Output } from '../../../proto/gen/vigil/v1/Alert.js';
import type { Event__Output } from '../../../proto/gen/vigil/v1/Event.js';
import { SEVERITIES, type Severity } from '../../../common/severity.js';

export type Alert = Alert__Output;
export type Event = Event__Output;

/** One message of the stream, as the forwarder sees it. */
export type StreamItem =
  | { type: 'alert'; seq: number; alert: Alert; change: string }
  | { type: 'event'; event: Event }
  | { type: 'gap'; lost: number; lostAlerts: number; lastSeq: number; reason: string }
  | { type: 'heartbeat'; lastSeq: number; epoch: string };

/** What a sink ships: an alert (with its seq) or an event. */
export type ForwardRecord = Extract<StreamItem, { type: 'alert' }> | Extract<StreamItem, { type: 'event' }>;

// The eight levels, most severe first (common/severity.ts): index = syslog severity (RFC 5424 section 6.2.1).
export { SEVERITIES, type Severity };

/** "SEVERITY_WARNING" -> "warning"; an unknown or unset severity counts as informational. */
export function severityName(s: string | number): Severity {
  const name = typeof s === 'number' ? SEVERITIES[s - 1] : s.replace(/^SEVERITY_/, '').toLowerCase();
  return (SEVERITIES as readonly string[]).includes(name ?? '') ? (name as Severity) : 'informational';
}

/** Syslog severity 0 (emergency) .. 7 (debug). */
export function syslogSeverity(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** CEF severity 0..10 (0-3 low, 4-6 medium, 7-8 high, 9-10 very high). */
const CEF_SEVERITY: Record<Severity, number> = {
  emergency: 10,
  alert: 9,
  critical: 8,
  error: 7,
  warning: 5,
  notice: 3,
  informational: 1,
  debug: 0,
};
export function cefSeverity(s: Severity): number {
  return CEF_SEVERITY[s];
}

/** "EVENT_KIND_NS_CHANGE" -> "ns_change", "ALERT_STATE_OPEN" -> "open": the names of docs/events.md. */
export function enumName(value: string | number, prefix: string): string {
  return typeof value === 'string' ? value.replace(prefix, '').toLowerCase() : String(value);
}

/** The record's time in ms since the epoch (the alert's first match, the event's kernel time). */
export function recordTimeMs(r: ForwardRecord): number {
  const t = Date.parse(r.type === 'alert' ? r.alert.time : r.event.time);
  return Number.isFinite(t) ? t : Date.now();
}

export function recordTime(r: ForwardRecord): string {
  return r.type === 'alert' ? r.alert.time : r.event.time;
}

export function containerOf(r: ForwardRecord): { id: string; name: string; image: string; pod?: string | undefined; namespace?: string | undefined } {
  const c = r.type === 'alert' ? r.alert.container : r.event.container;
  return c ?? { id: '', name: '', image: '' };
}

/** The document JSON sinks ship: the message with enum values as the short lower-case names the CLI
 * and docs use, 64-bit counters as numbers, and `kind` ("alert" or the event kind). */
export function toDocument(r: ForwardRecord): Record<string, unknown> {
  if (r.type === 'alert') {
    const a = r.alert;
    return {
      ...a,
      kind: 'alert',
      change: enumName(r.change, 'ALERT_CHANGE_'),
      seq: r.seq,
      severity: severityName(a.severity),
      state: enumName(a.state, 'ALERT_STATE_'),
      count: Number(a.count),
      suppressed: Number(a.suppressed),
      events: a.events.map(eventDocument),
    };
  }
  return eventDocument(r.event);
}

function eventDocument(e: Event): Record<string, unknown> {
  return { ...e, kind: enumName(e.kind, 'EVENT_KIND_') };
}

/** A short line for the record: the alert's message, or "exec /bin/sh (pid 42)" for an event. */
export function summary(r: ForwardRecord): string {
  if (r.type === 'alert') return r.alert.message || r.alert.rule;
  const e = r.event;
  const what = e.proc?.exe || e.comm;
  return `${enumName(e.kind, 'EVENT_KIND_')} ${what} (pid ${e.pid})`;
}
