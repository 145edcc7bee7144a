// ArcSight Common Event Format: "CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension".
// In the header '|' and '\' are escaped by a backslash; in extension values '=' and '\' are, and line
// breaks are written as \n or \r. Extension keys are fixed ASCII names, never escaped. Over syslog the
// CEF line is the MSG of an RFC 5424 message (format/syslog.ts).
import { cefSeverity, containerOf, enumName, recordTimeMs, severityName, summary, toDocument, type ForwardRecord } from '../core/record.js';

export function escapeHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, ' ');
}

export function escapeExtension(value: string): string {
  return value
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

export interface CefHeader {
  vendor: string;
  product: string;
  version: string;
  signatureId: string;
  name: string;
  /** 0..10. */
  severity: number;
}

/** One CEF line; extension pairs with an empty or undefined value are left out. */
export function formatCef(h: CefHeader, ext: Array<[string, string | number | undefined]>): string {
  const header = [h.vendor, h.product, h.version, h.signatureId, h.name].map(escapeHeader);
  const pairs = ext.filter((p): p is [string, string | number] => p[1] !== undefined && p[1] !== '').map(([k, v]) => `${k}=${escapeExtension(String(v))}`);
  return `CEF:0|${header.join('|')}|${h.severity}|${pairs.join(' ')}`;
}

export interface CefOptions {
  /** vigil's version, the Device Version field. */
  version: string;
  hostname: string;
}

/** Name is at most 512 characters in the spec. */
const NAME_MAX = 512;

/**
 * A record as CEF: Signature ID = rule (for an event: "event:<kind>"), Name = the message, Severity
 * mapped from the eight levels; the container in custom strings cs1..cs3 with their labels.
 */
export function recordToCef(r: ForwardRecord, o: CefOptions): string {
  const c = containerOf(r);
  const common: Array<[string, string | number | undefined]> = [
    ['rt', recordTimeMs(r)],
    ['dvchost', o.hostname],
    ['cs1Label', 'containerId'],
    ['cs1', c.id],
    ['cs2Label', 'containerName'],
    ['cs2', c.name],
    ['cs3Label', 'image'],
    ['cs3', c.image],
  ];
  if (r.type === 'alert') {
    const a = r.alert;
    const sev = severityName(a.severity);
    const proc = a.lineage[0];
    return formatCef(
      { vendor: 'vigil', product: 'vigil', version: o.version, signatureId: a.rule, name: summary(r).slice(0, NAME_MAX), severity: cefSeverity(sev) },
      [
        ...common,
        ['externalId', a.id],
        ['cn1Label', 'seq'],
        ['cn1', r.seq],
        ['cnt', Number(a.count)],
        ['cat', sev],
        ['outcome', enumName(a.state, 'ALERT_STATE_')],
        ['spid', proc?.pid],
        ['sproc', proc?.exe],
        ['suid', proc?.uid ?? undefined],
        ...(a.tags.length > 0
          ? ([
              ['cs4Label', 'tags'],
              ['cs4', a.tags.join(',')],
            ] as Array<[string, string]>)
          : []),
        ['msg', a.message],
      ],
    );
  }
  const e = r.event;
  const kind = enumName(e.kind, 'EVENT_KIND_');
  return formatCef(
    {
      vendor: 'vigil',
      product: 'vigil',
      version: o.version,
      signatureId: `event:${kind}`,
      name: summary(r).slice(0, NAME_MAX),
      severity: cefSeverity('informational'),
    },
    [...common, ['spid', e.pid], ['sproc', e.proc?.exe || e.comm], ['suid', e.uid], ['msg', JSON.stringify(toDocument(r))]],
  );
}
