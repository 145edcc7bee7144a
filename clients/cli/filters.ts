// `vigil tail --allow/--deny FILTER`: FIELD=VALUE[,VALUE...] conditions joined by ';' (all must match,
// any value of one may match), turned into a vigil.v1 Filter. Field names and kinds are checked here
// (a usage error); globs and ids go to the daemon as typed, which refuses a malformed one with
// INVALID_ARGUMENT.
import { UsageError } from './errors.js';
import { KIND_NAMES, SEVERITY_WORDS, kindEnum, severityEnum, type Filter } from './proto.js';

type ListField = 'kinds' | 'rules' | 'container_ids' | 'container_names' | 'pod_namespaces' | 'exe_globs';

const FIELDS: Record<string, ListField | 'min_severity'> = {
  kind: 'kinds',
  rule: 'rules',
  severity: 'min_severity',
  container: 'container_ids',
  'container.id': 'container_ids',
  'container.name': 'container_names',
  namespace: 'pod_namespaces',
  'pod.namespace': 'pod_namespaces',
  exe: 'exe_globs',
};

export const FILTER_FIELDS = Object.keys(FIELDS);

export function parseFilter(text: string, usage?: string): Filter {
  const filter: Filter = {};
  const conditions = text
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean);
  if (conditions.length === 0) throw new UsageError(`empty filter ${JSON.stringify(text)}`, usage);
  for (const cond of conditions) {
    const eq = cond.indexOf('=');
    if (eq <= 0) throw new UsageError(`filter ${JSON.stringify(cond)} is not FIELD=VALUE (fields: ${FILTER_FIELDS.join(', ')})`, usage);
    const name = cond.slice(0, eq).trim();
    const field = FIELDS[name];
    if (field === undefined) throw new UsageError(`unknown filter field ${JSON.stringify(name)} (fields: ${FILTER_FIELDS.join(', ')})`, usage);
    const values = cond
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim());
    if (values.some((v) => v === '')) throw new UsageError(`filter ${JSON.stringify(cond)} has an empty value`, usage);
    if (field === 'min_severity') {
      if (values.length !== 1 || !SEVERITY_WORDS.includes(values[0]!))
        throw new UsageError(`severity takes one of ${SEVERITY_WORDS.join(', ')} (got ${JSON.stringify(values.join(','))})`, usage);
      filter.min_severity = severityEnum(values[0]!) as Filter['min_severity'];
      continue;
    }
    if (field === 'kinds') {
      for (const v of values)
        if (!KIND_NAMES.includes(v)) throw new UsageError(`unknown event kind ${JSON.stringify(v)} (kinds: ${KIND_NAMES.join(', ')})`, usage);
      filter.kinds = [...(filter.kinds ?? []), ...values.map((v) => kindEnum(v) as NonNullable<Filter['kinds']>[number])];
      continue;
    }
    filter[field] = [...(filter[field] ?? []), ...values];
  }
  return filter;
}
