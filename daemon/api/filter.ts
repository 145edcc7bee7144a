// Subscription filters (Events.Subscribe): allow and deny lists of Filter messages, checked once when
// the stream opens (a bad glob, an unknown kind, an oversized list: INVALID_ARGUMENT) and compiled to
// predicates over the daemon's own objects, so nothing is converted for a message nobody wants. What a
// filter means, its checks and its bounds are the shared filter's (common/filter.ts, which the
// forwarder uses too); this module reads the daemon's events and alerts for it and adds the rest of
// the request (cursor, client name, field mask). Globs are matched in linear time and within a budget
// per subscription: a filter cannot stall ingest or other subscribers.
import type { Event as ApiEvent } from '../../proto/gen/vigil/v1/Event.js';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { Alert } from '../alerts/alert.js';
import {
  checkFilterSpec,
  compileFilterSpec,
  FILTER_LIMITS,
  FilterError,
  type FilterPredicate,
  type FilterView,
  filterBudget,
  fromProtoFilter,
} from '../../common/filter.js';
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

export type Item = { type: 'event'; ev: StreamEvent } | { type: 'alert'; alert: Alert };
type Pred = FilterPredicate<Item>;

/** How the shared filter reads the daemon's events and alerts. */
const ITEM_VIEW: FilterView<Item> = {
  hasKind: (it, kinds) => (it.type === 'event' ? kinds.has(it.ev.kind) : it.alert.events.some((e) => kinds.has(e.kind))),
  rule: (it) => (it.type === 'alert' ? it.alert.rule : undefined),
  severity: (it) => (it.type === 'alert' ? it.alert.severity : undefined),
  container: (it) => (it.type === 'alert' ? it.alert.container : it.ev.container),
  exe: (it) => {
    if (it.type === 'alert') return it.alert.lineage[0]?.exe;
    const ev = it.ev;
    if (isLifecycle(ev)) return undefined;
    if (ev.kind === 'exec') return (ev as { exe: string }).exe;
    return ev.proc?.exe;
  },
};

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
  const budget = filterBudget();
  const compile = (f: (typeof allowIn)[number], where: string): Pred => {
    try {
      const spec = fromProtoFilter(f, where);
      checkFilterSpec(spec, where, budget);
      return compileFilterSpec(spec, ITEM_VIEW);
    } catch (e) {
      if (e instanceof FilterError) throw new ApiArgumentError(e.message);
      throw e;
    }
  };
  const allow = allowIn.map((f, i) => compile(f, `allow[${i}]`));
  const deny = denyIn.map((f, i) => compile(f, `deny[${i}]`));
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
