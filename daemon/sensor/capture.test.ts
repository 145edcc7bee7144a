// Capture files: write/read round trip, truncated tails, and clear errors for what is not a capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureFormatError, CaptureIoError } from '../core/errors.js';
import { CAPTURE_HEADER_SIZE, CaptureReader, CaptureWriter, encodeBatchHeader, encodeCaptureHeader } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-capture-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = { arch: 'x86_64' as const, bootToWallNs: 1_700_000_000_123_456_789n, createdMs: 1_700_000_000_000 };

function batches(): Buffer[] {
  return [Buffer.alloc(96, 1), Buffer.alloc(200, 2), Buffer.alloc(0), Buffer.from('x'.repeat(1000))];
}

async function writeCapture(file: string): Promise<void> {
  const w = CaptureWriter.open(file, HEADER);
  batches().forEach((b, i) => assert.ok(w.write(b, i + 1)));
  await w.close();
  assert.deepEqual(w.stats, { batches: 4, bytes: 1296, dropped: 0 });
}

function readAll(r: CaptureReader): Array<{ batch: Buffer; count: number }> {
  const out = [];
  for (let b = r.next(); b; b = r.next()) out.push(b);
  return out;
}

test('round trip: header and every batch come back as written', async () => {
  const file = join(dir, 'ok.cap');
  await writeCapture(file);
  const r = CaptureReader.open(file);
  assert.deepEqual(r.header, { version: 1, ...HEADER });
  const got = readAll(r);
  assert.deepEqual(
    got.map((b) => b.count),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    got.map((b) => b.batch),
    batches(),
  );
  assert.deepEqual(r.stats, { batches: 4, bytes: 1296, truncated: 0 });
  assert.equal(r.next(), undefined, 'stays at the end');
});

test('the writer copies the batch (callers may reuse their buffer)', async () => {
  const file = join(dir, 'copy.cap');
  const w = CaptureWriter.open(file, HEADER);
  const buf = Buffer.alloc(16, 7);
  w.write(buf, 1);
  buf.fill(0);
  await w.close();
  assert.deepEqual(readAll(CaptureReader.open(file))[0]!.batch, Buffer.alloc(16, 7));
});

test('a truncated last batch is counted and ignored, at any cut', async () => {
  const file = join(dir, 'full.cap');
  await writeCapture(file);
  const full = readFileSync(file);
  const lastStart = full.length - 1000 - 8;
  for (const cut of [lastStart + 3, lastStart + 8, lastStart + 500, full.length - 1]) {
    const f = join(dir, `cut-${cut}.cap`);
    writeFileSync(f, full.subarray(0, cut));
    const r = CaptureReader.open(f);
    const got = readAll(r);
    assert.equal(got.length, 3, `cut at ${cut}`);
    assert.equal(r.stats.truncated, 1, `cut at ${cut}`);
  }
});

test('files that are not captures give a CaptureFormatError with a clear message', () => {
  const good = encodeCaptureHeader(HEADER);
  const withVersion = (v: number): Buffer => {
    const b = Buffer.from(good);
    b.writeUInt16LE(v, 6);
    return b;
  };
  const withArch = (a: number): Buffer => {
    const b = Buffer.from(good);
    b.writeUInt16LE(a, 8);
    return b;
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /not a vigil capture/],
    ['text', Buffer.from('hello world, not a capture at all'), /not a vigil capture/],
    ['cut header', good.subarray(0, 20), /header cut short/],
    ['future version', withVersion(9), /version 9 is not supported/],
    ['unknown arch', withArch(77), /unknown architecture code 77/],
    ['absurd batch length', Buffer.concat([good, encodeBatchHeader(0xffffffff, 1)]), /claims 4294967295 bytes/],
  ];
  for (const [name, bytes, msg] of cases) {
    const f = join(dir, `bad-${name.replace(/\W/g, '_')}.cap`);
    writeFileSync(f, bytes);
    assert.throws(
      () => readAll(CaptureReader.open(f)),
      (err: unknown) => err instanceof CaptureFormatError && err.code === 'VIGIL_CAPTURE_FORMAT' && msg.test(err.message) && err.message.startsWith(f),
      name,
    );
  }
});

test('missing or unwritable files give a CaptureIoError', () => {
  assert.throws(
    () => CaptureReader.open(join(dir, 'nope.cap')),
    (e: unknown) => e instanceof CaptureIoError && e.code === 'VIGIL_CAPTURE_IO',
  );
  assert.throws(() => CaptureWriter.open(join(dir, 'no/such/dir.cap'), HEADER), CaptureIoError);
});

test('a header-only capture (recorder stopped before any batch) replays nothing', async () => {
  const f = join(dir, 'empty.cap');
  await CaptureWriter.open(f, HEADER).close();
  assert.equal(statSync(f).size, CAPTURE_HEADER_SIZE);
  const r = CaptureReader.open(f);
  assert.deepEqual(readAll(r), []);
  assert.equal(r.stats.truncated, 0);
  truncateSync(f, CAPTURE_HEADER_SIZE + 5);
  const r2 = CaptureReader.open(f);
  assert.deepEqual(readAll(r2), []);
  assert.equal(r2.stats.truncated, 1);
});
