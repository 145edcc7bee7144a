// The Authorization header's bearer token: the scheme in any case (RFC 7235), one or more spaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerMatches, bearerToken } from './auth.js';

test('bearer scheme: case-insensitive, then spaces, then the token (table)', () => {
  const TOKEN = 'tok-123';
  // [header, token read, matches TOKEN]
  const TABLE: Array<[string | undefined, string | undefined, boolean]> = [
    ['Bearer tok-123', 'tok-123', true],
    ['bearer tok-123', 'tok-123', true],
    ['BEARER tok-123', 'tok-123', true],
    ['bEaReR tok-123', 'tok-123', true],
    ['Bearer   tok-123', 'tok-123', true],
    ['Bearer tok-124', 'tok-124', false],
    ['Bearer tok-1234', 'tok-1234', false],
    ['Bearertok-123', undefined, false],
    ['Bearer ', undefined, false],
    ['Basic dG9rLTEyMw==', undefined, false],
    ['Bearer\ttok-123', undefined, false],
    ['', undefined, false],
    [undefined, undefined, false],
  ];
  for (const [header, token, ok] of TABLE) {
    assert.equal(bearerToken(header), token, JSON.stringify(header));
    assert.equal(bearerMatches(header, Buffer.from(TOKEN)), ok, JSON.stringify(header));
  }
});
