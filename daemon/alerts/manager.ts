// The alert manager: turns rule matches into alerts. Dedup, per-rule rate limits, lifecycle, metric
// alerts that resolve themselves, persistence before publication, and the hook for response actions.
//
// Flow: submit(match) only hands it to the bounded intake (intake.ts: a match of a rule, container and
// executable already waiting folds into it; containers share the room and take turns) and returns
// (the detector is never blocked). A worker takes up to `batchSize` entries at a time, folds them into
// alerts in memory, writes every alert that changed in ONE store batch, and only then publishes them to
// the listeners. Under load many dedup hits on one alert cost one write. All changes (matches, acknowledge, resolve, action
// outcomes, housekeeping) run one at a time on the same chain, so they never interleave.
//
// Dedup: a match of the same rule, container id and executable (of the triggering process) as an alert
// that is not resolved and was opened less than `dedupWindowMs` before (by match time) increments its
// count, moves lastSeen and appends its events (up to `maxEvents`). The window counts from the alert's
// first match, so a long-running activity gives one alert per window, not one alert forever. Metric
// rules dedup on rule and target instead, for as long as their alert is open: a match with
// active=false resolves it (by 'vigild'). A match that carries a forecast (an early warning) replaces
// the alert's forecast and message, so an open warning shows the latest one; the resolving match leaves it as it
// was (the last forecast that crossed is what justified the alert).
//
// Rate limit: new alerts of a rule in a container (or the host) spend a token of that pair's bucket
// (`ratePerMinute`, same burst), so a flood of one rule in one container suppresses neither other
// rules nor the same rule elsewhere. A match that finds no token is suppressed and counted; the next alert of that rule carries
// `suppressed: n` and says so in its message, and when none comes within `summaryIntervalMs` a summary
// alert (built from the last suppressed match) reports the count.
//
// Actions: a new alert runs all of its rule's actions. A match folded into an open alert by dedup, or
// suppressed by the rate limit, still runs the ones aimed at its own process or container (kill,
// freeze): otherwise repeating an act inside the dedup window, or flooding a rule past its limit
// first, would escape the response. Their outcomes are appended to the open alert (at most
// MAX_FOLLOW_UP_OUTCOMES), or for suppressed matches counted and logged. notify is not repeated.
//
// Overload: when the intake is full and the match's container is past its share, the match is dropped
// and counted, and an alert of the internal rule 'vigil: alert pipeline overloaded' is raised (outside
// the intake, so it is never dropped itself; dedup folds repeats): an attacker who floods events to
// hide cannot blind the sensor silently.
//
// Durability: every batch is one synced store write (AlertStore.writeAssigned): an alert published
// without the `unpersisted` mark is on disk. Matches that arrive during a write wait in the intake
// queue and go into the next batch, so one fsync covers many alerts (group commit).
//
// A full disk (or any store failure): detection goes on. Each new alert version still takes its seq
// (from the store's durable reservation) and is published at once with `unpersisted: true`; it waits in
// a bounded map (`maxUnpersisted`) and keeps that seq when it is written later. While the store is
// failing no write is tried per batch: the store's recovery loop probes it (and reopens LevelDB) with
// backoff, and when it works again everything waiting is written in one batch and published again
// without the mark. When no seq can be reserved any more (the marks file cannot be written either),
// new versions wait in the same map without a seq and are published once they get one. When the map
// is full the oldest version waiting is dropped, counted, and an alert of the internal rule 'vigil:
// alerts lost to a store failure' is raised (it waits like the others; dedup folds repeats). Losing
// alerts silently to a full disk would let an attacker hide by filling it. The manager logs when
// alerts start waiting and when they are written, not per batch.
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../core/log.js';
import { HOST_CONTAINER } from '../core/container.js';
import type { RuleInfo, RuleMatch } from '../detect/rule-match.js';
import type { ActionName } from '../core/severity.js';
import { StoreError } from '../store/errors.js';
import { AlertError } from './errors.js';
import { AlertIdGenerator } from './ids.js';
import { type IntakeEntry, MatchIntake } from './intake.js';
import { lineageOfEvents, triggerExe } from './lineage.js';
import { TokenBucket } from './ratelimit.js';
import type { AlertFilter, AlertList, AlertPage, AlertStore } from './store.js';
import { boundForecast, type ActionOutcome, type Alert, type AlertChange, type AlertState } from './alert.js';

/** Read once: alerts name the host they were raised on (Falco's hostname). */
const HOSTNAME = hostname();

/** Runs a rule's response actions for a new alert (daemon/alerts/responses*.ts provides the real one). */
export type ActionRunner = (alert: Readonly<Alert>, actions: ActionName[]) => Promise<ActionOutcome[]>;

/** Told of every stored (or, on a full disk, unpersisted) alert version. Must not block. */
export type AlertListener = (alert: Readonly<Alert>, change: AlertChange) => void | Promise<void>;

export const OVERLOAD_RULE: Readonly<RuleInfo> = Object.freeze({
  name: 'vigil: alert pipeline overloaded',
  desc: 'The alert intake queue was full: rule matches were dropped (an event flood can hide an attack).',
  kind: 'event',
  severity: 'critical',
  tags: ['vigil', 'sensor_blinding'],
  enabled: true,
  actions: [],
  source: 'vigild',
});

export const STORE_LOSS_RULE: Readonly<RuleInfo> = Object.freeze({
  name: 'vigil: alerts lost to a store failure',
  desc: 'The store could not write alerts for so long that the queue of alerts waiting for it overflowed: the oldest were dropped.',
  kind: 'event',
  severity: 'critical',
  tags: ['vigil', 'sensor_blinding'],
  enabled: true,
  actions: [],
  source: 'vigild',
});

export interface AlertManagerOptions {
  store: AlertStore;
  log?: Logger;
  /** Response actions of new alerts; none run without it. */
  actions?: ActionRunner;
  /** 60 s by default. */
  dedupWindowMs?: number;
  /** New alerts per rule per minute (and burst). 20 by default. */
  ratePerMinute?: number;
  /** Events kept on an alert, oldest first. 16 by default. */
  maxEvents?: number;
  /** Matches waiting for the worker. 10,000 by default. */
  queueCapacity?: number;
  /** Matches folded per store batch. 256 by default. */
  batchSize?: number;
  /** Rate-limit summaries and in-memory housekeeping. 60 s by default; 0 disables the timer (tests call tick()). */
  summaryIntervalMs?: number;
  /** Alert versions kept waiting for the store (unpersisted, or without a seq yet). 10,000 by default. */
  maxUnpersisted?: number;
  /** How often waiting alerts are tried again when nothing else triggers it (ms). 1 s by default. */
  retryIntervalMs?: number;
  /** Most alerts kept in memory for dedup (oldest forgotten first). 10,000 by default. */
  maxLive?: number;
  /** Wall clock: ids, history times, rate limits, housekeeping (tests). */
  now?: () => number;
}

export interface AlertManagerStats {
  received: number;
  queued: number;
  /** Matches dropped because the intake was full and their container past its share. */
  dropped: number;
  /** Matches folded into a waiting match of the same rule, container and executable. */
  folded: number;
  opened: number;
  deduped: number;
  /** Matches suppressed by rate limits (all rules), and summary alerts raised for them. */
  suppressed: number;
  summaries: number;
  metricResolved: number;
  /** active=false matches with no open alert to resolve. */
  metricClearsIgnored: number;
  /** Alert versions published without being stored, stored later, and given up on (queue full). */
  unpersisted: number;
  rewritten: number;
  unpersistedDropped: number;
  /** Alert versions waiting for the store now (of which without a seq yet: not published). */
  waiting: number;
  held: number;
  listenerErrors: number;
  actionRuns: number;
  /** kill/freeze runs for matches folded into an open alert or suppressed by a rate limit. */
  followUpRuns: number;
  /** Their outcomes not kept on an alert (suppressed matches, or beyond MAX_FOLLOW_UP_OUTCOMES). */
  followUpOutcomesUnrecorded: number;
  actionFailures: number;
  /** Batches the worker failed to process (bugs; logged). */
  workerErrors: number;
}

interface Live {
  alert: Alert;
  key: string;
  firstMs: number;
  /** Wall time it was last touched (housekeeping). */
  touched: number;
}

interface Pending {
  /** Suppressed matches since the last alert of the rule, the first one's wall time, and the last one. */
  n: number;
  since: number;
  last: RuleMatch;
}

/** Alerts changed in one step: the change to publish, and for a new alert the actions to run. */
type Changes = Map<string, { alert: Alert; change: AlertChange; actions?: readonly ActionName[] }>;

/** Actions aimed at the matching process or its container: run for every match, not once per alert. */
const PER_MATCH_ACTIONS: ReadonlySet<ActionName> = new Set(['kill', 'freeze']);
/** Outcomes of per-match actions kept on one alert; beyond it they are counted only. */
const MAX_FOLLOW_UP_OUTCOMES = 64;

/** A per-match action to start once the batch is stored: on an open alert's behalf, or for a suppressed match. */
interface FollowUp {
  alert?: Alert;
  match: RuleMatch;
  actions: ActionName[];
}

const COMMENT_MAX = 4096;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What the action runner sees for a suppressed match: an alert that was never opened (no id, not stored). */
function standIn(m: RuleMatch): Readonly<Alert> {
  const time = iso(m.time);
  return Object.freeze({
    id: '',
    seq: 0,
    time,
    lastSeen: time,
    rule: m.rule.name,
    severity: m.rule.severity,
    tags: [...m.rule.tags],
    message: m.message,
    container: m.container,
    lineage: [],
    events: [],
    count: 1,
    state: 'open' as const,
    history: [],
    actions: [],
  });
}

function isMetric(m: RuleMatch): boolean {
  return m.rule.kind === 'metric' || m.metric !== undefined;
}

/** A copy that later changes of the alert do not reach (listeners may queue it). */
function snapshot(a: Alert): Readonly<Alert> {
  return Object.freeze({ ...a, tags: [...a.tags], events: [...a.events], history: [...a.history], actions: [...a.actions] });
}

export class AlertManager {
  private readonly store: AlertStore;
  private readonly log: Logger;
  private readonly runner: ActionRunner | undefined;
  private readonly windowMs: number;
  private readonly ratePerMinute: number;
  private readonly maxEvents: number;
  private readonly batchSize: number;
  private readonly summaryIntervalMs: number;
  private readonly maxUnpersisted: number;
  private readonly maxLive: number;
  private readonly now: () => number;
  private readonly ids: AlertIdGenerator;

  private readonly queue: MatchIntake;
  /** When the intake queue first overflowed since the overload alert was last raised (outside the queue). */
  private overload: number | undefined;
  private readonly listeners = new Set<AlertListener>();
  /** Dedup and metric keys -> the alert they fold into; ids -> the same entries. */
  private readonly byKey = new Map<string, Live>();
  private readonly byId = new Map<string, Live>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly followUps: FollowUp[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Versions waiting for the store, oldest first: published unpersisted (with their seq), or held (seq 0). */
  private readonly waiting = new Map<string, { alert: Alert; change: AlertChange; published: boolean }>();
  private readonly retryIntervalMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  /** When the waiting map first overflowed since the loss alert was last raised. */
  private storeLoss: number | undefined;
  private offHealth: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly counters: Omit<AlertManagerStats, 'queued' | 'dropped' | 'folded' | 'waiting' | 'held'> = {
    received: 0,
    opened: 0,
    deduped: 0,
    suppressed: 0,
    summaries: 0,
    metricResolved: 0,
    metricClearsIgnored: 0,
    unpersisted: 0,
    rewritten: 0,
    unpersistedDropped: 0,
    listenerErrors: 0,
    actionRuns: 0,
    followUpRuns: 0,
    followUpOutcomesUnrecorded: 0,
    actionFailures: 0,
    workerErrors: 0,
  };

  constructor(options: AlertManagerOptions) {
    this.store = options.store;
    this.log = options.log ?? silentLogger();
    this.runner = options.actions;
    this.windowMs = options.dedupWindowMs ?? 60_000;
    this.ratePerMinute = options.ratePerMinute ?? 20;
    this.maxEvents = options.maxEvents ?? 16;
    this.batchSize = options.batchSize ?? 256;
    this.summaryIntervalMs = options.summaryIntervalMs ?? 60_000;
    this.maxUnpersisted = options.maxUnpersisted ?? 10_000;
    this.retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.maxLive = options.maxLive ?? 10_000;
    this.now = options.now ?? Date.now;
    this.ids = new AlertIdGenerator(this.now);
    this.queue = new MatchIntake(options.queueCapacity ?? 10_000, this.maxEvents);
  }

  /**
   * Takes up open metric alerts from the store (so a condition that clears after a restart still
   * resolves its alert) and starts the housekeeping timer and the store's retention sweep.
   */
  async start(): Promise<void> {
    await this.run(async () => {
      for (const state of ['open', 'acknowledged'] as const) {
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await this.store.list({ state }, { limit: 1000, ...(after !== undefined ? { after } : {}) });
          for (const a of page.alerts) {
            if (a.metric) this.remember(a, this.metricKey(a.rule, a.metric.target), Date.parse(a.time));
          }
          after = page.next;
        } while (after !== undefined && ++pages < 10);
      }
    });
    if (this.summaryIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => {
        this.tick().catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'alert housekeeping failed'));
      }, this.summaryIntervalMs);
      this.timer.unref();
    }
    this.store.start();
    // The store works again: write what waits now (not at the next match).
    this.offHealth ??= this.store.onHealth((h) => {
      if (h.ok && this.waiting.size > 0) this.retrySoon(0);
    });
  }

  /** Stops the timers and processes what is queued. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.offHealth?.();
    this.offHealth = undefined;
    await this.flush();
    if (this.waiting.size > 0) {
      // One last try (a store that came back since the last retry).
      await this.run(() => this.commit(new Map(), true));
      if (this.waiting.size > 0) this.log.error({ waiting: this.waiting.size }, 'stopping with alerts the store never took: they are lost');
    }
    await this.store.close();
  }

  /** Hands a match over; never blocks. False when the intake was full and its container past its share (dropped, counted). */
  submit(match: RuleMatch): boolean {
    this.counters.received++;
    if (!this.queue.push(match, this.intakeKey(match))) {
      if (this.overload === undefined) {
        this.overload = this.now();
        this.log.error({ dropped: this.queue.dropped, capacity: this.queue.capacity }, 'alert pipeline overloaded: rule matches dropped');
      }
      this.schedule();
      return false;
    }
    this.schedule();
    return true;
  }

  /** Resolves once every match submitted before the call has been stored and published. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.overload !== undefined || this.storeLoss !== undefined) await this.run(() => this.step());
    await this.run(async () => undefined);
  }

  /** Subscribes to published alerts; returns the unsubscribe function. */
  onAlert(fn: AlertListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  stats(): AlertManagerStats {
    let held = 0;
    for (const w of this.waiting.values()) if (!w.published) held++;
    return { ...this.counters, queued: this.queue.length, dropped: this.queue.dropped, folded: this.queue.folded, waiting: this.waiting.size, held };
  }

  /** The newest version: in memory when it is live (possibly unpersisted), else from the store. */
  async get(id: string): Promise<Alert | undefined> {
    const live = this.byId.get(id)?.alert ?? this.waiting.get(id)?.alert;
    if (live) return { ...snapshot(live) };
    return this.store.get(id);
  }

  list(filter?: AlertFilter, page?: AlertPage): Promise<AlertList> {
    return this.store.list(filter, page);
  }

  /** Stored alert versions after `seq`, in seq order (stream resume). */
  since(seq: number, limit?: number): Promise<Alert[]> {
    return this.store.since(seq, limit);
  }

  acknowledge(id: string, who: string, comment?: string): Promise<Readonly<Alert>> {
    return this.run(() => this.transition(id, 'acknowledged', who, comment));
  }

  resolve(id: string, who: string, comment?: string): Promise<Readonly<Alert>> {
    return this.run(() => this.transition(id, 'resolved', who, comment));
  }

  /** Raises rate-limit summaries that are due and forgets dedup entries whose window has passed. */
  tick(): Promise<void> {
    return this.run(async () => {
      const now = this.now();
      const changes: Changes = new Map();
      for (const [key, p] of this.pending) {
        if (now - p.since < this.summaryIntervalMs) continue;
        this.pending.delete(key);
        const a = this.newAlert(p.last);
        a.suppressed = p.n;
        a.message = `${p.n} matches of rule "${p.last.rule.name}" in ${p.last.container.id} were suppressed by its rate limit (${this.ratePerMinute}/min) since ${iso(p.since)}; the last: ${p.last.message}`;
        this.counters.summaries++;
        changes.set(a.id, { alert: a, change: 'opened' });
      }
      for (const [key, b] of this.buckets) if (b.idle(now) && !this.pending.has(key)) this.buckets.delete(key);
      for (const live of [...this.byId.values()]) {
        if (live.alert.metric) continue; // open until the condition clears
        if (now - live.touched > 2 * this.windowMs) this.forget(live);
      }
      await this.commit(changes);
    });
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.chain.then(fn);
    this.chain = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run(() => this.step()).catch((err: unknown) => {
        this.counters.workerErrors++;
        this.log.error({ err: err instanceof Error ? err.stack : String(err) }, 'alert worker failed on a batch');
      });
    });
  }

  /** One batch: fold matches into alerts, store the changed ones in one write, publish, start actions. */
  private async step(): Promise<void> {
    const changes: Changes = new Map();
    if (this.overload !== undefined) {
      // Built now, so it counts every drop until the worker got to it.
      this.apply(
        {
          rule: OVERLOAD_RULE,
          time: this.overload,
          message: `alert intake full (${this.queue.capacity} matches waiting, the sender past its share): ${this.queue.dropped} rule matches dropped since start`,
          container: HOST_CONTAINER,
          events: [],
        },
        changes,
      );
      this.overload = undefined;
    }
    if (this.storeLoss !== undefined) {
      this.apply(
        {
          rule: STORE_LOSS_RULE,
          time: this.storeLoss,
          message: `the store could not write alerts and the queue of ${this.maxUnpersisted} waiting alert versions overflowed: ${this.counters.unpersistedDropped} dropped since start (last store error: ${this.store.health.error?.message ?? 'none'})`,
          container: HOST_CONTAINER,
          events: [],
        },
        changes,
      );
      this.storeLoss = undefined;
    }
    for (let i = 0; i < this.batchSize; i++) {
      const e = this.queue.shift();
      if (e === undefined) break;
      this.applyEntry(e, changes);
    }
    await this.commit(changes);
    for (const f of this.followUps.splice(0)) this.startFollowUp(f);
    if (this.queue.length > 0 || this.overload !== undefined || this.storeLoss !== undefined) this.schedule();
  }

  /** The key matches dedup on: rule, container and the executable of the process that triggered it. */
  private dedupKey(m: RuleMatch): string {
    return `e\u0000${m.rule.name}\u0000${m.container.id}\u0000${triggerExe(m.events)}`;
  }

  /** What a match may fold into in the intake: none for metric rules (their order resolves alerts) and rules whose kill or freeze runs per match. */
  private intakeKey(m: RuleMatch): string | undefined {
    return isMetric(m) || m.rule.actions.some((a) => PER_MATCH_ACTIONS.has(a)) ? undefined : this.dedupKey(m);
  }

  private applyEntry(e: IntakeEntry, changes: Changes): void {
    this.apply(e.match, changes);
    for (const m of e.more) this.apply(m, changes);
    if (e.last) this.applyRepeats(e.last, e.repeats, e.key!, changes);
  }

  /**
   * `n` matches folded in the intake past the ones kept whole, `last` the latest: it is applied like
   * any match (after the dedup window it opens the next alert), the others count with it, on its
   * alert or as suppressed by the rate limit, without their events.
   */
  private applyRepeats(last: RuleMatch, n: number, key: string, changes: Changes): void {
    this.apply(last, changes);
    const rest = n - 1;
    if (rest === 0) return;
    const live = this.byKey.get(key);
    if (live && this.inWindow(live, last.time)) {
      live.alert.count += rest;
      this.counters.deduped += rest;
      return;
    }
    const p = this.pending.get(this.rateKey(last));
    if (p) p.n += rest;
    this.counters.suppressed += rest;
  }

  /** The rate limit's bucket, and its suppressed matches: rule and container. */
  private rateKey(m: RuleMatch): string {
    return `${m.rule.name}\0${m.container.id}`;
  }

  private inWindow(live: Live, time: number): boolean {
    return time - live.firstMs < this.windowMs && live.firstMs - time < this.windowMs;
  }

  private perMatchActions(m: RuleMatch): ActionName[] {
    return m.rule.actions.filter((a) => PER_MATCH_ACTIONS.has(a));
  }

  private metricKey(rule: string, target: string): string {
    return `m\u0000${rule}\u0000${target}`;
  }

  private note(changes: Changes, alert: Alert, change: AlertChange): void {
    const prev = changes.get(alert.id);
    // A new alert stays 'opened' whatever else happened to it in the same batch.
    if (prev?.change === 'opened') return;
    changes.set(alert.id, { alert, change });
  }

  private apply(m: RuleMatch, changes: Changes): void {
    const now = this.now();
    if (isMetric(m)) {
      const key = this.metricKey(m.rule.name, m.metric?.target ?? m.container.id);
      const live = this.byKey.get(key);
      if (m.active === false) {
        if (!live) {
          this.counters.metricClearsIgnored++;
          return;
        }
        this.setState(live.alert, 'resolved', 'vigild', `condition cleared: ${m.message}`);
        if (m.metric) live.alert.metric = m.metric;
        live.alert.lastSeen = iso(Math.max(Date.parse(live.alert.lastSeen), m.time));
        this.forget(live);
        this.counters.metricResolved++;
        this.note(changes, live.alert, 'resolved');
        return;
      }
      if (live) {
        this.hit(live, m, now);
        if (m.metric) live.alert.metric = m.metric;
        if (m.forecast) {
          // The message names the crossing and the model: keep it in step with the forecast shown.
          live.alert.forecast = boundForecast(m.forecast);
          live.alert.message = m.message;
        }
        this.note(changes, live.alert, 'updated');
        return;
      }
      const a = this.open(m, now);
      if (a) {
        this.remember(a, key, m.time);
        changes.set(a.id, { alert: a, change: 'opened', actions: m.rule.actions });
      }
      return;
    }
    const key = this.dedupKey(m);
    const live = this.byKey.get(key);
    if (live && this.inWindow(live, m.time)) {
      this.hit(live, m, now);
      if (m.rule === OVERLOAD_RULE || m.rule === STORE_LOSS_RULE) live.alert.message = m.message;
      this.note(changes, live.alert, 'updated');
      const again = this.perMatchActions(m);
      if (again.length > 0) this.followUps.push({ alert: live.alert, match: m, actions: again });
      return;
    }
    const a = this.open(m, now);
    if (a) {
      if (live) this.forget(live);
      this.remember(a, key, m.time);
      changes.set(a.id, { alert: a, change: 'opened', actions: m.rule.actions });
    } else {
      const again = this.perMatchActions(m);
      if (again.length > 0) this.followUps.push({ match: m, actions: again });
    }
  }

  private hit(live: Live, m: RuleMatch, now: number): void {
    const a = live.alert;
    a.count++;
    if (m.time > Date.parse(a.lastSeen)) a.lastSeen = iso(m.time);
    for (const ev of m.events) {
      if (a.events.length >= this.maxEvents) break;
      a.events.push(ev);
    }
    live.touched = now;
    this.counters.deduped++;
  }

  /** A new alert for m, or undefined when the rate limit of its rule and container suppresses it (counted). */
  private open(m: RuleMatch, now: number): Alert | undefined {
    const key = this.rateKey(m);
    if (m.rule !== OVERLOAD_RULE && m.rule !== STORE_LOSS_RULE) {
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = new TokenBucket(this.ratePerMinute, this.ratePerMinute, now);
        this.buckets.set(key, bucket);
      }
      if (!bucket.take(now)) {
        const p = this.pending.get(key);
        if (p) {
          p.n++;
          p.last = m;
        } else {
          this.pending.set(key, { n: 1, since: now, last: m });
        }
        this.counters.suppressed++;
        return undefined;
      }
    }
    const a = this.newAlert(m);
    const p = this.pending.get(key);
    if (p) {
      this.pending.delete(key);
      a.suppressed = p.n;
      a.message += ` (${p.n} earlier matches of this rule in ${m.container.id} were suppressed by its rate limit)`;
    }
    return a;
  }

  private newAlert(m: RuleMatch): Alert {
    const time = iso(m.time);
    const a: Alert = {
      id: this.ids.next(),
      seq: 0,
      time,
      lastSeen: time,
      rule: m.rule.name,
      severity: m.rule.severity,
      tags: [...m.rule.tags],
      message: m.message,
      container: m.container,
      lineage: lineageOfEvents(m.events),
      events: m.events.slice(0, this.maxEvents),
      count: 1,
      state: 'open',
      history: [{ state: 'open', at: time, by: 'vigild' }],
      actions: [],
    };
    if (m.metric) a.metric = m.metric;
    if (m.forecast) a.forecast = boundForecast(m.forecast);
    if (m.outputFields) a.outputFields = m.outputFields;
    a.source = m.rule.kind === 'metric' || m.forecast ? 'vigil_metrics' : 'syscall';
    a.hostname = HOSTNAME;
    this.counters.opened++;
    return a;
  }

  private remember(a: Alert, key: string, firstMs: number): void {
    const live: Live = { alert: a, key, firstMs, touched: this.now() };
    this.byKey.set(key, live);
    this.byId.set(a.id, live);
    while (this.byId.size > this.maxLive) {
      const oldest = this.byId.values().next().value as Live;
      this.forget(oldest);
    }
  }

  private forget(live: Live): void {
    if (this.byKey.get(live.key) === live) this.byKey.delete(live.key);
    this.byId.delete(live.alert.id);
  }

  private setState(a: Alert, state: AlertState, by: string, comment?: string): void {
    a.state = state;
    const t: Alert['history'][number] = { state, at: iso(this.now()), by };
    if (comment !== undefined && comment !== '') t.comment = comment;
    a.history.push(t);
  }

  private async transition(id: string, to: 'acknowledged' | 'resolved', who: string, comment?: string): Promise<Readonly<Alert>> {
    if (typeof who !== 'string' || who.trim() === '') throw new TypeError('who must name the user (a non-empty string)');
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > COMMENT_MAX))
      throw new TypeError(`comment must be a string of at most ${COMMENT_MAX} characters`);
    const live = this.byId.get(id);
    const a = live?.alert ?? this.waiting.get(id)?.alert ?? (await this.store.get(id));
    if (!a) throw new AlertError('VIGIL_ALERT_NOT_FOUND', `no alert ${JSON.stringify(id)}`);
    const allowed = a.state === 'open' || (a.state === 'acknowledged' && to === 'resolved');
    if (!allowed) throw new AlertError('VIGIL_ALERT_STATE', `alert ${id} is ${a.state}: it cannot be ${to}`);
    this.setState(a, to, who, comment);
    if (to === 'resolved' && live) this.forget(live);
    const changes: Changes = new Map([[a.id, { alert: a, change: to }]]);
    await this.commit(changes);
    return snapshot(a);
  }

  /**
   * Gives each changed alert a new seq, stores it with everything waiting in one synced batch, then
   * publishes; when the store fails (or is known to be failing), publishes what has a seq unpersisted
   * and keeps it waiting (see the header). `force`: try the write even while the store is failing.
   */
  private async commit(changes: Changes, force = false): Promise<void> {
    if (changes.size === 0 && this.waiting.size === 0) return;
    // A new version supersedes a waiting one; a new alert that was never published stays 'opened'.
    for (const [id, c] of changes) {
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      if (!w.published && w.change === 'opened') c.change = 'opened';
    }
    // Seqs: held versions first (they are older), then the new ones, in order.
    for (const w of this.waiting.values()) {
      if (w.alert.seq > 0) continue;
      const seq = await this.store.allocate();
      if (seq === undefined) break;
      w.alert.seq = seq;
    }
    for (const c of changes.values()) c.alert.seq = (await this.store.allocate()) ?? 0;
    const waited = [...this.waiting.entries()];
    const toWrite = [...[...changes.values()].map((c) => c.alert), ...waited.map(([, w]) => w.alert)].filter((a) => a.seq > 0);
    let wrote = false;
    if (toWrite.length > 0 && (force || this.store.health.ok)) {
      try {
        await this.store.writeAssigned(toWrite);
        wrote = true;
      } catch (err) {
        // A store failure is logged once by the store (its change of state); anything else is a bug.
        if (!(err instanceof StoreError)) {
          this.counters.workerErrors++;
          this.log.error({ err: err instanceof Error ? err.stack : String(err) }, 'writing alerts failed (not a store error)');
        }
      }
    }
    const wasWaiting = this.waiting.size;
    if (wrote) {
      for (const [id, w] of waited) {
        if (w.alert.seq === 0) continue;
        this.waiting.delete(id);
        delete w.alert.unpersisted;
        if (w.published) this.counters.rewritten++;
        this.publish(w.alert, w.published ? 'updated' : w.change);
      }
    }
    for (const [id, { alert, change }] of changes) {
      if (wrote && alert.seq > 0) {
        delete alert.unpersisted;
        this.publish(alert, change);
        continue;
      }
      const published = alert.seq > 0;
      if (published) {
        alert.unpersisted = true;
        this.counters.unpersisted++;
        this.publish(alert, change);
      }
      this.waiting.set(id, { alert, change, published });
    }
    // Versions that waited without a seq and got one now are published now.
    for (const w of this.waiting.values()) {
      if (w.published || w.alert.seq === 0) continue;
      w.alert.unpersisted = true;
      w.published = true;
      this.counters.unpersisted++;
      this.publish(w.alert, w.change);
    }
    if (this.waiting.size > this.maxUnpersisted) {
      for (const [id, w] of this.waiting) {
        if (this.waiting.size <= this.maxUnpersisted) break;
        if (w.alert.rule === STORE_LOSS_RULE.name) continue; // never drop the one that says so
        this.waiting.delete(id);
        this.counters.unpersistedDropped++;
      }
      if (this.storeLoss === undefined) {
        this.storeLoss = this.now();
        this.log.error(
          { waiting: this.waiting.size, dropped_total: this.counters.unpersistedDropped },
          'alerts waiting for the store overflowed: the oldest are dropped (counted, alerted)',
        );
        this.schedule();
      }
    }
    if (wasWaiting === 0 && this.waiting.size > 0) {
      this.log.error(
        { waiting: this.waiting.size, store_error: this.store.health.error?.message ?? this.store.reserveError?.message, max: this.maxUnpersisted },
        'alerts wait for the store: published unpersisted (or held without a seq), written once it works again',
      );
    } else if (wasWaiting > 0 && this.waiting.size === 0) {
      this.log.warn(
        { written: wasWaiting, unpersisted_total: this.counters.unpersisted, dropped_total: this.counters.unpersistedDropped },
        'alerts that waited for the store are written',
      );
    }
    if (this.waiting.size > 0) this.retrySoon(this.retryIntervalMs);
    for (const { alert, actions } of changes.values()) {
      if (actions && actions.length > 0) this.startActions(alert, [...actions]);
    }
  }

  /** Tries the waiting versions again after `ms` (one timer at a time). */
  private retrySoon(ms: number): void {
    if (this.retryTimer) {
      if (ms > 0) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.run(() => this.commit(new Map())).catch((err: unknown) =>
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'retrying alerts waiting for the store failed'),
      );
    }, ms);
    this.retryTimer.unref();
  }

  private publish(a: Alert, change: AlertChange): void {
    if (this.listeners.size === 0) return;
    const snap = snapshot(a);
    for (const fn of this.listeners) {
      try {
        const r = fn(snap, change);
        if (r instanceof Promise) r.catch((err: unknown) => this.listenerFailed(err));
      } catch (err) {
        this.listenerFailed(err);
      }
    }
  }

  private listenerFailed(err: unknown): void {
    this.counters.listenerErrors++;
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'alert listener failed');
  }

  /** Runs the rule's actions for a new alert. */
  private startActions(a: Alert, actions: ActionName[]): void {
    if (!this.runner) return;
    this.counters.actionRuns++;
    this.runActions(snapshot(a), actions, a.id, Infinity);
  }

  /**
   * Runs kill/freeze for a folded or suppressed match, against the match's own process: the runner
   * gets the alert (or a stand-in for a suppressed match) with this match's lineage and events.
   */
  private startFollowUp(f: FollowUp): void {
    if (!this.runner) return;
    this.counters.followUpRuns++;
    const base = f.alert ? snapshot(f.alert) : standIn(f.match);
    const target = Object.freeze({ ...base, lineage: lineageOfEvents(f.match.events), events: [...f.match.events] });
    this.runActions(target, f.actions, f.alert?.id, MAX_FOLLOW_UP_OUTCOMES, (outcomes) => {
      this.counters.followUpOutcomesUnrecorded += outcomes.length;
      this.log.info(
        { rule: f.match.rule.name, pid: target.lineage[0]?.pid, outcomes },
        f.alert ? "actions for a folded match (outcomes beyond the alert's limit)" : 'actions for a rate-limited match',
      );
    });
  }

  /**
   * Runs actions outside the worker; their outcomes come back as an update of the alert `recordOn`
   * while it holds fewer than `cap`, else they go to `unrecorded` (an alert gone to retention: dropped).
   */
  private runActions(
    target: Readonly<Alert>,
    actions: ActionName[],
    recordOn: string | undefined,
    cap: number,
    unrecorded?: (outcomes: ActionOutcome[]) => void,
  ): void {
    const runner = this.runner!;
    Promise.resolve()
      .then(() => runner(target, actions))
      .catch((err: unknown): ActionOutcome[] => {
        const detail = `action runner failed: ${err instanceof Error ? err.message : String(err)}`;
        return actions.map((action) => ({ action, ok: false, detail, at: iso(this.now()) }));
      })
      .then((outcomes) =>
        this.run(async () => {
          if (outcomes.some((o) => !o.ok)) this.counters.actionFailures++;
          const cur = recordOn ? (this.byId.get(recordOn)?.alert ?? this.waiting.get(recordOn)?.alert ?? (await this.store.get(recordOn))) : undefined;
          if (!cur || cur.actions.length >= cap) return unrecorded?.(outcomes);
          cur.actions.push(...outcomes);
          await this.commit(new Map([[cur.id, { alert: cur, change: 'actions' as const }]]));
        }),
      )
      .catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err), id: recordOn }, 'action outcomes not recorded'));
  }
}
