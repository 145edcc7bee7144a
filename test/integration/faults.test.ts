// Fault tests (issue 12): the real daemon and forwarder on a filled tmpfs, a torn LevelDB log, and
// kill -9 in an alert flood. The scenarios are in faults.ts (bench/faults.sh prints the same counts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullDisk, killFlood, tornLog } from './faults.js';
import { assertPrerequisites, BPF } from './harness.js';

describe('faults: nothing lost, no seq reused', () => {
  test('a full data dir (8 MiB tmpfs) filled then freed: detection goes on, /healthz degraded then ok, every alert written, no restart', BPF, async () => {
    assertPrerequisites();
    const r = await fullDisk();
    assert.equal(r.notes['health_while_full'], 'degraded');
    assert.match(String(r.notes['store_error']), /VIGIL_STORE_FULL/);
    assert.equal(r.notes['vigil_status_shows_error'], true, 'vigil status shows the store error');
    assert.ok(Number(r.notes['write_errors_while_full']) > 0, 'vigil_store_write_errors_total counts it');
    assert.ok(Number(r.notes['waiting_while_full']) > 0, 'alerts waited in memory');
    assert.equal(r.notes['health_after'], 'ok');
    assert.equal(r.notes['failing_logged'], 1, 'the failure is logged once');
    assert.equal(r.notes['recovered_logged'], 1, 'the recovery is logged once');
    assert.ok(
      Number(r.notes['warnings_while_full']) <= 10,
      `a few lines per change of state, not one per write: ${JSON.stringify(r.notes['warning_messages_while_full'])}`,
    );
    assert.deepEqual({ lost: r.lost, reused: r.reused, persisted: r.persisted }, { lost: 0, reused: 0, persisted: r.produced }, JSON.stringify(r));
  });

  test('the LevelDB log torn while stopped: a new epoch, seqs never reused, the forwarder notices and delivers the new alerts', BPF, async () => {
    assertPrerequisites();
    const r = await tornLog();
    assert.equal(r.notes['epoch_changed'], true, JSON.stringify(r));
    assert.equal(r.notes['history_lost_logged'], true, JSON.stringify(r));
    assert.ok(
      Number(r.notes['stored_after_tear']) < Number(r.notes['stored_before']),
      `the tear lost history (or the test tore nothing): ${JSON.stringify(r.notes)}`,
    );
    assert.equal(r.reused, 0, `new seqs from ${r.notes['new_seqs_from']}, handed out before: ${r.notes['seq_handed_out_before']}`);
    assert.equal(r.notes['forwarder_noticed'], true, JSON.stringify(r));
    assert.equal(r.lost, 0, `every alert the store holds was delivered: ${JSON.stringify(r)}`);
  });

  test(
    'kill -9 of the forwarder and the daemon during a flood with the sink down from the start: every stored alert delivered once it is back',
    BPF,
    async () => {
      assertPrerequisites();
      const r = await killFlood();
      assert.deepEqual({ lost: r.lost, reused: r.reused }, { lost: 0, reused: 0 }, JSON.stringify(r));
      assert.equal(r.delivered, r.persisted, 'every stored alert (all its matches) delivered');
      assert.equal(r.notes['alerts_delivered'], r.notes['alerts_stored']);
    },
  );
});
