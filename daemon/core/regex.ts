// Regular expressions that users supply (rule `regex` values, containers.patterns in the config) run on
// V8's linear-time engine (the RegExp `l` flag): an automaton simulation in the manner of RE2, whose
// cost grows with the input's length times the pattern's, never exponentially. What that engine cannot
// run in linear time (backreferences, lookahead and lookbehind, counted repetitions above 16) is
// refused when the pattern is loaded, never run on the backtracking engine. Patterns vigil writes itself use ordinary RegExps.
//
// Why not RE2 as WebAssembly (the re2-wasm package): it never frees a compiled pattern unless a
// private method is called, and its heap is fixed at 16 MiB, so about 7,000 compiles (rule reloads,
// Rules.Validate calls) abort the process; and each test() costs about 3 µs of copying into WASM.
import { setFlagsFromString } from 'node:v8';
import { VigilError } from './errors.js';

// The `l` flag exists only behind this V8 flag; bin/vigild passes it too, and it must be set before
// the first pattern with `l` is parsed.
setFlagsFromString('--enable-experimental-regexp-engine');

/** A pattern that is not a regular expression, or that cannot run in linear time. */
export class RegexError extends VigilError {
  readonly pattern: string;
  readonly reason: string;
  constructor(pattern: string, reason: string) {
    super('VIGIL_REGEX', `bad regex ${JSON.stringify(pattern)}: ${reason}`);
    this.pattern = pattern;
    this.reason = reason;
  }
}

/** The longest pattern accepted: the cost of a test is the input's length times the pattern's. */
export const REGEX_MAX_LENGTH = 1024;

/** Which construct the linear-time engine refused, as best the text tells. */
function linearFault(source: string): string {
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences (\\1, \\k<name>) are not supported';
  if (/\(\?<?[=!]/.test(source)) return 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported';
  return 'counted repetitions above 16 ({17}, {16,}; nested counts multiply) are not supported, write them as + or * or in pieces of 16';
}

/** Compiles `source` (JavaScript syntax) for the linear-time engine; throws RegexError. */
export function linearRegExp(source: string, flags = ''): RegExp {
  if (source.length > REGEX_MAX_LENGTH) throw new RegexError(source.slice(0, 40) + '...', `longer than ${REGEX_MAX_LENGTH} characters`);
  if (/[gyl]/.test(flags)) throw new RegexError(source, `flags ${flags}: g, y and l are not for users`);
  try {
    return new RegExp(source, flags + 'l');
  } catch (err) {
    const msg = (err as Error).message;
    if (/Cannot be executed in linear time/.test(msg))
      throw new RegexError(source, `${linearFault(source)}: vigil runs regexes on a linear-time engine (docs/rules.md)`);
    if (/Invalid flags|Invalid regular expression flags/.test(msg))
      throw new RegexError(source, "this Node's V8 has no linear-time regex engine (--enable-experimental-regexp-engine)");
    throw new RegexError(source, msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''));
  }
}
