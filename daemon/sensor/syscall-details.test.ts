// The per-call schema (SYSCALL_DETAIL_FIELDS, DETAIL_FIELD_TYPES) held against the decoders: for each
// call, records built with every flag off and on and with each command the decoders branch on are
// decoded, and the fields that appear (with their types) must be exactly the declared ones. A decoder
// that fills a field the schema does not name, or stops filling one it does, fails here; so does a
// call with a decoder and no schema entry, or the other way round.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyscallDetails } from './events.js';
import { BPF_MAP_CREATE, BPF_PROG_LOAD } from './names.js';
import { DETAIL_FIELD_TYPES, type DetailType, decodeSyscallDetails, detailedSyscalls, SYSCALL_DETAIL_FIELDS, type SyscallRecord } from './syscall-details.js';

/** A record of `name` whose arguments are all `arg`, with `flags` and non-empty strings and targets. */
function record(name: string, flags: number, arg: number): SyscallRecord {
  return {
    name,
    arch: 'x86_64',
    flags,
    arg: () => arg,
    argS32: () => arg,
    argU32: () => arg,
    argHex: () => `0x${arg.toString(16)}`,
    strs: ['/a', '/b', 'c'],
    callerPidNs: 4026531836,
    targetPid: 42,
    targetPidNs: 4026532000,
    targetCgroupId: 7,
    targetNsType: 0x20000000,
    targetNsIno: 4026532001,
    detail: 2,
  };
}

/** The VG_SC_* flags off, then every one on; each argument value a decoder branches on (bpf's commands). */
const FLAGS = [0, 0xffffffff];
const ARGS = [0, 1, BPF_MAP_CREATE, BPF_PROG_LOAD];

function typeOf(v: unknown): DetailType {
  return Array.isArray(v) ? 'list' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'string';
}

test('every call with a decoder has a schema entry, and no entry lacks a decoder', () => {
  assert.deepEqual([...detailedSyscalls()].sort(), Object.keys(SYSCALL_DETAIL_FIELDS).sort());
});

test('each call fills exactly its declared fields, each of its declared type', () => {
  for (const name of detailedSyscalls()) {
    const seen = new Set<string>();
    for (const flags of FLAGS) {
      for (const arg of ARGS) {
        const out: SyscallDetails = {};
        decodeSyscallDetails(record(name, flags, arg), out);
        for (const [k, v] of Object.entries(out)) {
          assert.ok(k in DETAIL_FIELD_TYPES, `${name}: ${k} has no type in DETAIL_FIELD_TYPES`);
          assert.equal(typeOf(v), DETAIL_FIELD_TYPES[k as keyof SyscallDetails], `${name}: type of ${k}`);
          seen.add(k);
        }
      }
    }
    // str_truncated: from the record's flag, for any call (not part of a call's own fields)
    assert.ok(seen.delete('str_truncated'), `${name}: str_truncated with VG_SC_STR_TRUNCATED`);
    assert.deepEqual([...seen].sort(), [...SYSCALL_DETAIL_FIELDS[name]!].sort(), `${name}: the fields its decoder fills`);
  }
});

test('every typed field is filled by some call', () => {
  const filled = new Set<string>(['str_truncated', ...Object.values(SYSCALL_DETAIL_FIELDS).flat()]);
  assert.deepEqual(
    Object.keys(DETAIL_FIELD_TYPES).filter((k) => !filled.has(k)),
    [],
  );
});
