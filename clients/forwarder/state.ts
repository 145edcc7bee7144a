// The sinks' cursors: per sink the last alert seq it delivered (every alert up to it was taken by the
// sink or did not pass its filter) and the daemon's epoch that seq belongs to (a seq of another epoch
// names other alerts). One small JSON file, replaced atomically: written to a temp file, fsynced,
// renamed over the old one, and the directory fsynced, so a crash leaves the old or the new file,
// never a torn one. Writes are coalesced: one at a time, the next with the latest cursors.
//
// Version 2 adds `epoch`; a version 1 file is read (its cursors have no epoch until the daemon's
// first heartbeat gives one) and written back as version 2.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from './core/errors.js';

export interface StateFile {
  version: 2;
  sinks: Record<string, { seq: number; epoch?: string; updated: string }>;
}

/** A sink's cursor: the seq, and the epoch it belongs to ('' when not known yet: a version 1 file). */
export interface Cursor {
  seq: number;
  epoch: string;
}

/** Cursors by sink name from the file; an absent file is an empty state. */
export function readState(path: string): Map<string, Cursor> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new StateError(`${path}: ${(err as Error).message}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path}: not JSON: ${(err as Error).message}`, err);
  }
  const doc = parsed as { version?: unknown; sinks?: unknown } | null;
  const sinks = doc?.sinks;
  if ((doc?.version !== 1 && doc?.version !== 2) || typeof sinks !== 'object' || sinks === null) {
    throw new StateError(`${path}: not a vigil-forward state file (version 1 or 2)`);
  }
  const out = new Map<string, Cursor>();
  for (const [name, entry] of Object.entries(sinks as Record<string, { seq?: unknown; epoch?: unknown }>)) {
    if (!Number.isSafeInteger(entry?.seq) || (entry.seq as number) < 0) throw new StateError(`${path}: sink ${name}: bad seq`);
    if (entry.epoch !== undefined && (typeof entry.epoch !== 'string' || !/^([0-9a-f]{16})?$/.test(entry.epoch)))
      throw new StateError(`${path}: sink ${name}: bad epoch`);
    out.set(name, { seq: entry.seq as number, epoch: (entry.epoch as string | undefined) ?? '' });
  }
  return out;
}

/** Replace `path` with `content` atomically and durably. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export class CursorStore {
  readonly path: string;
  private readonly cursors: Map<string, Cursor>;
  private dirty = false;
  private writing: Promise<void> | undefined;
  /** Writes done (for tests and stats). */
  writes = 0;
  /** The last write error, if the last write failed (the cursors stay in memory; a later write retries). */
  lastError: Error | undefined;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.cursors = readState(path);
  }

  get(sink: string): number {
    return this.cursors.get(sink)?.seq ?? 0;
  }

  /** Whether the sink has a cursor (a sink that never ran has none). */
  has(sink: string): boolean {
    return this.cursors.has(sink);
  }

  /** The epoch of the sink's cursor ('' when unknown or when it has none). */
  epoch(sink: string): string {
    return this.cursors.get(sink)?.epoch ?? '';
  }

  /** Record a cursor and schedule a write; cursors only move forward (within their epoch). */
  set(sink: string, seq: number): void {
    const cur = this.cursors.get(sink);
    if (cur && seq <= cur.seq) return;
    this.cursors.set(sink, { seq, epoch: cur?.epoch ?? '' });
    this.schedule();
  }

  /** Set a cursor whatever it was: a first cursor, or one of a new epoch. Schedules a write. */
  reset(sink: string, seq: number, epoch: string): void {
    this.cursors.set(sink, { seq, epoch });
    this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Wait until every cursor set so far is on disk. */
  async flush(): Promise<void> {
    if (this.lastError && !this.writing) {
      this.dirty = true;
      this.writing = this.drain();
    }
    while (this.writing) await this.writing;
    if (this.lastError) throw new StateError(`${this.path}: ${this.lastError.message}`, this.lastError);
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        // Let a burst of acks land first: one write covers them all.
        await new Promise((r) => setImmediate(r));
        this.dirty = false;
        try {
          writeFileAtomic(this.path, this.serialize());
          this.writes++;
          this.lastError = undefined;
        } catch (err) {
          this.lastError = err as Error;
          break;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private serialize(): string {
    const now = new Date().toISOString();
    const state: StateFile = { version: 2, sinks: {} };
    for (const [name, c] of [...this.cursors].sort(([a], [b]) => a.localeCompare(b)))
      state.sinks[name] = { seq: c.seq, ...(c.epoch ? { epoch: c.epoch } : {}), updated: now };
    return `${JSON.stringify(state, null, 2)}\n`;
  }
}
