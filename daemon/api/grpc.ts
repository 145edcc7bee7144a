// The gRPC API (proto/vigil/v1): Events.Subscribe, Alerts, Targets, Metrics, Forecasts, Rules, Status,
// plus the standard health service and server reflection.
//
// Transports and who may call:
// - a unix socket (default /run/vigil/vigil.sock), mode 0600 (0660 when a group is configured, owned
//   by root and that group): the file mode is the authentication;
// - TCP only with TLS (server certificate; client certificates when a client CA is given) and a bearer
//   token on every call (constant-time compare), except the health service. Plain TCP is refused at
//   start unless `insecure` is set and the address is loopback.
// The two listeners are two grpc.Server instances over the same handlers; only the TCP one has the
// token interceptor. Nothing from a request is ever executed.
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { AddTargetsRequest__Output } from '../../proto/gen/vigil/v1/AddTargetsRequest.js';
import type { GetContainerRequest__Output } from '../../proto/gen/vigil/v1/GetContainerRequest.js';
import type { ListContainersRequest__Output } from '../../proto/gen/vigil/v1/ListContainersRequest.js';
import type { GetAlertRequest__Output } from '../../proto/gen/vigil/v1/GetAlertRequest.js';
import type { GetForecastRequest__Output } from '../../proto/gen/vigil/v1/GetForecastRequest.js';
import type { GetStatusResponse } from '../../proto/gen/vigil/v1/GetStatusResponse.js';
import type { ListAlertsRequest__Output } from '../../proto/gen/vigil/v1/ListAlertsRequest.js';
import type { QueryMetricsRequest__Output } from '../../proto/gen/vigil/v1/QueryMetricsRequest.js';
import type { RemoveTargetsRequest__Output } from '../../proto/gen/vigil/v1/RemoveTargetsRequest.js';
import type { SubscribeRequest__Output } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { UpdateAlertRequest__Output } from '../../proto/gen/vigil/v1/UpdateAlertRequest.js';
import type { ValidateRulesRequest__Output } from '../../proto/gen/vigil/v1/ValidateRulesRequest.js';
import type { AlertFilter } from '../alerts/store.js';
import { ALERT_STATES, type Alert, type AlertState } from '../alerts/alert.js';
import { isLoopback, splitListen } from '../../common/listen.js';
import { SEVERITIES, type Severity } from '../core/severity.js';
import { ConfigError, CursorError, VigilError, type CursorRange } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { METRICS } from '../core/metric-names.js';
import { KIND_NAMES } from '../sensor/layout.js';
import { bearerMatches, bearerToken } from './auth.js';
import { SubscriberDrops, subscriberName } from './drops.js';
import { getContainer, listContainers } from './containers.js';
import { replayedChange, toApiAlert, toApiForecast, toApiRule, toApiTarget, type StreamEvent } from './convert.js';
import { ApiArgumentError, compileSubscription, type CompiledSubscription } from './filter.js';
import { packageDefinition } from '../../common/node/grpc-client.js';
import { serviceDefinitions } from './proto.js';
import type { DaemonServices } from './services.js';
import { QueueBudget, Shared, StreamSubscriber } from './subscriber.js';

export interface GrpcApiOptions {
  /** Unix socket path; empty: none. */
  socket?: string;
  /** Group allowed on the socket (mode 0660); default: root only (0600). */
  socketGroup?: string;
  /** TCP host:port. */
  listen?: string;
  tls?: { cert: string; key: string; clientCa?: string };
  /** Bearer token TCP callers must send (authorization: Bearer <token>). */
  token?: string;
  /** Plain TCP, loopback only. */
  insecure?: boolean;
  maxSubscribers?: number;
  /** Queue of each subscriber (messages); a request may ask for less or more up to maxQueue. */
  queueSize?: number;
  maxQueue?: number;
  /** Messages queued for all subscribers together (QueueBudget): 16,384 by default. */
  maxQueuedMessages?: number;
  heartbeatMs?: number;
  maxReceiveBytes?: number;
  maxSendBytes?: number;
  maxConcurrentStreams?: number;
  services: DaemonServices;
  logger: Logger;
}

type Handlers = grpc.UntypedServiceImplementation;

const HEALTH_PREFIX = '/grpc.health.v1.Health/';

/** Messages queued for all subscribers together, by default (QueueBudget; about 2 KB each under a flood). */
export const DEFAULT_MAX_QUEUED_MESSAGES = 16_384;

export class GrpcApi {
  private readonly servers: grpc.Server[] = [];
  private readonly subscribers = new Set<StreamSubscriber>();
  private readonly shared = new WeakMap<object, Shared>();
  private readonly health: HealthImplementation;
  private readonly encode: (m: SubscribeResponse) => Buffer;
  private readonly s: DaemonServices;
  private readonly log: Logger;
  private unlistenAlerts: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The highest seq published to the streams (a new cursor may start there). */
  private published = 0;
  private nextId = 1;
  private socketPath: string | undefined;
  private tcpPort = 0;
  private readonly counters = { subscriptions: 0, refused: 0, unauthenticated: 0 };
  private readonly drops = new SubscriberDrops();
  private readonly queueBudget: QueueBudget;

  private constructor(private readonly o: GrpcApiOptions) {
    this.queueBudget = new QueueBudget(o.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES);
    this.s = o.services;
    this.log = o.logger;
    const defs = serviceDefinitions();
    const sub = defs.Events['Subscribe']!;
    this.encode = sub.responseSerialize as (m: SubscribeResponse) => Buffer;
    this.health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(Object.keys(defs).map((n) => [`vigil.v1.${n}`, 'SERVING' as const])) });
  }

  /** Checks the transports (ConfigError), binds them and starts serving. */
  static async start(o: GrpcApiOptions): Promise<GrpcApi> {
    if (!o.socket && !o.listen) throw new ConfigError('the API has no listener: set api.socket or api.listen');
    if (o.listen) {
      const { host } = splitListen(o.listen);
      if (!o.tls && !(o.insecure && isLoopback(host))) {
        throw new ConfigError(`refusing plain TCP on ${o.listen}: set api.tls (cert and key) and api.token_file, or api.insecure: true on a loopback address`);
      }
      if (o.tls && !o.token) throw new ConfigError(`api.listen ${o.listen} needs api.token_file: TCP callers authenticate with a bearer token`);
    }
    const api = new GrpcApi(o);
    try {
      if (o.socket) await api.bindUnix(o.socket);
      if (o.listen) await api.bindTcp(o.listen);
    } catch (err) {
      await api.close();
      throw err;
    }
    api.unlistenAlerts = o.services.alerts.onAlert((alert, change) => api.publishAlert(alert, change));
    api.published = o.services.alerts.lastSeq();
    api.heartbeat = setInterval(() => {
      const seq = api.s.alerts.lastSeq();
      const epoch = api.s.alerts.storeState?.().epoch ?? '';
      for (const s of api.subscribers) s.heartbeat(seq, epoch);
    }, o.heartbeatMs ?? 15_000);
    api.heartbeat.unref();
    return api;
  }

  get socket(): string | undefined {
    return this.socketPath;
  }

  /** The bound TCP port (for listen addresses with port 0). */
  get port(): number {
    return this.tcpPort;
  }

  private newServer(authenticated: boolean): grpc.Server {
    const interceptors: grpc.ServerInterceptor[] = authenticated && this.o.token ? [this.tokenInterceptor(Buffer.from(this.o.token))] : [];
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.o.maxReceiveBytes ?? 4 << 20,
      'grpc.max_send_message_length': this.o.maxSendBytes ?? 16 << 20,
      'grpc.max_concurrent_streams': this.o.maxConcurrentStreams ?? 256,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      interceptors,
    });
    const defs = serviceDefinitions();
    const events = {
      ...defs.Events,
      Subscribe: { ...defs.Events['Subscribe']!, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : this.encode(v as SubscribeResponse)) },
    };
    server.addService(events, { Subscribe: (call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>) => this.subscribe(call) });
    server.addService(defs.Alerts, this.alertHandlers());
    server.addService(defs.Targets, this.targetHandlers());
    server.addService(defs.Metrics, { Query: this.unary((r: QueryMetricsRequest__Output) => this.query(r)) });
    server.addService(defs.Forecasts, { Get: this.unary((r: GetForecastRequest__Output) => this.forecast(r)) });
    server.addService(defs.Rules, this.ruleHandlers());
    server.addService(defs.Status, { Get: this.unary(async () => this.status()) });
    server.addService(defs.Containers, {
      List: this.unary((r: ListContainersRequest__Output) => listContainers(this.s, r.include_stopped)),
      Get: this.unary(async (r: GetContainerRequest__Output) => {
        if (!r.id) throw new ApiArgumentError('id is required (a full container id, or host)');
        const c = await getContainer(this.s, r.id);
        if (!c) throw new GrpcStatusError(grpc.status.NOT_FOUND, `no container ${JSON.stringify(r.id)}`);
        return c;
      }),
    });
    this.health.addToServer(server);
    new ReflectionService(packageDefinition()).addToServer(server);
    this.servers.push(server);
    return server;
  }

  private tokenInterceptor(token: Buffer): grpc.ServerInterceptor {
    return (method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (md, mdNext) => {
              if (method.path.startsWith(HEALTH_PREFIX)) return mdNext(md);
              const value = md.get('authorization')[0];
              const header = typeof value === 'string' ? value : undefined;
              if (bearerMatches(header, token)) return mdNext(md);
              this.counters.unauthenticated++;
              const sent = bearerToken(header) !== undefined;
              call.sendStatus({
                code: grpc.status.UNAUTHENTICATED,
                details: sent ? 'wrong bearer token' : 'missing bearer token: send authorization: Bearer <token>',
                metadata: new grpc.Metadata(),
              });
            },
          });
        },
      });
  }

  private async bindUnix(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    await removeStaleSocket(path);
    const server = this.newServer(false);
    await bind(server, `unix:${path}`, grpc.ServerCredentials.createInsecure());
    this.socketPath = path;
    // connect(2) needs write permission on the socket: the mode is the access control.
    if (this.o.socketGroup) {
      chmodSync(path, 0o660);
      chownSync(path, 0, groupId(this.o.socketGroup));
    } else chmodSync(path, 0o600);
  }

  private async bindTcp(listen: string): Promise<void> {
    const server = this.newServer(true);
    let creds: grpc.ServerCredentials;
    if (this.o.tls) {
      const read = (f: string, what: string): Buffer => {
        try {
          return readFileSync(f);
        } catch (err) {
          throw new ConfigError(`cannot read api.tls.${what} ${f}: ${(err as Error).message}`);
        }
      };
      const ca = this.o.tls.clientCa ? read(this.o.tls.clientCa, 'client_ca') : null;
      creds = grpc.ServerCredentials.createSsl(ca, [{ cert_chain: read(this.o.tls.cert, 'cert'), private_key: read(this.o.tls.key, 'key') }], ca !== null);
    } else creds = grpc.ServerCredentials.createInsecure();
    this.tcpPort = await bind(server, listen, creds);
  }

  // ---- Events.Subscribe ------------------------------------------------------------------------

  private sharedEvent(ev: StreamEvent): Shared {
    let m = this.shared.get(ev);
    if (!m) this.shared.set(ev, (m = new Shared({ type: 'event', ev }, this.encode)));
    return m;
  }

  private publishAlert(alert: Readonly<Alert>, change: Parameters<Parameters<DaemonServices['alerts']['onAlert']>[0]>[1]): void {
    if (alert.seq > this.published) this.published = alert.seq;
    let m: Shared | undefined;
    for (const s of this.subscribers) {
      if (!s.spec.alerts || !s.spec.matches({ type: 'alert', alert })) continue;
      m ??= new Shared({ type: 'alert', alert, change }, this.encode);
      s.push(m);
    }
  }

  /** The seqs a stream may resume in now. */
  private async cursorRange(): Promise<CursorRange> {
    const a = this.s.alerts;
    if (a.range) return a.range();
    return { epoch: '', first: 0, last: a.lastSeq() };
  }

  /** Refuses a cursor that cannot name what it claims: another epoch, or beyond the last seq. */
  private async checkCursor(spec: CompiledSubscription): Promise<void> {
    if (spec.sinceSeq === 0 && spec.epoch === undefined) return;
    const r = await this.cursorRange();
    const where = `the store's epoch is ${r.epoch || '(none)'}, seqs ${r.first > 0 ? `${r.first}..${r.last}` : `up to ${r.last} (none stored)`}`;
    if (spec.epoch !== undefined && r.epoch !== '' && spec.epoch !== r.epoch) {
      throw new CursorError(
        'VIGIL_CURSOR_EPOCH',
        `since_seq belongs to epoch ${spec.epoch}, which is not this store's history (${where}): start again from the oldest stored alert or from now`,
        r,
      );
    }
    if (spec.sinceSeq > r.last) throw new CursorError('VIGIL_CURSOR_RANGE', `since_seq ${spec.sinceSeq} is beyond the last seq handed out (${where})`, r);
  }

  private subscribe(call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>): void {
    let spec: CompiledSubscription;
    try {
      spec = compileSubscription(call.request);
    } catch (err) {
      return void this.cursorRange().then(
        (r) =>
          call.emit(
            'error',
            toStatus(err instanceof CursorError && !err.range ? new CursorError(err.code as 'VIGIL_CURSOR_RANGE', err.message, r) : err, this.log),
          ),
        () => call.emit('error', toStatus(err, this.log)),
      );
    }
    if (spec.sinceSeq === 0 && spec.epoch === undefined) {
      this.subscribeChecked(call, spec);
      return;
    }
    this.checkCursor(spec).then(
      () => this.subscribeChecked(call, spec),
      (err: unknown) => call.emit('error', toStatus(err, this.log)),
    );
  }

  private subscribeChecked(call: grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>, spec: CompiledSubscription): void {
    if (call.cancelled) return;
    if (spec.events && !this.s.events)
      return void call.emit('error', status(grpc.status.FAILED_PRECONDITION, 'this daemon has no event source (events are not streamed)'));
    const max = this.o.maxSubscribers ?? 128;
    if (this.subscribers.size >= max) {
      this.counters.refused++;
      return void call.emit('error', status(grpc.status.RESOURCE_EXHAUSTED, `at most ${max} subscribers (api.max_subscribers)`));
    }
    const maxQueue = this.o.maxQueue ?? 65536;
    const want = call.request.queue_size || (this.o.queueSize ?? 4096);
    const peer = call.getPeer();
    const label = this.drops.label(subscriberName(spec.clientName, peer));
    const sub = new StreamSubscriber(
      this.nextId++,
      peer,
      call,
      spec,
      Math.min(Math.max(1, want), maxQueue),
      this.encode,
      label,
      (n) => this.drops.add(label, n),
      this.queueBudget,
    );
    this.subscribers.add(sub);
    this.counters.subscriptions++;
    const end = (): void => {
      sub.close();
      this.subscribers.delete(sub);
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    // First message: the epoch and a seq every alert above which follows on this stream (a new cursor
    // may start there): the cursor of a resuming stream, else the last seq published.
    const resumeFrom = spec.fromOldest ? 0 : spec.sinceSeq > 0 ? spec.sinceSeq : this.published;
    sub.hello(resumeFrom, this.s.alerts.storeState?.().epoch ?? '');
    if (spec.events) {
      sub.eventSub = this.s.events!.subscribe((ev) => sub.push(this.sharedEvent(ev)), {
        capacity: Math.min(Math.max(1, want), maxQueue),
        filter: (ev) => spec.matches({ type: 'event', ev }),
      });
    }
    if (spec.sinceSeq > 0 || spec.fromOldest) {
      sub
        .replay(
          (after) => this.s.alerts.since(after, 256),
          (a) => spec.matches({ type: 'alert', alert: a }),
          (a) => new Shared({ type: 'alert', alert: a, change: replayedChange(a) }, this.encode),
        )
        .catch((err: unknown) => {
          this.log.error({ err }, 'replaying alerts to a subscriber failed');
          end();
          call.emit('error', status(grpc.status.INTERNAL, 'replaying alerts from the store failed'));
        });
    }
    // Tell the client the stream is open (headers), so it can rely on what follows.
    call.sendMetadata(new grpc.Metadata());
  }

  // ---- unary services --------------------------------------------------------------------------

  private unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, cb) => {
      fn(call.request, call).then(
        (res) => cb(null, res),
        (err: unknown) => cb(toStatus(err, this.log)),
      );
    };
  }

  private alertHandlers(): Handlers {
    const who = (call: grpc.ServerUnaryCall<unknown, unknown>, by: string): string => {
      if (by.length > 256) throw new ApiArgumentError('by: longer than 256 characters');
      return by || `api:${call.getPeer()}`;
    };
    const update = (fn: 'acknowledge' | 'resolve') =>
      this.unary(async (r: UpdateAlertRequest__Output, call) => {
        if (!r.id) throw new ApiArgumentError('id is required');
        if (r.comment !== undefined && r.comment.length > 4096) throw new ApiArgumentError('comment: longer than 4096 characters');
        return toApiAlert(await this.s.alerts[fn](r.id, who(call as grpc.ServerUnaryCall<unknown, unknown>, r.by ?? ''), r.comment));
      });
    return {
      List: this.unary(async (r: ListAlertsRequest__Output) => {
        const filter: AlertFilter = {};
        if (r.rule) filter.rule = r.rule;
        if (r.container) filter.container = r.container;
        if (r.state && r.state !== 'ALERT_STATE_UNSPECIFIED') filter.state = enumValue(r.state, 'ALERT_STATE_', ALERT_STATES, 'state') as AlertState;
        if (r.min_severity && r.min_severity !== 'SEVERITY_UNSPECIFIED')
          filter.minSeverity = enumValue(r.min_severity, 'SEVERITY_', SEVERITIES, 'min_severity') as Severity;
        const since = Number(r.since_ms || 0);
        const until = Number(r.until_ms || 0);
        if (since < 0 || until < 0) throw new ApiArgumentError('since_ms and until_ms must not be negative');
        if (since) filter.since = since;
        if (until) filter.until = until;
        if (r.limit > 1000) throw new ApiArgumentError('limit: at most 1000');
        const page = await this.s.alerts.list(filter, { ...(r.limit ? { limit: r.limit } : {}), ...(r.page_token ? { after: r.page_token } : {}) });
        return { alerts: page.alerts.map(toApiAlert), next_page_token: page.next ?? '' };
      }),
      Get: this.unary(async (r: GetAlertRequest__Output) => {
        if (!r.id) throw new ApiArgumentError('id is required');
        const a = await this.s.alerts.get(r.id);
        if (!a) throw new GrpcStatusError(grpc.status.NOT_FOUND, `no alert ${JSON.stringify(r.id)}`);
        return toApiAlert(a);
      }),
      Acknowledge: update('acknowledge'),
      Resolve: update('resolve'),
    };
  }

  private targetHandlers(): Handlers {
    return {
      Add: this.unary(async (r: AddTargetsRequest__Output) => {
        if (r.targets.length === 0) throw new ApiArgumentError('targets: the batch is empty');
        if (r.targets.length > 10_000) throw new ApiArgumentError('targets: at most 10000 in one batch');
        const added = await this.s.targets.addBatch(
          r.targets.map((t) => ({ selector: t.selector, ...(t.metrics.length ? { metrics: t.metrics } : {}), ...(t.rules.length ? { rules: t.rules } : {}) })),
        );
        return { targets: added.map(toApiTarget) };
      }),
      Remove: this.unary(async (r: RemoveTargetsRequest__Output) => {
        if (r.ids.length === 0) throw new ApiArgumentError('ids: the batch is empty');
        const removed = await this.s.targets.removeBatch(r.ids);
        return { removed: removed.length };
      }),
      List: this.unary(async () => ({ targets: this.s.targets.list().map(toApiTarget) })),
    };
  }

  private ruleHandlers(): Handlers {
    const errs = (e: { file: string; line: number; column: number; message: string }[]) =>
      e.map((x) => ({ file: x.file, line: x.line, column: x.column, message: x.message }));
    return {
      List: this.unary(async () => ({ rules: this.s.rules.list().map(toApiRule) })),
      Validate: this.unary(async (r: ValidateRulesRequest__Output) => {
        if (r.text.length > 1 << 20) throw new ApiArgumentError('text: larger than 1 MiB');
        const file = r.file_name || '<input>';
        if (file.length > 256 || /[\0\n]/.test(file)) throw new ApiArgumentError('file_name: at most 256 characters, no newline');
        const res = await this.s.rules.validate(r.text, file);
        return { ok: res.ok, errors: errs(res.errors), rules: res.rules };
      }),
      Reload: this.unary(async () => {
        const res = await this.s.rules.reload();
        return { ok: res.ok, errors: errs(res.errors), rules: res.rules.length };
      }),
    };
  }

  private async query(r: QueryMetricsRequest__Output) {
    if (!r.target) throw new ApiArgumentError('target is required (a container id or host)');
    if (!(r.metric in METRICS)) throw new ApiArgumentError(`metric: unknown metric ${JSON.stringify(r.metric)}`);
    const end = Number(r.end_ms) || Date.now();
    const start = Number(r.start_ms) || end - 3600_000;
    const step = Number(r.step_ms) || 0;
    if (start > end) throw new ApiArgumentError('start_ms is after end_ms');
    if (step < 0) throw new ApiArgumentError('step_ms must not be negative');
    const res = await this.s.metrics.query(r.target, r.metric, start, end, step);
    return {
      resolution: res.resolution,
      step_ms: res.step,
      points:
        res.resolution === 'raw'
          ? res.points.map((p) => ({ time_ms: p.time, value: p.value, min: p.value, max: p.value, last: p.value, count: 1 }))
          : res.points.map((p) => ({ time_ms: p.time, value: p.avg, min: p.min, max: p.max, last: p.last, count: p.count })),
    };
  }

  private async forecast(r: GetForecastRequest__Output) {
    if (!r.target) throw new ApiArgumentError('target is required (a container id or host)');
    if (!(r.metric in METRICS)) throw new ApiArgumentError(`metric: unknown metric ${JSON.stringify(r.metric)}`);
    if (!this.s.forecast) throw new GrpcStatusError(grpc.status.NOT_FOUND, 'no forecasts: the forecast stage is not running');
    const f = await this.s.forecast(r.target, r.metric);
    if (!f) throw new GrpcStatusError(grpc.status.NOT_FOUND, `no forecast for ${r.target} ${r.metric} (yet)`);
    return toApiForecast(f);
  }

  private status(): GetStatusResponse {
    const st = this.s.status;
    const probes = st.probes();
    const ss = st.sensorStats();
    const n = (x: number | undefined): number => x ?? 0;
    return {
      version: st.version,
      commit: st.commit ?? 'unknown',
      started_at: new Date(st.startedAt).toISOString(),
      uptime_ms: Date.now() - st.startedAt,
      source: st.source(),
      probes: probes.map((p) => ({ object: p.object, program: p.program, section: p.section, attached: p.attached, reason: p.reason ?? '' })),
      attached: probes.filter((p) => p.attached).length,
      refused: probes.filter((p) => !p.attached).length,
      events: {
        decoded: ss ? (ss.decoded as Record<string, number>) : {},
        delivered: n(ss?.delivered),
        queue_drops: n(ss?.queueDrops),
        kernel_emitted: Object.fromEntries(Object.entries(ss?.native?.emitted ?? {}).map(([k, v]) => [k, n(v)])),
        kernel_dropped: Object.fromEntries(Object.entries(ss?.native?.dropped ?? {}).map(([k, v]) => [k, n(v)])),
        kernel_shed: Object.fromEntries(Object.entries(ss?.native?.shed ?? {}).map(([k, v]) => [k, n(v)])),
        kernel_coalesced: Object.fromEntries(Object.entries(ss?.native?.coalesced ?? {}).map(([k, v]) => [k, n(v)])),
        corrupt: Object.values(ss?.corrupt ?? {}).reduce<number>((a, b) => a + b, 0),
      },
      alerts: this.alertCounters(),
      subscribers: [...this.subscribers].map((s) => s.info()),
      subscriber_lost: this.drops.total,
      subscriber_lost_by: Object.fromEntries(this.drops.entries()),
    };
  }

  /** Messages lost by subscriber streams since start, by subscriber name (bounded; see drops.ts), for /metrics. */
  subscriberDrops(): Array<[string, number]> {
    return this.drops.entries();
  }

  private alertCounters(): NonNullable<GetStatusResponse['alerts']> {
    const a = this.s.alerts;
    const st = a.storeState?.();
    return {
      stored: a.stored(),
      last_seq: a.lastSeq(),
      epoch: st?.epoch ?? '',
      persisted_seq: st?.persisted ?? 0,
      store_error: st && !st.ok ? (st.error ?? 'failing') : '',
      waiting: st?.waiting ?? 0,
      store_dropped: st?.dropped ?? 0,
    };
  }

  stats(): { subscribers: number; subscriptions: number; refused: number; unauthenticated: number; lost: number } {
    return { subscribers: this.subscribers.size, ...this.counters, lost: this.drops.total };
  }

  /** Ends every stream, stops the listeners and removes the socket. Safe to call more than once. */
  async close(): Promise<void> {
    this.unlistenAlerts?.();
    this.unlistenAlerts = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const s of this.subscribers) s.close();
    this.subscribers.clear();
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (srv) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              srv.forceShutdown();
              resolve();
            }, 2000);
            srv.tryShutdown(() => {
              clearTimeout(t);
              resolve();
            });
            // Streams never end by themselves: cancel them now.
            setImmediate(() => srv.forceShutdown());
          }),
      ),
    );
    if (this.socketPath) {
      try {
        unlinkSync(this.socketPath);
      } catch {
        /* already gone */
      }
      this.socketPath = undefined;
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------

class GrpcStatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function status(code: grpc.status, details: string): Partial<grpc.StatusObject> & Error {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function toStatus(err: unknown, log: Logger): Partial<grpc.StatusObject> & Error {
  if (err instanceof GrpcStatusError) return status(err.code, err.message);
  if (err instanceof VigilError) {
    switch (err.code) {
      case 'VIGIL_USAGE':
      case 'VIGIL_CONFIG':
      case 'VIGIL_ALERT_CURSOR':
        return status(grpc.status.INVALID_ARGUMENT, err.message);
      case 'VIGIL_ALERT_NOT_FOUND':
        return status(grpc.status.NOT_FOUND, err.message);
      case 'VIGIL_ALERT_STATE':
        return status(grpc.status.FAILED_PRECONDITION, err.message);
      case 'VIGIL_STORE_FULL':
        return status(grpc.status.RESOURCE_EXHAUSTED, err.message);
      case 'VIGIL_CURSOR_RANGE':
      case 'VIGIL_CURSOR_EPOCH': {
        const st = status(err.code === 'VIGIL_CURSOR_RANGE' ? grpc.status.OUT_OF_RANGE : grpc.status.FAILED_PRECONDITION, err.message);
        const r = (err as CursorError).range;
        if (r) {
          st.metadata!.set('vigil-epoch', r.epoch);
          st.metadata!.set('vigil-first-seq', String(r.first));
          st.metadata!.set('vigil-last-seq', String(r.last));
        }
        return st;
      }
      default:
        break;
    }
  }
  log.error({ err }, 'API call failed');
  return status(grpc.status.INTERNAL, 'internal error (logged by vigild)');
}

function enumValue(v: string, prefix: string, names: readonly string[], field: string): string {
  const name = v.startsWith(prefix) ? v.slice(prefix.length).toLowerCase() : '';
  if (!names.includes(name)) throw new ApiArgumentError(`${field}: unknown value ${JSON.stringify(v)}`);
  return name;
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(new ConfigError(`cannot listen on ${address}: ${err.message}`)) : resolve(port))),
  );
}

/** A socket file left by a daemon that is gone is removed; one that answers is another daemon's. */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new ConfigError(`${path} exists and is not a socket; not touching it`);
  const answered = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (answered) throw new ConfigError(`${path}: another daemon answers on it (is vigild already running?)`);
  unlinkSync(path);
}

/** The id of a group by name, from /etc/group (or a number as given). */
export function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    /* below */
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === group && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  throw new ConfigError(`api.socket_group: no group named ${JSON.stringify(group)}`);
}

export { KIND_NAMES };
