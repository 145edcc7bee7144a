// Checksummed records: what the store keeps is sealed with a CRC-32 so that a torn or corrupt value is
// detected on read (counted and skipped by the caller), never decoded into garbage.
//
//   u32 crc32 (little endian) of the payload | payload
import * as zlib from 'node:zlib';

export const RECORD_OVERHEAD = 4;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE, as zlib and gzip): zlib's own where Node has it (20.15+), a table otherwise. */
export function crc32(data: Uint8Array): number {
  return nativeCrc ? nativeCrc(data) >>> 0 : crc32Table(data);
}

/** The payload with its checksum in front. */
export function sealRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(RECORD_OVERHEAD + payload.length);
  out.writeUInt32LE(crc32(payload), 0);
  out.set(payload, RECORD_OVERHEAD);
  return out;
}

/** The payload of a sealed record, or undefined when it is short or its checksum does not match. */
export function openRecord(record: Uint8Array): Buffer | undefined {
  if (record.length < RECORD_OVERHEAD) return undefined;
  const buf = Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.length);
  const payload = buf.subarray(RECORD_OVERHEAD);
  return buf.readUInt32LE(0) === crc32(payload) ? payload : undefined;
}
