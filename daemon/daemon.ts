// vigild run: the daemon. It composes the pipeline stages (docs/architecture.md, one event):
//   probes -> sensor -> process lineage, container identity (enrichers) -> detector -> alerts -> store
//   cgroup sampler (monitored targets) -> time-series store, and metric rules -> detector
// and serves /metrics. Each stage owns its state; this file only wires them and shuts them down in
// the reverse order (stop the sources first, then flush and close the store).
import { join } from 'node:path';
import { AlertManager } from './alerts/manager.js';
import { enforceEntries, Responses } from './alerts/responses.js';
import { AlertStore } from './alerts/store.js';
import type { Alert } from './alerts/alert.js';
import { GrpcApi } from './api/grpc.js';
import { Gateway } from './api/gateway.js';
import { HttpApi } from './api/http.js';
import { httpToken, readToken } from './api/auth.js';
import type { ContainerView, DaemonServices, EventSource, StoreState } from './api/services.js';
import { SelfMetrics, vigilFamilies, type MetricSources } from './api/families.js';
import { MetricsRegistry } from './api/prometheus.js';
import { defaultWebRoot, WebRoot } from './api/web.js';
import type { DaemonConfig } from './config.js';
import { ContainerRegistry } from './containers/registry.js';
import { TargetSet } from './containers/targets.js';
import type { ContainerInfo } from './containers/container-info.js';
import { HOST_CONTAINER } from './core/container.js';
import { Detector } from './detect/detector.js';
import { defaultRuleDirs, RuleManager } from './detect/manager.js';
import type { RuleSet } from './detect/ruleset.js';
import type { Forecast } from './core/forecast.js';
import { SensorError } from './core/errors.js';
import { ForecastEngine } from './forecast/engine.js';
import type { Logger } from './core/log.js';
import { MetricsCollector, type SweepStats } from './metrics/collector.js';
import { Sampler, type MetricsTarget } from './metrics/sampler.js';
import { SeriesStore } from './metrics/series.js';
import { METRICS, type MetricName, type Sample } from './core/metric-names.js';
import { ProcessEnricher } from './process/process-enricher.js';
import { loadNative } from './sensor/addon.js';
import { IdleTrim } from './core/idle-trim.js';
import { VG_CFG_CONNECT_INET, VG_CFG_FAILED_EXEC } from './sensor/layout.js';
import type { ProgramState, SyscallEntry, WatchEntry } from './sensor/native.js';
import { hostArch, syscallTable, type Arch } from './sensor/syscalls.js';
import { Sensor, type Subscription } from './sensor/sensor.js';
import { parseWatch } from './sensor/watches.js';
import { Store } from './store/store.js';
import { buildInfo } from '../common/node/version.js';

const TARGETS_INITIALISED = Buffer.from('targets.initialised');

export interface DaemonDeps {
  logger: Logger;
  /** Forecasts.Get (the forecast stage); the API answers NOT_FOUND without it. */
  forecast?: (target: string, metric: string) => Promise<Forecast | undefined>;
}

export class Daemon {
  private store: Store | undefined;
  private series: SeriesStore | undefined;
  private targets: TargetSet | undefined;
  private sensor: Sensor | undefined;
  private idleTrim: IdleTrim | undefined;
  private registry: ContainerRegistry | undefined;
  private processes: ProcessEnricher | undefined;
  private collector: MetricsCollector | undefined;
  private forecast: ForecastEngine | undefined;
  private http: HttpApi | undefined;
  private grpc: GrpcApi | undefined;
  private rules: RuleManager | undefined;
  private detector: Detector | undefined;
  private alertStore: AlertStore | undefined;
  private alerts: AlertManager | undefined;
  private detectSub: Subscription | undefined;
  private responses: Responses | undefined;
  private arch: Arch = 'x86_64';
  /** What /metrics and the container views report that no stage keeps. */
  private readonly self = new SelfMetrics();
  private seriesFailing = false;
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  private readonly deps: DaemonDeps;

  constructor(
    readonly config: DaemonConfig,
    deps: DaemonDeps,
  ) {
    this.log = deps.logger;
    this.deps = deps;
  }

  /** The gRPC API, once started (tests: its socket and port). */
  get api(): GrpcApi | undefined {
    return this.grpc;
  }

  /** Starts every stage; on failure, closes what was started and rethrows. */
  async start(): Promise<void> {
    try {
      await this.startStages();
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private async startStages(): Promise<void> {
    const c = this.config;
    const token = c.httpTokenFile || c.httpAuth === 'token' ? httpToken(c.httpTokenFile, c.dataDir) : undefined;
    this.store = await Store.open({ dir: join(c.dataDir, 'data'), log: this.log });
    this.series = await SeriesStore.open(this.store, { log: this.log, retention: c.metrics.retention });
    this.targets = await TargetSet.open(this.store, { log: this.log });
    await this.seedTargets();

    this.processes = new ProcessEnricher();
    this.registry = new ContainerRegistry({ patterns: c.containers.patterns });
    this.registry.onLifecycle((ev) =>
      this.log.info({ kind: ev.kind, container: { id: ev.container.id, name: ev.container.name, runtime: ev.container.runtime } }, ev.kind),
    );

    if (process.getuid?.() !== 0) throw new SensorError('vigild needs root (to load BPF programs)', { code: 'VIGIL_NOT_ROOT' });

    // Rules first: they decide which syscalls and paths the probes send.
    const registry = this.registry;
    this.responses = new Responses(
      {
        webhooks: c.responses.webhooks.map((w) => ({
          url: w.url,
          ...(w.headers ? { headers: w.headers } : {}),
          ...(w.timeoutMs ? { timeout: w.timeoutMs } : {}),
        })),
        killHost: c.responses.killHost,
        enforce: c.responses.enforce.enabled,
      },
      {
        logger: this.log,
        lookupContainer: (id) => {
          const info = registry.get(id);
          return info ? { cgroupPath: info.cgroupPath, ...(info.initPid ? { initPid: info.initPid } : {}) } : undefined;
        },
      },
    );
    const responses = this.responses;
    this.alertStore = await AlertStore.open(this.store, { log: this.log });
    this.alerts = new AlertManager({
      store: this.alertStore,
      log: this.log,
      actions: (alert, actions) => responses.run(alert, actions),
      dedupWindowMs: c.alerts.dedupWindowMs,
      ratePerMinute: c.alerts.ratePerMinute,
      maxUnpersisted: c.alerts.maxWaiting,
    });
    this.alerts.onAlert((alert, change) => this.onAlert(alert, change));
    await this.alerts.start();
    this.rules = new RuleManager({ dirs: c.ruleDirs ?? defaultRuleDirs(), logger: this.log, onReload: (rs) => this.onRulesReloaded(rs) });
    const ruleSet = this.rules.start();
    this.detector = new Detector({
      rules: ruleSet,
      onMatch: (m) => {
        if (this.targets && !this.targets.ruleInScope(m.rule, m.container.id === 'host' ? 'host' : registry.get(m.container.id))) {
          this.self.matchesOutOfScope++;
          return;
        }
        if (!this.alerts!.submit(m)) this.log.debug({ rule: m.rule.name }, 'alert intake full; match dropped (counted)');
      },
      resolveContainer: (cgroupId) => (cgroupId === undefined ? undefined : registry.resolve(cgroupId)),
      ...(c.ruleHosts ? { hosts: new Map(Object.entries(c.ruleHosts)) } : {}),
      logger: this.log,
    });
    registry.onLifecycle((ev) => this.detector?.evaluateLifecycle(ev));

    const arch = hostArch();
    if (!arch) throw new SensorError(`no syscall table for architecture ${process.arch}`);
    this.arch = arch;
    const enforce = c.responses.enforce.enabled ? enforceEntries(c.responses.enforce.syscalls, syscallTable(arch), { containersOnly: true }) : undefined;
    const wants = this.probeWants(ruleSet);
    const flags = (c.sensor.connectInet ? VG_CFG_CONNECT_INET : 0) | (c.sensor.failedExec ? VG_CFG_FAILED_EXEC : 0);
    this.sensor = Sensor.live(loadNative().createSensor(), {
      ...wants,
      ...(enforce ? { enforce } : {}),
      configFlags: flags,
      ringBufferBytes: c.sensor.ringBufferBytes,
      enrichers: [this.processes, this.registry],
      logger: this.log,
    });
    const ready = await this.sensor.open();
    const native = loadNative();
    const liveSensor = this.sensor;
    this.idleTrim = new IdleTrim({
      records: () => liveSensor.stats().records,
      collect: typeof globalThis.gc === 'function' ? () => globalThis.gc?.() : undefined,
      trim: () => native.trimMemory(),
      releaseExecutable: () => native.releaseExecutablePages(),
    });
    this.idleTrim.start();
    const detector = this.detector;
    this.detectSub = this.sensor.subscribe((ev) => detector.evaluate(ev));
    if (enforce) {
      // Enforcement acts on container cgroups only: keep the kernel's list in step with the registry.
      const sensor = this.sensor;
      const sync = (): void =>
        sensor.setEnforceCgroups(
          registry
            .list()
            .filter((x) => !x.stoppedAt)
            .map((x) => x.cgroupId),
        );
      registry.onLifecycle(sync);
      sync();
    }
    for (const p of ready.refused) this.log.warn({ program: `${p.object}/${p.program}`, reason: p.reason }, 'probe not attached');

    // The API starts once the sensor runs (it streams its events) and stops first.
    const apiToken = c.api.tokenFile ? readToken(c.api.tokenFile, 'api.token_file') : undefined;
    this.grpc = await GrpcApi.start({
      ...(c.api.socket ? { socket: c.api.socket } : {}),
      ...(c.api.socketGroup ? { socketGroup: c.api.socketGroup } : {}),
      ...(c.api.listen ? { listen: c.api.listen } : {}),
      ...(c.api.tls ? { tls: c.api.tls } : {}),
      ...(apiToken ? { token: apiToken } : {}),
      insecure: c.api.insecure,
      maxSubscribers: c.api.maxSubscribers,
      maxQueuedMessages: c.api.maxQueuedMessages,
      services: this.apiServices(ready.programs),
      logger: this.log,
    });

    // Forecasts and early warnings (a worker thread); fed each sweep's samples, warnings go to the alerts.
    const alerts = this.alerts;
    this.forecast = new ForecastEngine({
      series: this.series,
      store: this.store,
      onMatch: (m) => {
        if (!alerts.submit(m)) this.log.debug({ rule: m.rule.name }, 'alert intake full; forecast match dropped (counted)');
      },
      onRound: () => this.idleTrim?.look(),
      logger: this.log,
      resolveContainer: (id) => {
        const info = registry.get(id);
        return info
          ? {
              id: info.id,
              name: info.name,
              runtime: info.runtime,
              image: info.image,
              ...(info.pod ? { pod: info.pod } : {}),
              ...(info.namespace ? { namespace: info.namespace } : {}),
            }
          : undefined;
      },
    });
    this.forecast.start();

    const sampler = await Sampler.create({ logger: this.log });
    this.collector = new MetricsCollector({
      sampler,
      targets: () => this.metricsTargets(),
      sink: (samples, stats) => this.onSweep(samples, stats),
      intervalMs: c.metrics.intervalMs,
      host: this.targets.matches('host'),
      logger: this.log,
    });
    this.collector.start();

    this.http = await HttpApi.start({
      listen: c.httpListen,
      ...(token ? { token } : {}),
      auth: c.httpAuth,
      gateway: new Gateway(this.grpc.socket ? { socket: this.grpc.socket } : {}),
      web: new WebRoot(defaultWebRoot()),
      metrics: new MetricsRegistry(vigilFamilies(this.metricSources())),
      health: () => this.health(ready.attached, ready.refused.length),
      logger: this.log,
    });
    this.log.info(
      {
        http: this.http.address,
        dashboard: `http://${this.http.address}/`,
        http_auth: c.httpAuth === 'none' ? 'none' : `bearer token in ${c.httpTokenFile ?? join(c.dataDir, 'http.token')}`,
        api: { socket: this.grpc.socket, tcp: c.api.listen },
        data: join(c.dataDir, 'data'),
        attached: ready.attached,
        targets: this.targets.size,
      },
      'vigild ready',
    );
  }

  /** What the gRPC API serves: views of the stages, nothing more. */
  private apiServices(programs: ProgramState[]): DaemonServices {
    const sensor = this.sensor!;
    const registry = this.registry!;
    const alerts = this.alerts!;
    const alertStore = this.alertStore!;
    const targets = this.targets!;
    const series = this.series!;
    const rules = this.rules!;
    const events: EventSource = {
      subscribe: (handler, options) => {
        const sub = sensor.subscribe(handler, options);
        // Container lifecycle events join the same stream (they come from the registry, not a probe).
        const off = registry.onLifecycle((ev) => {
          if (!options.filter || options.filter(ev)) handler(ev);
        });
        return {
          get dropped() {
            return sub.dropped;
          },
          get queued() {
            return sub.queued;
          },
          unsubscribe: () => {
            off();
            sub.unsubscribe();
          },
        };
      },
    };
    const view = (info: ContainerInfo, monitored: boolean): ContainerView => {
      const latest = this.self.latest.get(info.id);
      const sweep = this.self.lastSweep;
      return {
        info,
        running: info.stoppedAt === undefined,
        monitored,
        latest: latest ? Object.fromEntries(latest) : {},
        ...(latest && sweep ? { sampledAt: sweep.startedAt } : {}),
      };
    };
    const hostInfo: ContainerInfo = { ...HOST_CONTAINER, labels: {}, cgroupId: 0, cgroupPath: '/', startedAt: new Date(this.startedAt).toISOString() };
    return {
      events,
      containers: {
        list: () => registry.list().map((info) => view(info, targets.matches(info))),
        host: () => view(hostInfo, targets.matches('host')),
      },
      alerts: {
        list: (f, p) => alerts.list(f, p),
        get: (id) => alerts.get(id),
        acknowledge: (id, who, comment) => alerts.acknowledge(id, who, comment),
        resolve: (id, who, comment) => alerts.resolve(id, who, comment),
        since: (seq, limit) => alerts.since(seq, limit),
        onAlert: (fn) => alerts.onAlert(fn),
        lastSeq: () => alertStore.seq,
        stored: () => alertStore.stats().count,
        range: () => alertStore.range(),
        storeState: () => this.storeState()!,
      },
      targets: { addBatch: (s) => targets.addBatch(s), removeBatch: (s) => targets.removeBatch(s), list: () => targets.list() },
      metrics: { query: (target, metric, from, to, step) => series.query(target, metric, from, to, step) },
      // The API starts before the forecast stage: look the engine up at call time.
      forecast:
        this.deps.forecast ??
        ((target, metric) => (metric in METRICS && this.forecast ? this.forecast.get(target, metric as MetricName) : Promise.resolve(undefined))),
      rules: {
        list: () => rules.rules?.rules() ?? [],
        validate: async (text, fileName) => rules.validate(text, fileName),
        reload: () => rules.reloadChecked(),
      },
      status: {
        version: buildInfo().version,
        commit: buildInfo().commit,
        startedAt: this.startedAt,
        source: () => 'native',
        probes: () => programs,
        sensorStats: () => this.sensor?.stats(),
      },
    };
  }

  /** Whether store writes work and what waits for them (Status, /healthz, /metrics). */
  private storeState(): StoreState | undefined {
    const store = this.store;
    const alertStore = this.alertStore;
    if (!store || !alertStore) return undefined;
    const h = store.health;
    const reserve = alertStore.reserveError;
    const a = this.alerts?.stats();
    const err = h.error ?? reserve;
    const ok = h.ok && !reserve;
    return {
      ok,
      ...(!ok && err ? { error: `${err.storeCode}: ${err.message}` } : {}),
      since: h.since,
      epoch: alertStore.epoch,
      persisted: alertStore.stats().persisted,
      waiting: a?.waiting ?? 0,
      dropped: a?.unpersistedDropped ?? 0,
    };
  }

  /**
   * /healthz: `ok` while the sensor runs (HTTP 200); `status` says `degraded` while store writes fail
   * (alerts wait in memory, detection goes on: restarting would not help, so the probe stays up).
   */
  private health(attached: number, refused: number): { ok: boolean; status: 'ok' | 'degraded' | 'down'; detail: Record<string, unknown> } {
    const st = this.storeState();
    const ok = this.sensor !== undefined;
    const degraded = st !== undefined && !st.ok;
    return {
      ok,
      status: !ok ? 'down' : degraded ? 'degraded' : 'ok',
      detail: {
        uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
        attached,
        refused,
        ...(st
          ? {
              store: {
                ok: st.ok,
                ...(st.error ? { error: st.error } : {}),
                since: new Date(st.since).toISOString(),
                epoch: st.epoch,
                alerts_waiting: st.waiting,
                alerts_dropped: st.dropped,
              },
            }
          : {}),
      },
    };
  }

  /** Every event lost on its way to detection: what a flood meant to blind the sensor would raise. */
  private eventsDropped(): number {
    const s = this.sensor?.stats();
    const kernel = Object.values(s?.native?.dropped ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0);
    return kernel + (this.detectSub?.dropped ?? 0) + (this.alerts?.stats().dropped ?? 0);
  }

  /**
   * Kernel drops of each container's cgroups (the probes count drops by the sending task's cgroup):
   * who is flooding the sensor. Cgroups of no known container (the host's own services) are left to
   * the host's total.
   */
  private kernelDropsByContainer(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [cgroupId, n] of this.sensor?.stats().native?.droppedByCgroup ?? []) {
      const id = this.registry?.resolve(cgroupId)?.id;
      if (id !== undefined && id !== 'host') out.set(id, (out.get(id) ?? 0) + n);
    }
    return out;
  }

  /** SIGHUP: reload the rules (a bad set is logged with file:line:column and the rules in force stay). */
  async reloadRules(): Promise<boolean> {
    return (await this.rules?.reload()) ?? false;
  }

  /** What the probes must send for a rule set: its syscalls, and its watches with the config's own. */
  private probeWants(rs: RuleSet): { syscalls: SyscallEntry[]; watches: WatchEntry[] } {
    return {
      syscalls: rs.requiredSyscalls(this.arch),
      watches: [...rs.requiredWatches(2000), ...this.config.sensor.watches.map((w, i) => parseWatch(w, 1000 + i))],
    };
  }

  private onRulesReloaded(rs: RuleSet): void {
    this.detector?.swap(rs);
    try {
      this.sensor?.reconfigure(this.probeWants(rs));
    } catch (err) {
      this.log.error({ err }, "the probes could not be given the new rules' syscalls and watches; the previous ones stay");
    }
    this.log.info({ rules: rs.rules().length }, 'rules swapped in');
  }

  private onAlert(alert: Alert, change: string): void {
    if (change === 'opened') this.self.alertOpened(alert.rule, alert.severity);
    if (change !== 'opened' && change !== 'resolved') return;
    this.log.warn(
      {
        alert: {
          id: alert.id,
          seq: alert.seq,
          rule: alert.rule,
          severity: alert.severity,
          state: alert.state,
          container: alert.container.id,
          exe: alert.lineage[0]?.exe,
          count: alert.count,
        },
      },
      `${change === 'opened' ? 'alert' : 'alert resolved'}: ${alert.message}`,
    );
  }

  /** On the very first start the store has no targets: monitor every container and the host. */
  private async seedTargets(): Promise<void> {
    const meta = this.store!.keyspace('meta');
    if (await meta.get(TARGETS_INITIALISED)) return;
    if (this.targets!.size === 0 && this.config.defaultTargets.length > 0) await this.targets!.addBatch(this.config.defaultTargets);
    await meta.put(TARGETS_INITIALISED, Buffer.from('1'));
  }

  private *metricsTargets(): Iterable<MetricsTarget> {
    for (const info of this.registry?.list() ?? []) {
      if (info.stoppedAt || !this.targets!.matches(info)) continue;
      yield { key: info.id, cgroupPath: info.cgroupPath, ...(info.initPid ? { pids: [info.initPid] } : {}) };
    }
  }

  private onSweep(all: Sample[], stats: SweepStats): void {
    const samples = this.targets ? this.targets.samplesInScope(all, (id) => this.registry?.get(id)) : all;
    samples.push({ target: 'host', metric: 'sensor_events_dropped_total', time: stats.startedAt, value: this.eventsDropped() });
    for (const [target, value] of this.kernelDropsByContainer()) samples.push({ target, metric: 'sensor_events_dropped_total', time: stats.startedAt, value });
    this.self.sweep(samples, stats);
    this.detector?.evaluateMetrics(samples, (id) => this.registry?.get(id));
    this.forecast?.observe(samples);
    this.log.debug({ ...stats, targets: stats.targets }, 'metrics sweep');
    this.series!.write(samples).then(
      () => {
        if (this.seriesFailing) this.log.warn({ failed_writes: this.self.seriesWriteErrors }, 'metric samples are written to the store again');
        this.seriesFailing = false;
      },
      (err: unknown) => {
        this.self.seriesWriteErrors++;
        // Once per change of state, not per sweep (the store logs its own failure once too).
        if (!this.seriesFailing) this.log.error({ err }, 'writing metrics to the store failed; they are kept in memory up to a bound');
        this.seriesFailing = true;
      },
    );
  }

  /** What /metrics reads at scrape time (daemon/api/families.ts declares the families). */
  private metricSources(): MetricSources {
    return {
      latest: () => this.self.latest,
      containers: () => this.registry?.list() ?? [],
      sensor: () => this.sensor?.stats(),
      lastSweep: () => this.self.lastSweep,
      alertsOpened: () => [...this.self.alertsOpened()],
      alertIntakeDropped: () => this.alerts?.stats().dropped,
      alertIntakeFolded: () => this.alerts?.stats().folded,
      subscriberDrops: () => this.grpc?.subscriberDrops() ?? [],
      detectorQueueDropped: () => this.detectSub?.dropped,
      detector: () => this.detector?.stats(),
      rules: () => this.rules?.rules?.rules() ?? [],
      matchesOutOfScope: () => this.self.matchesOutOfScope,
      seriesWriteErrors: () => this.self.seriesWriteErrors,
      store: () => {
        const store = this.store;
        const state = this.storeState();
        return store && state ? { writeErrors: store.stats.writeErrors, reopens: store.stats.reopens, state } : undefined;
      },
      forecasts: () => this.forecast?.current() ?? [],
      forecastEngine: () => this.forecast?.stats(),
      build: buildInfo(),
      now: Date.now,
    };
  }

  /** Stops the sources, then flushes and closes the store. Safe to call more than once. */
  async stop(): Promise<void> {
    const { grpc, http, collector, forecast, sensor, series, store, rules, alerts, detectSub, responses } = this;
    const steps: Array<[string, (() => Promise<void>) | undefined]> = [
      ['api', grpc && (() => grpc.close())],
      ['http', http && (() => http.close())],
      ['metrics', collector && (() => collector.stop())],
      ['forecast', forecast && (() => forecast.stop())],
      ['sensor', sensor && (() => sensor.close())],
      ['rules', rules && (async () => rules.close())],
      ['alerts', alerts && (() => alerts.stop())],
      ['responses', responses && (async () => responses.close())],
      ['series', series && (() => series.close())],
      ['store', store && (() => store.close())],
    ];
    detectSub?.unsubscribe();
    this.idleTrim?.stop();
    this.rules = undefined;
    this.alerts = undefined;
    this.detectSub = undefined;
    this.responses = undefined;
    this.http = undefined;
    this.grpc = undefined;
    this.collector = undefined;
    this.forecast = undefined;
    this.sensor = undefined;
    this.series = undefined;
    this.store = undefined;
    for (const [name, step] of steps) {
      if (!step) continue;
      try {
        await step();
      } catch (err) {
        this.log.error({ err, stage: name }, 'stopping a stage failed');
      }
    }
  }
}
