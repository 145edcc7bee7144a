// The one glob grammar of vigil (rule `glob` values, target selectors, subscription and forwarder
// filters, the dashboard's name filter) and a matcher whose cost is linear in the input: a glob is
// compiled once into a chain of tokens, and matching runs that chain as an NFA over a bit set of
// states (Thompson's simulation), one pass over the input, never backtracking. A pattern such as
// `**a**a**a...b` against a long run of `a`s costs the same as any other of its length.
//
// Grammar (whole-string match, case-sensitive):
//   *        any run of characters; in path mode not '/'
//   **       (two or more stars) any run of characters, '/' included; in plain mode the same as *
//   ?        one character; in path mode not '/'
//   [abc]    one character of the set; ranges [a-z]; [!abc] or [^abc] negate; a ']' first in the set
//            and a '-' first or last are literal; in path mode a set never matches '/'
//   \x       the character x itself (\* \? \[ \\)
// Refused: an unterminated '[' ('[]' too: a ']' first is a member), a reversed range [z-a], a
// trailing '\', control characters (U+0000-U+001F, U+007F).
//
// Path mode is for paths (executables, files, cgroups): '/' is matched only by a '/' of the pattern
// or by **, as fnmatch(3) with FNM_PATHNAME. Plain mode is for names (containers, images, labels).

import { CodedError } from './errors.js';

export type GlobMode = 'path' | 'plain';

/** A pattern that is not a glob: `index` is the 0-based position of the fault. */
export class GlobError extends CodedError<'VIGIL_GLOB'> {
  readonly pattern: string;
  readonly index: number;
  readonly reason: string;

  constructor(pattern: string, index: number, reason: string) {
    super('VIGIL_GLOB', `bad glob ${JSON.stringify(pattern)} at column ${index + 1}: ${reason}`);
    this.pattern = pattern;
    this.index = index;
    this.reason = reason;
  }
}

type Token = { t: 'lit'; c: number } | { t: 'one' } | { t: 'set'; neg: boolean; ranges: number[] } | { t: 'star' } | { t: 'globstar' };

const SLASH = 0x2f;

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** Code point at i and its length in UTF-16 units. */
function cpAt(s: string, i: number): [number, number] {
  const c = s.codePointAt(i)!;
  return [c, c > 0xffff ? 2 : 1];
}

function parse(pattern: string): Token[] {
  const out: Token[] = [];
  const bad = (i: number, reason: string): never => {
    throw new GlobError(pattern, i, reason);
  };
  let i = 0;
  while (i < pattern.length) {
    const [c, n] = cpAt(pattern, i);
    if (isControl(c)) bad(i, 'control character');
    if (c === 0x2a /* * */) {
      let j = i;
      while (pattern.charCodeAt(j) === 0x2a) j++;
      out.push(j - i > 1 ? { t: 'globstar' } : { t: 'star' });
      i = j;
      continue;
    }
    if (c === 0x3f /* ? */) {
      out.push({ t: 'one' });
      i++;
      continue;
    }
    if (c === 0x5c /* \ */) {
      if (i + 1 >= pattern.length) bad(i, 'trailing backslash');
      const [e, en] = cpAt(pattern, i + 1);
      if (isControl(e)) bad(i + 1, 'control character');
      out.push({ t: 'lit', c: e });
      i += 1 + en;
      continue;
    }
    if (c === 0x5b /* [ */) {
      const start = i;
      let j = i + 1;
      let neg = false;
      if (pattern[j] === '!' || pattern[j] === '^') {
        neg = true;
        j++;
      }
      const ranges: number[] = [];
      let first = true;
      for (;;) {
        if (j >= pattern.length) bad(start, "unterminated '['");
        let [d, dn] = cpAt(pattern, j);
        if (d === 0x5d /* ] */ && !first) break;
        first = false;
        if (isControl(d)) bad(j, 'control character');
        if (d === 0x5c) {
          if (j + 1 >= pattern.length) bad(start, "unterminated '['");
          [d, dn] = cpAt(pattern, j + 1);
          if (isControl(d)) bad(j + 1, 'control character');
          dn++;
        }
        let hi = d;
        let k = j + dn;
        // a '-' between two members makes a range; first or last it is itself
        if (pattern[k] === '-' && k + 1 < pattern.length && pattern[k + 1] !== ']') {
          let [e, en] = cpAt(pattern, k + 1);
          if (e === 0x5c) {
            if (k + 2 >= pattern.length) bad(start, "unterminated '['");
            [e, en] = cpAt(pattern, k + 2);
            en++;
          }
          if (isControl(e)) bad(k + 1, 'control character');
          if (e < d) bad(j, `reversed range ${String.fromCodePoint(d)}-${String.fromCodePoint(e)}`);
          hi = e;
          k = k + 1 + en;
        }
        ranges.push(d, hi);
        j = k;
      }
      out.push({ t: 'set', neg, ranges });
      i = j + 1;
      continue;
    }
    out.push({ t: 'lit', c });
    i += n;
  }
  return out;
}

/** A compiled glob: match with test(); cost O(input length x pattern length / 32), no backtracking. */
export interface Glob {
  readonly source: string;
  readonly mode: GlobMode;
  /** The pattern's literal text before its first wildcard (escapes resolved). */
  readonly prefix: string;
  /** The whole pattern as plain text when it has no wildcard, else undefined. */
  readonly literal: string | undefined;
  test(input: string): boolean;
}

function accepts(tok: Token, c: number, path: boolean): boolean {
  switch (tok.t) {
    case 'lit':
      return tok.c === c;
    case 'one':
    case 'star':
      return !(path && c === SLASH);
    case 'globstar':
      return true;
    case 'set': {
      if (path && c === SLASH) return false;
      let inSet = false;
      for (let k = 0; k < tok.ranges.length; k += 2) {
        if (c >= tok.ranges[k]! && c <= tok.ranges[k + 1]!) {
          inSet = true;
          break;
        }
      }
      return inSet !== tok.neg;
    }
  }
}

const ASCII = 128;
const NON_ASCII_CACHE = 256;

class NfaGlob implements Glob {
  readonly source: string;
  readonly mode: GlobMode;
  readonly prefix: string;
  readonly literal: string | undefined;
  private readonly tokens: readonly Token[];
  private readonly path: boolean;
  /** 32-bit words per state set: states 0..m, m = tokens.length (accept). */
  private readonly words: number;
  private readonly accept: number;
  private readonly stars: Int32Array;
  /** Per ASCII character, the states whose token accepts it (words each). */
  private readonly ascii: Int32Array;
  private readonly other = new Map<number, Int32Array>();
  /** Literal text after the last wildcard (a cheap reject before the NFA). */
  private readonly suffix: string;
  /** Tokens after the prefix are one star that takes anything left: a prefix test decides. */
  private readonly prefixDecides: boolean;
  /** Tokens after the prefix are one path-mode star (`/usr/bin/*`): the rest must hold no '/'. */
  private readonly restNoSlash: boolean;
  private cur: Int32Array;
  private nxt: Int32Array;

  constructor(source: string, mode: GlobMode, tokens: Token[]) {
    this.source = source;
    this.mode = mode;
    this.tokens = tokens;
    this.path = mode === 'path';
    let p = 0;
    let prefix = '';
    while (p < tokens.length && tokens[p]!.t === 'lit') prefix += String.fromCodePoint((tokens[p++] as { c: number }).c);
    this.prefix = prefix;
    this.literal = p === tokens.length ? prefix : undefined;
    let s = tokens.length;
    let suffix = '';
    while (s > p && tokens[s - 1]!.t === 'lit') suffix = String.fromCodePoint((tokens[--s] as { c: number }).c) + suffix;
    this.suffix = suffix;
    const rest = tokens.slice(p);
    this.prefixDecides = rest.length === 1 && (rest[0]!.t === 'globstar' || (rest[0]!.t === 'star' && !this.path));
    this.restNoSlash = rest.length === 1 && rest[0]!.t === 'star' && this.path;
    const m = tokens.length;
    this.accept = m;
    this.words = (m >>> 5) + 1;
    this.stars = new Int32Array(this.words);
    for (let i = 0; i < m; i++) if (tokens[i]!.t === 'star' || tokens[i]!.t === 'globstar') this.stars[i >>> 5]! |= 1 << (i & 31);
    this.ascii = new Int32Array(ASCII * this.words);
    for (let c = 0; c < ASCII; c++) this.fill(this.ascii, c * this.words, c);
    this.cur = new Int32Array(this.words);
    this.nxt = new Int32Array(this.words);
  }

  private fill(into: Int32Array, at: number, c: number): void {
    for (let i = 0; i < this.tokens.length; i++) if (accepts(this.tokens[i]!, c, this.path)) into[at + (i >>> 5)]! |= 1 << (i & 31);
  }

  /** The states whose token accepts c, for a character beyond ASCII. */
  private maskOf(c: number): Int32Array {
    let m = this.other.get(c);
    if (!m) {
      m = new Int32Array(this.words);
      this.fill(m, 0, c);
      // bounded: an input of many distinct characters costs a mask each, never unbounded memory
      if (this.other.size < NON_ASCII_CACHE) this.other.set(c, m);
    }
    return m;
  }

  /** Follows the empty moves: a star may match nothing, so the state after it is live too. */
  private close(set: Int32Array): void {
    let carry = 0;
    for (let w = 0; w < this.words; w++) {
      const s = set[w]! & this.stars[w]!;
      set[w] = set[w]! | (s << 1) | carry;
      carry = s >>> 31;
    }
  }

  test(input: string): boolean {
    if (this.literal !== undefined) return input === this.literal;
    if (!input.startsWith(this.prefix)) return false;
    if (this.prefixDecides) return true;
    if (this.restNoSlash) return input.indexOf('/', this.prefix.length) < 0;
    if (input.length < this.prefix.length + this.suffix.length || !input.endsWith(this.suffix)) return false;
    if (this.words === 1) return this.testOneWord(input);
    const W = this.words;
    let cur = this.cur;
    let nxt = this.nxt;
    cur.fill(0);
    cur[0] = 1;
    this.close(cur);
    for (let i = 0; i < input.length; ) {
      let c = input.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < input.length) {
        c = input.codePointAt(i)!;
        i += c > 0xffff ? 2 : 1;
      } else i++;
      let mask = this.ascii;
      let at = c * W;
      if (c >= ASCII) {
        mask = this.maskOf(c);
        at = 0;
      }
      let carry = 0;
      let live = 0;
      for (let w = 0; w < W; w++) {
        const a = cur[w]! & mask[at + w]!;
        const star = this.stars[w]!;
        const adv = a & ~star;
        const v = (adv << 1) | carry | (a & star);
        nxt[w] = v;
        carry = adv >>> 31;
        live |= v;
      }
      if (live === 0) return false;
      this.close(nxt);
      const t = cur;
      cur = nxt;
      nxt = t;
    }
    this.cur = cur;
    this.nxt = nxt;
    return (cur[this.accept >>> 5]! & (1 << (this.accept & 31))) !== 0;
  }

  /** The same walk for patterns of at most 31 tokens (most): the state set fits one number. */
  private testOneWord(input: string): boolean {
    const star = this.stars[0]!;
    const table = this.ascii;
    let d = 1 | ((1 & star) << 1);
    for (let i = 0; i < input.length; ) {
      let c = input.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < input.length) {
        c = input.codePointAt(i)!;
        i += c > 0xffff ? 2 : 1;
      } else i++;
      const a = d & (c < ASCII ? table[c]! : this.maskOf(c)[0]!);
      d = ((a & ~star) << 1) | (a & star);
      if (d === 0) return false;
      d |= (d & star) << 1;
    }
    return (d & (1 << this.accept)) !== 0;
  }
}

/** Compiles a glob once; throws GlobError when it is not one. */
export function compileGlob(pattern: string, mode: GlobMode): Glob {
  return new NfaGlob(pattern, mode, parse(pattern));
}

/** The fault of a pattern, or undefined when it is a glob. */
export function globFault(pattern: string): GlobError | undefined {
  try {
    parse(pattern);
    return undefined;
  } catch (err) {
    if (err instanceof GlobError) return err;
    throw err;
  }
}

/** Escapes text so that it matches itself as a glob. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\\]/g, '\\$&');
}
