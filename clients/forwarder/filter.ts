// Per-sink filters in the vocabulary of the proto's Filter (proto/vigil/v1/events.proto): the
// subscription asks the daemon for the union of what the sinks want, and each sink applies its own
// filter to what arrives. The checks and the semantics are the API's, from the one shared filter
// (common/filter.ts): a record passes when it matches any allow filter (or there is none) and no deny
// filter; within a filter every set field must match (AND), within a list any value (OR). This module
// reads the config's filters and the stream's proto messages for it.
import type { JsonSchema } from '../../common/json-schema.js';
import {
  checkFilterSpec,
  compileFilterLists,
  EVENT_KINDS,
  FilterError,
  type FilterLists,
  type FilterPredicate,
  type FilterSpec,
  type FilterView,
} from '../../common/filter.js';
import { ConfigError } from './core/errors.js';
import { SEVERITIES, enumName, severityName, type ForwardRecord, type Severity } from './core/record.js';

export { EVENT_KINDS, type FilterSpec };
export { toProtoFilter } from '../../common/filter.js';

export type SinkFilter = FilterLists;

const NAMES = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

/**
 * The fields of a filter, each with its meaning and its JSON Schema: parseFilterSpec knows these
 * names and no others, and the forwarder's config schema (docs/schemas/forward.schema.json) prints
 * them. Glob syntax is checked by the parser only (common/glob.ts).
 */
export const FILTER_FIELDS: Readonly<Record<keyof FilterSpec, { description: string; schema: JsonSchema }>> = {
  kinds: { description: 'Event kinds (docs/events.md): exec, file, ...', schema: { type: 'array', items: { type: 'string', enum: [...EVENT_KINDS] } } },
  rules: { description: 'Rule names.', schema: NAMES },
  min_severity: { description: 'Alerts of at least this severity.', schema: { type: 'string', enum: [...SEVERITIES] } },
  container_ids: {
    description: 'Container ids or prefixes of at least 4 characters; host for the host.',
    schema: { type: 'array', items: { type: 'string', pattern: '^(?:host|[\\s\\S]{4,})$' } },
  },
  container_names: { description: 'Container names: globs (* any run of characters).', schema: NAMES },
  pod_namespaces: { description: 'Kubernetes namespaces.', schema: NAMES },
  exe_globs: { description: 'Executable paths: globs (* within a path segment, ** across).', schema: NAMES },
};

const FIELDS: readonly string[] = Object.keys(FILTER_FIELDS);

/** The JSON Schema of one filter. */
export function filterSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, f] of Object.entries(FILTER_FIELDS)) properties[k] = { description: f.description, ...f.schema };
  return { type: 'object', properties, additionalProperties: false };
}

/** Check one filter from the config; `where` names it in errors ("sinks[0].filter.allow[1]"). */
export function parseFilterSpec(value: unknown, where: string): FilterSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: must be a mapping`);
  const out: FilterSpec = {};
  for (const [key, v] of Object.entries(value)) {
    if (!FIELDS.includes(key)) throw new ConfigError(`${where}: unknown field ${key} (known: ${FIELDS.join(', ')})`);
    if (key === 'min_severity') {
      if (!(SEVERITIES as readonly unknown[]).includes(v)) throw new ConfigError(`${where}.min_severity: one of ${SEVERITIES.join(', ')}`);
      out.min_severity = v as Severity;
      continue;
    }
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) {
      throw new ConfigError(`${where}.${key}: must be a list of non-empty strings`);
    }
    (out as Record<string, unknown>)[key] = v;
  }
  try {
    checkFilterSpec(out, where);
  } catch (e) {
    if (e instanceof FilterError) throw new ConfigError(e.message);
    throw e;
  }
  return out;
}

/** How the shared filter reads the stream's messages. */
const RECORD_VIEW: FilterView<ForwardRecord> = {
  hasKind: (r, kinds) =>
    r.type === 'event' ? kinds.has(enumName(r.event.kind, 'EVENT_KIND_')) : r.alert.events.some((e) => kinds.has(enumName(e.kind, 'EVENT_KIND_'))),
  rule: (r) => (r.type === 'alert' ? r.alert.rule : undefined),
  severity: (r) => (r.type === 'alert' ? severityName(r.alert.severity) : undefined),
  container: (r) => (r.type === 'alert' ? r.alert.container : r.event.container) ?? undefined,
  exe: (r) => (r.type === 'alert' ? r.alert.lineage[0]?.exe : r.event.exec?.exe || r.event.proc?.exe || undefined),
};

/** The filter as a predicate. */
export function compileFilter(f: SinkFilter): FilterPredicate<ForwardRecord> {
  return compileFilterLists(f, RECORD_VIEW);
}
