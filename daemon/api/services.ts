// What the daemon hands the gRPC API: narrow views of its stages, so a test can serve real stores
// with a fake sensor, and the API never reaches into the daemon.
import type { AlertListener } from '../alerts/manager.js';
import type { AlertFilter, AlertList, AlertPage } from '../alerts/store.js';
import type { Alert } from '../alerts/alert.js';
import type { CursorRange } from '../core/errors.js';
import type { Target, TargetSpec } from '../containers/targets.js';
import type { ContainerInfo } from '../containers/container-info.js';
import type { RuleCheck } from '../detect/manager.js';
import type { RuleInfo } from '../detect/rule-match.js';
import type { Forecast } from '../core/forecast.js';
import type { QueryResult } from '../metrics/series.js';
import type { ProgramState } from '../sensor/native.js';
import type { SensorStats, Subscription } from '../sensor/sensor.js';
import type { StreamEvent } from './convert.js';

export interface EventSource {
  /** Bounded, never blocks ingest: a full queue drops (counted in Subscription.dropped). */
  subscribe(handler: (ev: StreamEvent) => void, options: { capacity: number; filter?: (ev: StreamEvent) => boolean }): Subscription;
}

export interface AlertSource {
  list(filter?: AlertFilter, page?: AlertPage): Promise<AlertList>;
  get(id: string): Promise<Alert | undefined>;
  acknowledge(id: string, who: string, comment?: string): Promise<Readonly<Alert>>;
  resolve(id: string, who: string, comment?: string): Promise<Readonly<Alert>>;
  /** Stored versions after seq, in seq order (at most limit). */
  since(seq: number, limit?: number): Promise<Alert[]>;
  /** Published after being persisted; returns the unsubscribe function. */
  onAlert(fn: AlertListener): () => void;
  /** The last seq handed out, and alerts stored. */
  lastSeq(): number;
  stored(): number;
  /** The store's epoch and the seqs a stream may resume in (absent: no epoch, first seq 0). */
  range?(): Promise<CursorRange>;
  /** Whether store writes work, and what waits for them (Status, /healthz). */
  storeState?(): StoreState;
}

export interface StoreState {
  ok: boolean;
  /** `CODE: message` of the last failure while failing. */
  error?: string;
  /** Unix ms of the last change of `ok`. */
  since: number;
  epoch: string;
  persisted: number;
  /** Alert versions waiting in memory, and dropped because that queue was full. */
  waiting: number;
  dropped: number;
}

export interface TargetSource {
  addBatch(specs: ReadonlyArray<TargetSpec | string>): Promise<Target[]>;
  removeBatch(items: readonly string[]): Promise<Target[]>;
  list(): Target[];
}

/** Validate: names of the rules the text defines; Reload: rules in force. */
export type RuleResult = RuleCheck;

export interface RuleSource {
  list(): RuleInfo[];
  /** Parses and compiles `text` as one rule file over the loaded rule files; changes nothing. */
  validate(text: string, fileName: string): Promise<RuleResult>;
  reload(): Promise<RuleResult>;
}

export interface StatusSource {
  version: string;
  /** The build commit (common/node/version.ts); absent in tests and benchmarks. */
  commit?: string;
  startedAt: number;
  source(): 'native' | 'replay' | 'none';
  probes(): ProgramState[];
  sensorStats(): SensorStats | undefined;
}

/** A known container (or the host) with what the last metrics sweep read of it. */
export interface ContainerView {
  info: ContainerInfo;
  running: boolean;
  /** Matched by a target: sampled and stored. */
  monitored: boolean;
  /** Metric name -> value of the last sweep. */
  latest: Record<string, number>;
  sampledAt?: number;
}

export interface ContainerSource {
  list(): ContainerView[];
  host(): ContainerView;
}

export interface DaemonServices {
  events?: EventSource;
  containers: ContainerSource;
  alerts: AlertSource;
  targets: TargetSource;
  metrics: { query(target: string, metric: string, from: number, to: number, step?: number): Promise<QueryResult> };
  /** Forecasts.Get; NOT_FOUND when absent (and until the forecast stage exists). */
  forecast?: (target: string, metric: string) => Promise<Forecast | undefined>;
  rules: RuleSource;
  status: StatusSource;
}
