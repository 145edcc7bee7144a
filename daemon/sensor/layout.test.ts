// The kernel-to-user contract: every struct vg_* in the BTF of the compiled probes must match
// layout.ts, member by member (byte offset and size) and in total size. Two sources of BTF:
//  1. dist/probes/*.bpf.o, the objects the addon loads (they hold the structs their code names in
//     maps and globals);
//  2. an object compiled here from probes/*.h alone, with one global of every struct, so every
//     struct of the headers is checked even before a probe uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYOUTS, Kind } from './layout.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const HEADERS = ['common.h', 'process.h', 'syscalls.h', 'cgroup.h', 'enforce.h'];

/** Names of the structs the contract headers define (structs private to a .bpf.c are not checked). */
function headerStructs(): string[] {
  const names = new Set<string>();
  for (const h of HEADERS) {
    const text = readFileSync(join(ROOT, 'probes', h), 'utf8');
    for (const m of text.matchAll(/^struct\s+(vg_\w+)\s*\{/gm)) names.add(m[1]!);
  }
  return [...names];
}
const CONTRACT = new Set(headerStructs());

interface BtfMember {
  name: string;
  type_id: number;
  bits_offset: number;
  bitfield_size?: number;
}
interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: BtfMember[];
  values?: Array<{ name: string; val: number }>;
}

function dumpBtf(object: string): Map<number, BtfType> {
  const out = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  return new Map(types.map((t) => [t.id, t]));
}

function typeSize(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id);
  if (!t) throw new Error(`BTF type ${id} missing`);
  switch (t.kind) {
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return typeSize(types, t.type_id!);
    case 'ARRAY':
      return t.nr_elems! * typeSize(types, t.type_id!);
    case 'PTR':
      return 8;
    default:
      if (t.size === undefined) throw new Error(`BTF type ${id} (${t.kind}) has no size`);
      return t.size;
  }
}

/** Compares every vg_* struct of one object with LAYOUTS; returns the names checked. */
function checkObject(object: string): string[] {
  const types = dumpBtf(object);
  const checked: string[] = [];
  for (const t of types.values()) {
    if (t.kind !== 'STRUCT' || !CONTRACT.has(t.name)) continue;
    const ts = LAYOUTS[t.name];
    assert.ok(ts, `${object}: struct ${t.name} is not in daemon/sensor/layout.ts`);
    assert.equal(ts.size, t.size, `${object}: sizeof(struct ${t.name})`);
    const btfNames = t.members!.map((m) => m.name);
    assert.deepEqual(Object.keys(ts.fields), btfNames, `${object}: members of struct ${t.name}`);
    for (const m of t.members!) {
      assert.equal(m.bitfield_size ?? 0, 0, `${t.name}.${m.name} is a bitfield`);
      const f = ts.fields[m.name]!;
      assert.equal(f.offset, m.bits_offset / 8, `${object}: offset of ${t.name}.${m.name}`);
      assert.equal(f.size, typeSize(types, m.type_id), `${object}: size of ${t.name}.${m.name}`);
    }
    checked.push(t.name);
  }
  for (const t of types.values()) {
    if (t.kind === 'ENUM' && t.name === 'vg_kind') {
      for (const v of t.values!) {
        const key = v.name.replace(/^VG_KIND_/, '') as keyof typeof Kind;
        if (key in Kind) assert.equal(Kind[key], v.val, `enum vg_kind ${v.name}`);
      }
    }
  }
  return checked;
}

test('compiled probe objects match the TypeScript layout', (t) => {
  const dir = join(ROOT, 'dist/probes');
  const objects = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bpf.o')) : [];
  assert.ok(objects.length > 0, `no compiled probes in ${dir}: run make probes`);
  for (const o of objects) {
    const checked = checkObject(join(dir, o));
    t.diagnostic(`${o}: ${checked.join(', ') || '(no vg_ structs in its BTF)'}`);
  }
});

test('every struct of probes/*.h matches the TypeScript layout (BTF of a header-only object)', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-layout-'));
  try {
    const src = join(tmp, 'layout.c');
    const names = [...CONTRACT];
    assert.ok(names.length >= 10, `found only ${names.length} structs in probes/*.h`);
    writeFileSync(
      src,
      [
        'typedef unsigned char __u8; typedef unsigned short __u16; typedef unsigned int __u32;',
        'typedef unsigned long long __u64; typedef signed char __s8; typedef short __s16;',
        'typedef int __s32; typedef long long __s64;',
        '#include "common.h"',
        '#include "process.h"',
        '#include "syscalls.h"',
        '#include "cgroup.h"',
        '#include "enforce.h"',
        'enum vg_kind vg_layout_kind;',
        ...names.map((n) => `struct ${n} ${n}_layout_anchor;`),
        '',
      ].join('\n'),
    );
    const obj = join(tmp, 'layout.o');
    execFileSync('clang', ['-g', '-O2', '-target', 'bpf', '-I', join(ROOT, 'probes'), '-c', src, '-o', obj], { stdio: 'pipe' });
    const checked = checkObject(obj);
    t.diagnostic(`checked: ${checked.join(', ')}`);
    assert.deepEqual([...checked].sort(), [...names].sort(), 'every struct of the headers is in the BTF');
    assert.deepEqual(Object.keys(LAYOUTS).sort(), [...names].sort(), 'layout.ts describes exactly the structs of the headers');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
