// Condition trees to closures, once per load: type-specialised comparisons, precompiled regexes,
// globs and sets, `and`/`or` operands ordered cheapest first (costly lazy fields run last). Also the
// static analysis the index and the probe configuration are derived from: which kinds and system
// calls a condition can be true for, and which paths it names.
import type { FieldType, EvalContext, ResolvedField, Value } from './fields.js';
import { SYSCALL_ARG_KEYS } from './fields.js';
import { ConditionError, type Arith, type Node, type Op } from './parser.js';
import type { MetricName } from '../metrics/types.js';
import { compileGlob, globFault } from '../../common/glob.js';
import { linearRegExp, RegexError } from '../regex.js';

export type Pred = (c: EvalContext) => boolean;

const ALLOWED: Record<FieldType, readonly Op[]> = {
  string: ['=', '!=', 'in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'exists'],
  list: ['=', '!=', 'in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'exists'],
  number: ['=', '!=', '<', '<=', '>', '>=', 'in', 'exists'],
  bool: ['=', '!=', 'exists'],
};

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
      case 'in': {
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
    case 'in': {
      const set = new Set(values);
      return list ? strPred(get, true, (s) => set.has(s)) : (c) => set.has(get(c) as string);
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

/** Estimated cost of evaluating a node (orders and/or operands). */
export function cost(n: Node): number {
  switch (n.t) {
    case 'cmp':
      return n.field.def.cost + (n.op === 'regex' || n.op === 'glob' ? 4 : n.op === 'icontains' ? 2 : 0);
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
    case 'cmp':
      return compileCmp(n.field, n.op, n.values, n.valuePos, n.pos);
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
      if (n.op === '!=') return null;
      if (n.field.def.name === 'evt.kind' && (n.op === '=' || n.op === 'in')) return new Set(n.values);
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
      if (n.field.def.name === 'evt.syscall' && (n.op === '=' || n.op === 'in')) return new Set(n.values);
      if (n.field.def.name === 'evt.arg' && n.field.param !== undefined) return new Set(SYSCALL_ARG_KEYS.get(n.field.param) ?? []);
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

export interface WatchSpec {
  kind: 'exact' | 'prefix' | 'name';
  path: string;
}

/** Paths a condition names positively (not under `not`): what the file/connect probes must watch. */
export function watchesOf(n: Node, out: WatchSpec[] = []): WatchSpec[] {
  if (n.t === 'and' || n.t === 'or') n.items.forEach((i) => watchesOf(i, out));
  if (n.t !== 'cmp') return out;
  const name = n.field.def.name;
  const byName = name === 'file.name' || name === 'net.name' || name === 'file.dest_name';
  const byPath = name === 'file.path' || name === 'fd.name' || name === 'net.path' || name === 'file.dest' || name === 'file.directory';
  if (!byName && !byPath) return out;
  for (const v of n.values) {
    if (byName) {
      if ((n.op === '=' || n.op === 'in') && v !== '') out.push({ kind: 'name', path: v });
      else if (n.op === 'glob' && literalOf(v) !== undefined) out.push({ kind: 'name', path: literalOf(v)! });
      continue;
    }
    if (name === 'file.directory') {
      if ((n.op === '=' || n.op === 'in') && v.startsWith('/')) out.push({ kind: 'prefix', path: v.endsWith('/') ? v : v + '/' });
      else if (n.op === 'startswith' && v.startsWith('/')) out.push({ kind: 'prefix', path: v });
      continue;
    }
    if ((n.op === '=' || n.op === 'in') && v.startsWith('/')) out.push({ kind: 'exact', path: v });
    else if (n.op === 'startswith' && v.startsWith('/')) out.push({ kind: 'prefix', path: v });
    else if (n.op === 'glob' && v.startsWith('/')) {
      const lit = literalOf(v);
      if (lit !== undefined) out.push({ kind: 'exact', path: lit });
      else {
        const pre = prefixOf(v);
        const dir = pre.slice(0, pre.lastIndexOf('/') + 1);
        if (dir.length > 1) out.push({ kind: 'prefix', path: dir });
      }
    }
  }
  return out;
}

/** One key a file or connect event may carry: its basename, its whole path, or a prefix of it (of file.path/net.path, or of file.dest). */
export interface PathKey {
  on: 'path' | 'dest';
  type: 'name' | 'exact' | 'prefix';
  v: string;
}

function pathKeysOfCmp(n: Extract<Node, { t: 'cmp' }>, kind: 'file' | 'connect'): PathKey[] | null {
  const name = n.field.def.name;
  const op = n.op;
  const eq = op === '=' || op === 'in';
  const paths = (on: 'path' | 'dest'): PathKey[] | null => {
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
  const names = (on: 'path' | 'dest'): PathKey[] | null => {
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
  if (name === 'file.name') return names('path');
  if (name === 'file.dest') return paths('dest');
  if (name === 'file.dest_name') return names('dest');
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
