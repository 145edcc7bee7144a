// The sensor: the kernel (a NativeSensor) or a capture file feeds record batches; they are decoded
// by kind, passed through the enrichment stages (process lineage, container identity: see
// enricher.ts), and handed to subscribers through bounded queues.
//
// Ingest (the batch callback) never blocks and never throws: a corrupt record is counted and
// skipped, a full subscriber queue drops the event and counts it. Delivery to subscribers runs
// later on the event loop (setImmediate), so a slow subscriber only loses its own events.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SensorError, sensorErrorFrom } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CaptureReader, CaptureWriter, type CaptureReaderStats, type CaptureWriterStats } from './capture.js';
import { BatchDecoder, type CorruptReason } from './decode.js';
import type { Enricher } from './enricher.js';
import type { VigilEvent } from './events.js';
import { KIND_NAMES, VG_CFG_BATCH_WAKEUP, VG_CFG_CONNECT_INET, type EventKind } from './layout.js';
import type { NativeSensor, NativeStats, PollOptions, ProgramState, SyscallEntry, WatchEntry } from './native.js';
import type { EnforceEntry } from '../core/enforce.js';
import { BoundedQueue } from '../core/queue.js';
import { hostArch, syscallTable, type Arch } from './syscalls.js';
import { BootClock } from '../core/clock.js';
import { watchTable } from './watches.js';

export type { VigilEvent };

export interface SensorOptions {
  /** Syscall numbers and handlers; the default set of the architecture when absent. */
  syscalls?: readonly SyscallEntry[];
  /** User watches (ids from 1000 up), added to the defaults. */
  watches?: readonly WatchEntry[];
  /** Include the default watch table (default true). */
  defaultWatches?: boolean;
  /** Process ids whose events the kernel drops; this process is always added (live). */
  ignorePids?: readonly number[];
  /** vg_config.flags (VG_CFG_*); default VG_CFG_CONNECT_INET off, failed execs off: 0. */
  configFlags?: number;
  /**
   * Live: drain the ring buffer every this many ms and let the probes wake the reader only once
   * 64 KiB wait (VG_CFG_BATCH_WAKEUP): a wakeup per record costs an interrupt, 10-20 us on a
   * virtual machine, which is most of the sensor's cost on ordinary work. Bounds the delivery
   * delay of a quiet host. Default 10; 0 wakes the reader for every record.
   */
  drainIntervalMs?: number;
  /** Ring buffer bytes (power of two). Default 8 MiB. */
  ringBufferBytes?: number;
  /** Probe objects to load (all but 'enforce' when absent). */
  objects?: string[];
  /** Kernel enforcement (probes/enforce.bpf.c): when set, the 'enforce' object is loaded too and its
   * table written with these entries; when absent, enforcement is not loaded at all. */
  enforce?: readonly EnforceEntry[];
  poll?: PollOptions;
  /** Default capacity of each subscriber's queue. Default 65536. */
  queueCapacity?: number;
  /** Stages every event passes through, in order, before subscribers see it. */
  enrichers?: readonly Enricher[];
  /** Write every batch received to this capture file. */
  record?: string;
  logger?: Logger;
  /** Boot-to-wall conversion (live only; a replay uses the capture's). */
  clock?: BootClock;
  /** Architecture of the syscall numbers (live only; default the host's). */
  arch?: Arch;
}

export interface SensorReady {
  programs: ProgramState[];
  attached: number;
  refused: ProgramState[];
}

export interface SubscribeOptions {
  capacity?: number;
  /** Events for which this returns false are not queued (and not counted as drops). */
  filter?: (ev: VigilEvent) => boolean;
}

export interface Subscription {
  /** Events this subscriber lost to a full queue. */
  readonly dropped: number;
  readonly queued: number;
  unsubscribe(): void;
}

export interface SensorStats {
  source: 'native' | 'replay';
  /** Batches received. */
  batches: number;
  /** Records looked at. */
  records: number;
  decoded: Record<EventKind, number>;
  corrupt: Record<CorruptReason, number>;
  /** Events delivered to subscribers (sum over subscribers). */
  delivered: number;
  /** Events lost to full subscriber queues (sum over subscribers). */
  queueDrops: number;
  /** Kernel counters, summed over CPUs, by kind name (live only). */
  native?: {
    emitted: Partial<Record<string, number>>;
    dropped: Partial<Record<string, number>>;
    /** The part of dropped the probes shed (ring shares, per-cgroup budgets) rather than a full ring refused. */
    shed: Partial<Record<string, number>>;
    /** Repeats of a record sent moments before, counted and not sent (identical opens). */
    coalesced: Partial<Record<string, number>>;
    ringUsedBytes: number;
    ringSizeBytes: number;
    /** Records the kernel dropped, by the cgroup id of the task that sent them. */
    droppedByCgroup: Map<number, number>;
  };
  /** Each enrichment stage's own counters, by stage name. */
  enrichers: Record<string, Record<string, number>>;
  capture?: CaptureWriterStats;
  replay?: CaptureReaderStats;
}

class Subscriber implements Subscription {
  readonly queue: BoundedQueue<VigilEvent>;
  delivered = 0;
  active = true;
  constructor(
    readonly handler: (ev: VigilEvent) => void,
    capacity: number,
    readonly filter: ((ev: VigilEvent) => boolean) | undefined,
    private readonly owner: Sensor,
  ) {
    this.queue = new BoundedQueue(capacity);
  }
  get dropped(): number {
    return this.queue.dropped;
  }
  get queued(): number {
    return this.queue.length;
  }
  unsubscribe(): void {
    this.active = false;
    this.owner.removeSubscriber(this);
  }
}

const DEFAULT_RING_BYTES = 8 << 20;
const REPLAY_SLICE_RECORDS = 4096;
const DEFAULT_DRAIN_MS = 10;
const DEFAULT_POLL: PollOptions = { maxRecords: 4096, maxBytes: 4 << 20 };

export class Sensor {
  private readonly native: NativeSensor | undefined;
  private readonly replayFile: string | undefined;
  private reader: CaptureReader | undefined;
  private writer: CaptureWriter | undefined;
  private readonly options: SensorOptions;
  private readonly log: Logger;
  private readonly enrichers: readonly Enricher[];
  private decoder: BatchDecoder | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private removedDelivered = 0;
  private removedDropped = 0;
  private batches = 0;
  private flushScheduled = false;
  private state: 'new' | 'open' | 'closed' = 'new';
  private arch: Arch = 'x86_64';
  private replayDone: Promise<void> | undefined;
  private stopReplay = false;
  private lastNative: NativeStats | undefined;
  private decoderErrorLogged = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly ingestBound = (batch: Buffer, count: number): void => this.ingest(batch, count);

  private constructor(source: { native?: NativeSensor; replay?: string }, options: SensorOptions) {
    this.native = source.native;
    this.replayFile = source.replay;
    this.options = options;
    this.log = options.logger ?? silentLogger();
    this.enrichers = options.enrichers ?? [];
  }

  /** A sensor over the kernel probes of `native` (the addon, or a fake in tests). */
  static live(native: NativeSensor, options: SensorOptions = {}): Sensor {
    return new Sensor({ native }, options);
  }

  /** A sensor that replays a capture file in place of the kernel. */
  static replay(file: string, options: SensorOptions = {}): Sensor {
    return new Sensor({ replay: file }, options);
  }

  /**
   * Live: prepares the enrichers (e.g. seeds the process table), loads and attaches the probes,
   * configures syscalls, watches, ignored pids and flags, and starts polling. Replay: opens and checks the capture file and starts
   * feeding it. Throws SensorError / CaptureFormatError / CaptureIoError / ConfigError.
   */
  async open(): Promise<SensorReady> {
    if (this.state !== 'new') throw new SensorError('the sensor was already opened');
    this.state = 'open';
    try {
      return this.native ? this.openLive(this.native) : await this.openReplay(this.replayFile!);
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  private openLive(native: NativeSensor): SensorReady {
    const o = this.options;
    const arch = o.arch ?? hostArch();
    if (!arch) throw new SensorError(`no syscall table for architecture ${process.arch}`);
    this.arch = arch;
    const table = syscallTable(arch);
    const watches = watchTable(o.watches ?? [], o.defaultWatches ?? true);
    const clock = o.clock ?? BootClock.now();
    this.decoder = new BatchDecoder({ clock, syscalls: table });
    this.hookDecoderErrors();
    for (const e of this.enrichers) e.prepare?.('native');
    if (o.record) this.writer = CaptureWriter.open(o.record, { arch, bootToWallNs: clock.offsetNs, createdMs: Date.now() });

    let programs: ProgramState[];
    try {
      programs = native.open({
        ringBufferBytes: o.ringBufferBytes ?? DEFAULT_RING_BYTES,
        ...(o.objects ? { objects: o.objects } : {}),
        ...(o.enforce ? { enforce: true } : {}),
      });
      // Ignore ourselves first: the map updates below are bpf() calls the probe would report.
      native.setIgnoredPids([...new Set([process.pid, ...(o.ignorePids ?? [])])]);
      if (o.enforce) {
        if (!native.setEnforce) throw new SensorError('this native sensor cannot enforce (no setEnforce)');
        native.setEnforce(o.enforce);
      }
      native.setWatches(watches);
      native.setSyscalls(o.syscalls ?? table.defaults());
      const drainMs = o.drainIntervalMs ?? DEFAULT_DRAIN_MS;
      native.setConfigFlags((o.configFlags ?? 0) | (drainMs > 0 ? VG_CFG_BATCH_WAKEUP : 0));
      native.start(this.ingestBound, o.poll ?? DEFAULT_POLL);
      if (drainMs > 0) {
        this.drainTimer = setInterval(() => {
          try {
            native.drain();
          } catch (err) {
            this.log.debug({ err }, 'periodic drain failed');
          }
        }, drainMs);
        this.drainTimer.unref();
      }
    } catch (err) {
      throw sensorErrorFrom(err, 'cannot start the sensor');
    }
    const refused = programs.filter((p) => !p.attached);
    for (const p of refused) this.log.warn({ object: p.object, program: p.program, section: p.section, reason: p.reason }, 'program not attached');
    this.log.info({ attached: programs.length - refused.length, refused: refused.length, watches: watches.length }, 'sensor ready');
    return { programs, attached: programs.length - refused.length, refused };
  }

  /**
   * Live: replaces the syscall table and the user watches (defaults kept) while running, e.g. after
   * the rules were reloaded. The kernel tables are swapped entry by entry, so no event is lost.
   */
  reconfigure(o: { syscalls?: readonly SyscallEntry[]; watches?: readonly WatchEntry[] }): void {
    if (!this.native || this.state !== 'open') throw new SensorError('reconfigure needs an open live sensor');
    try {
      if (o.watches) this.native.setWatches(watchTable(o.watches, this.options.defaultWatches ?? true));
      if (o.syscalls) this.native.setSyscalls(o.syscalls);
    } catch (err) {
      throw sensorErrorFrom(err, 'cannot reconfigure the sensor');
    }
  }

  /** Live, with enforcement loaded: the cgroup ids (containers) whose processes are enforced on. */
  setEnforceCgroups(ids: readonly number[]): void {
    if (!this.native || this.state !== 'open' || !this.options.enforce) return;
    try {
      this.native.setEnforceCgroups?.(ids);
    } catch (err) {
      throw sensorErrorFrom(err, 'cannot set the enforced cgroups');
    }
  }

  private async openReplay(file: string): Promise<SensorReady> {
    const reader = CaptureReader.open(file);
    this.reader = reader;
    this.arch = reader.header.arch;
    this.decoder = new BatchDecoder({ clock: new BootClock(reader.header.bootToWallNs), syscalls: syscallTable(reader.header.arch) });
    this.hookDecoderErrors();
    for (const e of this.enrichers) e.prepare?.('replay');
    this.replayDone = this.runReplay(reader);
    // Subscribers attach after open() resolves: the replay starts on a later turn of the loop.
    return { programs: [], attached: 0, refused: [] };
  }

  private async runReplay(reader: CaptureReader): Promise<void> {
    await yieldToLoop();
    try {
      // A capture of a quiet host holds many small batches: yield to the loop per slice of records,
      // not per batch (each yield costs a turn of the loop), and deliver before each yield so no
      // subscriber queue holds more than a slice.
      for (let done = false; !done && !this.stopReplay; ) {
        let records = 0;
        while (records < REPLAY_SLICE_RECORDS) {
          const b = reader.next();
          if (!b) {
            done = true;
            break;
          }
          this.ingest(b.batch, b.count);
          records += b.count;
        }
        this.flush();
        await yieldToLoop();
      }
    } finally {
      reader.close();
      this.flush();
    }
  }

  /** Replay: resolves when the whole capture has been delivered (rejects on a corrupt capture). Live: undefined. */
  get done(): Promise<void> | undefined {
    return this.replayDone;
  }

  /** Architecture of the syscall numbers in use (the capture's, when replaying). */
  get architecture(): Arch {
    return this.arch;
  }

  private hookDecoderErrors(): void {
    this.decoder!.onDecoderError = (err, kind) => {
      if (this.decoderErrorLogged) return;
      this.decoderErrorLogged = true;
      this.log.error({ err, kind }, 'decoder failed on a record (counted as decode_failed; logged once)');
    };
  }

  subscribe(handler: (ev: VigilEvent) => void, options: SubscribeOptions = {}): Subscription {
    const s = new Subscriber(handler, options.capacity ?? this.options.queueCapacity ?? 65536, options.filter, this);
    this.subscribers.add(s);
    return s;
  }

  /** @internal */
  removeSubscriber(s: Subscriber): void {
    if (this.subscribers.delete(s)) {
      this.removedDelivered += s.delivered;
      this.removedDropped += s.dropped;
    }
  }

  /** The batch callback: decode, enrich, queue. Never throws. */
  private ingest(batch: Buffer, count: number): void {
    if (this.state !== 'open' || !this.decoder) return;
    this.batches++;
    try {
      this.writer?.write(batch, count);
      this.decoder.decodeBatch(batch, this.onEvent);
    } catch (err) {
      // Only a bug gets here (decoders and queues do not throw on input): log it, keep running.
      this.log.error({ err }, 'ingest failed on a batch');
    }
    if (!this.flushScheduled && this.subscribers.size > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private readonly onEvent = (ev: VigilEvent): void => {
    for (const e of this.enrichers) e.enrich(ev);
    for (const s of this.subscribers) {
      if (s.filter && !s.filter(ev)) continue;
      s.queue.push(ev);
    }
  };

  /** Delivers queued events to subscribers. */
  flush(): void {
    this.flushScheduled = false;
    for (const s of this.subscribers) {
      let ev: VigilEvent | undefined;
      while (s.active && (ev = s.queue.shift()) !== undefined) {
        s.delivered++;
        try {
          s.handler(ev);
        } catch (err) {
          this.log.error({ err }, 'subscriber threw; event skipped');
        }
      }
    }
  }

  stats(): SensorStats {
    const c = this.decoder?.counters;
    let delivered = this.removedDelivered;
    let queueDrops = this.removedDropped;
    for (const s of this.subscribers) {
      delivered += s.delivered;
      queueDrops += s.dropped;
    }
    const out: SensorStats = {
      source: this.native ? 'native' : 'replay',
      batches: this.batches,
      records: c?.records ?? 0,
      decoded: {
        ...(c?.decoded ?? {
          exec: 0,
          fork: 0,
          exit: 0,
          ns_change: 0,
          cred_change: 0,
          syscall: 0,
          file: 0,
          connect: 0,
          cgroup_mkdir: 0,
          cgroup_rmdir: 0,
          enforce: 0,
        }),
      },
      corrupt: { ...(c?.corrupt ?? { truncated_header: 0, beyond_batch: 0, unknown_kind: 0, short_record: 0, bad_lengths: 0, decode_failed: 0 }) },
      delivered,
      queueDrops,
      enrichers: Object.fromEntries(this.enrichers.map((e) => [e.name, e.stats?.() ?? {}])),
    };
    if (this.native) {
      let ns = this.lastNative;
      if (this.state === 'open') {
        try {
          ns = this.native.stats();
          this.lastNative = ns;
        } catch (err) {
          this.log.debug({ err }, 'native stats unavailable');
        }
      }
      if (ns) {
        const droppedByCgroup = new Map((ns.droppedByCgroup ?? []).map(([id, n]) => [Number(id), Number(n)]));
        out.native = {
          emitted: byKind(ns.emitted),
          dropped: byKind(ns.dropped),
          shed: byKind(ns.shed),
          coalesced: byKind(ns.coalesced),
          ringUsedBytes: ns.ringUsedBytes,
          ringSizeBytes: ns.ringSizeBytes,
          droppedByCgroup,
        };
      }
    }
    if (this.writer) out.capture = { ...this.writer.stats };
    if (this.reader) out.replay = { ...this.reader.stats };
    return out;
  }

  /**
   * Stops the source (drains what the kernel has, then detaches), delivers what is queued, and
   * closes the capture file. Idempotent. Rejects with CaptureIoError if the capture could not be written.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    if (this.native && wasOpen) {
      try {
        this.native.drain();
      } catch (err) {
        this.log.debug({ err }, 'drain at close failed');
      }
      try {
        this.lastNative = this.native.stats();
      } catch {
        // keep the last stats
      }
    }
    this.flush();
    this.state = 'closed';
    this.stopReplay = true;
    try {
      this.native?.close();
    } catch (err) {
      this.log.warn({ err }, 'closing the native sensor failed');
    }
    if (this.replayDone) await this.replayDone.catch(() => undefined);
    this.reader?.close();
    await this.writer?.close();
  }
}

function byKind(values: readonly bigint[]): Partial<Record<string, number>> {
  const out: Partial<Record<string, number>> = {};
  values.forEach((v, i) => {
    if (v !== 0n) out[KIND_NAMES[i] ?? `kind_${i}`] = Number(v);
  });
  return out;
}

export { VG_CFG_CONNECT_INET };
