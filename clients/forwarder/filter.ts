// Per-sink filters in the vocabulary of the proto's Filter (proto/vigil/v1/events.proto): the
// subscription asks the daemon for the union of what the sinks want, and each sink applies its own
// filter to what arrives. Semantics as the proto says: a record passes when it matches any allow
// filter (or there is none) and no deny filter; within a filter every set field must match (AND),
// within a list any value (OR); fields that do not apply to a record do not restrict it. Globs are the
// daemon's grammar (common/glob.ts: container_names plain, exe_globs path mode), checked when the
// config loads and matched in linear time.
import { EventKind } from '../../proto/gen/vigil/v1/EventKind.js';
import type { Filter } from '../../proto/gen/vigil/v1/Filter.js';
import type { Severity as ProtoSeverity } from '../../proto/gen/vigil/v1/Severity.js';
import { compileGlob, globFault, type Glob } from '../../common/glob.js';
import type { JsonSchema } from '../../common/json-schema.js';
import { ConfigError } from './errors.js';
import { SEVERITIES, enumName, severityName, type ForwardRecord, type Severity } from './record.js';

/** Event kinds by their docs/events.md names (exec, ..., container_update), from the proto's enum. */
export const EVENT_KINDS: readonly string[] = Object.keys(EventKind)
  .filter((k) => k !== 'EVENT_KIND_UNSPECIFIED')
  .map((k) => enumName(k, 'EVENT_KIND_'));

/** One filter as written in the config file (snake_case, as the proto's fields). */
export interface FilterSpec {
  kinds?: string[];
  rules?: string[];
  min_severity?: Severity;
  container_ids?: string[];
  container_names?: string[];
  pod_namespaces?: string[];
  exe_globs?: string[];
}

export interface SinkFilter {
  allow: FilterSpec[];
  deny: FilterSpec[];
}

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
    if (key === 'kinds') {
      const bad = v.find((k) => !EVENT_KINDS.includes(k));
      if (bad) throw new ConfigError(`${where}.kinds: unknown kind ${bad} (known: ${EVENT_KINDS.join(', ')})`);
    }
    if (key === 'container_names' || key === 'exe_globs') {
      for (const g of v as string[]) {
        const fault = globFault(g);
        if (fault) throw new ConfigError(`${where}.${key}: bad glob ${JSON.stringify(g)} at column ${fault.index + 1}: ${fault.reason}`);
      }
    }
    if (key === 'container_ids') {
      const bad = v.find((id) => id !== 'host' && id.length < 4);
      if (bad) throw new ConfigError(`${where}.container_ids: ${bad}: a prefix needs at least 4 characters`);
    }
    (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

/** The proto Filter for a FilterSpec (the subscription request). */
export function toProtoFilter(f: FilterSpec): Filter {
  return {
    kinds: (f.kinds ?? []).map((k) => `EVENT_KIND_${k.toUpperCase()}` as EventKind),
    rules: f.rules ?? [],
    min_severity: f.min_severity ? (`SEVERITY_${f.min_severity.toUpperCase()}` as ProtoSeverity) : 'SEVERITY_UNSPECIFIED',
    container_ids: f.container_ids ?? [],
    container_names: f.container_names ?? [],
    pod_namespaces: f.pod_namespaces ?? [],
    exe_globs: f.exe_globs ?? [],
  };
}

type Predicate = (r: ForwardRecord) => boolean;

function anyGlob(globs: readonly Glob[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}

function compileSpec(f: FilterSpec): Predicate {
  const tests: Predicate[] = [];
  if (f.kinds && f.kinds.length > 0) {
    const kinds = new Set(f.kinds);
    tests.push((r) =>
      r.type === 'event' ? kinds.has(enumName(r.event.kind, 'EVENT_KIND_')) : r.alert.events.some((e) => kinds.has(enumName(e.kind, 'EVENT_KIND_'))),
    );
  }
  if (f.rules && f.rules.length > 0) {
    const rules = new Set(f.rules);
    tests.push((r) => r.type !== 'alert' || rules.has(r.alert.rule));
  }
  if (f.min_severity) {
    const limit = SEVERITIES.indexOf(f.min_severity);
    tests.push((r) => r.type !== 'alert' || SEVERITIES.indexOf(severityName(r.alert.severity)) <= limit);
  }
  if (f.container_ids && f.container_ids.length > 0) {
    const ids = f.container_ids;
    tests.push((r) => {
      const id = (r.type === 'alert' ? r.alert.container : r.event.container)?.id ?? '';
      return ids.some((p) => (p === 'host' ? id === 'host' : id.startsWith(p)));
    });
  }
  if (f.container_names && f.container_names.length > 0) {
    const names = f.container_names.map((g) => compileGlob(g, 'plain'));
    tests.push((r) => {
      const name = (r.type === 'alert' ? r.alert.container : r.event.container)?.name ?? '';
      return anyGlob(names, name);
    });
  }
  if (f.pod_namespaces && f.pod_namespaces.length > 0) {
    const ns = new Set(f.pod_namespaces);
    tests.push((r) => ns.has((r.type === 'alert' ? r.alert.container : r.event.container)?.namespace ?? ''));
  }
  if (f.exe_globs && f.exe_globs.length > 0) {
    const globs = f.exe_globs.map((g) => compileGlob(g, 'path'));
    tests.push((r) => {
      const exe = r.type === 'alert' ? (r.alert.lineage[0]?.exe ?? '') : r.event.exec?.exe || r.event.proc?.exe || '';
      return anyGlob(globs, exe);
    });
  }
  return (r) => tests.every((t) => t(r));
}

/** The filter as a predicate. */
export function compileFilter(f: SinkFilter): Predicate {
  const allow = f.allow.map(compileSpec);
  const deny = f.deny.map(compileSpec);
  return (r) => (allow.length === 0 || allow.some((p) => p(r))) && !deny.some((p) => p(r));
}
