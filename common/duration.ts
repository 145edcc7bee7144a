// The one duration grammar of vigil: rule files (`window:`, `for:`), the daemon's config (intervals,
// retentions, `alerts.dedup_window`, webhook timeouts) and the CLI (`--since`, `--step`,
// `--timeout`) all read a duration through this module, so a value that works in one place works
// in every other. Documented in docs/config.md (Reference) and docs/rules.md (Rule types).
//
// Grammar: optional surrounding white space, a decimal number (digits, optionally a '.' and more
// digits: no sign, no exponent, no leading '.'), and a unit, case-sensitive:
//   ms  milliseconds     s  seconds     m  minutes     h  hours     d  days (24 h)     w  weeks (7 d)
// A unit is required ("5" is refused: seconds or milliseconds would be a guess). Zero is a duration;
// whether a place takes it (`for: 0s` does, `window: 0s` does not) is that place's rule.

/** Milliseconds in each unit, in the order the grammar lists them. */
export const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

const NUMBER = '\\d+(?:\\.\\d+)?';
const UNITS = Object.keys(DURATION_UNITS).join('|');
const DURATION = new RegExp(`^(${NUMBER})(${UNITS})$`);

/** "250ms", "1.5h", "7d", "2w" -> milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  // Hundreds of digits overflow to Infinity, which no timer or window can use.
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The grammar as a JSON Schema pattern (ECMA-262 regex, anchored). `positive` refuses zero as the
 * parsers that take only positive durations do: the lookahead asks for a non-zero digit.
 */
export function durationPattern(positive: boolean): string {
  return `^\\s*${positive ? '(?=[\\d.]*[1-9])' : ''}${NUMBER}(?:${UNITS})\\s*$`;
}
