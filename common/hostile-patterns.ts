// Patterns and inputs that make a backtracking matcher run for seconds to hours (issue 12), with the
// right answer for each: tests feed them through every place vigil accepts a pattern. Several inputs
// share the pattern's literal prefix and suffix, so that no shortcut answers them and the matcher
// itself has to walk the whole input. Test data only.
import type { GlobMode } from './glob.js';

export interface HostileCase {
  pattern: string;
  input: string;
  mode: GlobMode;
  want: boolean;
}

/** The subscription filter of the report: `**a` 20 times then `b`, and an exe of 60 `a`s. */
export const HOSTILE_EXE_GLOB = '**a'.repeat(20) + 'b';

export const HOSTILE: readonly HostileCase[] = [
  { pattern: HOSTILE_EXE_GLOB, input: '/' + 'a'.repeat(60), mode: 'path', want: false },
  { pattern: HOSTILE_EXE_GLOB, input: '/' + 'a'.repeat(4094) + 'b', mode: 'path', want: true },
  { pattern: HOSTILE_EXE_GLOB, input: '/x/' + 'a/'.repeat(2040) + 'ab', mode: 'path', want: true },
  { pattern: HOSTILE_EXE_GLOB, input: '/' + 'x'.repeat(4080) + 'a'.repeat(12) + 'ab', mode: 'path', want: false },
  { pattern: '*a'.repeat(40) + 'b', input: 'a'.repeat(4096), mode: 'plain', want: false },
  { pattern: '*a'.repeat(40) + '*b', input: 'a'.repeat(4095) + 'b', mode: 'plain', want: true },
  { pattern: '*a'.repeat(40) + '*b', input: 'c'.repeat(4060) + 'a'.repeat(30) + 'cbcb', mode: 'plain', want: false },
  { pattern: '*a'.repeat(40) + '*b', input: 'a/'.repeat(2047) + 'b', mode: 'path', want: false },
  { pattern: 'a*'.repeat(200) + 'b', input: 'a'.repeat(4095) + 'c', mode: 'plain', want: false },
  { pattern: '/**/**/**/**/**/**/**/**/**/**/x', input: '/a'.repeat(2047) + '/y', mode: 'path', want: false },
  { pattern: '[a]*'.repeat(50) + '[b]', input: 'a'.repeat(4096), mode: 'path', want: false },
];
