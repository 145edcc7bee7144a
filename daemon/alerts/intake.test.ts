// MatchIntake: folding by dedup key, the containers' shares of the room, and round-robin turns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleMatch } from '../detect/rule-match.js';
import { type IntakeEntry, MatchIntake } from './intake.js';

const RULE = { name: 'r', desc: 'r', kind: 'event', severity: 'warning', tags: [], enabled: true, actions: [], source: 't.yaml:1' } as const;

function m(container: string, time: number): RuleMatch {
  return {
    rule: { ...RULE, tags: [], actions: [] },
    time,
    message: `${container}@${time}`,
    container: { id: container, name: container, runtime: 'runc', image: 'busybox' },
    events: [],
  };
}

function drain(q: MatchIntake): IntakeEntry[] {
  const out: IntakeEntry[] = [];
  for (let e = q.shift(); e; e = q.shift()) out.push(e);
  return out;
}

test('matches of one key fold into the waiting entry: the first ones whole, the rest counted with the latest', () => {
  const q = new MatchIntake(4, 3);
  for (let t = 0; t < 10; t++) assert.ok(q.push(m('a', t), 'k'));
  assert.deepEqual([q.length, q.folded, q.dropped], [1, 9, 0]);
  const [e] = drain(q);
  assert.equal(e!.match.time, 0);
  assert.deepEqual(
    e!.more.map((x) => x.time),
    [1, 2],
  );
  assert.deepEqual([e!.repeats, e!.last?.time], [7, 9]);
});

test('an entry taken by the worker folds nothing more: the next match of its key waits on its own', () => {
  const q = new MatchIntake(4, 2);
  q.push(m('a', 0), 'k');
  const first = q.shift()!;
  q.push(m('a', 1), 'k');
  q.push(m('a', 2), 'k');
  assert.deepEqual(first.more, []);
  const [second] = drain(q);
  assert.deepEqual([second!.match.time, second!.more.map((x) => x.time)], [1, [2]]);
});

test('matches without a key never fold', () => {
  const q = new MatchIntake(10, 4);
  for (let t = 0; t < 3; t++) q.push(m('a', t), undefined);
  assert.deepEqual([q.length, q.folded], [3, 0]);
});

test('shares (table): a container past its share loses its own matches once the intake is full, never a quiet one', () => {
  const cases: Array<{ name: string; pushes: Array<[string, number]>; taken: Record<string, number>; dropped: number }> = [
    { name: 'one container fills the intake, then is refused', pushes: [['a', 12]], taken: { a: 8 }, dropped: 4 },
    {
      name: 'a second container still gets its half of a full intake',
      pushes: [
        ['a', 8],
        ['b', 6],
      ],
      taken: { a: 8, b: 4 },
      dropped: 2,
    },
    {
      name: 'with room left both go past their shares',
      pushes: [
        ['a', 3],
        ['b', 5],
      ],
      taken: { a: 3, b: 5 },
      dropped: 0,
    },
    {
      name: 'three containers: a third of a full intake each (rounded up)',
      pushes: [
        ['a', 8],
        ['b', 4],
        ['c', 4],
      ],
      taken: { a: 8, b: 4, c: 3 },
      dropped: 1,
    },
  ];
  for (const c of cases) {
    const q = new MatchIntake(8, 1);
    let t = 0;
    for (const [container, n] of c.pushes) for (let i = 0; i < n; i++, t++) q.push(m(container, t), `${container}${t}`);
    const taken: Record<string, number> = {};
    for (const e of drain(q)) taken[e.match.container.id] = (taken[e.match.container.id] ?? 0) + 1;
    assert.deepEqual([taken, q.dropped], [c.taken, c.dropped], c.name);
    assert.ok(Object.values(taken).reduce((x, y) => x + y, 0) <= 2 * q.capacity, `${c.name}: at most twice the capacity`);
  }
});

test('the worker takes turns over containers, first in first out within each', () => {
  const q = new MatchIntake(100, 1);
  let t = 0;
  for (const c of ['a', 'a', 'a', 'b', 'b', 'c']) q.push(m(c, t++), `k${t}`);
  assert.deepEqual(
    drain(q).map((e) => e.match.message),
    ['a@0', 'b@3', 'c@5', 'a@1', 'b@4', 'a@2'],
  );
  // Containers that come back after their lane emptied queue again at the end.
  q.push(m('b', 10), undefined);
  q.push(m('a', 11), undefined);
  assert.deepEqual(
    drain(q).map((e) => e.match.message),
    ['b@10', 'a@11'],
  );
});

test('bad sizes are refused', () => {
  assert.throws(() => new MatchIntake(0, 1), RangeError);
  assert.throws(() => new MatchIntake(1, 0), RangeError);
});
