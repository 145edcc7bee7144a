// What a loaded rule can do on this sensor, found statically from its condition: it loads and can
// fire; it is skipped (vigil cannot evaluate it: a plugin's source, or a field vigil has no data for
// that the rule needs to match); or it loads but never fires (no system call vigil traces, no event
// kind, or no watched path can satisfy it). `vigild rules check` prints it per rule, so a Falco user
// sees what runs instead of a rule that loads silently and never fires.
import type { FieldDef } from './fields.js';
import type { Node } from './parser.js';
import { kindsOf, ruleWatches, sentByProbe, syscallsOf, tracedSyscalls, watchesOf, type OpenClass } from './compile.js';

export type RuleState = 'loaded' | 'skipped' | 'never';

export interface RuleStatus {
  state: RuleState;
  /** Why it is skipped or never fires (the field, plugin, system call or path that decides it). */
  reason?: string;
  /** What loads but is weaker than in Falco (a field without data in an exclusion, ...). */
  notes: string[];
  /** What the rule makes the file probe send (compile.ts ruleWatches); absent for rules on other kinds. */
  opens?: OpenClass;
}

/** What each open class costs, in the words `vigild rules check` prints. */
const OPEN_CLASS_TEXT: Record<OpenClass, string> = {
  watched: 'opens of the paths it names (watch entries)',
  'watched writes': 'write-opens, renames, links and unlinks of the paths it names (write watches: reads below them stay in the kernel)',
  'all opens': 'every open on the host (its path test cannot be done by the watch table: contains, a glob starting with a wildcard, no path)',
  'all write-opens': 'every write-open, rename, link and unlink on the host (its path test cannot be done by the watch table)',
  'traversal opens': 'opens whose argument contains "../" (the traversal class)',
  'proc-link write-opens': 'write-opens whose argument starts with /proc/ (the proc-link class)',
  none: 'nothing of its own (creations and renames to hidden names the probe always reports, or paths other rules watch)',
};

export function openClassText(c: OpenClass): string {
  return OPEN_CLASS_TEXT[c];
}

/** The probe sends connects to this address even with inet connects off (probes/syscalls.bpf.c). */
const ALWAYS_SENT_ADDRESS = '169.254.169.254';
const ADDRESS_FIELDS = new Set(['net.address', 'fd.sip', 'fd.rip', 'fd.dip']);

/** The condition requires the remote address to be one the probe always sends. */
function alwaysSentAddress(n: Node): boolean {
  if (n.t === 'and') return n.items.some(alwaysSentAddress);
  return n.t === 'cmp' && ADDRESS_FIELDS.has(n.field.name) && (n.op === '=' || n.op === 'in') && n.values.every((v) => v === ALWAYS_SENT_ADDRESS);
}

function nodataFields(n: Node, out = new Map<string, FieldDef>()): Map<string, FieldDef> {
  switch (n.t) {
    case 'cmp':
      if (n.field.def.nodata) out.set(n.field.name, n.field.def);
      if (n.rhs?.def.nodata) out.set(n.rhs.name, n.rhs.def);
      break;
    case 'not':
      nodataFields(n.item, out);
      break;
    case 'and':
    case 'or':
      n.items.forEach((i) => nodataFields(i, out));
      break;
    case 'mcmp':
      break;
  }
  return out;
}

function names(l: readonly string[]): string {
  return l.length === 1 ? l[0]! : `${l.slice(0, -1).join(', ')} and ${l[l.length - 1]}`;
}

/** The status of one condition tree (a rule's, or one step of a sequence). */
export function conditionStatus(tree: Node): RuleStatus {
  const notes: string[] = [];
  const missing = nodataFields(tree);
  const syscalls = syscallsOf(tree);
  if (syscalls !== null && syscalls.size > 0) {
    const traced = tracedSyscalls();
    const untraced = [...syscalls].filter((s) => !traced.has(s)).sort();
    if (untraced.length === syscalls.size)
      return { state: 'never', reason: `${names(untraced)} ${untraced.length === 1 ? 'is' : 'are'} not traced by vigil's probes`, notes };
    if (untraced.length > 0)
      notes.push(
        `${names(untraced)} not traced (the rule sees ${[...syscalls]
          .filter((s) => traced.has(s))
          .sort()
          .join(', ')})`,
      );
  }
  const kinds = kindsOf(tree);
  if (kinds !== null && kinds.size === 0) {
    if (missing.size > 0) return { state: 'skipped', reason: [...missing].map(([n, d]) => `${n}: ${d.nodata}`).join('; '), notes };
    return { state: 'never', reason: 'no event kind can satisfy the condition (its parts require different kinds)', notes };
  }
  for (const [n, d] of missing) notes.push(`${n} has no data (${d.nodata}): comparisons with it are false, so a "not" around one always holds`);
  const fileOnly = kinds !== null && [...kinds].every((k) => k === 'file');
  const opens = kinds === null || kinds.has('file') ? ruleWatches(tree).cls : undefined;
  if (fileOnly && opens === 'none' && !sentByProbe(tree))
    return {
      state: 'never',
      reason:
        'the file probe reports only watched paths and this condition names none it can watch (exact paths, prefixes, file names); it can only fire on paths other loaded rules watch',
      notes,
    };
  if (opens !== undefined && (fileOnly || opens !== 'none')) return { state: 'loaded', notes, opens };
  if (kinds !== null && [...kinds].every((k) => k === 'connect') && watchesOf(tree).length === 0 && !alwaysSentAddress(tree))
    notes.push('inet connects reach rules only with sensor.connect_inet: true (docs/config.md)');
  return { state: 'loaded', notes };
}

/** A rule's status: every step of a sequence must be able to happen. */
export function ruleStatus(trees: readonly Node[]): RuleStatus {
  const notes: string[] = [];
  let opens: OpenClass | undefined;
  for (const t of trees) {
    const s = conditionStatus(t);
    if (s.state !== 'loaded') return s;
    notes.push(...s.notes);
    // a sequence costs what its broadest step costs
    if (s.opens !== undefined && (opens === undefined || OPEN_CLASS_COST.indexOf(s.opens) > OPEN_CLASS_COST.indexOf(opens))) opens = s.opens;
  }
  return { state: 'loaded', notes: [...new Set(notes)], ...(opens !== undefined ? { opens } : {}) };
}

/** Open classes from the cheapest to the dearest. */
const OPEN_CLASS_COST: readonly OpenClass[] = ['none', 'watched writes', 'proc-link write-opens', 'traversal opens', 'watched', 'all write-opens', 'all opens'];
