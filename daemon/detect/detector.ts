// The evaluator: each event meets only the candidate rules of its kind and system call (file and
// connect events: and of its path, see RuleSet.candidatesOf); every rule
// that matches fires (no first-match shadowing). Sequence chains, threshold windows and metric
// holds are per rule and per key, each map capped (the oldest goes, counted). swap() replaces the
// rule set between two events and keeps the state of rules whose definition did not change.
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { WALL_MS, type Creds, type NsSet, type VigilEvent } from '../sensor/events.js';
import type { ContainerInfo, ContainerLifecycleEvent } from '../containers/container-info.js';
import type { ContainerRef } from '../core/container.js';
import { readHostNs } from '../process/namespaces.js';
import { HOST_CONTAINER } from '../core/container.js';
import type { MetricName, Sample } from '../core/metric-names.js';
import { EvalContext, type Environment, type MetricView, type Value } from './fields.js';
import { show, type CompiledRule } from './loader.js';
import type { RuleSet } from './ruleset.js';
import type { OutputValue, RuleMatch } from './rule-match.js';

export interface DetectorOptions {
  rules: RuleSet;
  onMatch: (m: RuleMatch) => void;
  logger?: Logger;
  /** Milliseconds clock (metric rules' hold times when samples lack one; tests). */
  now?: () => number;
  /** Full container records by cgroup id (the registry's resolve); posture and labels need it. */
  resolveContainer?: (cgroupId: number | undefined, id: string) => ContainerInfo | undefined;
  /** Host namespace inodes (default: pid 1's, or this process's when pid 1's are unreadable). */
  hostNs?: NsSet;
  procRoot?: string;
  /** Static host entries for fd.sip.name, before DNS (Environment.hosts). */
  hosts?: ReadonlyMap<string, readonly string[]>;
  /** Caps: partial sequence chains and threshold keys per rule; processes with known creds. */
  maxChains?: number;
  maxKeys?: number;
  maxProcesses?: number;
}

export interface RuleStats {
  name: string;
  evaluations: number;
  matches: number;
  /** Estimated time spent evaluating it (sampled), ms. */
  timeMs: number;
}

export interface DetectorStats {
  /** Events passed to evaluate(), runtime_setup ones included. */
  events: number;
  /** Of those, events of a container runtime's bootstrap (runtime_setup): no rule evaluated them. */
  runtimeSetupSkipped: number;
  lifecycle: number;
  samples: number;
  matches: number;
  callbackErrors: number;
  chains: number;
  chainEvictions: number;
  chainTimeouts: number;
  thresholdKeys: number;
  thresholdEvictions: number;
  metricTargets: number;
  rules: RuleStats[];
}

interface Chain {
  next: number;
  start: number;
  events: VigilEvent[];
}
interface SeqState {
  sig: string;
  chains: Map<string, Chain>;
}
interface Window {
  times: number[];
  distinct?: Map<string, number>;
  sample: VigilEvent[];
}
interface ThrState {
  sig: string;
  keys: Map<string, Window>;
}
interface Hold {
  since: number;
  fired: boolean;
}
interface MetricState {
  sig: string;
  targets: Map<string, Hold>;
}
interface Reading {
  value: number;
  time: number;
  prev?: number;
  prevTime?: number;
}

const SAMPLE_EVERY = 32;
const SAMPLE_EVENTS = 10;
const UNKNOWN: ContainerRef = { id: 'unknown', name: 'unknown', runtime: 'unknown', image: '' };

export class Detector {
  private rules: RuleSet;
  private readonly onMatch: (m: RuleMatch) => void;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ctx: EvalContext;
  private readonly maxChains: number;
  private readonly maxKeys: number;
  private readonly maxProcs: number;
  private readonly procCreds = new Map<number, { cur: Creds | undefined; prior: Creds | undefined }>();
  private readonly seq = new Map<string, SeqState>();
  private readonly thr = new Map<string, ThrState>();
  private readonly met = new Map<string, MetricState>();
  private readonly readings = new Map<string, Map<MetricName, Reading>>();
  private readonly perRule = new Map<string, RuleStats>();
  private tick = 0;
  private readonly c = {
    events: 0,
    runtimeSetupSkipped: 0,
    lifecycle: 0,
    samples: 0,
    matches: 0,
    callbackErrors: 0,
    chainEvictions: 0,
    chainTimeouts: 0,
    thresholdEvictions: 0,
  };

  constructor(o: DetectorOptions) {
    this.rules = o.rules;
    this.onMatch = o.onMatch;
    this.log = o.logger ?? silentLogger();
    this.now = o.now ?? Date.now;
    this.maxChains = o.maxChains ?? 10_000;
    this.maxKeys = o.maxKeys ?? 10_000;
    this.maxProcs = o.maxProcesses ?? 65_536;
    const procRoot = o.procRoot ?? '/proc';
    let hostNs: NsSet | undefined | null = o.hostNs ?? null;
    const resolve = o.resolveContainer;
    const env: Environment = {
      container: (cg, id) => resolve?.(cg, id),
      creds: (pid) => this.procCreds.get(pid)?.cur,
      priorCreds: (pid) => this.procCreds.get(pid)?.prior,
      hostNs: () => (hostNs === null ? (hostNs = readHostNs(procRoot)) : hostNs),
      procRoot,
      ...(o.hosts ? { hosts: o.hosts } : {}),
    };
    this.ctx = new EvalContext(env);
  }

  /** Replaces the rule set; the state of unchanged rules (same name and definition) is kept. */
  swap(rules: RuleSet): void {
    const sig = new Map(rules.compiled().map((r) => [r.info.name, r.signature]));
    for (const m of [this.seq, this.thr, this.met] as Array<Map<string, { sig: string }>>) {
      for (const [name, st] of m) if (sig.get(name) !== st.sig) m.delete(name);
    }
    for (const name of this.perRule.keys()) if (!sig.has(name)) this.perRule.delete(name);
    this.rules = rules;
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  private stat(r: CompiledRule): RuleStats {
    let s = this.perRule.get(r.info.name);
    if (!s) {
      s = { name: r.info.name, evaluations: 0, matches: 0, timeMs: 0 };
      this.perRule.set(r.info.name, s);
    }
    return s;
  }

  private trackCreds(ev: VigilEvent): void {
    const m = this.procCreds;
    if (ev.kind === 'exec') {
      if (ev.retval < 0) return;
      const e = m.get(ev.pid);
      if (e) {
        e.prior = e.cur;
        e.cur = ev.creds;
      } else this.putCreds(ev.pid, { cur: ev.creds, prior: undefined });
    } else if (ev.kind === 'cred_change') {
      const e = m.get(ev.pid);
      if (e) e.cur = ev.new_creds;
      else this.putCreds(ev.pid, { cur: ev.new_creds, prior: undefined });
    } else if (ev.kind === 'fork') {
      const p = m.get(ev.pid);
      if (p?.cur) this.putCreds(ev.child_pid, { cur: p.cur, prior: undefined });
    }
  }

  private putCreds(pid: number, e: { cur: Creds | undefined; prior: Creds | undefined }): void {
    if (this.procCreds.size >= this.maxProcs && !this.procCreds.has(pid)) {
      const first = this.procCreds.keys().next().value;
      if (first !== undefined) this.procCreds.delete(first);
    }
    this.procCreds.set(pid, e);
  }

  /**
   * Runs an event past its candidate rules. Never throws. Events of a container runtime's bootstrap
   * (runtime_setup: runc init setting the container up) are not the container's own actions: they
   * update the credentials this detector tracks, but no rule sees them (counted).
   */
  evaluate(ev: VigilEvent): void {
    this.c.events++;
    const kind = ev.kind;
    if (kind === 'exec' || kind === 'cred_change' || kind === 'fork') this.trackCreds(ev);
    const cands = ev.runtime_setup ? undefined : this.rules.candidatesOf(ev as { kind: string; syscall?: string; path?: string; dest?: string });
    if (cands === undefined) this.c.runtimeSetupSkipped++;
    else if (cands.length > 0) {
      const ctx = this.ctx;
      ctx.reset(ev);
      for (let i = 0; i < cands.length; i++) {
        const r = cands[i]!;
        const sampled = (++this.tick & (SAMPLE_EVERY - 1)) === 0;
        const t0 = sampled ? performance.now() : 0;
        const st = this.stat(r);
        st.evaluations++;
        try {
          if (r.sequence) this.stepSequence(r, ctx, ev);
          else if (r.cond(ctx) && !(r.exception !== undefined && r.exception(ctx))) {
            if (r.threshold) this.countThreshold(r, ctx, ev);
            else this.fire(r, [ev], {});
          }
        } catch (err) {
          this.log.warn({ err, rule: r.info.name }, 'rule evaluation failed');
        }
        if (sampled) st.timeMs += (performance.now() - t0) * SAMPLE_EVERY;
      }
    }
    if (kind === 'exit') this.procCreds.delete(ev.pid);
  }

  /**
   * Container start, update and stop: the rules whose condition can hold for that kind (evt.kind and
   * container.* fields). A rule on evt.kind = container_start is no candidate for container_update,
   * so it fires once per container; container_update reaches the rules that name it.
   */
  evaluateLifecycle(lc: ContainerLifecycleEvent): void {
    this.c.lifecycle++;
    const cands = this.rules.candidates(lc.kind, '');
    const ctx = this.ctx;
    ctx.resetLifecycle(lc);
    for (const r of cands) {
      if (r.sequence) continue;
      const st = this.stat(r);
      st.evaluations++;
      try {
        if (r.cond(ctx) && !(r.exception !== undefined && r.exception(ctx))) {
          if (r.threshold) this.countThreshold(r, ctx, undefined);
          else this.fire(r, [], { container: lc.container });
        }
      } catch (err) {
        this.log.warn({ err, rule: r.info.name }, 'rule evaluation failed');
      }
    }
    if (lc.kind === 'container_stop') {
      const id = lc.container.id;
      this.readings.delete(id);
      for (const st of this.seq.values()) st.chains.delete(`c:${id}`);
      for (const st of this.met.values()) st.targets.delete(id);
    }
  }

  // ---- sequences ----

  private stepSequence(r: CompiledRule, ctx: EvalContext, ev: VigilEvent): void {
    const spec = r.sequence!;
    let st = this.seq.get(r.info.name);
    if (!st) {
      st = { sig: r.signature, chains: new Map() };
      this.seq.set(r.info.name, st);
    }
    const chains = st.chains;
    const now = ctx.timeMs();
    const results: Array<boolean | undefined> = [];
    const step = (i: number): boolean => {
      let v = results[i];
      if (v === undefined) {
        const k = spec.stepKinds[i]!;
        v = (k === null || k.has(ev.kind)) && spec.steps[i]!(ctx);
        results[i] = v;
      }
      return v;
    };
    // Keys this event may continue: its own process and its ancestors, or its container.
    const keys: string[] = [];
    if (spec.by === 'container') keys.push(`c:${ev.container?.id ?? 'unknown'}`);
    else {
      keys.push(`p:${ev.pid}`);
      const anc = ev.proc?.ancestors;
      if (anc) for (let i = 0; i < anc.length; i++) keys.push(`p:${anc[i]!.pid}`);
    }
    let advanced = false;
    for (const key of keys) {
      const ch = chains.get(key);
      if (!ch) continue;
      if (now - ch.start > spec.windowMs) {
        chains.delete(key);
        this.c.chainTimeouts++;
        continue;
      }
      if (!step(ch.next)) continue;
      ch.events.push(ev);
      ch.next++;
      advanced = true;
      if (ch.next === spec.steps.length) {
        chains.delete(key);
        if (!(r.exception !== undefined && r.exception(ctx))) this.fire(r, ch.events, {});
      }
      break;
    }
    if (advanced) return;
    if (step(0)) {
      const key = keys[0]!;
      const old = chains.get(key);
      if (old && now - old.start <= spec.windowMs && old.next > 1) return;
      if (!old && chains.size >= this.maxChains) {
        const first = chains.keys().next().value;
        if (first !== undefined) chains.delete(first);
        this.c.chainEvictions++;
      }
      chains.delete(key);
      chains.set(key, { next: 1, start: now, events: [ev] });
    }
  }

  // ---- thresholds ----

  private countThreshold(r: CompiledRule, ctx: EvalContext, ev: VigilEvent | undefined): void {
    const spec = r.threshold!;
    let st = this.thr.get(r.info.name);
    if (!st) {
      st = { sig: r.signature, keys: new Map() };
      this.thr.set(r.info.name, st);
    }
    const key = show(spec.by.get(ctx));
    const now = ctx.timeMs();
    let w = st.keys.get(key);
    if (!w) {
      if (st.keys.size >= this.maxKeys) {
        const first = st.keys.keys().next().value;
        if (first !== undefined) st.keys.delete(first);
        this.c.thresholdEvictions++;
      }
      w = { times: [], sample: [], ...(spec.distinct ? { distinct: new Map<string, number>() } : {}) };
      st.keys.set(key, w);
    }
    if (ev) {
      w.sample.push(ev);
      if (w.sample.length > SAMPLE_EVENTS) w.sample.shift();
    }
    let count: number;
    if (w.distinct) {
      const v = show(spec.distinct!.get(ctx));
      w.distinct.delete(v);
      w.distinct.set(v, now);
      for (const [k, t] of w.distinct) {
        if (now - t <= spec.windowMs) break;
        w.distinct.delete(k);
      }
      count = w.distinct.size;
    } else {
      const times = w.times;
      times.push(now);
      let drop = 0;
      while (drop < times.length && now - times[drop]! > spec.windowMs) drop++;
      if (drop > 0) times.splice(0, drop);
      if (times.length > spec.count) times.splice(0, times.length - spec.count);
      count = times.length;
    }
    if (count >= spec.count) {
      const events = w.sample;
      st.keys.delete(key);
      this.fire(r, events, { count, key });
    }
  }

  // ---- metrics ----

  /** New samples (any targets); metric rules are evaluated for each target that got one. */
  evaluateMetrics(samples: readonly Sample[], containers: (id: string) => ContainerInfo | undefined): void {
    this.c.samples += samples.length;
    const touched = new Map<string, number>();
    for (const s of samples) {
      let m = this.readings.get(s.target);
      if (!m) {
        if (this.readings.size >= this.maxKeys) {
          const first = this.readings.keys().next().value;
          if (first !== undefined) this.readings.delete(first);
        }
        m = new Map();
        this.readings.set(s.target, m);
      }
      const old = m.get(s.metric);
      if (old && old.time === s.time) old.value = s.value;
      else m.set(s.metric, old ? { value: s.value, time: s.time, prev: old.value, prevTime: old.time } : { value: s.value, time: s.time });
      touched.set(s.target, Math.max(touched.get(s.target) ?? 0, s.time));
    }
    const rules = this.rules.metrics();
    if (rules.length === 0) return;
    const ctx = this.ctx;
    for (const [target, time] of touched) {
      const m = this.readings.get(target)!;
      const view: MetricView = {
        value: (n) => m.get(n)?.value,
        delta: (n) => {
          const x = m.get(n);
          return x?.prev === undefined ? undefined : x.value - x.prev;
        },
        rate: (n) => {
          const x = m.get(n);
          return x?.prev === undefined || x.prevTime === undefined || x.time === x.prevTime ? undefined : ((x.value - x.prev) * 1000) / (x.time - x.prevTime);
        },
      };
      const info = target === 'host' ? undefined : containers(target);
      for (const r of rules) {
        ctx.resetMetric(view, info, time, target === 'host' ? HOST_CONTAINER : undefined);
        const stat = this.stat(r);
        stat.evaluations++;
        let holds = false;
        try {
          holds = r.cond(ctx) && !(r.exception !== undefined && r.exception(ctx));
        } catch (err) {
          this.log.warn({ err, rule: r.info.name }, 'rule evaluation failed');
        }
        let st = this.met.get(r.info.name);
        if (!st) {
          st = { sig: r.signature, targets: new Map() };
          this.met.set(r.info.name, st);
        }
        const h = st.targets.get(target);
        const ref: ContainerRef = info
          ? {
              id: info.id,
              name: info.name,
              runtime: info.runtime,
              image: info.image,
              ...(info.pod ? { pod: info.pod } : {}),
              ...(info.namespace ? { namespace: info.namespace } : {}),
            }
          : target === 'host'
            ? HOST_CONTAINER
            : { ...UNKNOWN, id: target };
        const values = (): Record<string, number> => {
          const out: Record<string, number> = {};
          for (const n of r.metric!.names) {
            const v = m.get(n)?.value;
            if (v !== undefined) out[n] = v;
          }
          return out;
        };
        if (holds) {
          const hold = h ?? { since: time, fired: false };
          if (!h) st.targets.set(target, hold);
          if (!hold.fired && time - hold.since >= r.metric!.forMs) {
            hold.fired = true;
            this.fire(r, [], { container: ref, time, metric: { target, values: values(), heldMs: time - hold.since }, active: true });
          }
        } else if (h) {
          st.targets.delete(target);
          if (h.fired) this.fire(r, [], { container: ref, time, metric: { target, values: values(), heldMs: time - h.since }, active: false });
        }
      }
    }
  }

  // ---- matches ----

  private fire(r: CompiledRule, events: VigilEvent[], extra: Partial<RuleMatch>): void {
    const ctx = this.ctx;
    const last = events[events.length - 1];
    const container = extra.container ?? (last?.container as ContainerRef | undefined) ?? UNKNOWN;
    const m: RuleMatch = {
      rule: r.info,
      time: extra.time ?? (last ? Math.floor(last[WALL_MS] ?? Date.parse(last.time)) : ctx.timeMs() || this.now()),
      message: r.render(ctx),
      outputFields: r.outputFields.map((f) => ({ name: f.name, value: outputValue(f.get(ctx)) })),
      container: extra.container ? toRef(extra.container) : container,
      events: [...events],
      ...(extra.metric ? { metric: extra.metric } : {}),
      ...(extra.count !== undefined ? { count: extra.count } : {}),
      ...(extra.key !== undefined ? { key: extra.key } : {}),
      ...(extra.active !== undefined ? { active: extra.active } : {}),
    };
    this.c.matches++;
    this.stat(r).matches++;
    try {
      this.onMatch(m);
    } catch (err) {
      this.c.callbackErrors++;
      this.log.error({ err, rule: r.info.name }, 'match handler failed');
    }
  }

  stats(): DetectorStats {
    let chains = 0;
    for (const s of this.seq.values()) chains += s.chains.size;
    let keys = 0;
    for (const s of this.thr.values()) keys += s.keys.size;
    return {
      ...this.c,
      chains,
      thresholdKeys: keys,
      metricTargets: this.readings.size,
      rules: [...this.perRule.values()].map((s) => ({ ...s })),
    };
  }
}

function toRef(c: ContainerRef): ContainerRef {
  return { id: c.id, name: c.name, runtime: c.runtime, image: c.image, ...(c.pod ? { pod: c.pod } : {}), ...(c.namespace ? { namespace: c.namespace } : {}) };
}

/** A field value as Falco's output_fields carry it: lists joined as the message prints them, absent as null. */
function outputValue(v: Value): OutputValue['value'] {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.join(',');
  return v as string | number | boolean;
}
