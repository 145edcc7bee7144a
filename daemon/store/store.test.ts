import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../core/log.js';
import { Store, prefixEnd } from './store.js';
import { StoreError, storeErrorFrom } from './errors.js';
import { crc32, openRecord, sealRecord } from './record.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-store-'));
}

async function collect(it: AsyncIterable<[Buffer, Buffer]>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of it) out.push([k.toString('hex'), v.toString('hex')]);
  return out;
}

test('crc32 matches the IEEE check value; sealed records open, altered ones do not', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const sealed = sealRecord(Buffer.from('payload'));
  assert.equal(openRecord(sealed)?.toString(), 'payload');
  assert.equal(openRecord(sealed.subarray(0, sealed.length - 1)), undefined, 'torn');
  const flipped = Buffer.from(sealed);
  flipped[6]! ^= 0x10;
  assert.equal(openRecord(flipped), undefined, 'bit flip');
  assert.equal(openRecord(Buffer.alloc(2)), undefined, 'shorter than the checksum');
  assert.equal(openRecord(sealRecord(Buffer.alloc(0)))?.length, 0, 'empty payload');
});

test('prefixEnd is the first key after a prefix', () => {
  assert.deepEqual(prefixEnd(Buffer.from([1, 2])), Buffer.from([1, 3]));
  assert.deepEqual(prefixEnd(Buffer.from([1, 0xff])), Buffer.from([2]));
  assert.equal(prefixEnd(Buffer.from([0xff, 0xff])), undefined);
});

test('keyspaces are separate ranges with binary keys; batches span keyspaces; data survives reopen', async () => {
  const dir = tempDir();
  try {
    let store = await Store.open({ dir });
    const ts = store.keyspace('ts');
    const targets = store.keyspace('targets');
    const keys = [Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([0x7f, 0xff]), Buffer.from([0xff]), Buffer.from([0xff, 0xff, 0xff])];
    await store.write([
      ...keys.map((k, i) => ({ type: 'put' as const, keyspace: 'ts' as const, key: k, value: Buffer.from([i]) })),
      { type: 'put', keyspace: 'targets', key: Buffer.from('all'), value: Buffer.from('x') },
    ]);
    assert.deepEqual(
      (await collect(ts.entries())).map(([k]) => k),
      ['00', '0000', '7fff', 'ff', 'ffffff'],
      'key order, nothing of the other keyspace',
    );
    assert.deepEqual(await collect(targets.entries()), [[Buffer.from('all').toString('hex'), '78']]);
    assert.deepEqual(
      (await collect(ts.entries({ gte: Buffer.from([0x01]), lt: Buffer.from([0xff]) }))).map(([k]) => k),
      ['7fff'],
    );
    assert.deepEqual(
      (await collect(ts.entries({ reverse: true, limit: 2 }))).map(([k]) => k),
      ['ffffff', 'ff'],
    );
    assert.equal((await ts.get(Buffer.from([0xff])))?.[0], 3);
    assert.equal(await ts.get(Buffer.from([0xfe])), undefined);

    await ts.clear({ gte: Buffer.from([0]), lt: Buffer.from([0xff]) });
    assert.deepEqual(
      (await collect(ts.entries())).map(([k]) => k),
      ['ff', 'ffffff'],
    );
    await ts.del(Buffer.from([0xff]));
    await store.close();

    store = await Store.open({ dir });
    assert.deepEqual(
      (await collect(store.keyspace('ts').entries())).map(([k]) => k),
      ['ffffff'],
    );
    assert.equal((await store.keyspace('targets').get(Buffer.from('all')))?.toString(), 'x');
    assert.throws(() => store.keyspace('nope' as 'ts'), TypeError);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt records are counted and skipped, the others read', async () => {
  const dir = tempDir();
  try {
    const store = await Store.open({ dir });
    const ks = store.keyspace('alerts');
    await ks.putRecord(Buffer.from('a'), Buffer.from('one'));
    await ks.put(Buffer.from('b'), sealRecord(Buffer.from('two')).subarray(0, 5)); // torn
    await ks.putRecord(Buffer.from('c'), Buffer.from('three'));
    const got: string[] = [];
    for await (const [, v] of ks.records()) got.push(v.toString());
    assert.deepEqual(got, ['one', 'three']);
    assert.equal(await ks.getRecord(Buffer.from('b')), undefined);
    assert.equal(store.stats.corruptRecords['alerts'], 2);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second open of the same data dir fails with VIGIL_STORE_LOCKED', async () => {
  const dir = tempDir();
  try {
    const store = await Store.open({ dir });
    // Another process (a second daemon).
    const script = `import('${new URL('./store.js', import.meta.url).href}').then(m => m.Store.open({ dir: ${JSON.stringify(dir)} })).then(() => console.log('opened'), e => console.log(e.code))`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
    assert.equal(out, 'VIGIL_STORE_LOCKED');
    // The same process.
    await assert.rejects(Store.open({ dir }), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.storeCode, 'VIGIL_STORE_LOCKED');
      return true;
    });
    // And still locked for other processes after the refusal in this one.
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim(), 'VIGIL_STORE_LOCKED');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt database fails to open with VIGIL_STORE_CORRUPT', async () => {
  const dir = tempDir();
  try {
    const store = await Store.open({ dir });
    await store.keyspace('ts').put(Buffer.from('k'), Buffer.from('v'));
    await store.close();
    for (const f of readdirSync(dir)) if (f.startsWith('MANIFEST-')) writeFileSync(join(dir, f), Buffer.alloc(200, 0x5a));
    await assert.rejects(Store.open({ dir }), (err: unknown) => err instanceof StoreError && err.storeCode === 'VIGIL_STORE_CORRUPT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk: writes fail with VIGIL_STORE_FULL (counted), the process and the stored data stay', async () => {
  // A real ENOSPC: the store on a 2 MiB tmpfs (the tests run as root).
  const mnt = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  try {
    const dir = join(mnt, 'data');
    mkdirSync(dir);
    // No recovery probe during this test: it counts the failures of its own writes.
    const store = await Store.open({ dir, recoverInitialMs: 600_000 });
    const ks = store.keyspace('ts');
    const value = Buffer.alloc(1000, 0xa5);
    let written = 0;
    let failure: unknown;
    for (; written < 10_000; written++) {
      try {
        await ks.put(Buffer.from(`k${String(written).padStart(6, '0')}`), value);
      } catch (err) {
        failure = err;
        break;
      }
    }
    assert.ok(failure instanceof StoreError, 'the disk filled up');
    assert.equal(failure.code, 'VIGIL_STORE_FULL');
    assert.match(failure.message, /No space left on device/);
    assert.equal(store.stats.diskFull, 1);
    assert.equal(store.stats.writeErrors, 1);
    assert.ok(written > 100);
    // Still running, still readable.
    assert.deepEqual(await ks.get(Buffer.from('k000000')), value);
    await assert.rejects(ks.put(Buffer.from('more'), value), (err: unknown) => err instanceof StoreError && err.storeCode === 'VIGIL_STORE_FULL');
    assert.equal(store.stats.diskFull, 2);
    await store.close();

    // Room again: everything acknowledged before the failure is there.
    execFileSync('mount', ['-o', 'remount,size=32m', mnt]);
    const again = await Store.open({ dir });
    let n = 0;
    for await (const [k, v] of again.keyspace('ts').entries()) {
      assert.deepEqual(v, value, k.toString());
      n++;
    }
    assert.equal(n, written);
    await again.keyspace('ts').put(Buffer.from('after'), value);
    await again.close();
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('a full disk is recovered without a restart: failing (logged once), probed and reopened with backoff, ok again (logged once)', async () => {
  const mnt = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  try {
    const dir = join(mnt, 'data');
    mkdirSync(dir);
    const store = await Store.open({ dir, log, recoverInitialMs: 20, recoverMaxMs: 100 });
    const changes: boolean[] = [];
    store.onHealth((h) => changes.push(h.ok));
    const ks = store.keyspace('ts');
    const value = Buffer.alloc(1000, 0xa5);
    let written = 0;
    for (; written < 10_000; written++) {
      try {
        await ks.put(Buffer.from(`k${String(written).padStart(6, '0')}`), value);
      } catch {
        break;
      }
    }
    assert.equal(store.health.ok, false);
    assert.equal(store.health.error?.storeCode, 'VIGIL_STORE_FULL');
    for (let i = 0; i < 20; i++) await assert.rejects(ks.put(Buffer.from(`more${i}`), value));
    // Let the recovery loop fail a few probes while the disk is still full: no reopen, still readable.
    const deadline = Date.now() + 20_000;
    const errors = store.stats.writeErrors;
    while (store.stats.writeErrors < errors + 3) {
      assert.ok(Date.now() < deadline, 'probes while failing');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(store.stats.reopens, 0, 'not reopened while the disk is full');
    assert.deepEqual(await ks.get(Buffer.from('k000000')), value, 'readable while full');
    execFileSync('mount', ['-o', 'remount,size=32m', mnt]);
    while (!store.health.ok) {
      assert.ok(Date.now() < deadline + 20_000, 'ok again after space returned');
      await new Promise((r) => setTimeout(r, 20));
    }
    await ks.put(Buffer.from('after'), value);
    assert.deepEqual(await ks.get(Buffer.from('after')), value);
    assert.deepEqual(await ks.get(Buffer.from('k000000')), value, 'what was stored before is still there');
    assert.deepEqual(changes, [false, true]);
    assert.ok(store.stats.reopens >= 1, "LevelDB's sticky background error needed a reopen");
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.equal(msgs.filter((m) => m.startsWith('store writes failing')).length, 1, 'logged once, not per failed write');
    assert.equal(msgs.filter((m) => m === 'store writes work again').length, 1);
    await store.close();
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('storeErrorFrom maps LevelDB failures to stable codes', () => {
  const cases: Array<[unknown, string]> = [
    [
      Object.assign(new Error('Database failed to open'), {
        code: 'LEVEL_DATABASE_NOT_OPEN',
        cause: Object.assign(new Error('lock held'), { code: 'LEVEL_LOCKED' }),
      }),
      'VIGIL_STORE_LOCKED',
    ],
    [Object.assign(new Error('Corruption: bad block'), { code: 'LEVEL_CORRUPTION' }), 'VIGIL_STORE_CORRUPT'],
    [Object.assign(new Error('IO error: x.log: No space left on device'), { code: 'LEVEL_IO_ERROR' }), 'VIGIL_STORE_FULL'],
    [Object.assign(new Error('IO error: Permission denied'), { code: 'LEVEL_IO_ERROR' }), 'VIGIL_STORE_IO'],
    ['weird', 'VIGIL_STORE_IO'],
  ];
  for (const [err, code] of cases) {
    const e = storeErrorFrom(err, '/d', 'op');
    assert.equal(e.code, code, String(err));
    assert.match(e.message, /^\/d: op: /);
  }
});
