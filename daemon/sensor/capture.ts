// Capture files: the raw record batches of a live run, to replay later through the same decoders.
//
//   header (32 bytes, little endian)
//     0  "VGLCAP"            magic
//     6  u16 version         1
//     8  u16 arch            1 x86_64, 2 arm64 (syscall numbers are per architecture)
//    10  u16 header size     32 (readers skip what they do not know)
//    12  u32 flags           0
//    16  i64 boot-to-wall    ns to add to record times (the recording machine's offset)
//    24  u64 created         wall-clock ms when the capture started
//   then batches, back to back
//     u32 length, u32 record count, `length` bytes of records (as the addon handed them over)
//
// A capture cut short (the recorder was killed) ends in a partial batch: the reader counts and
// ignores it. Anything else that is not this format is a CaptureFormatError.
import { closeSync, createWriteStream, openSync, readSync, type WriteStream } from 'node:fs';
import { CaptureFormatError, CaptureIoError } from '../core/errors.js';
import { ARCH_CODES, archFromCode, type Arch } from './syscalls.js';

export const CAPTURE_MAGIC = 'VGLCAP';
export const CAPTURE_VERSION = 1;
export const CAPTURE_HEADER_SIZE = 32;
const BATCH_HEADER_SIZE = 8;
/** Larger batches are corruption, not data (the addon hands over a few MiB at most). */
export const CAPTURE_MAX_BATCH = 64 << 20;

export interface CaptureHeader {
  version: number;
  arch: Arch;
  bootToWallNs: bigint;
  createdMs: number;
}

export function encodeCaptureHeader(h: Omit<CaptureHeader, 'version'>): Buffer {
  const b = Buffer.alloc(CAPTURE_HEADER_SIZE);
  b.write(CAPTURE_MAGIC, 0, 'latin1');
  b.writeUInt16LE(CAPTURE_VERSION, 6);
  b.writeUInt16LE(ARCH_CODES[h.arch], 8);
  b.writeUInt16LE(CAPTURE_HEADER_SIZE, 10);
  b.writeUInt32LE(0, 12);
  b.writeBigInt64LE(h.bootToWallNs, 16);
  b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(h.createdMs))), 24);
  return b;
}

export function encodeBatchHeader(length: number, count: number): Buffer {
  const b = Buffer.alloc(BATCH_HEADER_SIZE);
  b.writeUInt32LE(length, 0);
  b.writeUInt32LE(count, 4);
  return b;
}

export interface CaptureWriterStats {
  batches: number;
  bytes: number;
  /** Batches not written because the disk fell behind by more than maxPendingBytes. */
  dropped: number;
}

/** Appends batches to a capture file without blocking the caller; a slow disk loses batches (counted). */
export class CaptureWriter {
  readonly file: string;
  private readonly stream: WriteStream;
  private readonly maxPendingBytes: number;
  private error: Error | undefined;
  private closed = false;
  readonly stats: CaptureWriterStats = { batches: 0, bytes: 0, dropped: 0 };

  private constructor(file: string, stream: WriteStream, maxPendingBytes: number) {
    this.file = file;
    this.stream = stream;
    this.maxPendingBytes = maxPendingBytes;
    stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Creates (truncates) the file and writes the header. Fails with CaptureIoError. */
  static open(file: string, header: Omit<CaptureHeader, 'version'>, maxPendingBytes = 64 << 20): CaptureWriter {
    let fd: number;
    try {
      fd = openSync(file, 'w', 0o600);
    } catch (err) {
      throw new CaptureIoError(file, err);
    }
    const w = new CaptureWriter(file, createWriteStream('', { fd, autoClose: true }), maxPendingBytes);
    w.stream.write(encodeCaptureHeader(header));
    return w;
  }

  /** The first write error, if any (later writes are dropped). */
  get failure(): Error | undefined {
    return this.error;
  }

  /** Queues one batch (copied: the caller may reuse its buffer). False when dropped. */
  write(batch: Buffer, count: number): boolean {
    if (this.closed || this.error || this.stream.writableLength > this.maxPendingBytes) {
      this.stats.dropped++;
      return false;
    }
    const copy = Buffer.allocUnsafe(BATCH_HEADER_SIZE + batch.length);
    copy.writeUInt32LE(batch.length, 0);
    copy.writeUInt32LE(count, 4);
    batch.copy(copy, BATCH_HEADER_SIZE);
    this.stream.write(copy);
    this.stats.batches++;
    this.stats.bytes += batch.length;
    return true;
  }

  /** Flushes and closes. Rejects with CaptureIoError when a write failed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => {
      this.stream.end(() => (this.error ? reject(new CaptureIoError(this.file, this.error)) : resolve()));
    });
  }
}

export interface CaptureBatch {
  batch: Buffer;
  count: number;
}

export interface CaptureReaderStats {
  batches: number;
  bytes: number;
  /** A partial batch at the end of the file (ignored). */
  truncated: number;
}

/** Reads a capture file batch by batch (bounded memory). */
const READ_AHEAD_BYTES = 1 << 20;

export class CaptureReader {
  readonly file: string;
  readonly header: CaptureHeader;
  readonly stats: CaptureReaderStats = { batches: 0, bytes: 0, truncated: 0 };
  private fd: number | undefined;
  private pos: number;
  private win: Buffer = Buffer.alloc(0);
  private winPos = 0;

  private constructor(file: string, fd: number, header: CaptureHeader, pos: number) {
    this.file = file;
    this.fd = fd;
    this.header = header;
    this.pos = pos;
  }

  /** Opens and checks the header: CaptureIoError if unreadable, CaptureFormatError if not a capture. */
  static open(file: string): CaptureReader {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new CaptureIoError(file, err);
    }
    try {
      const head = Buffer.alloc(CAPTURE_HEADER_SIZE);
      const n = readFully(fd, head, 0, file);
      if (n < 6 || head.toString('latin1', 0, 6) !== CAPTURE_MAGIC) throw new CaptureFormatError(file, `not a vigil capture (no ${CAPTURE_MAGIC} magic)`);
      if (n < CAPTURE_HEADER_SIZE) throw new CaptureFormatError(file, `capture header cut short (${n} of ${CAPTURE_HEADER_SIZE} bytes)`);
      const version = head.readUInt16LE(6);
      if (version !== CAPTURE_VERSION) throw new CaptureFormatError(file, `capture version ${version} is not supported (this vigild reads ${CAPTURE_VERSION})`);
      const archCode = head.readUInt16LE(8);
      const arch = archFromCode(archCode);
      if (!arch) throw new CaptureFormatError(file, `unknown architecture code ${archCode}`);
      const headerSize = head.readUInt16LE(10);
      if (headerSize < CAPTURE_HEADER_SIZE) throw new CaptureFormatError(file, `header size ${headerSize} is below ${CAPTURE_HEADER_SIZE}`);
      const header: CaptureHeader = {
        version,
        arch,
        bootToWallNs: head.readBigInt64LE(16),
        createdMs: Number(head.readBigUInt64LE(24)),
      };
      return new CaptureReader(file, fd, header, headerSize);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The next batch, or undefined at the end of the file (a partial last batch is counted, skipped). */
  next(): CaptureBatch | undefined {
    if (this.fd === undefined) return undefined;
    const bh = this.readAt(this.pos, BATCH_HEADER_SIZE);
    const n = bh.length;
    if (n === 0) return this.end();
    if (n < BATCH_HEADER_SIZE) {
      this.stats.truncated++;
      return this.end();
    }
    const length = bh.readUInt32LE(0);
    const count = bh.readUInt32LE(4);
    if (length > CAPTURE_MAX_BATCH) throw new CaptureFormatError(this.file, `batch at byte ${this.pos} claims ${length} bytes (corrupt capture)`);
    // A copy: the window is reused, and a batch may outlive this call in a consumer.
    const batch = Buffer.from(this.readAt(this.pos + BATCH_HEADER_SIZE, length));
    const got = batch.length;
    if (got < length) {
      this.stats.truncated++;
      return this.end();
    }
    this.pos += BATCH_HEADER_SIZE + length;
    this.stats.batches++;
    this.stats.bytes += length;
    return { batch, count };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Up to `length` bytes at `position` (fewer at the end of the file), through a read-ahead window:
   * a capture of a quiet host holds thousands of small batches, and two reads each cost more than
   * decoding them.
   */
  private readAt(position: number, length: number): Buffer {
    if (position < this.winPos || position + length > this.winPos + this.win.length) {
      const b = Buffer.allocUnsafe(Math.max(length, READ_AHEAD_BYTES));
      const n = readFully(this.fd!, b, position, this.file);
      this.win = b.subarray(0, n);
      this.winPos = position;
    }
    const off = position - this.winPos;
    return this.win.subarray(off, Math.min(off + length, this.win.length));
  }

  private end(): undefined {
    this.close();
    return undefined;
  }
}

function readFully(fd: number, buf: Buffer, position: number, file: string): number {
  let off = 0;
  while (off < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, off, buf.length - off, position + off);
    } catch (err) {
      throw new CaptureIoError(file, err);
    }
    if (n === 0) break;
    off += n;
  }
  return off;
}
