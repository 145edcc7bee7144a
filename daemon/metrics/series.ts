// The time-series store: samples of (target, metric) kept as compact chunks in the store's 'ts'
// keyspace, with rollups at 1 minute and 1 hour and a retention per resolution.
//
// Keys (inside 'ts'):  resolution byte | target | 0x00 | metric | 0x00 | chunk start, u64 big endian ms
//   resolution 0 raw, 1 one minute, 2 one hour. Key order is (resolution, series, time), so the chunks of
//   a series at one resolution are one contiguous range and retention is a range delete per series.
// Values: a CRC-32 sealed chunk (store/record.ts) of series-chunk.ts.
//
// In memory each series has a head chunk per resolution (raw points; rollup buckets, the newest one
// still open). write() appends to the heads. flush() (every flushIntervalMs, and when many chunks are
// queued) writes, in one LevelDB batch, for each head only what changed since its last flush, as a
// partial chunk keyed by its first time (for a rollup, from the bucket that was open at the last flush,
// so a later partial supersedes the earlier one's copy of that bucket). A head that is full (points or
// time span) is sealed: written whole under its start key, its partial chunks deleted in the same batch.
// So a point is written about twice, not once per flush. Readers merge chunks in key order, a later
// copy of a time or bucket replacing an earlier one.
//
// Crash safety: after a kill -9 the store reopens with everything up to the last completed flush: at
// most flushIntervalMs of points (and the rollup updates they made) are lost. LevelDB drops a torn log
// tail itself; a chunk whose checksum does not match (a torn or corrupt value) is detected when the
// store opens (last chunks) or reads it, counted, dropped, and the other chunks are kept.
// A failed flush (disk full) keeps its chunks queued in memory, up to maxQueuedChunks (then the oldest
// are dropped, counted), and retries at the next flush.
import { silentLogger, type Logger } from '../core/log.js';
import { prefixEnd, type Keyspace, type Store, type StoreOp } from '../store/store.js';
import { openRecord, sealRecord } from '../store/record.js';
import { decodeRaw, decodeRollup, encodeRaw, encodeRollup, isPartialChunk, type Bucket } from './series-chunk.js';
import type { Sample } from '../core/metric-names.js';

export type Resolution = 'raw' | '1m' | '1h';

interface ResolutionSpec {
  name: Resolution;
  byte: number;
  /** Bucket width (0 for raw). */
  ms: number;
  /** A chunk is sealed when it holds this many points or buckets... */
  maxPoints: number;
  /** ...or when its next point would be this far from its start. Retention deletes by start time. */
  maxSpanMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const RES: readonly ResolutionSpec[] = [
  { name: 'raw', byte: 0, ms: 0, maxPoints: 240, maxSpanMs: HOUR },
  { name: '1m', byte: 1, ms: MINUTE, maxPoints: 240, maxSpanMs: 4 * HOUR },
  { name: '1h', byte: 2, ms: HOUR, maxPoints: 168, maxSpanMs: 7 * DAY },
];

export const DEFAULT_RETENTION: Readonly<Record<Resolution, number>> = Object.freeze({ raw: DAY, '1m': 7 * DAY, '1h': 90 * DAY });

export interface SeriesStoreOptions {
  log?: Logger;
  /** How often heads are written; the bound on what a crash loses. 10 s by default. */
  flushIntervalMs?: number;
  /** Points per raw chunk (240 by default). */
  rawChunkPoints?: number;
  retention?: Partial<Record<Resolution, number>>;
  /** How often retention runs; 10 minutes by default; 0 turns the timer off (call sweep()). */
  sweepIntervalMs?: number;
  /** Heads not written for this long and already flushed are dropped from memory (10 minutes). */
  idleEvictMs?: number;
  /** Sealed chunks kept in memory while writes fail; beyond it the oldest are dropped. */
  maxQueuedChunks?: number;
  /** Clock for retention and resolution choice (tests). */
  now?: () => number;
}

export interface RawPoint {
  time: number;
  value: number;
}

export interface RollupPoint {
  /** Start of the bucket. */
  time: number;
  min: number;
  max: number;
  avg: number;
  last: number;
  /** Raw points the bucket aggregates. */
  count: number;
}

export type QueryResult = { resolution: 'raw'; step: number; points: RawPoint[] } | { resolution: '1m' | '1h'; step: number; points: RollupPoint[] };

export interface SeriesId {
  target: string;
  metric: string;
}

export interface SeriesStats {
  samplesWritten: number;
  /** Samples at or before the series' last time (dropped, as Prometheus drops out-of-order samples). */
  outOfOrder: number;
  /** Samples with a target or metric that cannot be a key (empty, NUL, over 512 chars), a bad time or a non-finite value. */
  invalid: number;
  chunksWritten: number;
  flushes: number;
  flushErrors: number;
  /** Chunks whose checksum or format failed: skipped on read, deleted when found at open. */
  corruptChunks: number;
  tornChunksDropped: number;
  /** Queued chunks dropped because writes kept failing. */
  droppedChunks: number;
  /** Series heads in memory. */
  heads: number;
}

interface RollupHead {
  start: number;
  buckets: Bucket[];
  /** The next partial chunk starts at this bucket (the one open at the last flush). */
  flushedFrom: number;
  dirty: boolean;
  /** First times of the partial chunks written for this head. */
  partials: number[];
}

interface RawHead {
  start: number;
  times: number[];
  values: number[];
  /** Points already in partial chunks. */
  flushed: number;
  partials: number[];
}

interface Queued {
  res: number;
  start: number;
  payload: Buffer;
  /** Partial chunks the sealed one replaces. */
  deletes: number[];
}

type Decoded = { times: number[]; values: number[] } | Bucket[];

interface Head {
  target: string;
  metric: string;
  base: Buffer;
  raw: RawHead | undefined;
  rollups: [RollupHead | undefined, RollupHead | undefined];
  lastTime: number;
  lastWrite: number;
  /** Sealed chunks not yet written. */
  queued: Queued[];
}

function seriesBase(target: string, metric: string): Buffer {
  return Buffer.from(`${target}\u0000${metric}\u0000`, 'utf8');
}

function seriesKey(res: number, base: Buffer, start: number): Buffer {
  const k = Buffer.allocUnsafe(1 + base.length + 8);
  k[0] = res;
  base.copy(k, 1);
  k.writeUInt32BE(Math.floor(start / 0x1_0000_0000), 1 + base.length);
  k.writeUInt32BE(start >>> 0, 5 + base.length);
  return k;
}

function keyStart(key: Buffer): number {
  const o = key.length - 8;
  return key.readUInt32BE(o) * 0x1_0000_0000 + key.readUInt32BE(o + 4);
}

function validName(s: string): boolean {
  return s.length > 0 && s.length <= 512 && !s.includes('\u0000');
}

/** Buckets of chunks in key order; a later copy of a bucket (a newer partial chunk) replaces the earlier. */
function mergeBuckets(chunks: readonly Bucket[][]): Bucket[] {
  const out: Bucket[] = [];
  for (const c of chunks) {
    for (const b of c) {
      while (out.length > 0 && out[out.length - 1]!.time >= b.time) out.pop();
      out.push(b);
    }
  }
  return out;
}

function addToBucket(b: Bucket, v: number): void {
  if (v < b.min) b.min = v;
  if (v > b.max) b.max = v;
  b.sum += v;
  b.count++;
  b.last = v;
}

export class SeriesStore {
  readonly stats: SeriesStats = {
    samplesWritten: 0,
    outOfOrder: 0,
    invalid: 0,
    chunksWritten: 0,
    flushes: 0,
    flushErrors: 0,
    corruptChunks: 0,
    tornChunksDropped: 0,
    droppedChunks: 0,
    heads: 0,
  };
  readonly retention: Readonly<Record<Resolution, number>>;
  readonly flushIntervalMs: number;
  private readonly ks: Keyspace;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly rawChunkPoints: number;
  private readonly idleEvictMs: number;
  private readonly maxQueuedChunks: number;
  private readonly heads = new Map<string, Head>();
  private readonly loading = new Map<string, Promise<Head>>();
  private queuedCount = 0;
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(store: Store, options: SeriesStoreOptions) {
    this.store = store;
    this.ks = store.keyspace('ts');
    this.log = options.log ?? silentLogger();
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.rawChunkPoints = options.rawChunkPoints ?? RES[0]!.maxPoints;
    this.idleEvictMs = options.idleEvictMs ?? 10 * MINUTE;
    this.maxQueuedChunks = options.maxQueuedChunks ?? 100_000;
    this.retention = Object.freeze({ ...DEFAULT_RETENTION, ...options.retention });
  }

  /** Opens the series of `store`: checks the last chunk of every series (a torn one is dropped), starts the timers. */
  static async open(store: Store, options: SeriesStoreOptions = {}): Promise<SeriesStore> {
    const s = new SeriesStore(store, options);
    await s.recover();
    if (s.flushIntervalMs > 0) {
      s.flushTimer = setInterval(() => void s.flush().catch(() => undefined), s.flushIntervalMs);
      s.flushTimer.unref();
    }
    const sweepMs = options.sweepIntervalMs ?? 10 * MINUTE;
    if (sweepMs > 0) {
      s.sweepTimer = setInterval(() => void s.sweep().catch((err: unknown) => s.log.error({ err: String(err) }, 'retention sweep failed')), sweepMs);
      s.sweepTimer.unref();
    }
    return s;
  }

  /** The last chunk of each series and resolution is the one a crash can tear: verify those, drop bad ones. */
  private async recover(): Promise<void> {
    const bad: StoreOp[] = [];
    for (const spec of RES) {
      for (const id of await this.distinctSeries(spec.byte)) {
        const base = seriesBase(id.target, id.metric);
        const prefix = Buffer.concat([Buffer.from([spec.byte]), base]);
        for await (const [key, value] of this.ks.entries({ gte: prefix, lt: prefixEnd(prefix)!, reverse: true, limit: 1 })) {
          if (this.decode(spec.byte, value) === undefined) {
            bad.push({ type: 'del', keyspace: 'ts', key });
            this.stats.tornChunksDropped++;
            this.log.warn({ target: id.target, metric: id.metric, resolution: spec.name, start: keyStart(key) }, 'torn chunk dropped');
          }
        }
      }
    }
    await this.store.write(bad);
  }

  /** Decodes a stored chunk; undefined (counted) when torn or corrupt. */
  private decode(res: number, value: Buffer): Decoded | undefined {
    return this.decodeChunk(res, value)?.data;
  }

  private decodeChunk(res: number, value: Buffer): { data: Decoded; partial: boolean } | undefined {
    const payload = openRecord(value);
    if (payload !== undefined) {
      try {
        return { data: res === 0 ? decodeRaw(payload) : decodeRollup(payload), partial: isPartialChunk(payload) };
      } catch {
        // falls through: counted below
      }
    }
    this.stats.corruptChunks++;
    return undefined;
  }

  private async head(target: string, metric: string): Promise<Head> {
    const id = `${target}\u0000${metric}`;
    const h = this.heads.get(id);
    if (h) return h;
    let p = this.loading.get(id);
    if (!p) {
      p = this.loadHead(target, metric).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  /** Resumes a series: its partial chunks after the last sealed one become the heads again. */
  private async loadHead(target: string, metric: string): Promise<Head> {
    const base = seriesBase(target, metric);
    const h: Head = { target, metric, base, raw: undefined, rollups: [undefined, undefined], lastTime: -1, lastWrite: this.now(), queued: [] };
    for (const spec of RES) {
      const prefix = Buffer.concat([Buffer.from([spec.byte]), base]);
      const partials: Array<[number, Decoded]> = [];
      let newest = true;
      for await (const [key, value] of this.ks.entries({ gte: prefix, lt: prefixEnd(prefix)!, reverse: true, limit: spec.maxPoints + 2 })) {
        const chunk = this.decodeChunk(spec.byte, value);
        if (chunk === undefined) continue;
        if (newest && spec.byte === 0) {
          const { times } = chunk.data as { times: number[] };
          if (times.length > 0) h.lastTime = times[times.length - 1]!;
        }
        newest = false;
        if (!chunk.partial) break;
        partials.unshift([keyStart(key), chunk.data]);
      }
      if (partials.length === 0) continue;
      const keys = partials.map(([k]) => k);
      if (spec.byte === 0) {
        const times: number[] = [];
        const values: number[] = [];
        for (const [, d] of partials) {
          const c = d as { times: number[]; values: number[] };
          for (let i = 0; i < c.times.length; i++) {
            if (times.length > 0 && c.times[i]! <= times[times.length - 1]!) continue;
            times.push(c.times[i]!);
            values.push(c.values[i]!);
          }
        }
        if (times.length > 0) h.raw = { start: keys[0]!, times, values, flushed: times.length, partials: keys };
      } else {
        const buckets = mergeBuckets(partials.map(([, d]) => d as Bucket[]));
        if (buckets.length > 0) h.rollups[spec.byte - 1] = { start: keys[0]!, buckets, flushedFrom: buckets.length - 1, dirty: false, partials: keys };
      }
    }
    this.heads.set(`${target}\u0000${metric}`, h);
    this.stats.heads = this.heads.size;
    return h;
  }

  /** Appends samples (any order of series; per series in time order). Resolves once they are in memory. */
  async write(samples: readonly Sample[]): Promise<void> {
    if (this.closed) throw new Error('series store is closed');
    const now = this.now();
    let i = 0;
    while (i < samples.length) {
      const s = samples[i]!;
      if (!validName(s.target) || !validName(s.metric)) {
        this.stats.invalid++;
        i++;
        continue;
      }
      const h = this.heads.get(`${s.target}\u0000${s.metric}`) ?? (await this.head(s.target, s.metric));
      // Consecutive samples of the same series share the look-up.
      do {
        const x = samples[i]!;
        const t = Math.round(x.time);
        if (!(t >= 0 && t <= Number.MAX_SAFE_INTEGER) || typeof x.value !== 'number' || !Number.isFinite(x.value)) this.stats.invalid++;
        else if (t <= h.lastTime) this.stats.outOfOrder++;
        else {
          this.append(h, t, x.value);
          this.stats.samplesWritten++;
        }
        i++;
      } while (i < samples.length && samples[i]!.target === s.target && samples[i]!.metric === s.metric);
      h.lastWrite = now;
    }
    if (this.queuedCount >= 1000) await this.flush();
  }

  private append(h: Head, t: number, v: number): void {
    h.lastTime = t;
    let raw = h.raw;
    if (raw && (raw.times.length >= this.rawChunkPoints || t - raw.start >= RES[0]!.maxSpanMs)) {
      const start = raw.start;
      this.enqueue(h, { res: 0, start, payload: encodeRaw(raw.times, raw.values), deletes: raw.partials.filter((k) => k !== start) });
      raw = undefined;
    }
    if (!raw) raw = h.raw = { start: t, times: [], values: [], flushed: 0, partials: [] };
    raw.times.push(t);
    raw.values.push(v);
    for (let r = 1; r <= 2; r++) {
      const spec = RES[r]!;
      const bt = t - (t % spec.ms);
      let head = h.rollups[r - 1];
      const open = head?.buckets[head.buckets.length - 1];
      if (open && open.time === bt) {
        addToBucket(open, v);
        head!.dirty = true;
        continue;
      }
      if (head && (head.buckets.length >= spec.maxPoints || bt - head.start >= spec.maxSpanMs)) {
        const start = head.start;
        this.enqueue(h, { res: r, start, payload: encodeRollup(head.buckets), deletes: head.partials.filter((k) => k !== start) });
        head = undefined;
      }
      if (!head) head = h.rollups[r - 1] = { start: bt, buckets: [], flushedFrom: 0, dirty: false, partials: [] };
      head.buckets.push({ time: bt, min: v, max: v, sum: v, count: 1, last: v });
      head.dirty = true;
    }
  }

  private enqueue(h: Head, q: Queued): void {
    h.queued.push(q);
    this.queuedCount++;
    if (this.queuedCount > this.maxQueuedChunks) {
      // Writes keep failing: drop the oldest queued chunk of this series (counted) to bound memory.
      h.queued.shift();
      this.queuedCount--;
      this.stats.droppedChunks++;
    }
  }

  /** Writes queued chunks and changed heads in one batch. Resolves when durable in LevelDB's log; throws a StoreError on failure (chunks stay queued). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    const p = this.doFlush();
    this.flushing = p;
    try {
      await p;
    } finally {
      this.flushing = undefined;
    }
  }

  private async doFlush(): Promise<void> {
    const ops: StoreOp[] = [];
    const taken: Array<[Head, Queued[]]> = [];
    const undo: Array<() => void> = [];
    const now = this.now();
    for (const [id, h] of this.heads) {
      const raw = h.raw;
      const rawDirty = raw !== undefined && raw.times.length > raw.flushed;
      if (h.queued.length === 0 && !rawDirty && !h.rollups[0]?.dirty && !h.rollups[1]?.dirty) {
        if (now - h.lastWrite >= this.idleEvictMs) this.heads.delete(id);
        continue;
      }
      for (const q of h.queued) {
        for (const d of q.deletes) ops.push({ type: 'del', keyspace: 'ts', key: seriesKey(q.res, h.base, d) });
        ops.push({ type: 'put', keyspace: 'ts', key: seriesKey(q.res, h.base, q.start), value: sealRecord(q.payload) });
      }
      taken.push([h, h.queued]);
      h.queued = [];
      if (raw && rawDirty) {
        const prev = raw.flushed;
        const key = raw.times[prev]!;
        ops.push({ type: 'put', keyspace: 'ts', key: seriesKey(0, h.base, key), value: sealRecord(encodeRaw(raw.times, raw.values, true, prev)) });
        if (raw.partials[raw.partials.length - 1] !== key) raw.partials.push(key);
        raw.flushed = raw.times.length;
        undo.push(() => {
          raw.flushed = prev;
        });
      }
      for (let r = 1; r <= 2; r++) {
        const head = h.rollups[r - 1];
        if (!head?.dirty) continue;
        const prev = head.flushedFrom;
        const key = head.buckets[prev]!.time;
        ops.push({ type: 'put', keyspace: 'ts', key: seriesKey(r, h.base, key), value: sealRecord(encodeRollup(head.buckets, true, prev)) });
        if (head.partials[head.partials.length - 1] !== key) head.partials.push(key);
        head.flushedFrom = head.buckets.length - 1;
        head.dirty = false;
        undo.push(() => {
          head.flushedFrom = prev;
          head.dirty = true;
        });
      }
    }
    this.stats.heads = this.heads.size;
    if (ops.length === 0) return;
    try {
      await this.store.write(ops);
    } catch (err) {
      this.stats.flushErrors++;
      for (const [h, queued] of taken) h.queued = queued.concat(h.queued);
      for (const f of undo) f();
      throw err;
    }
    this.stats.flushes++;
    this.stats.chunksWritten += ops.length;
    for (const [, queued] of taken) this.queuedCount -= queued.length;
  }

  private pick(from: number, step: number): Resolution {
    const now = this.now();
    for (const r of ['1h', '1m'] as const) {
      const spec = RES.find((x) => x.name === r)!;
      if (step >= spec.ms && from >= now - this.retention[r]) return r;
    }
    if (from >= now - this.retention.raw) return 'raw';
    return from >= now - this.retention['1m'] ? '1m' : '1h';
  }

  /**
   * Points of one series in [from, to] (ms). The resolution is the coarsest whose bucket fits in `step`
   * and whose retention covers `from` (raw when step is under a minute); with step > 0 raw points are
   * thinned to the last one per step and rollup buckets merged into step-wide buckets.
   */
  async query(target: string, metric: string, from: number, to: number, step = 0, resolution?: Resolution): Promise<QueryResult> {
    const resName = resolution ?? this.pick(from, step);
    const spec = RES.find((x) => x.name === resName)!;
    const base = seriesBase(target, metric);
    const h = this.heads.get(`${target}\u0000${metric}`);
    // What is in memory replaces its stored copies (partial chunks, chunks a queued seal replaces).
    const skip = new Set<number>();
    const chunks: Array<[number, Decoded]> = [];
    if (h) {
      for (const q of h.queued) {
        if (q.res !== spec.byte) continue;
        skip.add(q.start);
        for (const d of q.deletes) skip.add(d);
        if (q.start <= to) chunks.push([q.start, spec.byte === 0 ? decodeRaw(q.payload) : decodeRollup(q.payload)]);
      }
      if (spec.byte === 0 && h.raw) {
        for (const k of h.raw.partials) skip.add(k);
        if (h.raw.start <= to) chunks.push([h.raw.start, { times: h.raw.times, values: h.raw.values }]);
      }
      const rh = spec.byte > 0 ? h.rollups[spec.byte - 1] : undefined;
      if (rh) {
        for (const k of rh.partials) skip.add(k);
        if (rh.start <= to) chunks.push([rh.start, rh.buckets]);
      }
    }
    const lo = Math.max(0, from - spec.maxSpanMs - (spec.ms || 0));
    for await (const [key, value] of this.ks.entries({ gte: seriesKey(spec.byte, base, lo), lte: seriesKey(spec.byte, base, Math.max(0, to)) })) {
      const start = keyStart(key);
      if (skip.has(start)) continue;
      const d = this.decode(spec.byte, value);
      if (d !== undefined) chunks.push([start, d]);
    }
    chunks.sort((a, b) => a[0] - b[0]);
    if (spec.byte === 0) {
      const points: RawPoint[] = [];
      let lastBucket = -1;
      let lastTime = -1;
      for (const [, c] of chunks) {
        const { times, values } = c as { times: number[]; values: number[] };
        for (let i = 0; i < times.length; i++) {
          const t = times[i]!;
          if (t < from || t > to || t <= lastTime) continue;
          lastTime = t;
          if (step > 0) {
            const b = Math.floor(t / step);
            if (b === lastBucket) points.pop();
            lastBucket = b;
          }
          points.push({ time: t, value: values[i]! });
        }
      }
      return { resolution: 'raw', step, points };
    }
    const width = Math.max(spec.ms, step > 0 ? Math.ceil(step / spec.ms) * spec.ms : spec.ms);
    const merged: Bucket[] = [];
    const fromBucket = from - (from % spec.ms);
    for (const b of mergeBuckets(chunks.map(([, c]) => c as Bucket[]))) {
      {
        if (b.time < fromBucket || b.time > to) continue;
        const t = b.time - (b.time % width);
        const m = merged[merged.length - 1];
        if (m && m.time === t) {
          m.min = Math.min(m.min, b.min);
          m.max = Math.max(m.max, b.max);
          m.sum += b.sum;
          m.count += b.count;
          m.last = b.last;
        } else merged.push({ ...b, time: t });
      }
    }
    const points: RollupPoint[] = merged.map((b) => ({ time: b.time, min: b.min, max: b.max, avg: b.sum / b.count, last: b.last, count: b.count }));
    return { resolution: resName as '1m' | '1h', step: width, points };
  }

  /** Series at one resolution in the database, by skipping from one series to the next (one seek each). */
  private async distinctSeries(res: number): Promise<SeriesId[]> {
    const out: SeriesId[] = [];
    let cursor: Buffer | undefined = Buffer.from([res]);
    const end = Buffer.from([res + 1]);
    while (cursor) {
      let key: Buffer | undefined;
      for await (const [k] of this.ks.entries({ gte: cursor, lt: end, limit: 1 })) key = k;
      if (!key) break;
      const nul1 = key.indexOf(0, 1);
      const nul2 = nul1 < 0 ? -1 : key.indexOf(0, nul1 + 1);
      if (nul1 < 0 || nul2 < 0) {
        cursor = prefixEnd(key);
        continue;
      }
      out.push({ target: key.toString('utf8', 1, nul1), metric: key.toString('utf8', nul1 + 1, nul2) });
      cursor = prefixEnd(key.subarray(0, nul2 + 1));
    }
    return out;
  }

  /** Every series stored or in memory, sorted by target then metric. */
  async list(): Promise<SeriesId[]> {
    const seen = new Map<string, SeriesId>();
    for (const spec of RES) for (const id of await this.distinctSeries(spec.byte)) seen.set(`${id.target}\u0000${id.metric}`, id);
    for (const h of this.heads.values()) seen.set(`${h.target}\u0000${h.metric}`, { target: h.target, metric: h.metric });
    return [...seen.values()].sort((a, b) => (a.target === b.target ? (a.metric < b.metric ? -1 : 1) : a.target < b.target ? -1 : 1));
  }

  /**
   * Retention: deletes, per series and resolution, the chunks that start before now - retention - the
   * resolution's longest chunk span (so only chunks wholly out of retention go). A range delete each.
   */
  async sweep(now = this.now()): Promise<void> {
    for (const spec of RES) {
      const cutoff = now - this.retention[spec.name] - spec.maxSpanMs;
      if (cutoff <= 0) continue;
      for (const id of await this.distinctSeries(spec.byte)) {
        const base = seriesBase(id.target, id.metric);
        await this.ks.clear({ gte: seriesKey(spec.byte, base, 0), lt: seriesKey(spec.byte, base, cutoff) });
      }
    }
  }

  /** Flushes and stops the timers; the Store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.flush();
  }
}
