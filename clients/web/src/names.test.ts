// The page's name filter: the API's container_names grammar, and hostile globs answered right.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTILE } from '../../../common/hostile-patterns.js';
import { nameMatcher } from './names.js';

test('container name globs as the API matches them (table)', () => {
  // [glob, name, matches]
  const TABLE: Array<[string, string, boolean]> = [
    ['web-*', 'web-1', true],
    ['web-*', 'db-1', false],
    ['*', 'a/b', true],
    ['web-?', 'web-12', false],
    ['[dw]*', 'db', true],
    ['[!d]*', 'db', false],
    ['web\\*', 'web*', true],
    ['web\\*', 'web-1', false],
  ];
  for (const [glob, name, want] of TABLE) assert.equal(nameMatcher(glob)(name), want, `${glob} on ${name}`);
});

test('a bad glob throws with its column', () => {
  assert.throws(() => nameMatcher('web-[1'), /bad glob "web-\[1" at column 5: unterminated '\['/);
});

test('hostile globs on 4096-character names: answered right', () => {
  for (const h of HOSTILE) if (h.mode === 'plain') assert.equal(nameMatcher(h.pattern)(h.input), h.want, h.pattern.slice(0, 20));
});
