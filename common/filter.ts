// The event/alert filter of the API (proto/vigil/v1/events.proto `Filter`), once: its checks and its
// semantics, shared by the daemon's subscriptions (daemon/api/filter.ts) and the forwarder's per-sink
// filters (clients/forwarder/filter.ts). Each side reads its own records (the daemon its own objects,
// so nothing is converted for a message nobody wants; the forwarder the proto messages) through a
// FilterView; what a filter means is decided here only.
//
// Semantics (docs/api.md "Filters"): a record passes when it matches any allow filter (or there is
// none) and no deny filter. Within a filter every field that is set must match (AND), within a list
// any value (OR). `rules` and `min_severity` do not apply to events and pass every event; a record
// without a container matches no container field, one without an executable no `exe_globs`. Globs
// are the one grammar of common/glob.ts (container_names plain, exe_globs path mode), matched in
// linear time; each list of globs remembers its last answers.
import { EventKind } from '../proto/gen/vigil/v1/EventKind.js';
import type { Filter, Filter__Output } from '../proto/gen/vigil/v1/Filter.js';
import type { Severity as ProtoSeverity } from '../proto/gen/vigil/v1/Severity.js';
import { CodedError } from './errors.js';
import { compileGlob, globFault, type Glob } from './glob.js';
import { SEVERITIES, severityRank, type Severity } from './severity.js';

/** A filter that cannot be used as given; the message names where ("allow[0].exe_globs: ..."). */
export class FilterError extends CodedError<'VIGIL_FILTER'> {
  constructor(message: string) {
    super('VIGIL_FILTER', message);
  }
}

/** Event kinds by their docs/events.md names (exec, ..., container_update), from the proto's enum. */
export const EVENT_KINDS: readonly string[] = Object.keys(EventKind)
  .filter((k) => k !== 'EVENT_KIND_UNSPECIFIED')
  .map((k) => k.slice('EVENT_KIND_'.length).toLowerCase());

/** One filter with the names of docs/events.md (kinds `exec`, severity `warning`): the fields of the proto's Filter. */
export interface FilterSpec {
  kinds?: string[];
  rules?: string[];
  min_severity?: Severity;
  container_ids?: string[];
  container_names?: string[];
  pod_namespaces?: string[];
  exe_globs?: string[];
}

export interface FilterLists {
  allow: FilterSpec[];
  deny: FilterSpec[];
}

/**
 * Bounds on a subscription's filters (the API enforces them). Globs also have a budget per
 * subscription (count and characters, all filters together): a glob's cost per event is the input's
 * length times the glob's (common/glob.ts), so the budget bounds what one subscriber's filter can cost
 * the daemon for each event it looks at.
 */
export const FILTER_LIMITS = Object.freeze({ filters: 32, values: 256, length: 512, maskPaths: 128, globs: 256, globChars: 4096 });

/** What FILTER_LIMITS allows one request, spent over its filters by checkFilterSpec. */
export interface FilterBudget {
  globs: number;
  chars: number;
}

export function filterBudget(): FilterBudget {
  return { globs: 0, chars: 0 };
}

const LIST_FIELDS = ['kinds', 'rules', 'container_ids', 'container_names', 'pod_namespaces', 'exe_globs'] as const;

/**
 * Checks one filter's values (names, prefixes, globs); `where` names it in errors. With a budget the
 * API's bounds apply too (FILTER_LIMITS: values per list, a value's length, globs over the request).
 * Throws FilterError.
 */
export function checkFilterSpec(f: FilterSpec, where: string, budget?: FilterBudget): void {
  for (const field of LIST_FIELDS) {
    const v = f[field] ?? [];
    if (budget && v.length > FILTER_LIMITS.values) throw new FilterError(`${where}.${field}: more than ${FILTER_LIMITS.values} values`);
    for (const s of v) {
      if (typeof s !== 'string' || s.length === 0) throw new FilterError(`${where}.${field}: empty value`);
      if (budget && s.length > FILTER_LIMITS.length) throw new FilterError(`${where}.${field}: a value longer than ${FILTER_LIMITS.length} characters`);
    }
  }
  for (const k of f.kinds ?? []) if (!EVENT_KINDS.includes(k)) throw new FilterError(`${where}.kinds: unknown kind ${k} (known: ${EVENT_KINDS.join(', ')})`);
  if (f.min_severity !== undefined && !(SEVERITIES as readonly string[]).includes(f.min_severity))
    throw new FilterError(`${where}.min_severity: one of ${SEVERITIES.join(', ')}`);
  for (const id of f.container_ids ?? [])
    if (id !== 'host' && id.length < 4)
      throw new FilterError(`${where}.container_ids: ${JSON.stringify(id)} is shorter than 4 characters (a prefix needs at least 4 characters)`);
  for (const field of ['container_names', 'exe_globs'] as const) {
    for (const g of f[field] ?? []) {
      const fault = globFault(g);
      if (fault) throw new FilterError(`${where}.${field}: bad glob ${JSON.stringify(g)} at column ${fault.index + 1}: ${fault.reason}`);
      if (!budget) continue;
      budget.globs++;
      budget.chars += g.length;
      if (budget.globs > FILTER_LIMITS.globs)
        throw new FilterError(`${where}.${field}: more than ${FILTER_LIMITS.globs} globs in the request (all filters together)`);
      if (budget.chars > FILTER_LIMITS.globChars)
        throw new FilterError(`${where}.${field}: globs longer than ${FILTER_LIMITS.globChars} characters in all (all filters together)`);
    }
  }
}

/** EVENT_KIND_NS_CHANGE -> ns_change, for every kind of the proto's enum. */
const KIND_BY_ENUM = new Map<string, string>(EVENT_KINDS.map((k) => [`EVENT_KIND_${k.toUpperCase()}`, k]));

/**
 * A proto Filter as a FilterSpec: enum values to the names of docs/events.md. An unknown or UNSPECIFIED
 * kind or severity is a FilterError (SEVERITY_UNSPECIFIED as min_severity means "not set").
 */
export function fromProtoFilter(f: Filter__Output, where: string): FilterSpec {
  const out: FilterSpec = {};
  const kinds = (f.kinds ?? []).map((k) => {
    const name = KIND_BY_ENUM.get(String(k));
    if (!name) throw new FilterError(`${where}.kinds: unknown event kind ${JSON.stringify(k)} (known: ${[...KIND_BY_ENUM.keys()].join(', ')})`);
    return name;
  });
  if (kinds.length > 0) out.kinds = kinds;
  const sev = String(f.min_severity ?? 'SEVERITY_UNSPECIFIED');
  if (sev !== 'SEVERITY_UNSPECIFIED') {
    const name = sev.startsWith('SEVERITY_') ? sev.slice(9).toLowerCase() : '';
    if (!(SEVERITIES as readonly string[]).includes(name)) throw new FilterError(`${where}.min_severity: unknown severity ${JSON.stringify(sev)}`);
    out.min_severity = name as Severity;
  }
  for (const field of ['rules', 'container_ids', 'container_names', 'pod_namespaces', 'exe_globs'] as const) {
    const v = f[field];
    if (v && v.length > 0) out[field] = v;
  }
  return out;
}

/** The proto Filter for a FilterSpec (what a client asks the daemon for). */
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

/** A record's container, as far as filters look at it. */
export interface FilterContainer {
  id: string;
  name: string;
  namespace?: string | undefined;
}

/**
 * How a filter reads one side's records. Each accessor answers for events and alerts alike; undefined
 * is "the record has none" (an event has no rule or severity, a lifecycle event no executable).
 */
export interface FilterView<R> {
  /** Whether the record is of one of these kinds (an alert: whether any of its events is). */
  hasKind(r: R, kinds: ReadonlySet<string>): boolean;
  /** The alert's rule; undefined for an event. */
  rule(r: R): string | undefined;
  /** The alert's severity; undefined for an event. */
  severity(r: R): Severity | undefined;
  container(r: R): FilterContainer | undefined;
  /** The event's executable (an exec's new one), or an alert's first lineage entry's. */
  exe(r: R): string | undefined;
}

export type FilterPredicate<R> = (r: R) => boolean;

const MEMO_SIZE = 1024;

/**
 * Whether any glob matches, remembered for the last inputs: most records carry an exe or a container
 * name seen just before, so the globs run once per distinct value, not once per record.
 */
function anyGlob(globs: readonly Glob[]): (value: string) => boolean {
  const memo = new Map<string, boolean>();
  return (value) => {
    let hit = memo.get(value);
    if (hit === undefined) {
      hit = false;
      for (const g of globs) {
        if (g.test(value)) {
          hit = true;
          break;
        }
      }
      if (memo.size >= MEMO_SIZE) memo.clear();
      memo.set(value, hit);
    }
    return hit;
  };
}

/** One checked filter (checkFilterSpec) as a predicate. */
export function compileFilterSpec<R>(f: FilterSpec, view: FilterView<R>): FilterPredicate<R> {
  const preds: FilterPredicate<R>[] = [];
  if (f.kinds && f.kinds.length > 0) {
    const set = new Set(f.kinds);
    preds.push((r) => view.hasKind(r, set));
  }
  if (f.rules && f.rules.length > 0) {
    const set = new Set(f.rules);
    preds.push((r) => {
      const rule = view.rule(r);
      return rule === undefined || set.has(rule);
    });
  }
  if (f.min_severity !== undefined) {
    const rank = severityRank(f.min_severity);
    preds.push((r) => {
      const s = view.severity(r);
      return s === undefined || severityRank(s) <= rank;
    });
  }
  if (f.container_ids && f.container_ids.length > 0) {
    const ids = f.container_ids;
    preds.push((r) => {
      const c = view.container(r);
      return c !== undefined && ids.some((id) => c.id === id || (id !== 'host' && c.id.startsWith(id)));
    });
  }
  if (f.container_names && f.container_names.length > 0) {
    const test = anyGlob(f.container_names.map((g) => compileGlob(g, 'plain')));
    preds.push((r) => {
      const c = view.container(r);
      return c !== undefined && test(c.name);
    });
  }
  if (f.pod_namespaces && f.pod_namespaces.length > 0) {
    const set = new Set(f.pod_namespaces);
    preds.push((r) => {
      const ns = view.container(r)?.namespace;
      return ns !== undefined && set.has(ns);
    });
  }
  if (f.exe_globs && f.exe_globs.length > 0) {
    const test = anyGlob(f.exe_globs.map((g) => compileGlob(g, 'path')));
    preds.push((r) => {
      const exe = view.exe(r);
      return exe !== undefined && test(exe);
    });
  }
  return (r) => preds.every((p) => p(r));
}

/** Allow and deny lists of checked filters as one predicate: any allow (or none), and no deny. */
export function compileFilterLists<R>(lists: FilterLists, view: FilterView<R>): FilterPredicate<R> {
  const allow = lists.allow.map((f) => compileFilterSpec(f, view));
  const deny = lists.deny.map((f) => compileFilterSpec(f, view));
  return (r) => (allow.length === 0 || allow.some((p) => p(r))) && !deny.some((p) => p(r));
}
