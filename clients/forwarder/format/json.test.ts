import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertItem, makeEvent } from '../../../test/forwarder-fakes.js';
import { bulkBody, bulkIndex, bulkResults, hecBody, hecEvent, webhookBody } from './json.js';

describe('HEC', () => {
  it('an event object: epoch seconds, host, source, sourcetype by record type, index when set, the document', () => {
    const obj = JSON.parse(hecEvent(alertItem(5), { hostname: 'h', index: 'sec' }));
    assert.equal(obj.time, 1795867200.123);
    assert.deepEqual([obj.host, obj.source, obj.sourcetype, obj.index], ['h', 'vigil', 'vigil:alert', 'sec']);
    assert.deepEqual([obj.event.kind, obj.event.seq, obj.event.severity, obj.event.state, obj.event.count], ['alert', 5, 'warning', 'open', 1]);
    assert.equal(obj.event.events[0].kind, 'exec');
    const ev = JSON.parse(hecEvent({ type: 'event', event: makeEvent() }, { hostname: 'h', sourcetype: 'custom' }));
    assert.equal(ev.sourcetype, 'custom');
    assert.equal('index' in ev, false);
  });

  it('a batch is the event objects one after another', () => {
    const body = hecBody([alertItem(1), alertItem(2)], { hostname: 'h' });
    assert.deepEqual(
      body.split('\n').map((l) => JSON.parse(l).event.seq),
      [1, 2],
    );
  });
});

describe('_bulk', () => {
  it('action and document lines, each ending in a newline; alerts get an idempotent _id', () => {
    const body = bulkBody([alertItem(9), { type: 'event', event: makeEvent() }], { index: 'vigil-{date}' });
    assert.ok(body.endsWith('\n'));
    const lines = body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.deepEqual(lines[0], { index: { _index: 'vigil-2026.11.28', _id: '01J00000009-9' } });
    assert.equal(lines[1]['@timestamp'], '2026-11-28T12:00:00.123Z');
    assert.equal(lines[1].seq, 9);
    assert.deepEqual(lines[2], { index: { _index: 'vigil-2026.11.28' } });
    assert.equal(lines[3].kind, 'exec');
  });

  it('index names: {date} is the UTC day', () => {
    assert.equal(bulkIndex('a', 0), 'a');
    assert.equal(bulkIndex('x-{date}-{date}', Date.UTC(2025, 0, 2, 23)), 'x-2025.01.02-2025.01.02');
  });

  it('reads per-item results, whatever the action', () => {
    assert.deepEqual(bulkResults({ errors: true, items: [{ index: { status: 201 } }, { create: { status: 429, error: { type: 'x' } } }] }), [
      { status: 201, error: undefined },
      { status: 429, error: { type: 'x' } },
    ]);
    assert.equal(bulkResults({ errors: true }), undefined);
    assert.equal(bulkResults({ items: [{ index: {} }] }), undefined);
  });
});

describe('webhook', () => {
  it('a JSON array of the documents', () => {
    assert.deepEqual(
      JSON.parse(webhookBody([alertItem(1), alertItem(2)])).map((d: { seq: number }) => d.seq),
      [1, 2],
    );
  });
});
