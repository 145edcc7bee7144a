// Alert ids: sortable by creation time and unique, in the manner of ULIDs. 20 characters of Crockford
// base32: 10 for the creation time in ms (48 bits, good until the year 10889), 10 for 50 random bits.
// Within one generator ids strictly increase: in the same millisecond (or when the clock steps back)
// the random part of the previous id is incremented instead of drawn again.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RAND_CHARS = 10;
const RAND_MAX = 2 ** 50;

function encode(value: number, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = ALPHABET[value % 32]! + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function random50(): number {
  const b = randomBytes(7);
  // 50 bits: 6 whole bytes and 2 bits of the seventh.
  return b.readUIntBE(0, 6) * 4 + (b[6]! & 3);
}

export const ALERT_ID_LENGTH = TIME_CHARS + RAND_CHARS;
const ID_RE = new RegExp(`^[${ALPHABET}]{${ALERT_ID_LENGTH}}$`);

export function isAlertId(s: string): boolean {
  return ID_RE.test(s);
}

export class AlertIdGenerator {
  private lastMs = -1;
  private lastRand = 0;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  next(): string {
    let ms = Math.max(0, Math.floor(this.now()));
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.lastRand++;
      if (this.lastRand >= RAND_MAX) {
        // 2^50 ids in one millisecond: borrow the next one.
        ms++;
        this.lastRand = random50() % (RAND_MAX / 2);
      }
    } else {
      this.lastRand = random50() % (RAND_MAX / 2); // leaves room to increment within the millisecond
    }
    this.lastMs = ms;
    return encode(ms, TIME_CHARS) + encode(this.lastRand, RAND_CHARS);
  }
}
