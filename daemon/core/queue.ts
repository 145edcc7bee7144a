// A bounded FIFO for the pipeline: push never blocks and never grows past capacity; what does not
// fit is dropped and counted.

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
