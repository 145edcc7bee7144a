// Subscriber losses by name: the name a subscriber counts under, and the bounded label set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_NAME, OTHER, SubscriberDrops, subscriberName } from './drops.js';

test('the name a subscriber counts under (table)', () => {
  // [client_name, peer, name]
  const TABLE: Array<[string, string, string]> = [
    ['vigil-forward', '127.0.0.1:50123', 'vigil-forward'],
    ['', '127.0.0.1:50123', '127.0.0.1'],
    ['', '[::1]:50123', '::1'],
    ['', 'unix:/run/vigil/vigil.sock', 'unix'],
    ['', '', 'unix'],
    ['', 'unknown', 'unix'],
    ['', 'localhost', 'localhost'],
  ];
  for (const [clientName, peer, name] of TABLE) assert.equal(subscriberName(clientName, peer), name, `${clientName} ${peer}`);
  for (const ok of ['vigil-tail', 'siem@host-1', 'a/b:c_d.e']) assert.ok(CLIENT_NAME.test(ok), ok);
  for (const bad of ['', 'x'.repeat(65), 'a b', 'a"b', 'a\nb', 'é']) assert.ok(!CLIENT_NAME.test(bad), JSON.stringify(bad));
});

test('counts outlive streams; names beyond the cap fold into "other"', () => {
  const d = new SubscriberDrops(3);
  const a = d.label('a');
  d.add(a, 5);
  d.add(d.label('a'), 2);
  assert.equal(d.label('b'), 'b');
  assert.equal(d.label('c'), 'c');
  for (let i = 0; i < 1000; i++) d.add(d.label(`peer-${i}`), 1);
  assert.equal(d.label('a'), 'a', 'a name that has a label keeps it');
  assert.deepEqual(d.entries(), [
    ['a', 7],
    ['b', 0],
    ['c', 0],
    [OTHER, 1000],
  ]);
  assert.equal(d.total, 1007);
});
