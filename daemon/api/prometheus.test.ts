import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderExposition } from './prometheus.js';

test('families render with HELP, TYPE, escaped labels and special values', () => {
  const text = renderExposition([
    { name: 'vigil_events_total', help: 'events\ndecoded', type: 'counter', samples: [{ labels: { kind: 'exec' }, value: 3 }, { labels: { kind: 'fi"le\\x\ny' }, value: 0 }] },
    { name: 'vigil_empty', help: 'no samples: left out', type: 'gauge', samples: [] },
    { name: 'vigil_limit_bytes', help: 'limit', type: 'gauge', samples: [{ value: Infinity }, { labels: { a: 'b' }, value: NaN }] },
  ]);
  assert.equal(
    text,
    [
      '# HELP vigil_events_total events\\ndecoded',
      '# TYPE vigil_events_total counter',
      'vigil_events_total{kind="exec"} 3',
      'vigil_events_total{kind="fi\\"le\\\\x\\ny"} 0',
      '# HELP vigil_limit_bytes limit',
      '# TYPE vigil_limit_bytes gauge',
      'vigil_limit_bytes +Inf',
      'vigil_limit_bytes{a="b"} NaN',
      '',
    ].join('\n'),
  );
});

test('bad metric and label names are refused', () => {
  assert.throws(() => renderExposition([{ name: '1bad', help: '', type: 'gauge', samples: [{ value: 1 }] }]), /bad metric name/);
  assert.throws(() => renderExposition([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }]), /bad label name/);
});
