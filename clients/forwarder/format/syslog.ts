// Syslog messages as RFC 5424 lays them out, and the octet-counting framing of RFC 6587 for stream
// transports. Pure functions: the transport lives in sinks/syslog.ts.
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="value" ...] MSG
import { containerOf, enumName, recordTime, severityName, summary, syslogSeverity, toDocument, type ForwardRecord } from '../core/record.js';

const FACILITIES: Record<string, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  audit: 13,
  console: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** The facility names a config may give (any case), for the config's schema. */
export const FACILITY_NAMES: readonly string[] = Object.keys(FACILITIES);

/** "local0" or "16" -> 16; undefined for anything else. */
export function facilityCode(name: string | number): number | undefined {
  if (typeof name === 'number') return Number.isInteger(name) && name >= 0 && name <= 23 ? name : undefined;
  if (/^\d+$/.test(name)) return facilityCode(Number(name));
  return FACILITIES[name.toLowerCase()];
}

/** The NILVALUE of RFC 5424. */
export const NIL = '-';

/**
 * A header field: printable US-ASCII (33..126) only, at most `max` characters, "-" when empty.
 * Anything else becomes "_" so that a container name with a space cannot shift the fields.
 */
export function headerField(value: string | undefined, max: number): string {
  if (!value) return NIL;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    out += c >= 33 && c <= 126 ? ch : '_';
    if (out.length >= max) break;
  }
  return out;
}

/** An SD-NAME (SD-ID or PARAM-NAME): printable US-ASCII except '=', ' ', ']' and '"', at most 32. */
export function sdName(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    out += c >= 33 && c <= 126 && ch !== '=' && ch !== ']' && ch !== '"' ? ch : '_';
  }
  return out.slice(0, 32) || '_';
}

/** A PARAM-VALUE: UTF-8, with '"', '\' and ']' escaped by a backslash (section 6.3.3). */
export function escapeSdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/**
 * The TIMESTAMP: RFC 3339 with at most 6 fractional digits (section 6.2.3); vigil times carry
 * nanoseconds, so the fraction is cut. A time that does not parse is the NILVALUE.
 */
export function timestamp(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(iso);
  if (!m) return NIL;
  const frac = m[2] ? m[2].slice(0, 7) : '';
  return `${m[1]!.toUpperCase()}${frac}${m[3]!.toUpperCase()}`;
}

export interface SdElement {
  id: string;
  params: Array<[string, string]>;
}

export interface SyslogMessage {
  facility: number;
  /** 0 (emergency) .. 7 (debug). */
  severity: number;
  /** RFC 3339; converted by timestamp(). */
  time: string;
  hostname: string;
  appName: string;
  procId?: string;
  msgId?: string;
  sd?: SdElement[];
  msg?: string;
}

/** One RFC 5424 message (without framing). MSG gets the UTF-8 BOM only when it is not plain ASCII. */
export function formatRfc5424(m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const sd =
    m.sd && m.sd.length > 0 ? m.sd.map((e) => `[${sdName(e.id)}${e.params.map(([k, v]) => ` ${sdName(k)}="${escapeSdValue(v)}"`).join('')}]`).join('') : NIL;
  const header =
    `<${pri}>1 ${timestamp(m.time)} ${headerField(m.hostname, 255)} ${headerField(m.appName, 48)} ` +
    `${headerField(m.procId, 128)} ${headerField(m.msgId, 32)} ${sd}`;
  if (m.msg === undefined || m.msg === '') return header;
  const ascii = /^[\x00-\x7f]*$/.test(m.msg);
  return `${header} ${ascii ? '' : '\uFEFF'}${m.msg}`;
}

/** RFC 6587 octet counting: "<length in bytes> <message>". */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export interface SyslogOptions {
  facility: number;
  hostname: string;
  appName: string;
  /** SD-ID of vigil's element; private ones need "@<enterprise number>". */
  sdId: string;
}

/** The default SD-ID: 32473 is the example enterprise number of RFC 5612 (vigil has none of its own). */
export const DEFAULT_SD_ID = 'vigil@32473';

/**
 * A record as RFC 5424: MSGID "alert" or "event"; the alert's key fields as structured data and its
 * message as MSG; an event's JSON as MSG (events are too varied for flat parameters).
 */
export function recordToRfc5424(r: ForwardRecord, o: SyslogOptions): string {
  const c = containerOf(r);
  if (r.type === 'alert') {
    const a = r.alert;
    const sev = severityName(a.severity);
    const params: Array<[string, string]> = [
      ['seq', String(r.seq)],
      ['id', a.id],
      ['rule', a.rule],
      ['severity', sev],
      ['state', enumName(a.state, 'ALERT_STATE_')],
      ['count', String(a.count)],
      ['container_id', c.id],
      ['container_name', c.name],
      ['image', c.image],
    ];
    if (c.pod) params.push(['pod', c.pod]);
    if (c.namespace) params.push(['namespace', c.namespace]);
    const proc = a.lineage[0];
    if (proc) params.push(['pid', String(proc.pid)], ['exe', proc.exe]);
    if (a.tags.length > 0) params.push(['tags', a.tags.join(',')]);
    return formatRfc5424({
      facility: o.facility,
      severity: syslogSeverity(sev),
      time: a.time,
      hostname: o.hostname,
      appName: o.appName,
      msgId: 'alert',
      sd: [{ id: o.sdId, params }],
      msg: summary(r),
    });
  }
  const e = r.event;
  return formatRfc5424({
    facility: o.facility,
    severity: syslogSeverity('informational'),
    time: recordTime(r),
    hostname: o.hostname,
    appName: o.appName,
    procId: String(e.pid),
    msgId: 'event',
    sd: [
      {
        id: o.sdId,
        params: [
          ['kind', enumName(e.kind, 'EVENT_KIND_')],
          ['container_id', c.id],
          ['container_name', c.name],
        ],
      },
    ],
    msg: JSON.stringify(toDocument(r)),
  });
}
