// The sinks' cursors: per sink the last alert seq it delivered (every alert up to it was taken by the
// sink or did not pass its filter). One small JSON file, replaced atomically: written to a temp file,
// fsynced, renamed over the old one, and the directory fsynced, so a crash leaves the old or the new
// file, never a torn one. Writes are coalesced: one at a time, the next with the latest cursors.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from './errors.js';

export interface StateFile {
  version: 1;
  sinks: Record<string, { seq: number; updated: string }>;
}

/** Cursors by sink name from the file; an absent file is an empty state. */
export function readState(path: string): Map<string, number> {
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
  const sinks = (parsed as Partial<StateFile> | null)?.sinks;
  if ((parsed as Partial<StateFile> | null)?.version !== 1 || typeof sinks !== 'object' || sinks === null) {
    throw new StateError(`${path}: not a vigil-forward state file (version 1)`);
  }
  const out = new Map<string, number>();
  for (const [name, entry] of Object.entries(sinks)) {
    if (!Number.isSafeInteger(entry?.seq) || entry.seq < 0) throw new StateError(`${path}: sink ${name}: bad seq`);
    out.set(name, entry.seq);
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
  private readonly cursors: Map<string, number>;
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
    return this.cursors.get(sink) ?? 0;
  }

  /** Record a cursor and schedule a write; cursors only move forward. */
  set(sink: string, seq: number): void {
    if (seq <= this.get(sink)) return;
    this.cursors.set(sink, seq);
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
    const state: StateFile = { version: 1, sinks: {} };
    for (const [name, seq] of [...this.cursors].sort(([a], [b]) => a.localeCompare(b))) state.sinks[name] = { seq, updated: now };
    return `${JSON.stringify(state, null, 2)}\n`;
  }
}
