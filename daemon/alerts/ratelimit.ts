// A token bucket: `ratePerMinute` tokens a minute, at most `burst` saved up. take() spends one.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  private readonly burst: number;

  constructor(ratePerMinute: number, burst: number, now: number) {
    if (!(ratePerMinute > 0) || !(burst >= 1)) throw new RangeError(`rate ${ratePerMinute}/min with burst ${burst}: both must be positive`);
    this.perMs = ratePerMinute / 60_000;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  /** Spends a token if there is one at time `now` (ms); a clock that steps back refills nothing. */
  take(now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Full again (nothing spent for a whole burst's refill time): the bucket can be forgotten. */
  idle(now: number): boolean {
    return this.tokens + Math.max(0, now - this.last) * this.perMs >= this.burst;
  }
}
