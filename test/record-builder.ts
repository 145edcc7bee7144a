// Builds records exactly as the probes lay them out, from the layout module: for unit tests, fakes
// of the native sensor, and synthetic captures. Not used on the ingest path.
import { RECORD_LAYOUTS, vg_header, vg_creds, alignRecord, type StructLayout } from '../daemon/sensor/layout.js';

export type FieldValue = number | bigint | readonly number[] | Readonly<Record<string, number | bigint>>;

export interface HeaderInit {
  vpid?: number;
  ktime_ns?: bigint;
  pid?: number;
  tid?: number;
  ppid?: number;
  uid?: number;
  gid?: number;
  loginuid?: number;
  cgroup_id?: bigint | number;
  ns?: readonly number[];
  comm?: string;
  /** Overrides the size field (to build corrupt records). */
  size?: number;
  /** Overrides the kind field. */
  kind?: number;
}

const NESTED: Readonly<Record<string, StructLayout>> = { creds: vg_creds, old_creds: vg_creds, new_creds: vg_creds };

function writeScalar(buf: Buffer, off: number, size: number, v: number | bigint, what: string): void {
  switch (size) {
    case 1:
      buf.writeUInt8(Number(v) & 0xff, off);
      return;
    case 2:
      buf.writeUInt16LE(Number(v) & 0xffff, off);
      return;
    case 4:
      buf.writeUInt32LE(Number(v) >>> 0, off);
      return;
    case 8:
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), off);
      return;
    default:
      throw new Error(`${what}: cannot write a ${size}-byte scalar`);
  }
}

/** Writes `values` (field name -> value) into `buf` at `base` following `layout`. */
export function writeFields(buf: Buffer, base: number, layout: StructLayout, values: Readonly<Record<string, FieldValue>>): void {
  for (const [name, v] of Object.entries(values)) {
    const f = layout.fields[name];
    if (!f) throw new Error(`${layout.name} has no field ${name}`);
    const off = base + f.offset;
    if (typeof v === 'number' || typeof v === 'bigint') writeScalar(buf, off, f.size, v, `${layout.name}.${name}`);
    else if (Array.isArray(v)) {
      const arr = v as readonly number[];
      const el = f.size / arr.length;
      if (!Number.isInteger(el)) throw new Error(`${layout.name}.${name}: ${arr.length} elements do not fill ${f.size} bytes`);
      arr.forEach((x, i) => writeScalar(buf, off + i * el, el, x, `${layout.name}.${name}[${i}]`));
    } else {
      const nested = NESTED[name];
      if (!nested) throw new Error(`${layout.name}.${name} is not a nested struct`);
      writeFields(buf, off, nested, v as Record<string, number | bigint>);
    }
  }
}

/**
 * One record of `kind`: header, fixed fields, then the variable bytes. The buffer is the record's size
 * rounded up to 8 (as in a batch); hdr.size is the unrounded size unless overridden.
 */
export function buildRecord(kind: number, header: HeaderInit, fields: Readonly<Record<string, FieldValue>> = {}, tail: Buffer = Buffer.alloc(0)): Buffer {
  const layout = RECORD_LAYOUTS[kind] ?? vg_header;
  const size = layout.size + tail.length;
  const buf = Buffer.alloc(alignRecord(size));
  const { comm, size: sizeOverride, kind: kindOverride, ...rest } = header;
  writeFields(buf, 0, vg_header, {
    kind: kindOverride ?? kind,
    size: sizeOverride ?? size,
    loginuid: 0xffffffff,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  } as Record<string, FieldValue>);
  if (comm !== undefined) buf.write(comm.slice(0, 15), vg_header.fields.comm!.offset, 'utf8');
  writeFields(buf, 0, layout, fields);
  tail.copy(buf, layout.size);
  return buf;
}

/** Records back to back, as the addon hands them over. */
export function buildBatch(records: readonly Buffer[]): Buffer {
  return Buffer.concat(records.map((r) => (r.length % 8 === 0 ? r : Buffer.concat([r, Buffer.alloc(8 - (r.length % 8))]))));
}
