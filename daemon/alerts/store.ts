// The alert store: alerts kept in the store's 'alerts' keyspace, with indexes by time, container,
// rule and state, a sequence number for stream resume, and retention by age and count.
//
// Keys (inside 'alerts'; T = u64 big endian creation time in ms, ID = the 20-character alert id):
//   'r' ID                     -> sealed JSON of the Alert (the record; an early warning's forecast
//                                 rides in it, at most MAX_ALERT_FORECAST_POINTS points, so a record
//                                 stays under about 10 KiB)
//   't' T ID                   -> sealed JSON of the alert's index entry {c, u, s, q, v}: every other
//                                 key of the alert, so retention deletes them all even when the
//                                 record itself is corrupt, and time-only listings filter without it
//   'c' <container id> 00 T ID -> empty
//   'u' <rule> 00 T ID         -> empty
//   's' <state byte> T ID      -> empty
//   'q' u64 seq                -> ID   (each alert once, at the seq of its latest version)
//   'm' "seq"                  -> sealed u64: the last seq handed out
// Strings in keys escape 0x00 as 01 01 and 0x01 as 01 02, so a component never contains its terminator.
//
// Every write of an alert (a new one or an update) is one LevelDB batch holding the record, all its
// index keys (the state and seq keys of its previous version deleted) and the seq counter: a crash
// leaves the alert as it was before or after, never an index without its record. Writes and sweeps
// are serialized by this class, so callers may call them concurrently.
//
// Sequence numbers: every stored version of an alert gets the next seq. since(seq) returns the alerts
// whose latest version is newer than seq, in seq order: a stream that reconnects with the last seq it
// saw gets what it missed (the latest version of each changed alert, not every intermediate one).
// A seq handed out is never handed out again, even when its write failed (full disk) or LevelDB later
// loses the tail of its log: seqs are reserved ahead of use in blocks of SEQ_RESERVE in a small marks
// file beside the database (durable.ts: fsynced, renamed), and allocated from memory up to that
// high-water mark; on open allocation resumes from the mark, never from the last stored alert. The
// next block is reserved when half of the current one is used, so a healthy store never waits for it.
// When the mark cannot be moved (full disk), allocate() says so and the caller holds its alerts.
//
// Durability: writes from the AlertManager are synced (writeAssigned), so an alert published without
// the `unpersisted` mark is on disk. The manager folds many matches into one batch: one fsync covers
// them all (group commit).
//
// Epoch: a random id created with the store and kept in the marks file with `persisted`, the highest
// seq known to be on disk (written with each reservation, at most once a second after writes, and on
// close). When on open the alerts end below `persisted`, history was lost (a torn log, a restored
// backup): a new epoch is made and logged as an error. Clients keep the epoch with their cursors;
// a cursor of another epoch does not name the same alerts.
//
// Corrupt records (checksum mismatch, or JSON that is not an alert) are counted and skipped by every
// reader; retention removes them with their index keys when their time comes.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../core/log.js';
import { readDurable, writeDurable } from '../store/durable.js';
import { StoreError } from '../store/errors.js';
import type { Keyspace, Store, StoreHealth, StoreOp } from '../store/store.js';
import { prefixEnd } from '../store/store.js';
import { openRecord, sealRecord } from '../store/record.js';
import { SEVERITIES, severityRank, type Severity } from '../core/severity.js';
import { AlertError } from './errors.js';
import { ALERT_ID_LENGTH, isAlertId } from './ids.js';
import { ALERT_STATES, boundForecast, type Alert, type AlertState } from './alert.js';

const DAY = 24 * 60 * 60 * 1000;
export const DEFAULT_ALERT_RETENTION = Object.freeze({ maxAgeMs: 30 * DAY, maxCount: 100_000 });
export const DEFAULT_PAGE_LIMIT = 100;
/** Seqs reserved ahead of use (one durable write of the marks file per block). */
export const SEQ_RESERVE = 1024;
/** The marks file, in the database's directory (LevelDB leaves files it does not know alone). */
export const MARKS_FILE = 'vigil-alerts.json';
export const MAX_PAGE_LIMIT = 1000;

export interface AlertStoreOptions {
  log?: Logger;
  /** Alerts older than this (by creation time) are removed. 30 days by default. */
  maxAgeMs?: number;
  /** At most this many alerts are kept; the oldest go first. 100,000 by default. */
  maxCount?: number;
  /** How often the retention sweep runs once start() is called. 10 minutes by default. */
  sweepIntervalMs?: number;
  /** Index entries a list() call examines at most before it returns a short page with a cursor. */
  maxScan?: number;
  /** Clock for retention (tests). */
  now?: () => number;
  /** How often `persisted` is written to the marks file after writes (ms); 1 s by default. */
  marksIntervalMs?: number;
}

/** What the marks file holds. */
export interface SeqMarks {
  version: 1;
  /** The store's history id. */
  epoch: string;
  /** Seqs up to this one may have been handed out: allocation resumes above it. */
  hwm: number;
  /** Every alert version up to this seq that was written is on disk. */
  persisted: number;
}

/** Set when open() found history lost and made a new epoch. */
export interface EpochChange {
  from: string;
  to: string;
  /** Where the stored alerts end, and where they should have reached. */
  storedUpTo: number;
  persisted: number;
}

/** The seqs a stream may resume from: (first - 1) .. last, in `epoch`. */
export interface SeqRange {
  epoch: string;
  /** The oldest stored alert's seq (0 when none is stored). */
  first: number;
  /** The last seq handed out. */
  last: number;
}

export interface AlertFilter {
  rule?: string;
  container?: string;
  state?: AlertState;
  /** Only alerts at least this severe. */
  minSeverity?: Severity;
  /** Creation time bounds, unix ms, inclusive. */
  since?: number;
  until?: number;
}

export interface AlertPage {
  /** 100 by default, at most 1000. */
  limit?: number;
  /** The `next` cursor of the previous page (same filter). */
  after?: string;
}

export interface AlertList {
  /** Newest first (by creation time, then id). */
  alerts: Alert[];
  /** Present when more may follow: pass it as `after` with the same filter. A page may be shorter
   * than the limit when the scan budget ran out; it still carries a cursor. */
  next?: string;
}

export interface AlertStoreStats {
  /** Alerts stored now (index entries by time). */
  count: number;
  /** The last seq handed out, the highest one on disk, and the reserved high-water mark. */
  seq: number;
  persisted: number;
  hwm: number;
  epoch: string;
  /** Alert versions written, and batches that failed (of which with a full disk). */
  written: number;
  writeErrors: number;
  diskFull: number;
  /** Records (or index entries) found corrupt and skipped. */
  corrupt: number;
  /** Alerts removed by retention. */
  swept: number;
}

/** What the time index keeps of an alert: where its other keys are. */
interface IndexEntry {
  /** container id, rule, state, seq, severity rank */
  c: string;
  u: string;
  s: AlertState;
  q: number;
  v: number;
}

const TAG = { record: 0x72, time: 0x74, container: 0x63, rule: 0x75, state: 0x73, seq: 0x71, meta: 0x6d } as const;
type IndexTag = typeof TAG.time | typeof TAG.container | typeof TAG.rule | typeof TAG.state;
const SEQ_KEY = Buffer.from([TAG.meta, ...Buffer.from('seq')]);

function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

function parseMarks(text: string): SeqMarks | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const m = v as Partial<SeqMarks> | null;
  if (m === null || typeof m !== 'object' || m.version !== 1 || typeof m.epoch !== 'string' || !/^[0-9a-f]{16}$/.test(m.epoch)) return undefined;
  if (!Number.isSafeInteger(m.hwm) || !Number.isSafeInteger(m.persisted) || m.hwm! < 0 || m.persisted! < 0) return undefined;
  return m as SeqMarks;
}
const TAIL = 8 + ALERT_ID_LENGTH;

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(n))));
  return b;
}

/** A string key component with 0x00 and 0x01 escaped, then the 0x00 terminator. */
function component(s: string): Buffer {
  const raw = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (const byte of raw) {
    if (byte === 0) out.push(1, 1);
    else if (byte === 1) out.push(1, 2);
    else out.push(byte);
  }
  out.push(0);
  return Buffer.from(out);
}

function stateByte(s: AlertState): number {
  return ALERT_STATES.indexOf(s);
}

function timeOf(a: Alert): number {
  const t = Date.parse(a.time);
  return Number.isFinite(t) ? t : 0;
}

function isAlert(v: unknown): v is Alert {
  if (v === null || typeof v !== 'object') return false;
  const a = v as Partial<Alert>;
  return (
    typeof a.id === 'string' &&
    typeof a.seq === 'number' &&
    typeof a.time === 'string' &&
    typeof a.rule === 'string' &&
    typeof a.state === 'string' &&
    (ALERT_STATES as readonly string[]).includes(a.state) &&
    typeof a.severity === 'string' &&
    (SEVERITIES as readonly string[]).includes(a.severity) &&
    a.container !== undefined &&
    typeof a.container.id === 'string' &&
    Array.isArray(a.events) &&
    Array.isArray(a.history) &&
    (a.forecast === undefined ||
      (typeof a.forecast === 'object' && a.forecast !== null && typeof a.forecast.model === 'string' && Array.isArray(a.forecast.points)))
  );
}

function isIndexEntry(v: unknown): v is IndexEntry {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Partial<IndexEntry>;
  return (
    typeof e.c === 'string' &&
    typeof e.u === 'string' &&
    typeof e.q === 'number' &&
    typeof e.v === 'number' &&
    (ALERT_STATES as readonly string[]).includes(e.s ?? '')
  );
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

export class AlertStore {
  private readonly ks: Keyspace;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly maxAgeMs: number;
  private readonly maxCount: number;
  private readonly sweepIntervalMs: number;
  private readonly maxScan: number;
  private readonly now: () => number;
  private lastSeq = 0;
  /** The reserved high-water mark (durable), the highest seq on disk, and `persisted` as last written to the marks file. */
  private hwm = 0;
  private persistedSeq = 0;
  private marksPersisted = 0;
  private epochId = '';
  private changedEpoch: EpochChange | undefined;
  private readonly marksPath: string;
  private readonly marksIntervalMs: number;
  private reserving: Promise<boolean> | undefined;
  /** After a failed reservation, none is tried again before this time (ms). */
  private reserveRetryAt = 0;
  private reserveFailed: StoreError | undefined;
  private marksTimer: NodeJS.Timeout | undefined;
  private marksWriting: Promise<void> | undefined;
  private count = 0;
  private readonly counters = { written: 0, writeErrors: 0, diskFull: 0, corrupt: 0, swept: 0 };
  /** Serializes writes and sweeps (each reads the index entries it is about to replace). */
  private lock: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(store: Store, options: AlertStoreOptions) {
    this.store = store;
    this.ks = store.keyspace('alerts');
    this.log = options.log ?? silentLogger();
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_ALERT_RETENTION.maxAgeMs;
    this.maxCount = options.maxCount ?? DEFAULT_ALERT_RETENTION.maxCount;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10 * 60_000;
    this.maxScan = options.maxScan ?? 10_000;
    this.now = options.now ?? Date.now;
    this.marksPath = join(store.dir, MARKS_FILE);
    this.marksIntervalMs = options.marksIntervalMs ?? 1000;
  }

  /**
   * Opens the alerts of `store`: reads the seq counter and the marks file (a new epoch when history was
   * lost), counts the stored alerts and reserves the first block of seqs (durably: throws when it cannot).
   */
  static async open(store: Store, options: AlertStoreOptions = {}): Promise<AlertStore> {
    const s = new AlertStore(store, options);
    await s.load();
    return s;
  }

  private async load(): Promise<void> {
    const v = await this.ks.get(SEQ_KEY);
    const sealed = v === undefined ? undefined : openRecord(v);
    if (v !== undefined && (sealed === undefined || sealed.length !== 8)) this.noteCorrupt('seq counter');
    let stored = sealed?.length === 8 ? Number(sealed.readBigUInt64BE(0)) : 0;
    // The newest seq index key bounds it too (a counter lost to corruption must not go back).
    for await (const [k] of this.ks.entries({ gte: Buffer.from([TAG.seq]), lt: Buffer.from([TAG.seq + 1]), reverse: true, limit: 1 })) {
      if (k.length === 9) stored = Math.max(stored, Number(k.readBigUInt64BE(1)));
    }
    let n = 0;
    for await (const _ of this.ks.entries({ gte: Buffer.from([TAG.time]), lt: Buffer.from([TAG.time + 1]) })) n++;
    this.count = n;

    const text = await readDurable(this.marksPath);
    const marks = text === undefined ? undefined : parseMarks(text);
    if (marks === undefined) {
      this.epochId = newEpoch();
      if (text !== undefined) {
        this.changedEpoch = { from: '', to: this.epochId, storedUpTo: stored, persisted: stored };
        this.log.error(
          { file: this.marksPath, epoch: this.epochId, stored_up_to: stored },
          'the alert seq marks file is unreadable: a new epoch is made (cursors of the old one are refused)',
        );
      } else if (stored > 0 || n > 0) {
        this.log.warn({ file: this.marksPath, epoch: this.epochId, stored_up_to: stored }, 'alert store without seq marks (an older vigil): epoch created');
      }
    } else if (stored < marks.persisted) {
      this.epochId = newEpoch();
      this.changedEpoch = { from: marks.epoch, to: this.epochId, storedUpTo: stored, persisted: marks.persisted };
      this.log.error(
        { epoch: this.epochId, previous_epoch: marks.epoch, stored_up_to: stored, persisted: marks.persisted, resume_above: Math.max(marks.hwm, stored) },
        `ALERT HISTORY LOST: the store ends at seq ${stored} but seq ${marks.persisted} was on disk (a torn LevelDB log or a restored backup). New epoch ${this.epochId} (was ${marks.epoch}); seqs are never reused: new alerts continue above ${Math.max(marks.hwm, stored)}`,
      );
    } else {
      this.epochId = marks.epoch;
    }
    this.lastSeq = Math.max(marks?.hwm ?? 0, stored);
    this.persistedSeq = stored;
    this.hwm = this.lastSeq;
    if (!(await this.reserve())) throw this.reserveFailed!;
  }

  /** The store's history id (see the header). */
  get epoch(): string {
    return this.epochId;
  }

  /** What open() found when it had to make a new epoch. */
  get epochChange(): EpochChange | undefined {
    return this.changedEpoch;
  }

  /** The seq range a stream may resume in. */
  async range(): Promise<SeqRange> {
    let first = 0;
    for await (const [k] of this.ks.entries({ gte: Buffer.from([TAG.seq]), lt: Buffer.from([TAG.seq + 1]), limit: 1 })) {
      if (k.length === 9) first = Number(k.readBigUInt64BE(1));
    }
    return { epoch: this.epochId, first, last: this.lastSeq };
  }

  /** Whether the store's writes work (see Store.health). */
  get health(): Readonly<StoreHealth> {
    return this.store.health;
  }

  onHealth(fn: (h: StoreHealth) => void): () => void {
    return this.store.onHealth(fn);
  }

  /** Why seqs cannot be reserved now (the marks file cannot be written), if so. */
  get reserveError(): StoreError | undefined {
    return this.reserveFailed;
  }

  private marks(hwm: number): string {
    const m: SeqMarks = { version: 1, epoch: this.epochId, hwm, persisted: this.persistedSeq };
    return `${JSON.stringify(m)}\n`;
  }

  /** Moves the durable high-water mark a block above what is handed out. False when the file write failed. */
  private async reserve(): Promise<boolean> {
    const target = this.lastSeq + SEQ_RESERVE;
    const persisted = this.persistedSeq;
    try {
      await this.marksSerial(() => writeDurable(this.marksPath, this.marks(target)));
    } catch (err) {
      this.reserveFailed = err instanceof StoreError ? err : new StoreError('VIGIL_STORE_IO', this.store.dir, String(err));
      this.reserveRetryAt = Date.now() + 1000;
      return false;
    }
    this.hwm = Math.max(this.hwm, target);
    this.marksPersisted = Math.max(this.marksPersisted, persisted);
    if (this.reserveFailed) this.log.info({ hwm: this.hwm }, 'alert seqs reserved again');
    this.reserveFailed = undefined;
    return true;
  }

  /** One marks-file write at a time. */
  private marksSerial(fn: () => Promise<void>): Promise<void> {
    const prev = this.marksWriting ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.marksWriting = settled;
    void settled.then(() => {
      if (this.marksWriting === settled) this.marksWriting = undefined;
    });
    return run;
  }

  private kickReserve(): Promise<boolean> | undefined {
    if (this.reserving) return this.reserving;
    if (this.reserveFailed && Date.now() < this.reserveRetryAt) return undefined;
    const r = this.reserve().finally(() => {
      if (this.reserving === r) this.reserving = undefined;
    });
    this.reserving = r;
    return r;
  }

  /**
   * The next seq, or undefined when the reserved block is used up and the next one cannot be reserved
   * (the marks file cannot be written: a full disk). Waits for a reservation already under way.
   */
  async allocate(): Promise<number | undefined> {
    for (let i = 0; i < 2; i++) {
      if (this.lastSeq < this.hwm) {
        const seq = ++this.lastSeq;
        if (this.hwm - this.lastSeq < SEQ_RESERVE / 2) void this.kickReserve();
        return seq;
      }
      const r = this.kickReserve();
      if (!r || !(await r)) return undefined;
    }
    return undefined;
  }

  /** Writes `persisted` to the marks file if it moved since (a timer calls it; close() too). */
  private async saveMarks(): Promise<void> {
    if (this.persistedSeq <= this.marksPersisted || this.reserving) return;
    const persisted = this.persistedSeq;
    await this.marksSerial(() => writeDurable(this.marksPath, this.marks(this.hwm)));
    this.marksPersisted = Math.max(this.marksPersisted, persisted);
  }

  stats(): AlertStoreStats {
    return { count: this.count, seq: this.lastSeq, persisted: this.persistedSeq, hwm: this.hwm, epoch: this.epochId, ...this.counters };
  }

  /** The last seq handed out (the resume point of a stream that has seen everything). */
  get seq(): number {
    return this.lastSeq;
  }

  private noteCorrupt(what: string, id?: string): void {
    this.counters.corrupt++;
    this.store.noteCorrupt('alerts');
    this.log.warn({ what, id }, 'corrupt alert record skipped');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Stores new alerts and new versions of stored ones, in one atomic batch. Each gets the next seq
   * (written into the object: `alert.seq`). Throws the StoreError of a failed write (the seqs stay
   * handed out), or VIGIL_STORE_FULL when no seq can be reserved; the `unpersisted` mark is never stored.
   */
  write(alerts: readonly Alert[], options: { sync?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      for (const a of alerts) {
        const seq = await this.allocate();
        if (seq === undefined) throw this.reserveFailed ?? new StoreError('VIGIL_STORE_FULL', this.store.dir, 'no alert seq can be reserved');
        a.seq = seq;
      }
      await this.writeNow(alerts, options.sync ?? false);
    });
  }

  /**
   * Stores alerts whose seqs the caller took with allocate() (a version published unpersisted keeps
   * its seq when it is written later), in one synced batch: on disk when the promise resolves.
   */
  writeAssigned(alerts: readonly Alert[]): Promise<void> {
    for (const a of alerts)
      if (!Number.isSafeInteger(a.seq) || a.seq <= 0 || a.seq > this.lastSeq)
        throw new TypeError(`alert ${a.id} has no seq handed out by this store (${a.seq})`);
    return this.serial(() => this.writeNow(alerts, true));
  }

  private async writeNow(alerts: readonly Alert[], sync: boolean): Promise<void> {
    // One version per id in a batch: the last one given.
    const byId = new Map<string, Alert>();
    for (const a of alerts) {
      if (!isAlertId(a.id)) throw new TypeError(`not an alert id: ${JSON.stringify(a.id)}`);
      byId.delete(a.id);
      byId.set(a.id, a);
    }
    const ops: StoreOp[] = [];
    let added = 0;
    let top = this.persistedSeq;
    for (const a of byId.values()) {
      top = Math.max(top, a.seq);
      const t = timeOf(a);
      const tail = Buffer.concat([u64(t), Buffer.from(a.id, 'latin1')]);
      const timeKey = Buffer.concat([Buffer.from([TAG.time]), tail]);
      const prev = await this.indexEntry(timeKey);
      if (prev) {
        if (prev.s !== a.state) ops.push(this.del(Buffer.concat([Buffer.from([TAG.state, stateByte(prev.s)]), tail])));
        if (prev.q !== a.seq) ops.push(this.del(Buffer.concat([Buffer.from([TAG.seq]), u64(prev.q)])));
      } else {
        added++;
      }
      const entry: IndexEntry = { c: a.container.id, u: a.rule, s: a.state, q: a.seq, v: severityRank(a.severity) };
      const { unpersisted: _drop, ...stored } = a;
      if (stored.forecast) stored.forecast = boundForecast(stored.forecast);
      ops.push(this.put(Buffer.concat([Buffer.from([TAG.record]), Buffer.from(a.id, 'latin1')]), sealRecord(Buffer.from(JSON.stringify(stored)))));
      ops.push(this.put(timeKey, sealRecord(Buffer.from(JSON.stringify(entry)))));
      ops.push(this.put(Buffer.concat([Buffer.from([TAG.container]), component(a.container.id), tail]), Buffer.alloc(0)));
      ops.push(this.put(Buffer.concat([Buffer.from([TAG.rule]), component(a.rule), tail]), Buffer.alloc(0)));
      ops.push(this.put(Buffer.concat([Buffer.from([TAG.state, stateByte(a.state)]), tail]), Buffer.alloc(0)));
      ops.push(this.put(Buffer.concat([Buffer.from([TAG.seq]), u64(a.seq)]), Buffer.from(a.id, 'latin1')));
    }
    ops.push(this.put(SEQ_KEY, sealRecord(u64(top))));
    try {
      await this.store.write(ops, { sync });
    } catch (err) {
      this.counters.writeErrors++;
      if (err instanceof Error && (err as { code?: unknown }).code === 'VIGIL_STORE_FULL') this.counters.diskFull++;
      throw err;
    }
    this.counters.written += byId.size;
    this.count += added;
    this.persistedSeq = top;
  }

  private put(key: Buffer, value: Buffer): StoreOp {
    return { type: 'put', keyspace: 'alerts', key, value };
  }

  private del(key: Buffer): StoreOp {
    return { type: 'del', keyspace: 'alerts', key };
  }

  private async indexEntry(timeKey: Buffer): Promise<IndexEntry | undefined> {
    const v = await this.ks.get(timeKey);
    if (v === undefined) return undefined;
    const payload = openRecord(v);
    const entry = payload === undefined ? undefined : parseJson(payload);
    if (!isIndexEntry(entry)) {
      this.noteCorrupt('time index entry', timeKey.subarray(9).toString('latin1'));
      return undefined;
    }
    return entry;
  }

  /** The stored alert with that id, or undefined (never stored, removed, or corrupt: counted). */
  async get(id: string): Promise<Alert | undefined> {
    if (!isAlertId(id)) return undefined;
    const v = await this.ks.get(Buffer.concat([Buffer.from([TAG.record]), Buffer.from(id, 'latin1')]));
    if (v === undefined) return undefined;
    const payload = openRecord(v);
    const a = payload === undefined ? undefined : parseJson(payload);
    if (!isAlert(a) || a.id !== id) {
      this.noteCorrupt('alert record', id);
      return undefined;
    }
    return a;
  }

  /** Alerts matching the filter, newest first, one page at a time. */
  async list(filter: AlertFilter = {}, page: AlertPage = {}): Promise<AlertList> {
    const limit = Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(page.limit ?? DEFAULT_PAGE_LIMIT)));
    let tag: IndexTag;
    let prefix: Buffer;
    if (filter.container !== undefined) {
      tag = TAG.container;
      prefix = Buffer.concat([Buffer.from([tag]), component(filter.container)]);
    } else if (filter.rule !== undefined) {
      tag = TAG.rule;
      prefix = Buffer.concat([Buffer.from([tag]), component(filter.rule)]);
    } else if (filter.state !== undefined) {
      tag = TAG.state;
      prefix = Buffer.from([tag, stateByte(filter.state)]);
    } else {
      tag = TAG.time;
      prefix = Buffer.from([tag]);
    }
    const gte = Buffer.concat([prefix, u64(filter.since ?? 0)]);
    let lt: Buffer =
      filter.until !== undefined ? Buffer.concat([prefix, u64(filter.until + 1)]) : (prefixEnd(prefix) ?? Buffer.concat([prefix, Buffer.alloc(TAIL, 0xff)]));
    if (page.after !== undefined) {
      const after = this.decodeCursor(page.after, tag);
      const key = Buffer.concat([prefix, after]);
      if (Buffer.compare(key, lt) < 0) lt = key;
    }
    const maxRank = filter.minSeverity !== undefined ? severityRank(filter.minSeverity) : SEVERITIES.length;
    const out: Alert[] = [];
    let scanned = 0;
    let lastTail: Buffer | undefined;
    let exhausted = true;
    for await (const [k, v] of this.ks.entries({ gte, lt, reverse: true })) {
      if (out.length >= limit || scanned >= this.maxScan) {
        exhausted = false;
        break;
      }
      scanned++;
      const tail = k.subarray(k.length - TAIL);
      lastTail = Buffer.from(tail);
      if (k.length !== prefix.length + TAIL) continue; // not a key this class wrote
      const id = tail.subarray(8).toString('latin1');
      if (tag === TAG.time) {
        // The time index entry carries the severity rank: filter before reading the record.
        const payload = openRecord(v);
        const e = payload === undefined ? undefined : parseJson(payload);
        if (!isIndexEntry(e)) {
          this.noteCorrupt('time index entry', id);
          continue;
        }
        if (e.v > maxRank) continue;
      }
      const a = await this.get(id);
      if (!a) continue;
      if (filter.rule !== undefined && a.rule !== filter.rule) continue;
      if (filter.container !== undefined && a.container.id !== filter.container) continue;
      if (filter.state !== undefined && a.state !== filter.state) continue;
      if (severityRank(a.severity) > maxRank) continue;
      out.push(a);
    }
    const result: AlertList = { alerts: out };
    if (!exhausted && lastTail) result.next = this.encodeCursor(tag, lastTail);
    return result;
  }

  private encodeCursor(tag: IndexTag, tail: Buffer): string {
    return Buffer.concat([Buffer.from([tag]), tail]).toString('base64url');
  }

  private decodeCursor(cursor: string, tag: IndexTag): Buffer {
    const b = Buffer.from(cursor, 'base64url');
    if (b.length !== 1 + TAIL || b[0] !== tag || !isAlertId(b.subarray(9).toString('latin1')) || b.toString('base64url') !== cursor) {
      throw new AlertError('VIGIL_ALERT_CURSOR', 'not a cursor of this listing (the filter must stay the same between pages)');
    }
    return b.subarray(1);
  }

  /**
   * Stream resume: the alerts whose latest stored version has a seq above `seq`, in seq order, at most
   * `limit` (1000 by default; call again with the last seq returned for more).
   */
  async since(seq: number, limit = 1000): Promise<Alert[]> {
    const out: Alert[] = [];
    for await (const [k, v] of this.ks.entries({ gte: Buffer.concat([Buffer.from([TAG.seq]), u64(Math.max(0, seq) + 1)]), lt: Buffer.from([TAG.seq + 1]) })) {
      if (out.length >= limit) break;
      const id = v.toString('latin1');
      const a = await this.get(id);
      if (!a) continue;
      if (k.length === 9 && a.seq !== Number(k.readBigUInt64BE(1))) continue; // replaced meanwhile; listed at its new seq
      out.push(a);
    }
    return out;
  }

  /** Runs the retention sweep every sweepIntervalMs (unref'd: it never keeps the process alive). */
  start(): void {
    if (!this.marksTimer && this.marksIntervalMs > 0) {
      this.marksTimer = setInterval(() => {
        this.saveMarks().catch(() => undefined); // a full disk: the store's own state says so; tried again
      }, this.marksIntervalMs);
      this.marksTimer.unref();
    }
    if (this.timer || this.sweepIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'alert retention sweep failed'));
    }, this.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.marksTimer) clearInterval(this.marksTimer);
    this.marksTimer = undefined;
  }

  /** Stops the timers and writes the marks file a last time (the store itself stays open). */
  async close(): Promise<void> {
    this.stop();
    await this.reserving;
    await this.saveMarks().catch((err: unknown) =>
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'writing the alert seq marks failed'),
    );
  }

  /**
   * Removes alerts older than maxAgeMs and, beyond maxCount, the oldest; each with all its index keys
   * in the same batch (batches of `batchSize` alerts). Returns how many were removed.
   */
  sweep(batchSize = 256): Promise<number> {
    return this.serial(() => this.sweepNow(batchSize));
  }

  private async sweepNow(batchSize: number): Promise<number> {
    const cutoff = this.now() - this.maxAgeMs;
    let removed = 0;
    for (;;) {
      const ops: StoreOp[] = [];
      let n = 0;
      for await (const [k, v] of this.ks.entries({ gte: Buffer.from([TAG.time]), lt: Buffer.from([TAG.time + 1]) })) {
        if (n >= batchSize) break;
        if (k.length !== 1 + TAIL) {
          ops.push(this.del(k));
          continue;
        }
        const t = Number(k.readBigUInt64BE(1));
        if (t >= cutoff && this.count - n <= this.maxCount) break;
        const tail = k.subarray(1);
        const id = tail.subarray(8).toString('latin1');
        ops.push(this.del(k), this.del(Buffer.concat([Buffer.from([TAG.record]), Buffer.from(id, 'latin1')])));
        const payload = openRecord(v);
        let e: unknown = payload === undefined ? undefined : parseJson(payload);
        if (!isIndexEntry(e)) {
          this.noteCorrupt('time index entry', id);
          // Fall back to the record for the other keys; with both corrupt they stay behind as orphans
          // that readers skip (their record is gone).
          const a = await this.get(id);
          e = a ? { c: a.container.id, u: a.rule, s: a.state, q: a.seq, v: severityRank(a.severity) } : undefined;
        }
        if (isIndexEntry(e)) {
          ops.push(
            this.del(Buffer.concat([Buffer.from([TAG.container]), component(e.c), tail])),
            this.del(Buffer.concat([Buffer.from([TAG.rule]), component(e.u), tail])),
            this.del(Buffer.concat([Buffer.from([TAG.state, stateByte(e.s)]), tail])),
            this.del(Buffer.concat([Buffer.from([TAG.seq]), u64(e.q)])),
          );
        }
        n++;
      }
      if (ops.length === 0) break;
      await this.store.write(ops);
      this.count -= n;
      this.counters.swept += n;
      removed += n;
      if (n < batchSize) break;
    }
    if (removed > 0) this.log.info({ removed, kept: this.count }, 'alert retention sweep');
    return removed;
  }
}
