// Fifo: order and length across its compactions; mayTakeMore: the shares of a room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo, mayTakeMore } from './queue.js';

test('Fifo keeps first-in first-out order across its compactions, and empties cleanly', () => {
  const q = new Fifo<number>();
  const got: number[] = [];
  // Two in, one out: the dead head passes half the array many times over.
  let n = 0;
  for (let i = 0; i < 5000; i++) {
    q.push(n++);
    q.push(n++);
    got.push(q.shift()!);
  }
  assert.equal(q.length, 5000);
  for (let x = q.shift(); x !== undefined; x = q.shift()) got.push(x);
  assert.deepEqual(
    got,
    Array.from({ length: 10_000 }, (_, i) => i),
  );
  assert.deepEqual([q.length, q.peek(), q.shift()], [0, undefined, undefined]);
});

test('Fifo: peek is the next shift', () => {
  const q = new Fifo<string>();
  q.push('a');
  q.push('b');
  assert.equal(q.peek(), 'a');
  assert.equal(q.shift(), 'a');
  assert.equal(q.peek(), 'b');
});

test('mayTakeMore (table): up to the share always, past it only while the room is not full', () => {
  const cases: Array<[string, number, number, number, number, boolean]> = [
    ['under its share, room full', 3, 20, 16, 4, true],
    ['at its share, room full', 4, 16, 16, 4, false],
    ['past its share, room left', 10, 12, 16, 4, true],
    ['no parties counted: the whole room is its share', 15, 16, 16, 0, true],
  ];
  for (const [name, own, total, limit, parties, want] of cases) assert.equal(mayTakeMore(own, total, limit, parties), want, name);
});
