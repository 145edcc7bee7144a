// Daemon objects to API messages (plain objects in the shape of the generated proto types), and the
// field mask that trims them. Field names are the proto's (docs/events.md's): most copy across.
import type { Alert as ApiAlert } from '../../proto/gen/vigil/v1/Alert.js';
import type { ContainerInfo as ApiContainerInfo } from '../../proto/gen/vigil/v1/ContainerInfo.js';
import type { Event as ApiEvent } from '../../proto/gen/vigil/v1/Event.js';
import type { Forecast as ApiForecast } from '../../proto/gen/vigil/v1/Forecast.js';
import type { Rule as ApiRule } from '../../proto/gen/vigil/v1/Rule.js';
import type { Target as ApiTarget } from '../../proto/gen/vigil/v1/Target.js';
import type { Alert, AlertChange } from '../alerts/alert.js';
import type { Target } from '../containers/targets.js';
import { formatSelector } from '../containers/targets.js';
import { CONTAINER_LIFECYCLE_KINDS, type ContainerInfo, type ContainerLifecycleEvent } from '../containers/container-info.js';
import type { RuleInfo } from '../detect/rule-match.js';
import type { Forecast } from '../core/forecast.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';

/** What Events.Subscribe carries from the sensor: probe events and the registry's lifecycle events. */
export type StreamEvent = VigilEvent | ContainerLifecycleEvent;

const LIFECYCLE: ReadonlySet<string> = new Set(CONTAINER_LIFECYCLE_KINDS);

export function isLifecycle(ev: StreamEvent): ev is ContainerLifecycleEvent {
  return LIFECYCLE.has(ev.kind);
}

const upper = (prefix: string, s: string): string => `${prefix}${s.toUpperCase()}`;

/** A ContainerInfo field name as the proto spells it ("podUid" -> "pod_uid"). */
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function toApiContainerInfo(c: ContainerInfo): ApiContainerInfo {
  return {
    ref: {
      id: c.id,
      name: c.name,
      runtime: c.runtime,
      image: c.image,
      ...(c.pod !== undefined ? { pod: c.pod } : {}),
      ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
    },
    ...(c.podUid !== undefined ? { pod_uid: c.podUid } : {}),
    labels: c.labels,
    cgroup_id: c.cgroupId,
    cgroup_path: c.cgroupPath,
    ...(c.initPid !== undefined ? { init_pid: c.initPid } : {}),
    ...(c.posture
      ? {
          posture: {
            privileged: c.posture.privileged,
            host_pid: c.posture.hostPid,
            host_net: c.posture.hostNet,
            host_ipc: c.posture.hostIpc,
            host_mnt: c.posture.hostMnt,
            host_user: c.posture.hostUser,
            host_uts: c.posture.hostUts,
            sensitive_mounts: c.posture.sensitiveMounts,
            uid_map: c.posture.uidMap,
            cap_effective: c.posture.capEffective,
            sources: c.posture.sources,
            mismatches: c.posture.mismatches,
          },
        }
      : {}),
    started_at: c.startedAt,
    ...(c.stoppedAt !== undefined ? { stopped_at: c.stoppedAt } : {}),
  };
}

/** A sensor or registry event as an API Event. The kind's own fields go in the member named after
 * it (syscall_info for `syscall`); protobuf encoding ignores the header fields repeated there. */
export function toApiEvent(ev: StreamEvent): ApiEvent {
  if (isLifecycle(ev)) {
    const info = toApiContainerInfo(ev.container);
    const out: ApiEvent = { kind: upper('EVENT_KIND_', ev.kind) as ApiEvent['kind'], time: ev.time, container: info.ref ?? null };
    if (ev.kind === 'container_update') out.container_update = { container: info, changed: (ev.changed ?? []).map(snake) };
    else out[ev.kind] = info;
    return out;
  }
  const out: ApiEvent = {
    kind: upper('EVENT_KIND_', ev.kind) as ApiEvent['kind'],
    time: ev.time,
    ktime_ns: ev[KTIME] !== undefined ? ev[KTIME].toString() : '0',
    pid: ev.pid,
    tid: ev.tid,
    ppid: ev.ppid,
    vpid: ev.vpid,
    uid: ev.uid,
    gid: ev.gid,
    loginuid: ev.loginuid,
    comm: ev.comm,
    cgroup_id: ev.cgroup_id,
    ns: ev.ns,
    ...(ev.syscall !== undefined ? { syscall: ev.syscall } : {}),
    ...(ev.proc ? { proc: ev.proc } : {}),
    ...(ev.container ? { container: ev.container } : {}),
    ...(ev.runtime_setup ? { runtime_setup: true } : {}),
  };
  const member = ev.kind === 'syscall' ? 'syscall_info' : ev.kind;
  (out as Record<string, unknown>)[member] = ev;
  return out;
}

/** Exact change names of the proto for each AlertChange. */
export function toApiChange(change: AlertChange): string {
  return upper('ALERT_CHANGE_', change);
}

/** What a replayed alert version is, from its state (a stream resuming from the store). */
export function replayedChange(a: Alert): AlertChange {
  if (a.state === 'acknowledged') return 'acknowledged';
  if (a.state === 'resolved') return 'resolved';
  return a.history.length <= 1 && a.count <= 1 && a.actions.length === 0 ? 'opened' : 'updated';
}

export function toApiAlert(a: Alert): ApiAlert {
  return {
    id: a.id,
    seq: a.seq,
    time: a.time,
    last_seen: a.lastSeen,
    rule: a.rule,
    severity: upper('SEVERITY_', a.severity) as ApiAlert['severity'],
    tags: a.tags,
    message: a.message,
    container: a.container,
    lineage: a.lineage,
    events: a.events.map(toApiEvent),
    ...(a.metric ? { metric: { target: a.metric.target, values: a.metric.values, held_ms: Math.max(0, Math.round(a.metric.heldMs)) } } : {}),
    count: a.count,
    state: upper('ALERT_STATE_', a.state) as ApiAlert['state'],
    history: a.history.map((h) => ({
      state: upper('ALERT_STATE_', h.state) as ApiAlert['state'],
      at: h.at,
      by: h.by,
      ...(h.comment !== undefined ? { comment: h.comment } : {}),
    })),
    actions: a.actions.map((x) => ({ action: upper('ACTION_', x.action) as 'ACTION_NOTIFY', ok: x.ok, detail: x.detail, at: x.at })),
    suppressed: a.suppressed ?? 0,
    unpersisted: a.unpersisted === true,
    ...(a.forecast ? { forecast: toApiForecast(a.forecast) } : {}),
    output_fields: toApiOutputFields(a),
    source: a.source ?? 'syscall',
    hostname: a.hostname ?? '',
  };
}

/**
 * Falco's output_fields: evt.time (unix nanoseconds of the first match) first, then the rule's output
 * fields. Whole numbers travel as integers, others as reals; a field without a value carries none.
 */
function toApiOutputFields(a: Alert): NonNullable<ApiAlert['output_fields']> {
  const ms = Date.parse(a.time);
  const out: NonNullable<ApiAlert['output_fields']> = [{ name: 'evt.time', integer: (BigInt(Number.isFinite(ms) ? ms : 0) * 1_000_000n).toString() }];
  for (const f of a.outputFields ?? []) {
    if (f.name === 'evt.time') continue;
    const v = f.value;
    if (v === null) out.push({ name: f.name });
    else if (typeof v === 'string') out.push({ name: f.name, text: v });
    else if (typeof v === 'boolean') out.push({ name: f.name, flag: v });
    else if (Number.isSafeInteger(v)) out.push({ name: f.name, integer: String(v) });
    else out.push({ name: f.name, real: v });
  }
  return out;
}

export function toApiTarget(t: Target): ApiTarget {
  return { id: t.id, selector: formatSelector(t.selector), metrics: t.metrics ?? [], rules: t.rules ?? [], added_at: t.addedAt };
}

export function toApiRule(r: RuleInfo): ApiRule {
  return {
    name: r.name,
    desc: r.desc,
    kind: upper('RULE_KIND_', r.kind) as ApiRule['kind'],
    severity: upper('SEVERITY_', r.severity) as ApiRule['severity'],
    tags: r.tags,
    enabled: r.enabled,
    actions: r.actions.map((x) => upper('ACTION_', x) as 'ACTION_NOTIFY'),
    source: r.source,
    status: r.status?.state === 'skipped' ? 'RULE_STATUS_SKIPPED' : r.status?.state === 'never' ? 'RULE_STATUS_NEVER_FIRES' : 'RULE_STATUS_LOADED',
    status_reason: r.status?.reason ?? '',
  };
}

export function toApiForecast(f: Forecast): ApiForecast {
  const ms = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n));
  return {
    target: f.target,
    metric: f.metric,
    model: upper('FORECAST_MODEL_', f.model) as ApiForecast['model'],
    computed_at_ms: Math.round(f.computedAt),
    last_observed_ms: Math.round(f.lastObserved),
    level: f.level,
    points: f.points.map((p) => ({ time_ms: Math.round(p.time), value: p.value, lower: p.lower, upper: p.upper })),
    ...(f.exhaustion
      ? {
          exhaustion: {
            limit_metric: f.exhaustion.limitMetric,
            limit: f.exhaustion.limit,
            ...(f.exhaustion.at !== undefined ? { at_ms: ms(f.exhaustion.at)! } : {}),
            ...(f.exhaustion.earliest !== undefined ? { earliest_ms: ms(f.exhaustion.earliest)! } : {}),
            ...(f.exhaustion.latest !== undefined ? { latest_ms: ms(f.exhaustion.latest)! } : {}),
            ...(f.exhaustion.peakRatio !== undefined ? { peak_ratio: f.exhaustion.peakRatio } : {}),
          },
        }
      : {}),
    ...(f.mase !== undefined ? { mase: f.mase } : {}),
  };
}

// ---- field masks --------------------------------------------------------------------------------

/** A field mask compiled to a tree: a leaf (true) keeps the whole field. */
export type MaskTree = Map<string, MaskTree | true>;

export function compileMask(paths: readonly string[], always: readonly string[]): MaskTree {
  const root: MaskTree = new Map();
  for (const p of [...paths, ...always]) {
    const parts = p.split('.');
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const k = parts[i]!;
      const cur = node.get(k);
      if (cur === true) break;
      if (i === parts.length - 1) {
        node.set(k, true);
        break;
      }
      let next = cur;
      if (!next) node.set(k, (next = new Map()));
      node = next;
    }
  }
  return root;
}

/** Keeps only the masked fields of a message object (arrays: applied to each element). */
export function applyMask(obj: unknown, mask: MaskTree): unknown {
  if (Array.isArray(obj)) return obj.map((x) => applyMask(x, mask));
  if (obj === null || typeof obj !== 'object') return obj;
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of mask) {
    if (!(k in src)) continue;
    out[k] = sub === true ? src[k] : applyMask(src[k], sub);
  }
  return out;
}
