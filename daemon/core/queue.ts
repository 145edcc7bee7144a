// Queues for the pipeline. BoundedQueue: push never blocks and never grows past capacity; what does
// not fit is dropped and counted. Fifo: growable, for a queue its owner bounds by another rule (the
// alert intake's shares, the process table's size). mayTakeMore: the rule by which parties (streams,
// containers) share one bounded room.

export class BoundedQueue<T> {
  readonly capacity: number;
  private readonly items: Array<T | undefined>;
  private head = 0;
  private size = 0;
  /** Items refused because the queue was full. */
  dropped = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Adds an item; false (and counted) when full. */
  push(item: T): boolean {
    if (this.size === this.capacity) {
      this.dropped++;
      return false;
    }
    this.items[(this.head + this.size) % this.capacity] = item;
    this.size++;
    return true;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return item;
  }
}

/** A growable first-in first-out queue: shift is O(1) amortised, where Array.prototype.shift copies. */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    // A passed slot lets go of its item at once: the array is cut only when its dead head is the larger part.
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Whether a party holding `own` of a room shared by `parties` may take one more: always up to its
 * share (limit over parties), past it only while the room holds fewer than `limit` in all. The total
 * stays under twice the limit however many parties there are, and none can take another's share.
 */
export function mayTakeMore(own: number, total: number, limit: number, parties: number): boolean {
  return own < limit / Math.max(1, parties) || total < limit;
}
