// The alert manager's intake: rule matches waiting for the worker, bounded, and fair between
// containers, so that one container's flood of matches can neither fill it for everyone else nor
// make the worker fall behind on their acts.
//
// - Folding: a match whose dedup key (rule, container, executable) already waits in the intake joins
//   that entry instead of taking a slot: the first `keep` matches of an entry stay whole (their events
//   go into the alert), later ones only count, with the last one kept. A flood of one act costs one
//   entry however fast it comes. Matches without a key (metric rules, rules whose kill or freeze must
//   run for each match) always take a slot of their own.
// - Shares: the containers with matches waiting (the sender included) share `capacity` by
//   mayTakeMore, so the intake holds at most twice `capacity` entries, and a container that floods
//   with distinct keys loses its own matches, not a quiet container's.
// - Order: the worker takes entries round robin over containers, first in first out within each.
import { Fifo, mayTakeMore } from '../core/queue.js';
import type { RuleMatch } from '../detect/rule-match.js';

/** A waiting match, and the matches of the same dedup key folded into it while it waited. */
export interface IntakeEntry {
  readonly match: RuleMatch;
  readonly key: string | undefined;
  /** Later matches kept whole, in arrival order (at most keep - 1). */
  readonly more: RuleMatch[];
  /** Matches after those, counted only; `last` is the latest of them. */
  repeats: number;
  last: RuleMatch | undefined;
}

export class MatchIntake {
  /** Matches refused because their container was past its share and the intake was full. */
  dropped = 0;
  /** Matches folded into an entry that was already waiting. */
  folded = 0;
  /** Each container's waiting entries, oldest first. */
  private readonly lanes = new Map<string, Fifo<IntakeEntry>>();
  /** Containers with entries waiting, in the order the worker serves them. */
  private order: string[] = [];
  private turn = 0;
  private readonly waiting = new Map<string, IntakeEntry>();
  private size = 0;

  constructor(
    readonly capacity: number,
    /** Matches of one entry kept whole (the alert keeps this many events). */
    private readonly keep: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`intake capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`matches kept per entry must be a positive integer, got ${keep}`);
  }

  /** Entries waiting (a folded match is not one). */
  get length(): number {
    return this.size;
  }

  /** Queues or folds m; false (counted) when its container is past its share and the intake is full. */
  push(m: RuleMatch, key: string | undefined): boolean {
    const same = key === undefined ? undefined : this.waiting.get(key);
    if (same) {
      if (same.more.length < this.keep - 1) same.more.push(m);
      else {
        same.repeats++;
        same.last = m;
      }
      this.folded++;
      return true;
    }
    const container = m.container.id;
    const lane = this.lanes.get(container);
    const own = lane?.length ?? 0;
    if (!mayTakeMore(own, this.size, this.capacity, this.order.length + (own === 0 ? 1 : 0))) {
      this.dropped++;
      return false;
    }
    const e: IntakeEntry = { match: m, key, more: [], repeats: 0, last: undefined };
    if (lane) lane.push(e);
    else {
      const l = new Fifo<IntakeEntry>();
      l.push(e);
      this.lanes.set(container, l);
    }
    if (own === 0) this.order.push(container);
    if (key !== undefined) this.waiting.set(key, e);
    this.size++;
    return true;
  }

  /** The next entry, round robin over containers; undefined when none waits. */
  shift(): IntakeEntry | undefined {
    if (this.order.length === 0) return undefined;
    if (this.turn >= this.order.length) this.turn = 0;
    const container = this.order[this.turn]!;
    const lane = this.lanes.get(container)!;
    const e = lane.shift()!;
    if (lane.length === 0) {
      // Its turn passes to the next container, now at the same index.
      this.order.splice(this.turn, 1);
      this.lanes.delete(container);
    } else this.turn++;
    // Later matches of its key start an entry of their own: this one is being applied.
    if (e.key !== undefined && this.waiting.get(e.key) === e) this.waiting.delete(e.key);
    this.size--;
    return e;
  }
}
