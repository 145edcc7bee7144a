// Gives memory back while the daemon is idle. A burst (a flood, a forecast round's WASM tier-up, a
// rule reload) grows V8's heap and glibc's arenas, and neither shrinks on its own: V8 keeps its
// pages for the next burst, glibc keeps free blocks in each thread's arena. On a quiet host that peak
// would stay resident for good (docs/tuning.md, Memory). When few records came in since the last
// look, a full collection and malloc_trim hand it back; a busy daemon is never paused for it. The
// same look releases the page mappings of node's executable: start-up touches about 40 MB of its
// text, read-only data and symbol tables, of which the running daemon uses about a quarter.

export interface IdleTrimOptions {
  /** Records taken in so far (monotonic). */
  records: () => number;
  /** A full, compacting garbage collection (globalThis.gc under --expose-gc); absent: skipped. */
  collect?: (() => void) | undefined;
  /** Returns free malloc pages to the system (the addon's malloc_trim). */
  trim: () => boolean;
  /** Drops the executable's clean page mappings (the addon's releaseExecutablePages): bytes released. */
  releaseExecutable?: (() => number) | undefined;
  /** How often to look, ms. Default 30 s. */
  intervalMs?: number;
  /** At or below this many records a second since the last look, the daemon counts as idle. Default 500. */
  idleRate?: number;
  /** Monotonic clock, ms (tests). */
  now?: () => number;
}

export interface IdleTrimStats {
  trims: number;
  /** malloc_trim calls that gave pages back. */
  released: number;
  /** Looks that found the daemon busy. */
  busy: number;
  /** Resident bytes of the executable's mappings released, over every look. */
  executableBytes: number;
}

export class IdleTrim {
  readonly stats: IdleTrimStats = { trims: 0, released: 0, busy: 0, executableBytes: 0 };
  private readonly o: Required<Omit<IdleTrimOptions, 'collect' | 'releaseExecutable'>> & Pick<IdleTrimOptions, 'collect' | 'releaseExecutable'>;
  private last: number;
  private lastAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: IdleTrimOptions) {
    this.o = { intervalMs: 30_000, idleRate: 500, now: () => performance.now(), ...o };
    this.last = o.records();
    this.lastAt = this.o.now();
  }

  start(): void {
    this.timer ??= setInterval(() => this.look(), this.o.intervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One look: trims when the record rate since the last look is at or below the idle rate. The timer
   * looks every interval; a burst of the daemon's own work (a forecast round: the worker's WASM
   * compiles into zones that glibc keeps) looks again as it ends, so that its peak lasts the burst
   * and not until the next tick.
   */
  look(): boolean {
    const records = this.o.records();
    const at = this.o.now();
    // Over a second at least: a look just after another has too few records to tell a rate.
    const rate = ((records - this.last) * 1000) / Math.max(1000, at - this.lastAt);
    this.last = records;
    this.lastAt = at;
    if (rate > this.o.idleRate) {
      this.stats.busy++;
      return false;
    }
    this.o.collect?.();
    this.stats.trims++;
    if (this.o.trim()) this.stats.released++;
    this.stats.executableBytes += this.o.releaseExecutable?.() ?? 0;
    return true;
  }
}
