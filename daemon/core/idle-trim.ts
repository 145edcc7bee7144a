// Gives memory back while the daemon is idle. A burst (a flood, a forecast round's WASM tier-up, a
// rule reload) grows V8's heap and glibc's arenas, and neither shrinks on its own: V8 keeps its
// pages for the next burst, glibc keeps free blocks in each thread's arena. On a quiet host that peak
// would stay resident for good (docs/tuning.md, Memory). When few records came in since the last
// look, a full collection and malloc_trim hand it back; a busy daemon is never paused for it.

export interface IdleTrimOptions {
  /** Records taken in so far (monotonic). */
  records: () => number;
  /** A full, compacting garbage collection (globalThis.gc under --expose-gc); absent: skipped. */
  collect?: (() => void) | undefined;
  /** Returns free malloc pages to the system (the addon's malloc_trim). */
  trim: () => boolean;
  /** How often to look, ms. Default 30 s. */
  intervalMs?: number;
  /** At or below this many records a second since the last look, the daemon counts as idle. Default 500. */
  idleRate?: number;
}

export interface IdleTrimStats {
  trims: number;
  /** malloc_trim calls that gave pages back. */
  released: number;
  /** Looks that found the daemon busy. */
  busy: number;
}

export class IdleTrim {
  readonly stats: IdleTrimStats = { trims: 0, released: 0, busy: 0 };
  private readonly o: Required<Omit<IdleTrimOptions, 'collect'>> & Pick<IdleTrimOptions, 'collect'>;
  private last: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: IdleTrimOptions) {
    this.o = { intervalMs: 30_000, idleRate: 500, ...o };
    this.last = o.records();
  }

  start(): void {
    this.timer ??= setInterval(() => this.look(), this.o.intervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: trims when the record rate since the last look is at or below the idle rate. */
  look(): boolean {
    const now = this.o.records();
    const rate = ((now - this.last) * 1000) / this.o.intervalMs;
    this.last = now;
    if (rate > this.o.idleRate) {
      this.stats.busy++;
      return false;
    }
    this.o.collect?.();
    this.stats.trims++;
    if (this.o.trim()) this.stats.released++;
    return true;
  }
}
