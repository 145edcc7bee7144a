// Compact chunks of one series: many points in one LevelDB value.
//
// The idea is Gorilla's (Facebook's TSDB paper, also Prometheus' XOR chunks), kept byte-aligned so that it
// is simple and fast in JavaScript:
//   - times as delta-of-delta, zigzag varints: a steady 5 s sampler costs one byte a point;
//   - values as the XOR of their float64 bits with the previous value's, stored as one header byte
//     (first and last non-zero byte of the XOR) and the bytes between: an unchanged value costs one
//     byte, a slowly moving gauge or counter three or four.
//
// Raw chunk payload:     u8 kind=1 | varint count | varint first time (ms) | count x (time dod, value xor)
// Rollup chunk payload:  u8 kind=2 | varint count | varint first time (ms) |
//                        count x (time dod, varint n, min xor, max xor, sum xor, last xor)
// The kind byte has CHUNK_PARTIAL set on a partial chunk: the points a head gained since its last flush
// (series.ts). The store seals each payload with a CRC-32 (store/record.ts); the key holds the chunk's
// first time.

export const CHUNK_RAW = 1;
export const CHUNK_ROLLUP = 2;
export const CHUNK_PARTIAL = 0x10;

/** Whether an encoded chunk is a partial one. */
export function isPartialChunk(payload: Uint8Array): boolean {
  return payload.length > 0 && (payload[0]! & CHUNK_PARTIAL) !== 0;
}

/** One rollup bucket: aggregates of the raw points whose time falls in [time, time + resolution). */
export interface Bucket {
  time: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

export class ChunkFormatError extends Error {}

class Writer {
  buf: Uint8Array;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(16, size));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  /** Unsigned varint of a non-negative integer up to 2^53. */
  uvarint(n: number): void {
    this.room(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }
  svarint(n: number): void {
    this.uvarint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  bytes(src: Uint8Array, from: number, to: number): void {
    this.room(to - from);
    for (let i = from; i < to; i++) this.buf[this.len++] = src[i]!;
  }
  result(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len);
  }
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new ChunkFormatError('chunk ends early');
    return this.buf[this.pos++]!;
  }
  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
    throw new ChunkFormatError('varint too long');
  }
  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
}

/** XOR of float64 bits against the previous value (big-endian bytes, so leading zeros come first). */
class XorEncoder {
  private readonly prev = new Uint8Array(8);
  private readonly cur = new Uint8Array(8);
  private readonly view = new DataView(this.cur.buffer);
  private readonly x = new Uint8Array(8);

  put(w: Writer, v: number): void {
    this.view.setFloat64(0, v, false);
    let first = -1;
    let last = -1;
    for (let i = 0; i < 8; i++) {
      const b = this.cur[i]! ^ this.prev[i]!;
      this.x[i] = b;
      if (b !== 0) {
        if (first < 0) first = i;
        last = i;
      }
      this.prev[i] = this.cur[i]!;
    }
    if (first < 0) {
      w.byte(0x80);
      return;
    }
    w.byte((first << 4) | last);
    w.bytes(this.x, first, last + 1);
  }
}

class XorDecoder {
  private readonly prev = new Uint8Array(8);
  private readonly view = new DataView(this.prev.buffer);

  get(r: Reader): number {
    const h = r.byte();
    if (h !== 0x80) {
      const first = h >> 4;
      const last = h & 0x0f;
      if (h & 0x80 || last < first || last > 7) throw new ChunkFormatError(`bad value header 0x${h.toString(16)}`);
      for (let i = first; i <= last; i++) this.prev[i]! ^= r.byte();
    }
    return this.view.getFloat64(0, false);
  }
}

class TimeEncoder {
  private n = 0;
  private prev = 0;
  private delta = 0;
  put(w: Writer, t: number): void {
    if (this.n === 0) w.uvarint(t);
    else {
      const d = t - this.prev;
      w.svarint(d - this.delta);
      this.delta = d;
    }
    this.prev = t;
    this.n++;
  }
}

class TimeDecoder {
  private n = 0;
  private prev = 0;
  private delta = 0;
  get(r: Reader): number {
    if (this.n++ === 0) this.prev = r.uvarint();
    else {
      this.delta += r.svarint();
      this.prev += this.delta;
    }
    return this.prev;
  }
}

/** Encodes raw points (times integer ms, ascending). */
export function encodeRaw(times: readonly number[], values: readonly number[], partial = false, from = 0): Buffer {
  const count = times.length - from;
  const w = new Writer(8 + count * 4);
  w.byte(CHUNK_RAW | (partial ? CHUNK_PARTIAL : 0));
  w.uvarint(count);
  const te = new TimeEncoder();
  const ve = new XorEncoder();
  for (let i = from; i < times.length; i++) {
    te.put(w, times[i]!);
    ve.put(w, values[i]!);
  }
  return w.result();
}

export function decodeRaw(payload: Uint8Array): { times: number[]; values: number[] } {
  const r = new Reader(payload);
  if ((r.byte() & ~CHUNK_PARTIAL) !== CHUNK_RAW) throw new ChunkFormatError('not a raw chunk');
  const count = r.uvarint();
  if (count > payload.length) throw new ChunkFormatError(`count ${count} larger than the chunk`);
  const times = new Array<number>(count);
  const values = new Array<number>(count);
  const td = new TimeDecoder();
  const vd = new XorDecoder();
  for (let i = 0; i < count; i++) {
    times[i] = td.get(r);
    values[i] = vd.get(r);
  }
  if (r.pos !== payload.length) throw new ChunkFormatError('trailing bytes after the last point');
  return { times, values };
}

export function encodeRollup(buckets: readonly Bucket[], partial = false, from = 0): Buffer {
  const w = new Writer(8 + (buckets.length - from) * 12);
  w.byte(CHUNK_ROLLUP | (partial ? CHUNK_PARTIAL : 0));
  w.uvarint(buckets.length - from);
  const te = new TimeEncoder();
  const mins = new XorEncoder();
  const maxs = new XorEncoder();
  const sums = new XorEncoder();
  const lasts = new XorEncoder();
  for (let i = from; i < buckets.length; i++) {
    const b = buckets[i]!;
    te.put(w, b.time);
    w.uvarint(b.count);
    mins.put(w, b.min);
    maxs.put(w, b.max);
    sums.put(w, b.sum);
    lasts.put(w, b.last);
  }
  return w.result();
}

export function decodeRollup(payload: Uint8Array): Bucket[] {
  const r = new Reader(payload);
  if ((r.byte() & ~CHUNK_PARTIAL) !== CHUNK_ROLLUP) throw new ChunkFormatError('not a rollup chunk');
  const count = r.uvarint();
  if (count > payload.length) throw new ChunkFormatError(`count ${count} larger than the chunk`);
  const out = new Array<Bucket>(count);
  const td = new TimeDecoder();
  const mins = new XorDecoder();
  const maxs = new XorDecoder();
  const sums = new XorDecoder();
  const lasts = new XorDecoder();
  for (let i = 0; i < count; i++) {
    const time = td.get(r);
    const n = r.uvarint();
    out[i] = { time, count: n, min: mins.get(r), max: maxs.get(r), sum: sums.get(r), last: lasts.get(r) };
  }
  if (r.pos !== payload.length) throw new ChunkFormatError('trailing bytes after the last bucket');
  return out;
}
