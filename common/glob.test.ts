// The one glob grammar: a table of patterns and inputs in both modes, the faults it refuses, a
// comparison with an independent reference matcher on many random patterns and inputs, and the
// hostile patterns that made backtracking regexes run for hours, answered correctly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGlob, escapeGlob, globFault, GlobError, type GlobMode } from './glob.js';
import { HOSTILE } from './hostile-patterns.js';

// [pattern, mode, input, expected]
const TABLE: Array<[string, GlobMode, string, boolean]> = [
  ['', 'plain', '', true],
  ['', 'plain', 'a', false],
  ['abc', 'plain', 'abc', true],
  ['abc', 'plain', 'abcd', false],
  ['a*', 'plain', 'a', true],
  ['a*', 'plain', 'a/b/c', true],
  ['a*', 'path', 'a/b', false],
  ['a**', 'path', 'a/b/c', true],
  ['*', 'plain', '', true],
  ['*', 'path', '/', false],
  ['**', 'path', '/usr/bin/x', true],
  ['/usr/bin/*', 'path', '/usr/bin/curl', true],
  ['/usr/bin/*', 'path', '/usr/bin/sub/curl', false],
  ['/usr/**', 'path', '/usr/bin/sub/curl', true],
  ['/usr/**/curl', 'path', '/usr/bin/sub/curl', true],
  ['/usr/**/curl', 'path', '/usr/curl', false],
  ['**/curl', 'path', '/usr/local/bin/curl', true],
  ['/*/bin/*', 'path', '/usr/bin/ls', true],
  ['/*/bin/*', 'path', '/usr/local/bin/ls', false],
  ['/**/bin/*', 'path', '/usr/local/bin/ls', true],
  ['***', 'path', 'a/b', true],
  ['a**b', 'plain', 'a/x/b', true],
  ['?', 'plain', 'x', true],
  ['?', 'plain', '', false],
  ['?', 'path', '/', false],
  ['?', 'plain', '/', true],
  ['?', 'plain', '😀', true],
  ['a?c', 'plain', 'abc', true],
  ['[abc]', 'plain', 'b', true],
  ['[abc]', 'plain', 'd', false],
  ['[a-c]x', 'plain', 'bx', true],
  ['[!a-c]x', 'plain', 'bx', false],
  ['[!a-c]x', 'plain', 'dx', true],
  ['[^a-c]x', 'plain', 'dx', true],
  ['[]]', 'plain', ']', true],
  ['[!]]', 'plain', ']', false],
  ['[!]]', 'plain', 'a', true],
  ['[a-]', 'plain', '-', true],
  ['[-a]', 'plain', '-', true],
  ['[\\]]', 'plain', ']', true],
  ['[/]', 'plain', '/', true],
  ['[/]', 'path', '/', false],
  ['[!a]', 'path', '/', false],
  ['[é-ë]', 'plain', 'ê', true],
  ['\\*', 'plain', '*', true],
  ['\\*', 'plain', 'a', false],
  ['a\\?', 'plain', 'a?', true],
  ['\\[x]', 'plain', '[x]', true],
  ['\\\\', 'plain', '\\', true],
  ['web-*', 'plain', 'web-1', true],
  ['web-*', 'plain', 'db-1', false],
  ['*.scope', 'path', 'docker-abc.scope', true],
  ['/kubepods/**', 'path', '/kubepods/burstable/pod1/abc', true],
  ['*a*b*', 'plain', 'xxaxxbxx', true],
  ['*a*b*', 'plain', 'xxbxxaxx', false],
  ['a*a*a*a', 'plain', 'aaaa', true],
  ['a*a*a*a', 'plain', 'aaa', false],
  ['x\n', 'plain', 'x\n', false], // refused below; here only to show nothing matches it
];

test('matches as the grammar says (table)', () => {
  for (const [pattern, mode, input, want] of TABLE) {
    if (globFault(pattern)) continue;
    assert.equal(compileGlob(pattern, mode).test(input), want, `${JSON.stringify(pattern)} (${mode}) on ${JSON.stringify(input)}`);
  }
});

// [pattern, 0-based index of the fault, reason]
const FAULTS: Array<[string, number, string]> = [
  ['[abc', 0, "unterminated '['"],
  ['x[', 1, "unterminated '['"],
  ['[]', 0, "unterminated '['"],
  ['[!]', 0, "unterminated '['"],
  ['a\\', 1, 'trailing backslash'],
  ['[z-a]', 1, 'reversed range z-a'],
  ['a\nb', 1, 'control character'],
  ['\u007f', 0, 'control character'],
];

test('refuses what is not a glob, with the column and the reason (table)', () => {
  for (const [pattern, index, reason] of FAULTS) {
    const f = globFault(pattern);
    assert.ok(f, JSON.stringify(pattern));
    assert.equal(f.index, index, JSON.stringify(pattern));
    assert.equal(f.reason, reason, JSON.stringify(pattern));
    assert.throws(
      () => compileGlob(pattern, 'plain'),
      (e: unknown) => e instanceof GlobError && e.code === 'VIGIL_GLOB' && e.message.includes(`column ${index + 1}`),
    );
  }
});

test('literal text and prefix, escapes resolved', () => {
  assert.equal(compileGlob('/etc/shadow', 'path').literal, '/etc/shadow');
  assert.equal(compileGlob('/etc/\\*', 'path').literal, '/etc/*');
  assert.equal(compileGlob('/etc/sh*', 'path').literal, undefined);
  assert.equal(compileGlob('/etc/sh*', 'path').prefix, '/etc/sh');
  assert.equal(compileGlob('*x', 'path').prefix, '');
  for (const s of ['a*b', '[x]', 'c:\\d', '?']) assert.ok(compileGlob(escapeGlob(s), 'plain').test(s), s);
});

/** Reference: a memoised recursive matcher straight from the grammar (quadratic, but obviously right). */
function reference(pattern: string, mode: GlobMode, input: string): boolean {
  const path = mode === 'path';
  type Tok = { t: 'lit'; c: string } | { t: 'one' } | { t: 'star'; cross: boolean } | { t: 'set'; neg: boolean; chars: string[] };
  const toks: Tok[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      let j = i;
      while (pattern[j] === '*') j++;
      toks.push({ t: 'star', cross: !path || j - i > 1 });
      i = j - 1;
    } else if (c === '?') toks.push({ t: 'one' });
    else if (c === '\\') toks.push({ t: 'lit', c: pattern[++i]! });
    else if (c === '[') {
      let j = i + 1;
      const neg = pattern[j] === '!' || pattern[j] === '^';
      if (neg) j++;
      const chars: string[] = [];
      let first = true;
      while (first || pattern[j] !== ']') {
        first = false;
        let d = pattern[j]!;
        if (d === '\\') d = pattern[++j]!;
        if (pattern[j + 1] === '-' && pattern[j + 2] !== ']') {
          let e = pattern[j + 2]!;
          let step = 3;
          if (e === '\\') {
            e = pattern[j + 3]!;
            step = 4;
          }
          for (let k = d.charCodeAt(0); k <= e.charCodeAt(0); k++) chars.push(String.fromCharCode(k));
          j += step;
        } else {
          chars.push(d);
          j++;
        }
      }
      toks.push({ t: 'set', neg, chars });
      i = j;
    } else toks.push({ t: 'lit', c });
  }
  const memo = new Map<number, boolean>();
  const go = (p: number, s: number): boolean => {
    const key = p * (input.length + 1) + s;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (p === toks.length) r = s === input.length;
    else {
      const t = toks[p]!;
      const ch = input[s];
      if (t.t === 'star') r = go(p + 1, s) || (ch !== undefined && (t.cross || ch !== '/') && go(p, s + 1));
      else if (ch === undefined) r = false;
      else if (t.t === 'lit') r = ch === t.c && go(p + 1, s + 1);
      else if (t.t === 'one') r = !(path && ch === '/') && go(p + 1, s + 1);
      else r = !(path && ch === '/') && t.chars.includes(ch) !== t.neg && go(p + 1, s + 1);
    }
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

test('agrees with a reference matcher on random patterns and inputs', () => {
  // A fixed-seed generator: the same cases on every run.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const PIECES = ['a', 'b', '/', '*', '**', '?', '[ab]', '[!a]', '[a-b]', '\\*', '.'];
  const CHARS = ['a', 'b', '/', '*', '.', 'c'];
  let compared = 0;
  for (let k = 0; k < 3000; k++) {
    let pattern = '';
    for (let n = rand(8); n >= 0; n--) pattern += PIECES[rand(PIECES.length)];
    for (const mode of ['path', 'plain'] as const) {
      const g = compileGlob(pattern, mode);
      for (let q = 0; q < 8; q++) {
        let input = '';
        for (let n = rand(12); n > 0; n--) input += CHARS[rand(CHARS.length)];
        assert.equal(g.test(input), reference(pattern, mode, input), `${JSON.stringify(pattern)} (${mode}) on ${JSON.stringify(input)}`);
        compared++;
      }
    }
  }
  assert.equal(compared, 3000 * 2 * 8);
});

test('more than 32 states: the bit set spans words', () => {
  const p = 'x' + '*a'.repeat(40) + '*y';
  const g = compileGlob(p, 'plain');
  assert.equal(g.test('x' + 'a'.repeat(40) + 'y'), true);
  assert.equal(g.test('x' + 'a'.repeat(39) + 'y'), false);
  assert.equal(g.test('x' + 'ba'.repeat(40) + 'zy'), true);
});

test('hostile patterns on long inputs: answered, and right', () => {
  for (const h of HOSTILE) {
    assert.equal(compileGlob(h.pattern, h.mode).test(h.input), h.want, `${h.pattern.slice(0, 24)}... on ${h.input.length} chars`);
    assert.equal(reference(h.pattern, h.mode, h.input), h.want, `reference: ${h.pattern.slice(0, 24)}...`);
  }
});
