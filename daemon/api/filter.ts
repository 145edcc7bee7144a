// Subscription filters (Events.Subscribe): allow and deny lists of Filter messages, checked once when
// the stream opens (a bad glob, an unknown kind, an oversized list: INVALID_ARGUMENT) and compiled to
// predicates over the daemon's own objects, so nothing is converted for a message nobody wants. Globs
// are the one grammar of common/glob.ts (container_names plain, exe_globs path mode), matched in
// linear time and within a budget per subscription: a filter cannot stall ingest or other subscribers.
import type { Event as ApiEvent } from '../../proto/gen/vigil/v1/Event.js';
import { EventKind } from '../../proto/gen/vigil/v1/EventKind.js';
import type { Filter__Output } from '../../proto/gen/vigil/v1/Filter.js';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { Alert } from '../alerts/types.js';
import { compileGlob, globFault, type Glob } from '../../common/glob.js';
import { SEVERITIES, severityRank } from '../core/severity.js';
import { CursorError, VigilError } from '../core/errors.js';
import type { StreamEvent } from './convert.js';
import { CLIENT_NAME } from './drops.js';
import { compileMask, isLifecycle, type MaskTree } from './convert.js';

/** A request that cannot be served as asked: the API answers INVALID_ARGUMENT with the message. */
export class ApiArgumentError extends VigilError {
  constructor(message: string) {
    super('VIGIL_USAGE', message);
  }
}

/**
 * Bounds on a request. Globs also have a budget per subscription (count and characters, all filters
 * together): a glob's cost per event is the input's length times the glob's (common/glob.ts), so the
 * budget bounds what one subscriber's filter can cost the daemon for each event it looks at.
 */
export const FILTER_LIMITS = Object.freeze({ filters: 32, values: 256, length: 512, maskPaths: 128, globs: 256, globChars: 4096 });

/** EVENT_KIND_NS_CHANGE -> ns_change, for every kind of the proto's enum (the sensor's and the registry's). */
const KIND_BY_ENUM = new Map<string, string>(
  Object.keys(EventKind)
    .filter((k) => k !== 'EVENT_KIND_UNSPECIFIED')
    .map((k) => [k, k.slice('EVENT_KIND_'.length).toLowerCase()]),
);

export type Item = { type: 'event'; ev: StreamEvent } | { type: 'alert'; alert: Alert };
type Pred = (item: Item) => boolean;

function containerOf(item: Item): { id: string; name: string; namespace?: string } | undefined {
  if (item.type === 'alert') return item.alert.container;
  return item.ev.container;
}

function exeOf(item: Item): string | undefined {
  if (item.type === 'alert') return item.alert.lineage[0]?.exe;
  const ev = item.ev;
  if (isLifecycle(ev)) return undefined;
  if (ev.kind === 'exec') return (ev as { exe: string }).exe;
  return ev.proc?.exe;
}

/** Globs compiled so far for one subscription, against FILTER_LIMITS.globs and .globChars. */
interface GlobBudget {
  globs: number;
  chars: number;
}

function checkGlob(glob: string, field: string, where: string, budget: GlobBudget): Glob {
  const fault = globFault(glob);
  if (fault) throw new ApiArgumentError(`${where}.${field}: bad glob ${JSON.stringify(glob)} at column ${fault.index + 1}: ${fault.reason}`);
  budget.globs++;
  budget.chars += glob.length;
  if (budget.globs > FILTER_LIMITS.globs)
    throw new ApiArgumentError(`${where}.${field}: more than ${FILTER_LIMITS.globs} globs in the request (all filters together)`);
  if (budget.chars > FILTER_LIMITS.globChars)
    throw new ApiArgumentError(`${where}.${field}: globs longer than ${FILTER_LIMITS.globChars} characters in all (all filters together)`);
  return compileGlob(glob, field === 'exe_globs' ? 'path' : 'plain');
}

const MEMO_SIZE = 1024;

/**
 * Whether any glob matches, remembered for the last inputs: most events carry an exe or a container
 * name seen just before, so a subscriber's globs run once per distinct value, not once per event.
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

function compileOne(f: Filter__Output, where: string, budget: GlobBudget): Pred {
  const preds: Pred[] = [];
  const list = (values: readonly string[] | undefined, field: string): readonly string[] => {
    const v = values ?? [];
    if (v.length > FILTER_LIMITS.values) throw new ApiArgumentError(`${where}.${field}: more than ${FILTER_LIMITS.values} values`);
    for (const s of v) {
      if (typeof s !== 'string' || s.length === 0) throw new ApiArgumentError(`${where}.${field}: empty value`);
      if (s.length > FILTER_LIMITS.length) throw new ApiArgumentError(`${where}.${field}: a value longer than ${FILTER_LIMITS.length} characters`);
    }
    return v;
  };
  const kinds = (f.kinds ?? []).map((k) => {
    const name = KIND_BY_ENUM.get(String(k));
    if (!name) throw new ApiArgumentError(`${where}.kinds: unknown event kind ${JSON.stringify(k)} (known: ${[...KIND_BY_ENUM.keys()].join(', ')})`);
    return name;
  });
  if (kinds.length > FILTER_LIMITS.values) throw new ApiArgumentError(`${where}.kinds: more than ${FILTER_LIMITS.values} values`);
  if (kinds.length > 0) {
    const set = new Set(kinds);
    preds.push((it) => (it.type === 'event' ? set.has(it.ev.kind) : it.alert.events.some((e) => set.has(e.kind))));
  }
  const rules = list(f.rules, 'rules');
  if (rules.length > 0) {
    const set = new Set(rules);
    preds.push((it) => it.type === 'event' || set.has(it.alert.rule));
  }
  const sev = String(f.min_severity ?? 'SEVERITY_UNSPECIFIED');
  if (sev !== 'SEVERITY_UNSPECIFIED') {
    const name = sev.startsWith('SEVERITY_') ? sev.slice(9).toLowerCase() : '';
    if (!(SEVERITIES as readonly string[]).includes(name)) throw new ApiArgumentError(`${where}.min_severity: unknown severity ${JSON.stringify(sev)}`);
    const rank = severityRank(name as (typeof SEVERITIES)[number]);
    preds.push((it) => it.type === 'event' || severityRank(it.alert.severity) <= rank);
  }
  const ids = list(f.container_ids, 'container_ids');
  for (const id of ids)
    if (id !== 'host' && id.length < 4)
      throw new ApiArgumentError(`${where}.container_ids: ${JSON.stringify(id)} is shorter than 4 characters (a prefix must be at least 4)`);
  if (ids.length > 0) {
    preds.push((it) => {
      const c = containerOf(it);
      return c !== undefined && ids.some((id) => c.id === id || (id !== 'host' && c.id.startsWith(id)));
    });
  }
  const names = list(f.container_names, 'container_names').map((g) => checkGlob(g, 'container_names', where, budget));
  if (names.length > 0) {
    const test = anyGlob(names);
    preds.push((it) => {
      const c = containerOf(it);
      return c !== undefined && test(c.name);
    });
  }
  const nss = new Set(list(f.pod_namespaces, 'pod_namespaces'));
  if (nss.size > 0) {
    preds.push((it) => {
      const ns = containerOf(it)?.namespace;
      return ns !== undefined && nss.has(ns);
    });
  }
  const exes = list(f.exe_globs, 'exe_globs').map((g) => checkGlob(g, 'exe_globs', where, budget));
  if (exes.length > 0) {
    const test = anyGlob(exes);
    preds.push((it) => {
      const exe = exeOf(it);
      return exe !== undefined && test(exe);
    });
  }
  return (it) => preds.every((p) => p(it));
}

export interface CompiledSubscription {
  matches: Pred;
  /** The request's client_name, checked; '' when it gave none. */
  clientName: string;
  /** Whether any event kind could pass (for the sensor's own pre-filter). */
  events: boolean;
  alerts: boolean;
  sinceSeq: number;
  /** Replay every stored alert (sinceSeq is 0 then). */
  fromOldest: boolean;
  /** The epoch the cursor belongs to, when the client named one. */
  epoch?: string;
  eventMask?: MaskTree;
  alertMask?: MaskTree;
}

/** Every field of Event: typed against the generated message, so a field added to the proto fails the build until named. */
const EVENT_FIELDS: { [K in Exclude<keyof ApiEvent, 'detail' | `_${string}`>]-?: true } = {
  kind: true,
  time: true,
  ktime_ns: true,
  pid: true,
  tid: true,
  ppid: true,
  vpid: true,
  uid: true,
  gid: true,
  loginuid: true,
  comm: true,
  cgroup_id: true,
  ns: true,
  syscall: true,
  proc: true,
  container: true,
  runtime_setup: true,
  exec: true,
  fork: true,
  exit: true,
  ns_change: true,
  cred_change: true,
  syscall_info: true,
  file: true,
  connect: true,
  cgroup_mkdir: true,
  cgroup_rmdir: true,
  enforce: true,
  container_start: true,
  container_stop: true,
  container_update: true,
};
const EVENT_TOP: ReadonlySet<string> = new Set(Object.keys(EVENT_FIELDS));
const ALERT_TOP = new Set([
  'id',
  'seq',
  'time',
  'last_seen',
  'rule',
  'severity',
  'tags',
  'message',
  'container',
  'lineage',
  'events',
  'metric',
  'count',
  'state',
  'history',
  'actions',
  'suppressed',
  'unpersisted',
]);

const SEQ_LIMIT = 1n << 63n;

/**
 * A seq from the wire (a decimal string with the loader's options, or a number): a safe integer, never
 * wrapped. At or above 2^63 (or above 2^53, beyond any seq a store hands out) it is out of range.
 */
export function parseSeq(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const text = typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'string' ? v : '';
  if (!/^\d{1,40}$/.test(text)) throw new ApiArgumentError(`${field} ${JSON.stringify(String(v))} is not a sequence number`);
  const n = BigInt(text);
  if (n >= SEQ_LIMIT) throw new CursorError('VIGIL_CURSOR_RANGE', `${field} ${text} is at or above 2^63: not a sequence number (rejected, never wrapped)`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new CursorError('VIGIL_CURSOR_RANGE', `${field} ${text} is beyond any seq this daemon hands out`);
  return Number(n);
}

/** Checks and compiles a SubscribeRequest; throws ApiArgumentError. */
export function compileSubscription(req: SubscribeRequest__Output): CompiledSubscription {
  if (!req.include_events && !req.include_alerts) throw new ApiArgumentError('ask for include_events, include_alerts or both');
  const allowIn = req.allow ?? [];
  const denyIn = req.deny ?? [];
  if (allowIn.length > FILTER_LIMITS.filters || denyIn.length > FILTER_LIMITS.filters)
    throw new ApiArgumentError(`at most ${FILTER_LIMITS.filters} allow and ${FILTER_LIMITS.filters} deny filters`);
  const budget: GlobBudget = { globs: 0, chars: 0 };
  const allow = allowIn.map((f, i) => compileOne(f, `allow[${i}]`, budget));
  const deny = denyIn.map((f, i) => compileOne(f, `deny[${i}]`, budget));
  const since = parseSeq(req.since_seq, 'since_seq');
  const fromOldest = req.from_oldest === true;
  if ((since > 0 || fromOldest) && !req.include_alerts)
    throw new ApiArgumentError(`${fromOldest ? 'from_oldest' : 'since_seq'} resumes alerts: set include_alerts`);
  const epoch = req.epoch ?? undefined;
  if (epoch !== undefined && epoch !== '' && !/^[0-9a-f]{16}$/.test(epoch))
    throw new ApiArgumentError(`epoch ${JSON.stringify(epoch)} is not an epoch id (16 hex digits)`);
  const clientName = req.client_name ?? '';
  if (clientName !== '' && !CLIENT_NAME.test(clientName))
    throw new ApiArgumentError(`client_name ${JSON.stringify(clientName.slice(0, 80))}: letters, digits and . _ - / : @, at most 64 characters`);
  const out: CompiledSubscription = {
    matches: (it) => (allow.length === 0 || allow.some((p) => p(it))) && !deny.some((p) => p(it)),
    clientName,
    events: req.include_events,
    alerts: req.include_alerts,
    sinceSeq: fromOldest ? 0 : since,
    fromOldest,
    ...(epoch ? { epoch } : {}),
  };
  const paths = req.field_mask?.paths ?? [];
  if (paths.length > FILTER_LIMITS.maskPaths) throw new ApiArgumentError(`field_mask: more than ${FILTER_LIMITS.maskPaths} paths`);
  if (paths.length > 0) {
    const ev: string[] = [];
    const al: string[] = [];
    for (const p of paths) {
      if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/.test(p))
        throw new ApiArgumentError(`field_mask: ${JSON.stringify(p)} is not a field path (snake_case names joined by dots)`);
      const top = p.split('.')[0]!;
      const inEvent = EVENT_TOP.has(top);
      const inAlert = ALERT_TOP.has(top);
      if (!inEvent && !inAlert) throw new ApiArgumentError(`field_mask: ${JSON.stringify(top)} is a field of neither Event nor Alert`);
      if (inEvent) ev.push(p);
      if (inAlert) al.push(p);
    }
    out.eventMask = compileMask(ev, ['kind']);
    out.alertMask = compileMask(al, ['id', 'seq']);
  }
  return out;
}
