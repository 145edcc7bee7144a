// Condition trees to closures, once per load: type-specialised comparisons, precompiled regexes,
// globs and sets, `and`/`or` operands ordered cheapest first (costly lazy fields run last). Also the
// static analysis the index and the probe configuration are derived from: which kinds and system
// calls a condition can be true for, and which paths it names.
import type { FieldType, EvalContext, ResolvedField, Value } from './fields.js';
import { SYSCALL_ARG_KEYS } from './fields.js';
import { ConditionError, type Arith, type Node, type Op } from './parser.js';
import type { MetricName } from '../core/metric-names.js';
import { compileGlob, globFault } from '../../common/glob.js';
import { linearRegExp, RegexError } from '../core/regex.js';
import { Handler, syscallTable } from '../sensor/syscalls.js';
import { FS_MAGICS } from '../sensor/names.js';
import { VG_NAME_MAX } from '../sensor/layout.js';

/** Event kinds each probe handler produces. */
export const HANDLER_KINDS: ReadonlyMap<number, readonly string[]> = new Map([
  [Handler.EXECVE, ['exec']],
  [Handler.EXECVEAT, ['exec']],
  [Handler.CLONE, ['fork', 'ns_change']],
  [Handler.CLONE3, ['fork', 'ns_change']],
  [Handler.FORK, ['fork']],
  [Handler.UNSHARE, ['ns_change']],
  [Handler.SETNS, ['ns_change', 'syscall']],
  // a refused setuid-family call is a syscall event (nothing changed, so no cred_change)
  [Handler.CRED, ['cred_change', 'syscall']],
  ...[
    Handler.OPEN,
    Handler.OPENAT,
    Handler.OPENAT2,
    Handler.CREAT,
    Handler.RENAME,
    Handler.RENAMEAT,
    Handler.LINK,
    Handler.LINKAT,
    Handler.SYMLINK,
    Handler.SYMLINKAT,
    Handler.UNLINK,
    Handler.UNLINKAT,
  ].map((h): [number, readonly string[]] => [h, ['file']]),
  [Handler.CONNECT, ['connect']],
  // the call itself, and the file it opened when that file is watched
  [Handler.OPEN_BY_HANDLE, ['syscall', 'file']],
]);

let tracedKinds: Map<string, readonly string[]> | undefined;
/** The system calls vigil's probes can trace, with the event kinds each produces (x86_64's table: the widest). */
export function tracedSyscalls(): ReadonlyMap<string, readonly string[]> {
  if (!tracedKinds) {
    const t = syscallTable('x86_64');
    tracedKinds = new Map(t.defaults().map((e) => [t.name(e.nr) ?? '', HANDLER_KINDS.get(e.handler) ?? ['syscall']]));
  }
  return tracedKinds;
}

export type Pred = (c: EvalContext) => boolean;

const ALLOWED: Record<FieldType, readonly Op[]> = {
  string: ['=', '!=', 'in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'exists', 'pmatch', 'intersects', 'bcontains', 'bstartswith'],
  list: ['=', '!=', 'in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'exists', 'pmatch', 'intersects', 'bcontains', 'bstartswith'],
  number: ['=', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists'],
  bool: ['=', '!=', 'exists'],
};

/** Falco's bcontains/bstartswith take the bytes as hex. */
function hexBytes(v: string, pos: number): Buffer {
  if (!/^([0-9a-fA-F]{2})+$/.test(v)) throw new ConditionError(pos, `expected bytes in hex (e.g. 7f454c46), not ${JSON.stringify(v)}`);
  return Buffer.from(v, 'hex');
}

function toNumber(v: string, pos: number, f: ResolvedField): number {
  const n = /^-?0x[0-9a-f]+$/i.test(v) ? (v.startsWith('-') ? -Number(v.slice(1)) : Number(v)) : /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new ConditionError(pos, `${f.name} is a number: ${JSON.stringify(v)} is not one`);
  return n;
}

function toBool(v: string, pos: number, f: ResolvedField): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConditionError(pos, `${f.name} is true or false, not ${JSON.stringify(v)}`);
}

function strPred(get: (c: EvalContext) => Value, list: boolean, test: (s: string) => boolean): Pred {
  if (list)
    return (c) => {
      const x = get(c) as readonly string[] | undefined;
      if (x === undefined) return false;
      for (let i = 0; i < x.length; i++) if (test(x[i]!)) return true;
      return false;
    };
  return (c) => {
    const x = get(c);
    return typeof x === 'string' && test(x);
  };
}

/** One comparison to a closure; throws ConditionError for a bad operator or value. */
export function compileCmp(field: ResolvedField, op: Op, values: readonly string[], valuePos: number, pos = valuePos): Pred {
  const type = field.type;
  if (!ALLOWED[type].includes(op)) throw new ConditionError(pos, `${field.name} is a ${type}: operator ${op} does not apply (use ${ALLOWED[type].join(' ')})`);
  const get = field.get;
  if (op === 'exists') return (c) => get(c) !== undefined;
  if (field.def.compare) {
    const own = field.def.compare(op, values);
    if (typeof own === 'string') throw new ConditionError(valuePos, own);
    if (own) return own;
  }
  if (op === '!=') {
    const eq = compileCmp(field, '=', values, valuePos, pos);
    return (c) => !eq(c);
  }
  if (type === 'number') {
    const nums = values.map((v) => toNumber(v, valuePos, field));
    const v = nums[0]!;
    switch (op) {
      case '=':
        return (c) => get(c) === v;
      case '<':
        return (c) => (get(c) as number) < v;
      case '<=':
        return (c) => (get(c) as number) <= v;
      case '>':
        return (c) => (get(c) as number) > v;
      case '>=':
        return (c) => (get(c) as number) >= v;
      case 'in':
      case 'intersects': {
        const set = new Set(nums);
        return (c) => set.has(get(c) as number);
      }
    }
  }
  if (type === 'bool') {
    const b = toBool(values[0]!, valuePos, field);
    return (c) => get(c) === b;
  }
  const list = type === 'list';
  const v = values[0] ?? '';
  switch (op) {
    case '=':
      return list ? strPred(get, true, (s) => s === v) : (c) => get(c) === v;
    case 'in':
    case 'intersects': {
      // A list field matches when any element is in the set (vigil's `in`; Falco's `intersects`).
      const set = new Set(values);
      return list ? strPred(get, true, (s) => set.has(s)) : (c) => set.has(get(c) as string);
    }
    case 'pmatch': {
      // Falco's path match: the value is one of the paths or lies below one of them.
      const dirs = values.map((p) => (p.endsWith('/') ? p : p + '/'));
      const exact = new Set(values.map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p)));
      return strPred(get, list, (s) => exact.has(s) || dirs.some((d) => s.startsWith(d)));
    }
    case 'bcontains': {
      const b = hexBytes(v, valuePos);
      return strPred(get, list, (s) => Buffer.from(s, 'utf8').includes(b));
    }
    case 'bstartswith': {
      const b = hexBytes(v, valuePos);
      return strPred(get, list, (s) => Buffer.from(s, 'utf8').subarray(0, b.length).equals(b));
    }
    case 'contains':
      return list ? strPred(get, true, (s) => s === v) : strPred(get, false, (s) => s.includes(v));
    case 'icontains': {
      const lv = v.toLowerCase();
      return list ? strPred(get, true, (s) => s.toLowerCase() === lv) : strPred(get, false, (s) => s.toLowerCase().includes(lv));
    }
    case 'startswith':
      return strPred(get, list, (s) => s.startsWith(v));
    case 'endswith':
      return strPred(get, list, (s) => s.endsWith(v));
    case 'glob': {
      // path mode for every field: rules name paths far more than anything else (docs/rules.md)
      const fault = globFault(v);
      if (fault) throw new ConditionError(valuePos, `bad glob ${JSON.stringify(v)} at column ${fault.index + 1}: ${fault.reason}`);
      const g = compileGlob(v, 'path');
      return strPred(get, list, (s) => g.test(s));
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = linearRegExp(v);
      } catch (err) {
        if (err instanceof RegexError) throw new ConditionError(valuePos, `bad regex: ${err.reason}`);
        throw err;
      }
      return strPred(get, list, (s) => re.test(s));
    }
  }
  throw new ConditionError(pos, `operator ${op} does not apply to ${field.name}`);
}

/** A comparison with another field of the same event (Falco's val()): both read per event. */
export function compileFieldCmp(field: ResolvedField, op: Op, rhs: ResolvedField, pos: number): Pred {
  const l = field.get;
  const r = rhs.get;
  const num = field.type === 'number';
  if (num !== (rhs.type === 'number'))
    throw new ConditionError(pos, `${field.name} is a ${field.type} and ${rhs.name} a ${rhs.type}: val() compares fields of one type`);
  const scalar = (x: Value): string | number | boolean | undefined => (Array.isArray(x) ? undefined : (x as string | number | boolean | undefined));
  switch (op) {
    case '=':
    case '!=': {
      const eq: Pred = (c) => {
        const a = scalar(l(c));
        return a !== undefined && a === scalar(r(c));
      };
      return op === '=' ? eq : (c) => !eq(c);
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (!num) throw new ConditionError(pos, `${op} compares numbers`);
      return (c) => {
        const a = l(c) as number | undefined;
        const b = r(c) as number | undefined;
        if (a === undefined || b === undefined) return false;
        return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
      };
    }
    case 'contains':
    case 'startswith':
    case 'endswith': {
      const test = (a: string, b: string): boolean => (op === 'contains' ? a.includes(b) : op === 'startswith' ? a.startsWith(b) : a.endsWith(b));
      return (c) => {
        const a = l(c);
        const b = r(c);
        return typeof a === 'string' && typeof b === 'string' && test(a, b);
      };
    }
    case 'in':
    case 'intersects':
      return (c) => {
        const a = l(c);
        const b = r(c);
        if (a === undefined || b === undefined) return false;
        const set = new Set<unknown>(Array.isArray(b) ? b : [b]);
        return Array.isArray(a) ? a.some((x) => set.has(x)) : set.has(a);
      };
  }
  throw new ConditionError(pos, `operator ${op} does not take val()`);
}

/** Estimated cost of evaluating a node (orders and/or operands). */
export function cost(n: Node): number {
  switch (n.t) {
    case 'cmp':
      return (
        n.field.def.cost +
        (n.rhs?.def.cost ?? 0) +
        (n.op === 'regex' || n.op === 'glob' ? 4 : n.op === 'icontains' || n.op === 'pmatch' || n.op === 'bcontains' ? 2 : 0)
      );
    case 'mcmp':
      return 2;
    case 'not':
      return cost(n.item);
    default:
      return n.items.reduce((a, b) => a + cost(b), 0);
  }
}

/** Metric readings a metric condition names, for the match record. */
export function metricNames(n: Node, out = new Set<MetricName>()): Set<MetricName> {
  const walkA = (a: Arith): void => {
    if (a.t === 'metric') out.add(a.name);
    else if (a.t === 'bin') {
      walkA(a.l);
      walkA(a.r);
    }
  };
  if (n.t === 'mcmp') {
    walkA(n.l);
    walkA(n.r);
  } else if (n.t === 'cmp') {
    if (n.field.def.name === 'metric' && n.field.param) out.add(n.field.param as MetricName);
  } else if (n.t === 'not') metricNames(n.item, out);
  else n.items.forEach((i) => metricNames(i, out));
  return out;
}

function compileArith(a: Arith): (c: EvalContext) => number | undefined {
  switch (a.t) {
    case 'num': {
      const v = a.v;
      return () => v;
    }
    case 'metric': {
      const name = a.name;
      if (a.fn === 'delta') return (c) => c.metrics?.delta(name);
      if (a.fn === 'rate') return (c) => c.metrics?.rate(name);
      return (c) => c.metrics?.value(name);
    }
    case 'bin': {
      const l = compileArith(a.l);
      const r = compileArith(a.r);
      const op = a.op;
      return (c) => {
        const x = l(c);
        if (x === undefined) return undefined;
        const y = r(c);
        if (y === undefined) return undefined;
        if (op === '/') return y === 0 ? undefined : x / y;
        return op === '+' ? x + y : op === '-' ? x - y : x * y;
      };
    }
  }
}

/** A condition tree to a predicate. */
export function compile(n: Node): Pred {
  switch (n.t) {
    case 'cmp': {
      const p = n.rhs ? compileFieldCmp(n.field, n.op, n.rhs, n.pos) : compileCmp(n.field, n.op, n.values, n.valuePos, n.pos);
      if (!n.absentFalse) return p;
      // Falco's rules: `!=` with a field the event does not have is false, as every comparison is.
      const get = n.field.get;
      const rhs = n.rhs?.get;
      return rhs ? (c) => get(c) !== undefined && rhs(c) !== undefined && p(c) : (c) => get(c) !== undefined && p(c);
    }
    case 'mcmp': {
      const l = compileArith(n.l);
      const r = compileArith(n.r);
      const op = n.op;
      return (c) => {
        const x = l(c);
        const y = r(c);
        if (x === undefined || y === undefined) return false;
        switch (op) {
          case '=':
            return x === y;
          case '!=':
            return x !== y;
          case '<':
            return x < y;
          case '<=':
            return x <= y;
          case '>':
            return x > y;
          case '>=':
            return x >= y;
        }
      };
    }
    case 'not': {
      const p = compile(n.item);
      return (c) => !p(c);
    }
    case 'and':
    case 'or': {
      const ps = [...n.items].sort((a, b) => cost(a) - cost(b)).map(compile);
      const and = n.t === 'and';
      if (ps.length === 2) {
        const [a, b] = ps as [Pred, Pred];
        return and ? (c) => a(c) && b(c) : (c) => a(c) || b(c);
      }
      if (ps.length === 3) {
        const [a, b, d] = ps as [Pred, Pred, Pred];
        return and ? (c) => a(c) && b(c) && d(c) : (c) => a(c) || b(c) || d(c);
      }
      return and
        ? (c) => {
            for (let i = 0; i < ps.length; i++) if (!ps[i]!(c)) return false;
            return true;
          }
        : (c) => {
            for (let i = 0; i < ps.length; i++) if (ps[i]!(c)) return true;
            return false;
          };
    }
  }
}

// ---- analysis ------------------------------------------------------------------------------------

/** A set, or null for "anything". */
export type Constraint = ReadonlySet<string> | null;

function intersect(a: Constraint, b: Constraint): Constraint {
  if (a === null) return b;
  if (b === null) return a;
  return new Set([...a].filter((x) => b.has(x)));
}
function union(a: Constraint, b: Constraint): Constraint {
  if (a === null || b === null) return null;
  return new Set([...a, ...b]);
}

/**
 * The event kinds a condition can be true for: a necessary condition, never too narrow. Fields
 * carry the kinds that have them (an absent field fails every comparison but `!=`).
 */
export function kindsOf(n: Node): Constraint {
  switch (n.t) {
    case 'cmp': {
      if (n.op === '!=' && !n.absentFalse) return null;
      if (n.field.def.name === 'evt.kind' && (n.op === '=' || n.op === 'in') && !n.rhs) return new Set(n.values);
      if (n.field.def.name === 'evt.type' && (n.op === '=' || n.op === 'in') && !n.rhs) {
        // Falco's evt.type names the call; the call decides the kind (execve: exec, openat: file, ...).
        const traced = tracedSyscalls();
        return new Set(n.values.flatMap((v) => traced.get(v) ?? ['syscall']));
      }
      if (n.rhs)
        return intersect(n.field.def.kinds === undefined ? null : new Set(n.field.def.kinds), n.rhs.def.kinds === undefined ? null : new Set(n.rhs.def.kinds));
      const k = n.field.def.kinds;
      return k === undefined ? null : new Set(k);
    }
    case 'mcmp':
      return new Set(['metric']);
    case 'not':
      return null;
    case 'and':
      return n.items.map(kindsOf).reduce(intersect);
    case 'or':
      return n.items.map(kindsOf).reduce(union);
  }
}

/** The system calls a condition can be true for (by evt.syscall and evt.arg.*), or null. */
export function syscallsOf(n: Node): Constraint {
  switch (n.t) {
    case 'cmp':
      if (n.op === '!=') return null;
      if ((n.field.def.name === 'evt.syscall' || n.field.def.name === 'evt.type') && (n.op === '=' || n.op === 'in') && !n.rhs) return new Set(n.values);
      if (n.field.def.name === 'evt.arg' && n.field.param !== undefined) return new Set(SYSCALL_ARG_KEYS.get(n.field.param) ?? []);
      if (n.field.def.syscalls) return new Set(n.field.def.syscalls);
      return null;
    case 'mcmp':
    case 'not':
      return null;
    case 'and':
      return n.items.map(syscallsOf).reduce(intersect);
    case 'or':
      return n.items.map(syscallsOf).reduce(union);
  }
}

/** A glob's whole text when it has no wildcard (escapes resolved); undefined for a wildcard or a bad glob. */
function literalOf(glob: string): string | undefined {
  return globFault(glob) ? undefined : compileGlob(glob, 'path').literal;
}

/** A glob's literal text before its first wildcard ('' for a bad glob: no constraint is derived). */
function prefixOf(glob: string): string {
  return globFault(glob) ? '' : compileGlob(glob, 'path').prefix;
}

/** Falco's path arguments of file events, and the side of the event (path or dest) each one reads. */
const FALCO_PATH_ARGS: ReadonlyMap<string, 'path' | 'dest'> = new Map([
  ['evt.arg.target', 'path'],
  ['evt.arg.oldpath', 'path'],
  ['evt.arg.name', 'path'],
  ['evt.arg.linkpath', 'dest'],
  ['evt.arg.newpath', 'dest'],
]);

export interface WatchSpec {
  kind: 'exact' | 'prefix' | 'name' | 'fs-exact' | 'fs-prefix' | 'fs-name' | 'suffix' | 'traversal' | 'write-exact' | 'write-prefix' | 'proc-link';
  path: string;
  /** fs-* kinds: the filesystem's superblock magic when the condition names one (file.fs_type = proc). */
  magic?: number;
}

/** File operations and system calls that change a name: the probe matches both their paths against write watches. */
const MODIFY_OPS = new Set(['rename', 'link', 'symlink', 'unlink']);
const MODIFY_SYSCALLS = new Set(['rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat']);
const WRITE_FLAGS = new Set(['file.write', 'evt.is_open_write', 'file.create', 'file.created']);

/**
 * Whether every way the condition holds modifies a file (outside `not`): an open with write intent
 * (file.write, evt.is_open_write, file.create(d) = true) or a rename, link, symlink or unlink. The
 * probe sends such a rule's paths from write watches only, so reads below them stay in the kernel.
 */
export function requiresWrite(n: Node): boolean {
  if (n.t === 'and') return n.items.some(requiresWrite);
  if (n.t === 'or') return n.items.every(requiresWrite);
  if (n.t !== 'cmp' || n.rhs) return false;
  const name = n.field.def.name;
  const eq = n.op === '=' || n.op === 'in';
  if (WRITE_FLAGS.has(name)) return n.op === '=' && n.values.length === 1 && n.values[0] === 'true';
  if (name === 'file.op') return eq && n.values.length > 0 && n.values.every((v) => MODIFY_OPS.has(v));
  if (name === 'evt.syscall' || name === 'evt.type') return eq && n.values.length > 0 && n.values.every((v) => MODIFY_SYSCALLS.has(v));
  return false;
}

/** Path fields of file events whose comparisons the watch table may or may not narrow. */
const FILE_PATH_FIELDS = new Set(['file.path', 'fd.name', 'file.name', 'file.directory', 'file.dest', 'file.dest_name', ...FALCO_PATH_ARGS.keys()]);

/**
 * Whether the watch table can hold every way the condition is true of a file event: some item of an
 * `and` chain, or every branch of an `or`, is a comparison watchesOf turns into entries (exact path,
 * prefix, directory, name, suffix, identity, the traversal class). false: a file event it matches
 * may lie outside every entry (fd.name contains X, a glob starting with a wildcard, no path at all).
 */
export function narrowsPaths(n: Node): boolean {
  if (requiresRaw(n)) return true;
  if (n.t === 'and') return n.items.some(narrowsPaths);
  if (n.t === 'or') return n.items.every(narrowsPaths);
  if (n.t !== 'cmp' || n.rhs || n.op === '!=') return false;
  return watchesOf(n).length > 0;
}

/** Whether the condition compares a file path field outside `not`. */
function mentionsPath(n: Node): boolean {
  if (n.t === 'and' || n.t === 'or') return n.items.some(mentionsPath);
  return n.t === 'cmp' && FILE_PATH_FIELDS.has(n.field.def.name);
}

/** Whether every way the condition holds compares fd.nameraw (outside `not`). */
function requiresRaw(n: Node): boolean {
  if (n.t === 'cmp') return n.field.def.name === 'fd.nameraw';
  if (n.t === 'and') return n.items.some(requiresRaw);
  if (n.t === 'or') return n.items.every(requiresRaw);
  return false;
}

/** The filesystem an `and` chain requires (file.fs_type = X among its items), as a superblock magic. */
function fsMagicOf(items: readonly Node[]): number | undefined {
  for (const i of items) {
    if (i.t === 'cmp' && i.field.def.name === 'file.fs_type' && i.op === '=' && i.values.length === 1) return FS_MAGICS.get(i.values[0]!);
  }
  return undefined;
}

/**
 * Paths a condition names positively (not under `not`): what the file/connect probes must watch.
 * file.fs_path and file.fs_name become identity watches, on the filesystem a sibling
 * `file.fs_type = X` names (any filesystem without one). `endswith` on a path or name becomes a
 * suffix watch; any comparison on fd.nameraw turns on the traversal open class.
 */
export function watchesOf(n: Node, out: WatchSpec[] = [], magic?: number, write = false): WatchSpec[] {
  // A condition that needs fd.nameraw only holds for opens of a raw-argument class (traversal, or
  // write-opens through /proc): its path tests narrow those, and must not make the probe send every
  // open below /etc.
  if (requiresRaw(n)) {
    out.push((write || requiresWrite(n)) && rawBelowProc(n) ? { kind: 'proc-link', path: '/proc/' } : { kind: 'traversal', path: '../' });
    return out;
  }
  write ||= requiresWrite(n);
  if (n.t === 'and') n.items.forEach((i) => watchesOf(i, out, fsMagicOf(n.items) ?? magic, write));
  if (n.t === 'or') n.items.forEach((i) => watchesOf(i, out, magic, write));
  if (n.t !== 'cmp') return out;
  const name = n.field.def.name;
  if (name === 'fd.nameraw') {
    out.push({ kind: 'traversal', path: '../' });
    return out;
  }
  if (n.op === 'endswith' && (name === 'file.path' || name === 'fd.name' || name === 'file.name')) {
    for (const v of n.values)
      if (v !== '' && Buffer.byteLength(v) <= VG_NAME_MAX && (name !== 'file.name' || !v.includes('/'))) out.push({ kind: 'suffix', path: v });
    return out;
  }
  if (name === 'file.fs_path' || name === 'file.fs_name') {
    const m = magic === undefined ? {} : { magic };
    for (const v of n.values) {
      if (name === 'file.fs_name') {
        if ((n.op === '=' || n.op === 'in') && v !== '') out.push({ kind: 'fs-name', path: v, ...m });
      } else if ((n.op === '=' || n.op === 'in') && v.startsWith('/')) out.push({ kind: 'fs-exact', path: v, ...m });
      else if (n.op === 'startswith' && v.startsWith('/')) out.push({ kind: 'fs-prefix', path: v, ...m });
    }
    return out;
  }
  // connects have no write intent: their paths stay read entries
  const w = write && name !== 'net.path';
  const exact = w ? 'write-exact' : 'exact';
  const prefix = w ? 'write-prefix' : 'prefix';
  const byName = name === 'file.name' || name === 'net.name' || name === 'file.dest_name';
  const byPath =
    name === 'file.path' || name === 'fd.name' || name === 'net.path' || name === 'file.dest' || name === 'file.directory' || FALCO_PATH_ARGS.has(name);
  if (!byName && !byPath) return out;
  for (const v of n.values) {
    if (byName) {
      if ((n.op === '=' || n.op === 'in') && v !== '') out.push({ kind: 'name', path: v });
      else if (n.op === 'glob' && literalOf(v) !== undefined) out.push({ kind: 'name', path: literalOf(v)! });
      continue;
    }
    if (name === 'file.directory') {
      if ((n.op === '=' || n.op === 'in') && v.startsWith('/')) out.push({ kind: prefix, path: v.endsWith('/') ? v : v + '/' });
      else if (n.op === 'startswith' && v.startsWith('/')) out.push({ kind: prefix, path: v });
      continue;
    }
    if ((n.op === '=' || n.op === 'in') && v.startsWith('/')) out.push({ kind: exact, path: v });
    else if (n.op === 'startswith' && v.startsWith('/')) out.push({ kind: prefix, path: v });
    else if (n.op === 'pmatch' && v.startsWith('/')) {
      // Falco's pmatch: the path is one of the values or below one
      const dir = v.length > 1 ? v.replace(/\/+$/, '') : v;
      if (dir !== '/') out.push({ kind: exact, path: dir });
      out.push({ kind: prefix, path: dir === '/' ? '/' : dir + '/' });
    } else if (n.op === 'glob' && v.startsWith('/')) {
      const lit = literalOf(v);
      if (lit !== undefined) out.push({ kind: exact, path: lit });
      else {
        const pre = prefixOf(v);
        const dir = pre.slice(0, pre.lastIndexOf('/') + 1);
        if (dir.length > 1) out.push({ kind: prefix, path: dir });
      }
    }
  }
  return out;
}

/** Whether every fd.nameraw comparison of the condition names an argument below /proc/. */
function rawBelowProc(n: Node): boolean {
  if (n.t === 'and' || n.t === 'or') return n.items.filter(requiresRaw).every(rawBelowProc);
  if (n.t !== 'cmp' || n.field.def.name !== 'fd.nameraw') return false;
  return n.values.length > 0 && n.values.every((v) => v.startsWith('/proc/')) && ['=', 'in', 'startswith', 'glob'].includes(n.op);
}

/** What the probe sends for a condition: the open classes it turns on beside its watched paths. */
export type OpenClass = 'watched' | 'watched writes' | 'all opens' | 'all write-opens' | 'traversal opens' | 'proc-link write-opens' | 'none';

/**
 * The watch entries a rule's condition needs, with the broad classes when the watch table cannot
 * narrow it: a file condition whose paths no entry covers (fd.name contains X, a glob that starts
 * with a wildcard, no path test at all) makes the probe send every open, or every write (a prefix
 * "/" in the write trie) when the condition requires write intent, instead of never firing.
 */
export function ruleWatches(n: Node): { specs: WatchSpec[]; cls: OpenClass } {
  const specs = watchesOf(n);
  const kinds = kindsOf(n);
  if (kinds !== null && kinds.size > 0 && [...kinds].every((k) => k === 'file') && !narrowsPaths(n) && !sentByProbe(n) && mentionsPath(n)) {
    const write = requiresWrite(n);
    specs.push({ kind: write ? 'write-prefix' : 'prefix', path: '/' });
    return { specs, cls: write ? 'all write-opens' : 'all opens' };
  }
  if (specs.some((s) => s.kind === 'proc-link')) return { specs, cls: 'proc-link write-opens' };
  if (specs.some((s) => s.kind === 'traversal')) return { specs, cls: 'traversal opens' };
  if (specs.length === 0) return { specs, cls: 'none' };
  return { specs, cls: specs.every((s) => s.kind.startsWith('write-')) ? 'watched writes' : 'watched' };
}

/**
 * The condition only holds for file events the probe sends whatever the watch table holds:
 * creations (file.created = true; vg_on_create sends the hidden, executable and /dev ones) and
 * renames to a hidden name (file.dest_name starting with "."; vg_on_rename).
 */
export function sentByProbe(n: Node): boolean {
  if (n.t === 'and') return n.items.some(sentByProbe);
  if (n.t === 'or') return n.items.every(sentByProbe);
  if (n.t !== 'cmp' || n.rhs) return false;
  const name = n.field.def.name;
  if (name === 'file.created') return n.op === '=' && n.values.length === 1 && n.values[0] === 'true';
  if (name === 'file.dest_name') return n.op === 'startswith' && n.values.length > 0 && n.values.every((v) => v.startsWith('.'));
  return false;
}

/** One key a file or connect event may carry: its basename, its whole path, or a prefix of it (of file.path/net.path, of file.dest, or of the identity file.fs_path). */
export interface PathKey {
  on: 'path' | 'dest' | 'fs';
  type: 'name' | 'exact' | 'prefix';
  v: string;
}

function pathKeysOfCmp(n: Extract<Node, { t: 'cmp' }>, kind: 'file' | 'connect'): PathKey[] | null {
  const name = n.field.def.name;
  const op = n.op;
  const eq = op === '=' || op === 'in';
  const paths = (on: 'path' | 'dest' | 'fs'): PathKey[] | null => {
    if (eq) return n.values.map((v) => ({ on, type: 'exact', v }));
    if (op === 'startswith' && n.values[0]) return [{ on, type: 'prefix', v: n.values[0] }];
    if (op === 'glob') {
      const v = n.values[0] ?? '';
      const lit = literalOf(v);
      if (lit !== undefined) return [{ on, type: 'exact', v: lit }];
      const pre = prefixOf(v);
      if (pre !== '') return [{ on, type: 'prefix', v: pre }];
    }
    return null;
  };
  const names = (on: 'path' | 'dest' | 'fs'): PathKey[] | null => {
    if (eq) return n.values.map((v) => ({ on, type: 'name', v }));
    if (op === 'glob' && literalOf(n.values[0] ?? '') !== undefined) return [{ on, type: 'name', v: literalOf(n.values[0] ?? '')! }];
    return null;
  };
  if (kind === 'connect') {
    if (name === 'net.path') return paths('path');
    if (name === 'net.name') return names('path');
    return null;
  }
  if (name === 'file.path' || name === 'fd.name') return paths('path');
  const arg = FALCO_PATH_ARGS.get(name);
  if (arg) return paths(arg);
  if (name === 'file.name') return names('path');
  if (name === 'file.dest') return paths('dest');
  if (name === 'file.dest_name') return names('dest');
  if (name === 'file.fs_path') return paths('fs');
  if (name === 'file.fs_name') return names('fs');
  if (name === 'file.directory') {
    // dirname(path) = /d implies path starts with /d/ ("/" for the root); only absolute directories.
    if (eq && n.values.every((v) => v.startsWith('/'))) return n.values.map((v) => ({ on: 'path', type: 'prefix', v: v.endsWith('/') ? v : v + '/' }));
    if (op === 'startswith' && n.values[0]?.startsWith('/')) return [{ on: 'path', type: 'prefix', v: n.values[0] }];
  }
  return null;
}

function keysCost(k: PathKey[]): number {
  return k.reduce((a, x) => a + (x.type === 'prefix' ? 4 : 1), 0);
}

/**
 * A necessary condition on the path of a `file` (or `connect`) event for a condition to be true: the
 * event carries at least one of the keys. null: no such constraint (the rule is always a candidate);
 * []: the condition is never true for this kind. Only from comparisons the whole condition requires
 * (an `and` chain, or every branch of an `or`); nothing under `not`.
 */
export function pathKeysOf(n: Node, kind: 'file' | 'connect'): PathKey[] | null {
  const k = kindsOf(n);
  if (k !== null && !k.has(kind)) return [];
  switch (n.t) {
    case 'cmp':
      return n.op === '!=' ? null : pathKeysOfCmp(n, kind);
    case 'mcmp':
    case 'not':
      return null;
    case 'and': {
      let best: PathKey[] | null = null;
      for (const i of n.items) {
        const c = pathKeysOf(i, kind);
        if (c === null) continue;
        if (best === null || keysCost(c) < keysCost(best)) best = c;
      }
      return best;
    }
    case 'or': {
      const out: PathKey[] = [];
      for (const i of n.items) {
        const c = pathKeysOf(i, kind);
        if (c === null) return null;
        out.push(...c);
      }
      return out;
    }
  }
}
