// The API's wire compatibility (proto/README.md, "Rules for changing it"): every field and enum value
// of vigil.v1 that was ever pinned in test/fixtures/proto-fields.txt keeps its number, label and type,
// or its message reserves the number. New fields fail the test until they are pinned; pin them with
//   VIGIL_PIN_PROTO=1 node --test dist/js/test/proto-compat.test.js
// which rewrites the file only when every pinned line still holds.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageDefinition, protoDir } from '../common/node/grpc-client.js';

const PINNED = join(protoDir(), '..', 'test', 'fixtures', 'proto-fields.txt');

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  reservedRange: Array<{ start: number; end: number }>;
}
interface EnumDescriptor {
  value: Array<{ name: string; number: number }>;
  reservedRange: Array<{ start: number; end: number }>;
}

/** "<full name>" -> its line "<full name> <number> <label> <type>[:<type name>]", and the reserved number ranges of each message and enum. */
function catalogue(): { lines: Map<string, string>; reserved: Map<string, Array<[number, number]>> } {
  const lines = new Map<string, string>();
  const reserved = new Map<string, Array<[number, number]>>();
  const message = (full: string, m: MessageDescriptor): void => {
    // Message ranges are end-exclusive in a DescriptorProto.
    reserved.set(
      full,
      m.reservedRange.map((r) => [r.start, r.end - 1]),
    );
    for (const f of m.field) {
      const type = f.type.replace('TYPE_', '').toLowerCase();
      lines.set(
        `${full}.${f.name}`,
        `${full}.${f.name} ${f.number} ${f.label.replace('LABEL_', '').toLowerCase()} ${type}${f.typeName ? `:${f.typeName}` : ''}`,
      );
    }
    for (const n of m.nestedType) message(`${full}.${n.name}`, n);
  };
  const def = packageDefinition() as unknown as Record<string, { format?: string; type?: unknown }>;
  for (const [full, d] of Object.entries(def)) {
    if (!full.startsWith('vigil.')) continue;
    if (d.format === 'Protocol Buffer 3 DescriptorProto') message(full, d.type as MessageDescriptor);
    else if (d.format === 'Protocol Buffer 3 EnumDescriptorProto') {
      const e = d.type as EnumDescriptor;
      // Enum ranges are end-inclusive.
      reserved.set(
        full,
        e.reservedRange.map((r) => [r.start, r.end]),
      );
      for (const v of e.value) lines.set(`${full}.${v.name}`, `${full}.${v.name} ${v.number} enum`);
    }
  }
  return { lines, reserved };
}

function readPinned(): string[] {
  return readFileSync(PINNED, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

test('proto compatibility: pinned fields and enum values keep number, label and type, or are reserved; new ones are pinned', () => {
  const { lines, reserved } = catalogue();
  const broken: string[] = [];
  for (const pin of readPinned()) {
    const [name, num] = pin.split(' ');
    const now = lines.get(name!);
    if (now === pin) continue;
    if (now !== undefined) {
      broken.push(`${pin}  is now  ${now}`);
      continue;
    }
    const r = reserved.get(name!.slice(0, name!.lastIndexOf('.')));
    const n = Number(num);
    if (!r || !r.some(([a, b]) => n >= a && n <= b)) broken.push(`${pin}  was removed without reserving ${n}`);
  }
  assert.deepEqual(broken, [], 'an incompatible change to proto/vigil/v1 (never renumber, retype or drop a field; reserve removed numbers)');

  // Numbers are unique within each message and enum (protoc checks fields; aliases would hide a clash).
  const byOwner = new Map<string, Map<string, string>>();
  for (const [name, line] of lines) {
    const owner = name.slice(0, name.lastIndexOf('.'));
    const m = byOwner.get(owner) ?? new Map<string, string>();
    const num = line.split(' ')[1]!;
    assert.equal(m.get(num), undefined, `${name} reuses number ${num} of ${m.get(num)}`);
    m.set(num, name);
    byOwner.set(owner, m);
  }

  const pinned = new Set(readPinned().map((l) => l.split(' ')[0]));
  const fresh = [...lines.keys()].filter((k) => !pinned.has(k));
  if (fresh.length > 0 && process.env['VIGIL_PIN_PROTO'] === '1') {
    const kept = readPinned().filter((l) => !lines.has(l.split(' ')[0]!));
    const head = readFileSync(PINNED, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'));
    writeFileSync(PINNED, [...head, ...[...lines.values(), ...kept].sort(), ''].join('\n'));
    return;
  }
  assert.deepEqual(
    fresh,
    [],
    'fields not pinned yet: run VIGIL_PIN_PROTO=1 node --test dist/js/test/proto-compat.test.js and commit test/fixtures/proto-fields.txt',
  );
});
