// The daemon's one LevelDB database (classic-level), split into named keyspaces by key prefix.
//
// A key on disk is `<keyspace name> 0x00 <key bytes>`: keys are binary (Buffers), each keyspace is one
// contiguous range, so a keyspace or any prefix of its keys is iterated, sized or cleared by key order.
// Writes that span keyspaces go through one LevelDB batch and are atomic.
//
// Failures become StoreErrors with a stable code (errors.ts). A failed write (a full disk) is counted
// and thrown to the caller; what the database already held stays readable. A failed write also puts
// the store in the `failing` state (logged once, not per write): a recovery loop then probes it with a
// small synced write, with backoff (0.5 s doubling to 10 s), and when a probe fails again and the file
// system has room (1 MiB free) it reopens the database (close and open), because LevelDB keeps a
// background error (ENOSPC during a log write or a compaction) that fails every later write until it
// is reopened. While the disk is still full it is not reopened, so what it holds stays readable. The first probe that succeeds
// puts it back to `ok` (logged once) and tells the onHealth listeners (the alert manager writes what it
// held). While it reopens, reads and writes fail with VIGIL_STORE_IO. Values
// written with putRecord() carry a CRC-32 (record.ts) and getRecord()/records() count and skip those
// that do not match.
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { silentLogger, type Logger } from '../core/log.js';
import { StoreError, storeErrorFrom } from './errors.js';
import { openRecord, sealRecord } from './record.js';

export const DEFAULT_DATA_DIR = '/var/lib/vigil/data';

/** The keyspaces of the daemon. 'meta' holds the store's own settings (format version). */
export const KEYSPACES = ['meta', 'ts', 'targets', 'alerts', 'forecasts'] as const;
export type KeyspaceName = (typeof KEYSPACES)[number];

/** Bumped when an on-disk layout changes incompatibly; open() refuses a newer one. */
export const STORE_FORMAT_VERSION = 1;

export interface StoreOptions {
  /** Data directory (created when missing); DEFAULT_DATA_DIR when absent. */
  dir?: string;
  log?: Logger;
  /** LevelDB block cache, bytes (8 MiB by default). */
  cacheSize?: number;
  /** LevelDB write buffer (memtable), bytes (4 MiB by default). */
  writeBufferSize?: number;
  /** Recovery backoff after a failed write: first and longest delay (ms). 500 and 10,000 by default. */
  recoverInitialMs?: number;
  recoverMaxMs?: number;
}

/** Whether writes work: `ok`, or `failing` since `since` (unix ms) with the last error. */
export interface StoreHealth {
  ok: boolean;
  since: number;
  error?: StoreError;
}

export interface StoreStats {
  /** Batches and single writes that succeeded. */
  writes: number;
  /** Reopens by the recovery loop. */
  reopens: number;
  /** Writes that failed (any cause), of which `diskFull` with ENOSPC. */
  writeErrors: number;
  diskFull: number;
  /** Records whose checksum did not match (torn or corrupt), per keyspace; each was skipped. */
  corruptRecords: Record<string, number>;
}

/** A key range inside one keyspace (keys without the keyspace prefix). */
export interface KeyRange {
  gte?: Uint8Array;
  gt?: Uint8Array;
  lte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

export type StoreOp = { type: 'put'; keyspace: KeyspaceName; key: Uint8Array; value: Uint8Array } | { type: 'del'; keyspace: KeyspaceName; key: Uint8Array };

type Db = ClassicLevel<Buffer, Buffer>;

// Data dirs open in this process. A second LevelDB open of the same dir in one process would fail, but on
// its way out close its own descriptor of LOCK, and closing any descriptor drops the process's fcntl
// lock: a second daemon could then open the database too. So this process refuses before LevelDB sees it.
const openDirs = new Set<string>();

function prefixOf(name: string): Buffer {
  return Buffer.from(`${name}\u0000`, 'latin1');
}

/** The first key after every key that starts with `prefix` (undefined when there is none: all 0xff). */
export function prefixEnd(prefix: Uint8Array): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

export class Keyspace {
  readonly name: KeyspaceName;
  readonly prefix: Buffer;
  private readonly end: Buffer;
  private readonly store: Store;

  constructor(store: Store, name: KeyspaceName) {
    this.store = store;
    this.name = name;
    this.prefix = prefixOf(name);
    this.end = prefixEnd(this.prefix)!;
  }

  /** The full on-disk key of `key`. */
  key(key: Uint8Array): Buffer {
    return Buffer.concat([this.prefix, key]);
  }

  async get(key: Uint8Array): Promise<Buffer | undefined> {
    return this.store.rawGet(this.key(key));
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.store.write([{ type: 'put', keyspace: this.name, key, value }]);
  }

  async del(key: Uint8Array): Promise<void> {
    await this.store.write([{ type: 'del', keyspace: this.name, key }]);
  }

  /** Reads a checksummed record: its payload, or undefined when missing or corrupt (corrupt is counted). */
  async getRecord(key: Uint8Array): Promise<Buffer | undefined> {
    const v = await this.get(key);
    if (v === undefined) return undefined;
    const payload = openRecord(v);
    if (payload === undefined) this.store.noteCorrupt(this.name);
    return payload;
  }

  async putRecord(key: Uint8Array, payload: Uint8Array): Promise<void> {
    await this.put(key, sealRecord(payload));
  }

  /** Level range options for a range of this keyspace. */
  levelRange(range: KeyRange): { gte?: Buffer; gt?: Buffer; lte?: Buffer; lt?: Buffer; reverse?: boolean; limit?: number } {
    const out: { gte?: Buffer; gt?: Buffer; lte?: Buffer; lt?: Buffer; reverse?: boolean; limit?: number } = {};
    if (range.gt !== undefined) out.gt = this.key(range.gt);
    else out.gte = range.gte !== undefined ? this.key(range.gte) : this.prefix;
    if (range.lte !== undefined) out.lte = this.key(range.lte);
    else out.lt = range.lt !== undefined ? this.key(range.lt) : this.end;
    if (range.reverse) out.reverse = true;
    if (range.limit !== undefined) out.limit = range.limit;
    return out;
  }

  /** Entries of a range in key order (keys without the prefix). */
  async *entries(range: KeyRange = {}): AsyncGenerator<[Buffer, Buffer]> {
    const n = this.prefix.length;
    for await (const [k, v] of this.store.rawIterator(this.levelRange(range))) yield [k.subarray(n), v];
  }

  /** Checksummed records of a range; corrupt ones are counted and skipped. */
  async *records(range: KeyRange = {}): AsyncGenerator<[Buffer, Buffer]> {
    for await (const [k, v] of this.entries(range)) {
      const payload = openRecord(v);
      if (payload === undefined) {
        this.store.noteCorrupt(this.name);
        continue;
      }
      yield [k, payload];
    }
  }

  /** Deletes a range (LevelDB has no range tombstones: the keys are deleted in order, in batches). */
  async clear(range: Omit<KeyRange, 'reverse' | 'limit'> = {}): Promise<void> {
    await this.store.rawClear(this.levelRange(range));
  }

  /** Approximate bytes on disk of a range (recent writes not yet in table files are not counted). */
  async approximateSize(range: Omit<KeyRange, 'reverse' | 'limit'> = {}): Promise<number> {
    const r = this.levelRange(range);
    return this.store.rawApproximateSize(r.gte ?? r.gt ?? this.prefix, r.lt ?? r.lte ?? this.end);
  }
}

const PROBE_KEY = Buffer.from('meta\u0000probe', 'latin1');
/** Free bytes the file system needs before the recovery loop reopens the database. */
const MIN_FREE_FOR_REOPEN = 1 << 20;

export class Store {
  readonly dir: string;
  readonly stats: StoreStats = { writes: 0, reopens: 0, writeErrors: 0, diskFull: 0, corruptRecords: {} };
  private readonly db: Db;
  private readonly log: Logger;
  private readonly spaces = new Map<KeyspaceName, Keyspace>();
  private readonly openOptions: Parameters<Db['open']>[0];
  private state: StoreHealth = { ok: true, since: Date.now() };
  private readonly healthListeners = new Set<(h: StoreHealth) => void>();
  private recovering: Promise<void> | undefined;
  private closing = false;
  private wakeRecovery: (() => void) | undefined;
  private readonly recoverInitialMs: number;
  private readonly recoverMaxMs: number;

  private constructor(dir: string, db: Db, log: Logger, openOptions: Parameters<Db['open']>[0], options: StoreOptions) {
    this.dir = dir;
    this.db = db;
    this.log = log;
    this.openOptions = openOptions;
    this.recoverInitialMs = options.recoverInitialMs ?? 500;
    this.recoverMaxMs = options.recoverMaxMs ?? 10_000;
  }

  /** Whether writes work now (see the header). */
  get health(): Readonly<StoreHealth> {
    return this.state;
  }

  /** Told of every change of health; returns the unsubscribe function. */
  onHealth(fn: (h: StoreHealth) => void): () => void {
    this.healthListeners.add(fn);
    return () => {
      this.healthListeners.delete(fn);
    };
  }

  /** A write failed: enter `failing` (logged once) and start the recovery loop. */
  private failed(e: StoreError): void {
    if (this.state.ok) {
      this.state = { ok: false, since: Date.now(), error: e };
      this.log.error(
        { code: e.storeCode, err: e.message, dir: this.dir },
        'store writes failing: alerts wait in memory (bounded), detection goes on; retrying with backoff',
      );
      this.notify();
    } else {
      this.state.error = e;
    }
    if (!this.recovering && !this.closing) {
      this.recovering = this.recover().finally(() => {
        this.recovering = undefined;
      });
    }
  }

  private notify(): void {
    for (const fn of this.healthListeners) {
      try {
        fn(this.state);
      } catch (err) {
        this.log.error({ err }, 'store health listener failed');
      }
    }
  }

  /** Whether the file system has room again (at least MIN_FREE_FOR_REOPEN bytes free; unknown: yes). */
  private async hasRoom(): Promise<boolean> {
    if (this.db.status !== 'open') return true;
    try {
      const st = await statfs(this.dir);
      return st.bavail * st.bsize >= MIN_FREE_FOR_REOPEN;
    } catch {
      return true;
    }
  }

  private async recover(): Promise<void> {
    let delay = this.recoverInitialMs;
    let failedProbes = 0;
    while (!this.state.ok && !this.closing) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        t.unref();
        this.wakeRecovery = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeRecovery = undefined;
      if (this.closing) return;
      delay = Math.min(this.recoverMaxMs, delay * 2);
      if (failedProbes > 0 && (await this.hasRoom())) {
        // LevelDB's background error is sticky: only a reopen clears it. Not while the disk is still
        // full: the open would fail too and leave the database closed (unreadable) until it works.
        try {
          if (this.db.status === 'open') await this.db.close();
          await this.db.open(this.openOptions);
          this.stats.reopens++;
        } catch (err) {
          this.state.error = storeErrorFrom(err, this.dir, 'reopen failed');
          failedProbes++;
          continue;
        }
      }
      try {
        await this.db.put(PROBE_KEY, Buffer.from(String(Date.now())), { sync: true });
      } catch (err) {
        const e = storeErrorFrom(err, this.dir, 'probe write failed');
        this.stats.writeErrors++;
        if (e.storeCode === 'VIGIL_STORE_FULL') this.stats.diskFull++;
        this.state.error = e;
        failedProbes++;
        continue;
      }
      const down = Date.now() - this.state.since;
      this.state = { ok: true, since: Date.now() };
      this.log.warn({ dir: this.dir, failing_ms: down, reopens: this.stats.reopens }, 'store writes work again');
      this.notify();
    }
  }

  /** Opens (creating when missing) the database in `options.dir`. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const dir = options.dir ?? DEFAULT_DATA_DIR;
    const log = options.log ?? silentLogger();
    const abs = resolve(dir);
    if (openDirs.has(abs)) throw new StoreError('VIGIL_STORE_LOCKED', dir, 'the database is already open in this process');
    const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open({
        createIfMissing: true,
        ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
        ...(options.writeBufferSize !== undefined ? { writeBufferSize: options.writeBufferSize } : {}),
      });
    } catch (err) {
      throw storeErrorFrom(err, dir, 'cannot open the database');
    }
    openDirs.add(abs);
    const openOptions = {
      createIfMissing: true,
      ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
      ...(options.writeBufferSize !== undefined ? { writeBufferSize: options.writeBufferSize } : {}),
    };
    const store = new Store(dir, db, log, openOptions, options);
    try {
      await store.checkFormat();
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    log.debug({ dir }, 'store open');
    return store;
  }

  private async checkFormat(): Promise<void> {
    const meta = this.keyspace('meta');
    const key = Buffer.from('format');
    const v = await meta.getRecord(key);
    if (v === undefined) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(STORE_FORMAT_VERSION, 0);
      await meta.putRecord(key, b);
      return;
    }
    const version = v.length === 4 ? v.readUInt32LE(0) : -1;
    if (version !== STORE_FORMAT_VERSION) {
      throw new StoreError('VIGIL_STORE_CORRUPT', this.dir, `store format ${version} is not ${STORE_FORMAT_VERSION} (written by another vigil version?)`);
    }
  }

  get isOpen(): boolean {
    return this.db.status === 'open';
  }

  keyspace(name: KeyspaceName): Keyspace {
    let ks = this.spaces.get(name);
    if (!ks) {
      if (!(KEYSPACES as readonly string[]).includes(name)) throw new TypeError(`unknown keyspace ${JSON.stringify(name)}`);
      ks = new Keyspace(this, name);
      this.spaces.set(name, ks);
    }
    return ks;
  }

  /**
   * Applies every operation or none (one LevelDB batch). A failure is counted and thrown as a StoreError.
   * `sync`: the batch is on disk (fsync of LevelDB's log) when the promise resolves; otherwise it
   * survives a crash of the process but not of the machine.
   */
  async write(ops: readonly StoreOp[], options: { sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    const batch = this.db.batch();
    for (const op of ops) {
      const key = this.keyspace(op.keyspace).key(op.key);
      if (op.type === 'put') batch.put(key, Buffer.isBuffer(op.value) ? op.value : Buffer.from(op.value));
      else batch.del(key);
    }
    try {
      await batch.write(options.sync ? { sync: true } : {});
      this.stats.writes++;
    } catch (err) {
      const e = storeErrorFrom(err, this.dir, `write of ${ops.length} operation(s) failed`);
      this.stats.writeErrors++;
      if (e.storeCode === 'VIGIL_STORE_FULL') this.stats.diskFull++;
      this.failed(e);
      throw e;
    }
  }

  noteCorrupt(keyspace: KeyspaceName): void {
    this.stats.corruptRecords[keyspace] = (this.stats.corruptRecords[keyspace] ?? 0) + 1;
    this.log.warn({ keyspace }, 'corrupt record skipped');
  }

  /** @internal */
  async rawGet(key: Buffer): Promise<Buffer | undefined> {
    try {
      return await this.db.get(key);
    } catch (err) {
      throw storeErrorFrom(err, this.dir, 'read failed');
    }
  }

  /** @internal */
  async *rawIterator(options: { gte?: Buffer; gt?: Buffer; lte?: Buffer; lt?: Buffer; reverse?: boolean; limit?: number }): AsyncGenerator<[Buffer, Buffer]> {
    const it = this.db.iterator({ ...options, highWaterMarkBytes: 256 * 1024 });
    try {
      for (;;) {
        let batch: Array<[Buffer, Buffer]>;
        try {
          batch = await it.nextv(1000);
        } catch (err) {
          throw storeErrorFrom(err, this.dir, 'iteration failed');
        }
        if (batch.length === 0) return;
        for (const entry of batch) yield entry;
      }
    } finally {
      await it.close().catch(() => undefined);
    }
  }

  /** @internal */
  async rawClear(options: { gte?: Buffer; gt?: Buffer; lte?: Buffer; lt?: Buffer }): Promise<void> {
    try {
      await this.db.clear(options);
      this.stats.writes++;
    } catch (err) {
      const e = storeErrorFrom(err, this.dir, 'range delete failed');
      this.stats.writeErrors++;
      if (e.storeCode === 'VIGIL_STORE_FULL') this.stats.diskFull++;
      this.failed(e);
      throw e;
    }
  }

  /** @internal */
  async rawApproximateSize(start: Buffer, end: Buffer): Promise<number> {
    return this.db.approximateSize(start, end);
  }

  /** Compacts the whole database (frees the space of deleted keys; benchmarks measure after it). */
  async compact(): Promise<void> {
    try {
      await this.db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
    } catch (err) {
      throw storeErrorFrom(err, this.dir, 'compaction failed');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wakeRecovery?.();
    await this.recovering;
    if (this.db.status === 'closed') {
      openDirs.delete(resolve(this.dir));
      return;
    }
    try {
      await this.db.close();
    } finally {
      openDirs.delete(resolve(this.dir));
    }
    this.log.debug({ dir: this.dir }, 'store closed');
  }
}

export { StoreError };
