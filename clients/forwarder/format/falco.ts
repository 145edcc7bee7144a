// Falco's JSON alert (json_output: true), the form falcosidekick, Falco Talon and the SIEM vendors'
// Falco integrations read: `time` (RFC 3339, UTC, nanoseconds), `rule`, `priority` (Falco's
// capitalised level), `output` (Falco's line: time, priority, the rendered output), `output_fields`
// (field -> value; at least evt.time, which falcosidekick requires), `source`, `tags`, `hostname`.
// Pure functions over the generated Alert message; `vigil tail -o falco` uses them too.
import type { Alert } from '../core/record.js';
import { severityName, type Severity } from '../core/record.js';

/** Falco's names of the eight levels (vigil's severities are Falco's levels, lower case). */
export const FALCO_PRIORITY: Readonly<Record<Severity, string>> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};

/** An RFC 3339 time in UTC with nine fraction digits (Falco prints nanoseconds). */
export function falcoTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (m) return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
  const t = Date.parse(iso);
  return falcoTime(new Date(Number.isFinite(t) ? t : 0).toISOString());
}

/** A JSON value: whole numbers beyond 2^53 (evt.time in nanoseconds) are written as given, exactly. */
function jsonValue(f: NonNullable<Alert['output_fields']>[number]): string {
  switch (f.value) {
    case 'text':
      return JSON.stringify(f.text);
    case 'integer':
      return /^-?\d+$/.test(String(f.integer)) ? String(f.integer) : 'null';
    case 'real':
      return Number.isFinite(f.real) ? JSON.stringify(f.real) : 'null';
    case 'flag':
      return f.flag ? 'true' : 'false';
    default:
      return 'null';
  }
}

/**
 * One alert as Falco's JSON, one line. `hostname` is used when the alert does not name its host
 * (an alert from a daemon older than the hostname field).
 */
export function falcoJson(a: Alert, hostname: string): string {
  const time = falcoTime(a.time);
  const priority = FALCO_PRIORITY[severityName(a.severity)];
  const fields = [...(a.output_fields ?? [])];
  if (!fields.some((f) => f.name === 'evt.time')) {
    const ms = Date.parse(a.time);
    fields.unshift({ name: 'evt.time', integer: (BigInt(Number.isFinite(ms) ? ms : 0) * 1_000_000n).toString(), value: 'integer' });
  }
  const outputFields = `{${fields.map((f) => `${JSON.stringify(f.name)}:${jsonValue(f)}`).join(',')}}`;
  const output = `${time.slice(11, 29)}: ${priority} ${a.message.replace(/\s+$/, '').replace(/\n/g, ' ')}`;
  return (
    `{"hostname":${JSON.stringify(a.hostname || hostname)},"output":${JSON.stringify(output)},"output_fields":${outputFields},` +
    `"priority":${JSON.stringify(priority)},"rule":${JSON.stringify(a.rule)},"source":${JSON.stringify(a.source || 'syscall')},` +
    `"tags":${JSON.stringify(a.tags ?? [])},"time":${JSON.stringify(time)}}`
  );
}
