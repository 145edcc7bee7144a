// JSON bodies for HTTP sinks: Splunk HEC events, Elasticsearch/OpenSearch _bulk NDJSON, and a plain
// webhook array. Pure functions; the transport lives in sinks/http.ts.
import { recordTimeMs, toDocument, type ForwardRecord } from '../core/record.js';

export interface HecOptions {
  hostname: string;
  index?: string | undefined;
  /** Default "vigil:alert" for alerts and "vigil:event" for events. */
  sourcetype?: string | undefined;
  source?: string | undefined;
}

/**
 * One HEC event object: `time` in epoch seconds (with milliseconds), `host`, `source`, `sourcetype`,
 * `index` when set, and the record as `event`. A batch is these objects one after another.
 */
export function hecEvent(r: ForwardRecord, o: HecOptions): string {
  const body: Record<string, unknown> = {
    time: recordTimeMs(r) / 1000,
    host: o.hostname,
    source: o.source ?? 'vigil',
    sourcetype: o.sourcetype ?? (r.type === 'alert' ? 'vigil:alert' : 'vigil:event'),
  };
  if (o.index) body.index = o.index;
  body.event = toDocument(r);
  return JSON.stringify(body);
}

export function hecBody(records: readonly ForwardRecord[], o: HecOptions): string {
  return records.map((r) => hecEvent(r, o)).join('\n');
}

export interface BulkOptions {
  /** Index name; "{date}" is replaced by the record's UTC day as YYYY.MM.DD. */
  index: string;
}

export function bulkIndex(pattern: string, timeMs: number): string {
  if (!pattern.includes('{date}')) return pattern;
  const d = new Date(timeMs).toISOString();
  return pattern.replace(/\{date\}/g, `${d.slice(0, 4)}.${d.slice(5, 7)}.${d.slice(8, 10)}`);
}

/**
 * _bulk NDJSON: for each record an `index` action line and the document line, every line ending with
 * "\n" (the final one too, as the API requires). Alerts get `_id` "<alert id>-<seq>", so a batch sent
 * twice after a retry or a crash overwrites itself instead of adding duplicates; each published
 * version of an alert is its own document. The document has `@timestamp`.
 */
export function bulkBody(records: readonly ForwardRecord[], o: BulkOptions): string {
  let out = '';
  for (const r of records) {
    const t = recordTimeMs(r);
    const action: Record<string, string> = { _index: bulkIndex(o.index, t) };
    if (r.type === 'alert') action._id = `${r.alert.id}-${r.seq}`;
    out += `${JSON.stringify({ index: action })}\n`;
    out += `${JSON.stringify({ '@timestamp': new Date(t).toISOString(), ...toDocument(r) })}\n`;
  }
  return out;
}

export interface BulkItemResult {
  status: number;
  error?: unknown;
}

/** The per-item results of a _bulk response, in request order; undefined when the body is not one. */
export function bulkResults(body: unknown): BulkItemResult[] | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { items?: unknown }).items)) return undefined;
  const out: BulkItemResult[] = [];
  for (const item of (body as { items: unknown[] }).items) {
    if (typeof item !== 'object' || item === null) return undefined;
    const result = Object.values(item)[0] as { status?: unknown; error?: unknown } | undefined;
    if (!result || typeof result.status !== 'number') return undefined;
    out.push({ status: result.status, error: result.error });
  }
  return out;
}

/** A webhook body: a JSON array of the documents. */
export function webhookBody(records: readonly ForwardRecord[]): string {
  return JSON.stringify(records.map(toDocument));
}
