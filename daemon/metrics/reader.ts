// Reads small kernel files (cgroupfs, procfs) asynchronously, optionally keeping their file handles
// open between sweeps. cgroup and most proc files are seq_files: a positioned read at offset 0 makes
// the kernel print the file afresh, so a kept handle costs one read a sweep instead of open, read and
// close (three trips through libuv's thread pool). bench/sweep.ts measures the difference.
//
// A cgroup removed while its handle is open reads ENODEV; the handle is then closed and forgotten, and
// the error goes to the caller (who sees a vanished cgroup).
import { open, type FileHandle } from 'node:fs/promises';

export interface ReaderOptions {
  /** Keep handles open between reads (default true). */
  reuseHandles?: boolean;
  /** At most this many kept handles; beyond it files are opened and closed per read (default 4096). */
  maxHandles?: number;
}

export interface ReaderStats {
  opens: number;
  reads: number;
  /** Handles kept open now. */
  handles: number;
}

/** Initial read size; a file that fills it is read again with a buffer twice as large. */
const FIRST_READ = 4096;
const MAX_READ = 1 << 20;
/** Read buffers kept for reuse (more than the reads in flight at once). */
const MAX_POOLED = 256;

/** Errors that mean the file (or the cgroup, or the process) is gone. */
export function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENODEV' || code === 'ESRCH';
}

export class FileReader {
  readonly reuse: boolean;
  private readonly maxHandles: number;
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private readonly buffers: Buffer[] = [];
  private opens = 0;
  private reads = 0;

  constructor(options: ReaderOptions = {}) {
    this.reuse = options.reuseHandles ?? true;
    this.maxHandles = options.maxHandles ?? 4096;
  }

  get stats(): ReaderStats {
    return { opens: this.opens, reads: this.reads, handles: this.handles.size };
  }

  /**
   * The whole text of a file. Rejects with the fs error (code ENOENT, ENODEV, EACCES, ...).
   * `keep: false` never keeps this file's handle: cgroup v1's cgroup.procs, for one, serves a kept
   * handle the pid list it built at open for as long as reads come more often than once a second.
   */
  async read(path: string, options: { keep?: boolean } = {}): Promise<string> {
    const kept = this.handles.get(path);
    if (kept !== undefined) {
      try {
        return await this.readAll(await kept);
      } catch (err) {
        this.handles.delete(path);
        kept.then((fh) => fh.close()).catch(() => {});
        throw err;
      }
    }
    const keep = this.reuse && options.keep !== false && this.handles.size < this.maxHandles;
    this.opens++;
    const pending = open(path, 'r');
    if (keep) {
      this.handles.set(path, pending);
      pending.catch(() => this.handles.get(path) === pending && this.handles.delete(path));
    }
    const fh = await pending;
    try {
      return await this.readAll(fh);
    } catch (err) {
      if (keep && this.handles.get(path) === pending) this.handles.delete(path);
      await fh.close().catch(() => {});
      throw err;
    } finally {
      if (!keep) await fh.close().catch(() => {});
    }
  }

  private async readAll(fh: FileHandle): Promise<string> {
    // First-size buffers are reused (a sweep reads thousands of files); larger ones are one-offs.
    const first = this.buffers.pop() ?? Buffer.allocUnsafe(FIRST_READ);
    try {
      this.reads++;
      const { bytesRead } = await fh.read(first, 0, FIRST_READ, 0);
      if (bytesRead < FIRST_READ) return first.toString('utf8', 0, bytesRead);
    } finally {
      if (this.buffers.length < MAX_POOLED) this.buffers.push(first);
    }
    for (let size = FIRST_READ * 2; ; size *= 2) {
      const buf = Buffer.allocUnsafe(size);
      this.reads++;
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      if (bytesRead < size || size >= MAX_READ) return buf.toString('utf8', 0, bytesRead);
    }
  }

  /** Closes and forgets the kept handles of paths under a directory (a target that went away). */
  release(prefix: string): void {
    const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const [path, fh] of this.handles) {
      if (path.startsWith(p)) {
        this.handles.delete(path);
        fh.then((h) => h.close()).catch(() => {});
      }
    }
  }

  /** Closes one kept handle. */
  forget(path: string): void {
    const fh = this.handles.get(path);
    if (fh === undefined) return;
    this.handles.delete(path);
    fh.then((h) => h.close()).catch(() => {});
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((p) => p.then((h) => h.close()).catch(() => {})));
  }
}
