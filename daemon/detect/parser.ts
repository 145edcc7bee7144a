// The condition grammar (docs/rules.md), parsed once into a small tree that compile.ts turns into
// closures. Recursive descent straight over the text, so every error carries its offset:
//
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | primary
//   primary := '(' expr ')' | MACRO | FIELD 'exists' | FIELD OP rhs | FIELD LISTOP list | mcmp
//   FIELD   := NAME | TRANSFORMER '(' FIELD ')'               (tolower, toupper, basename, b64, len)
//   rhs     := value | 'val' '(' FIELD ')'                     (another field of the same event)
//   LISTOP  := 'in' | 'pmatch' | 'intersects'
//   list    := '(' value (',' value)* ')' | LIST            (list names expand in place)
//   mcmp    := arith CMP arith                                (metric rules)
//   arith   := term (('+'|'-') term)* ; term := factor (('*'|'/') factor)*
//   factor  := NUMBER | metric.NAME | delta(metric.NAME) | rate(metric.NAME) | '(' arith ')' | '-' factor
import { resolveField, type FieldDef, type FieldType, type Getter, type ResolvedField, type Value } from './fields.js';
import { syscallTable } from '../sensor/syscalls.js';
import type { MetricName } from '../core/metric-names.js';

export const CMP_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export const WORD_OPS = [
  'in',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'glob',
  'regex',
  'exists',
  'pmatch',
  'intersects',
  'bcontains',
  'bstartswith',
] as const;
/** Operators whose right-hand side is a list of values. */
export const LIST_OPS: ReadonlySet<string> = new Set(['in', 'pmatch', 'intersects']);
/** Falco's field transformers. */
export const TRANSFORMERS = ['tolower', 'toupper', 'basename', 'b64', 'len'] as const;
type Transformer = (typeof TRANSFORMERS)[number];
export type Op = (typeof CMP_OPS)[number] | (typeof WORD_OPS)[number];

export type Arith =
  | { t: 'num'; v: number }
  | { t: 'metric'; name: MetricName; fn: 'value' | 'delta' | 'rate'; pos: number }
  | { t: 'bin'; op: '+' | '-' | '*' | '/'; l: Arith; r: Arith };

export type Node =
  | { t: 'and'; items: Node[] }
  | { t: 'or'; items: Node[] }
  | { t: 'not'; item: Node }
  | { t: 'cmp'; field: ResolvedField; op: Op; values: string[]; pos: number; valuePos: number; rhs?: ResolvedField; absentFalse?: boolean }
  | { t: 'mcmp'; l: Arith; op: (typeof CMP_OPS)[number]; r: Arith; pos: number };

/** A condition error at an offset of the text being parsed. */
export class ConditionError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** What names mean while parsing: macros and lists of the rule set. */
export interface Scope {
  /** A macro's tree (already parsed); undefined when no such macro. May throw its own located error. */
  macro(name: string): Node | undefined;
  list(name: string): readonly string[] | undefined;
  /** Metric rules: arithmetic over metric.* is allowed, event fields are not (container.* are). */
  metric?: boolean;
  /**
   * A rule in Falco's form (priority:): a comparison with a field the event does not have is false,
   * `!=` included, as in Falco (vigil's own rules: `!=` is true for an absent field).
   */
  falco?: boolean;
}

const KEYWORDS = new Set(['and', 'or', 'not']);
// Characters that end a bare word (besides white space).
const STOP = new Set(['(', ')', ',', '=', '<', '>', '!', '"', "'"]);
const ARITH_STOP = new Set([...STOP, '+', '-', '*', '/']);

interface Tok {
  t: 'word' | 'str' | 'sym' | 'eof';
  v: string;
  pos: number;
  end: number;
}

export class Parser {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly scope: Scope,
  ) {}

  static parse(text: string, scope: Scope): Node {
    const p = new Parser(text, scope);
    const n = p.expr();
    const t = p.peek();
    if (t.t !== 'eof') throw new ConditionError(t.pos, `unexpected ${describe(t)}`);
    return n;
  }

  // ---- lexing ----

  private skipSpace(): void {
    const s = this.s;
    while (this.i < s.length && /\s/.test(s[this.i]!)) this.i++;
  }

  private lex(arith = false): Tok {
    this.skipSpace();
    const s = this.s;
    const pos = this.i;
    if (pos >= s.length) return { t: 'eof', v: '', pos, end: pos };
    const ch = s[pos]!;
    if (ch === '(' || ch === ')' || ch === ',') {
      this.i++;
      return { t: 'sym', v: ch, pos, end: this.i };
    }
    if (arith && (ch === '+' || ch === '-' || ch === '*' || ch === '/')) {
      this.i++;
      return { t: 'sym', v: ch, pos, end: this.i };
    }
    if (ch === '=' || ch === '<' || ch === '>' || ch === '!') {
      const two = s.slice(pos, pos + 2);
      if (two === '!=' || two === '<=' || two === '>=' || two === '==') {
        this.i += 2;
        return { t: 'sym', v: two === '==' ? '=' : two, pos, end: this.i };
      }
      if (ch === '!') throw new ConditionError(pos, 'unexpected "!" (use "not" or "!=")');
      this.i++;
      return { t: 'sym', v: ch, pos, end: this.i };
    }
    if (ch === '"' || ch === "'") {
      let out = '';
      let j = pos + 1;
      for (;;) {
        if (j >= s.length) throw new ConditionError(pos, 'unterminated string');
        const c = s[j]!;
        if (c === ch) break;
        if (c === '\\' && j + 1 < s.length) {
          const n = s[j + 1]!;
          out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
          continue;
        }
        out += c;
        j++;
      }
      this.i = j + 1;
      return { t: 'str', v: out, pos, end: this.i };
    }
    const stop = arith ? ARITH_STOP : STOP;
    let j = pos;
    let depth = 0;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '[') depth++;
      else if (c === ']') depth = Math.max(0, depth - 1);
      else if (depth === 0 && (stop.has(c) || /\s/.test(c))) break;
      j++;
    }
    // A number in arithmetic may carry an exponent sign (1e-3).
    if (arith && j < s.length && (s[j] === '-' || s[j] === '+') && /^\d+(\.\d+)?[eE]$/.test(s.slice(pos, j))) {
      j++;
      while (j < s.length && /\d/.test(s[j]!)) j++;
    }
    this.i = j;
    return { t: 'word', v: s.slice(pos, j), pos, end: j };
  }

  private peek(arith = false): Tok {
    const save = this.i;
    const t = this.lex(arith);
    this.i = save;
    return t;
  }

  private isWord(t: Tok, w: string): boolean {
    return t.t === 'word' && t.v === w;
  }

  // ---- grammar ----

  private expr(): Node {
    const items = [this.and()];
    while (this.isWord(this.peek(), 'or')) {
      this.lex();
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { t: 'or', items };
  }

  private and(): Node {
    const items = [this.unary()];
    while (this.isWord(this.peek(), 'and')) {
      this.lex();
      items.push(this.unary());
    }
    return items.length === 1 ? items[0]! : { t: 'and', items };
  }

  private unary(): Node {
    if (this.isWord(this.peek(), 'not')) {
      this.lex();
      return { t: 'not', item: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    const start = this.i;
    const t = this.peek();
    if (this.scope.metric && this.looksArith(t)) {
      try {
        return this.mcmp();
      } catch (err) {
        if (!(err instanceof ConditionError) || !(t.t === 'sym' && t.v === '(')) throw err;
        this.i = start;
      }
    }
    this.lex();
    if (t.t === 'sym' && t.v === '(') {
      const n = this.expr();
      const close = this.lex();
      if (close.t !== 'sym' || close.v !== ')')
        throw new ConditionError(close.pos, `expected ")" to close the "(" at offset ${t.pos}, found ${describe(close)}`);
      return n;
    }
    if (t.t === 'eof') throw new ConditionError(t.pos, 'unexpected end of condition');
    if (t.t !== 'word') throw new ConditionError(t.pos, `unexpected ${describe(t)}`);
    if (KEYWORDS.has(t.v)) throw new ConditionError(t.pos, `unexpected "${t.v}"`);
    const next = this.peek();
    if ((TRANSFORMERS as readonly string[]).includes(t.v) && next.t === 'sym' && next.v === '(') return this.comparison(this.transformed(t), t);
    const macro = this.scope.macro(t.v);
    if (macro) return macro;
    const f = resolveField(t.v);
    if (typeof f === 'string') {
      throw new ConditionError(t.pos, t.v.includes('.') || t.v.includes('[') ? f : `unknown macro or field ${JSON.stringify(t.v)}`);
    }
    if (f.def.kinds?.length === 1 && f.def.kinds[0] === 'metric' && !this.scope.metric)
      throw new ConditionError(t.pos, `${t.v} is a metric: only metric rules (type: metric) may use it`);
    if (this.scope.metric && f.def.kinds && !f.def.kinds.includes('metric'))
      throw new ConditionError(t.pos, `${t.v} is an event field: a metric rule may use metric.* and container.* fields`);
    return this.comparison(f, t);
  }

  /** A field name, or a transformer applied to one (the transformer's name token is consumed). */
  private fieldRef(t: Tok): ResolvedField {
    if (t.t === 'word' && (TRANSFORMERS as readonly string[]).includes(t.v)) {
      const next = this.peek();
      if (next.t === 'sym' && next.v === '(') return this.transformed(t);
    }
    if (t.t !== 'word') throw new ConditionError(t.pos, `expected a field, found ${describe(t)}`);
    const f = resolveField(t.v);
    if (typeof f === 'string') throw new ConditionError(t.pos, f);
    return f;
  }

  private transformed(t: Tok): ResolvedField {
    this.lex();
    const inner = this.fieldRef(this.lex());
    const close = this.lex();
    if (close.t !== 'sym' || close.v !== ')') throw new ConditionError(close.pos, `expected ")" after ${t.v}(${inner.name}, found ${describe(close)}`);
    return transform(t.v as Transformer, inner, t.pos);
  }

  private comparison(field: ResolvedField, ft: Tok): Node {
    const n = this.comparison0(field, ft);
    if (this.scope.falco && n.t === 'cmp' && n.op === '!=') n.absentFalse = true;
    return n;
  }

  private comparison0(field: ResolvedField, ft: Tok): Node {
    const opTok = this.lex();
    let op: Op;
    if (opTok.t === 'sym' && (CMP_OPS as readonly string[]).includes(opTok.v)) op = opTok.v as Op;
    else if (opTok.t === 'word' && (WORD_OPS as readonly string[]).includes(opTok.v)) op = opTok.v as Op;
    else if (opTok.t === 'eof' || this.isWord(opTok, 'and') || this.isWord(opTok, 'or') || (opTok.t === 'sym' && opTok.v === ')'))
      throw new ConditionError(opTok.pos, `expected an operator after ${ft.v}`);
    else throw new ConditionError(opTok.pos, `unknown operator ${describe(opTok)} (operators: ${[...CMP_OPS, ...WORD_OPS].join(' ')})`);
    if (op === 'exists') return { t: 'cmp', field, op, values: [], pos: ft.pos, valuePos: opTok.pos };
    if (LIST_OPS.has(op)) {
      const open = this.peek();
      if (open.t === 'sym' && open.v === '(') {
        this.lex();
        const values: string[] = [];
        for (;;) {
          const v = this.lex();
          if (v.t === 'sym' && v.v === ')' && values.length === 0) break;
          if (v.t !== 'word' && v.t !== 'str') throw new ConditionError(v.pos, `expected a value, found ${describe(v)}`);
          const list = v.t === 'word' ? this.scope.list(v.v) : undefined;
          if (list) values.push(...list);
          else values.push(v.v);
          this.checkSyscalls(field, op, list ?? [v.v], v.pos);
          const sep = this.lex();
          if (sep.t === 'sym' && sep.v === ')') break;
          if (sep.t !== 'sym' || sep.v !== ',') throw new ConditionError(sep.pos, `expected "," or ")" in the value list, found ${describe(sep)}`);
        }
        return { t: 'cmp', field, op, values, pos: ft.pos, valuePos: open.pos };
      }
      const v = this.lex();
      const list = v.t === 'word' ? this.scope.list(v.v) : undefined;
      if (!list)
        throw new ConditionError(
          v.pos,
          v.t === 'word'
            ? `unknown list ${JSON.stringify(v.v)} (or write "${op} (${v.v})")`
            : `expected "(" or a list name after "${op}", found ${describe(v)}`,
        );
      this.checkSyscalls(field, op, list, v.pos);
      return { t: 'cmp', field, op, values: [...list], pos: ft.pos, valuePos: v.pos };
    }
    const v = this.lex();
    // Falco's evt.dir values are the bare symbols < and >.
    if (v.t === 'sym' && (v.v === '<' || v.v === '>')) return { t: 'cmp', field, op, values: [v.v], pos: ft.pos, valuePos: v.pos };
    if (v.t !== 'word' && v.t !== 'str') throw new ConditionError(v.pos, `expected a value after ${op}, found ${describe(v)}`);
    if (v.t === 'word' && KEYWORDS.has(v.v)) throw new ConditionError(v.pos, `expected a value after ${op}, found "${v.v}"`);
    if (v.t === 'word' && v.v === 'val') {
      const open = this.peek();
      if (open.t === 'sym' && open.v === '(') {
        this.lex();
        const rhs = this.fieldRef(this.lex());
        const close = this.lex();
        if (close.t !== 'sym' || close.v !== ')') throw new ConditionError(close.pos, `expected ")" after val(${rhs.name}, found ${describe(close)}`);
        return { t: 'cmp', field, op, values: [], pos: ft.pos, valuePos: v.pos, rhs };
      }
    }
    this.checkSyscalls(field, op, [v.v], v.pos);
    return { t: 'cmp', field, op, values: [v.v], pos: ft.pos, valuePos: v.pos };
  }

  /** A system call name that no architecture vigil knows is a typo (evt.type = chmood), not a rule that never fires. */
  private checkSyscalls(field: ResolvedField, op: Op, values: readonly string[], pos: number): void {
    const name = field.def.name;
    if (name !== 'evt.type' && name !== 'evt.syscall') return;
    if (op !== '=' && op !== '!=' && op !== 'in') return;
    for (const v of values)
      if (!isSyscallName(v))
        throw new ConditionError(pos, `unknown system call ${JSON.stringify(v)} (${field.name} compares system call names, e.g. openat, execve)`);
  }

  // ---- metric arithmetic ----

  private looksArith(t: Tok): boolean {
    if (t.t === 'sym') return t.v === '(' || t.v === '-';
    if (t.t !== 'word') return false;
    const w = this.peek(true).v;
    return /^-?\d/.test(w) || w.startsWith('metric.') || w === 'delta' || w === 'rate';
  }

  private mcmp(): Node {
    const pos = this.peek().pos;
    const l = this.arith();
    const op = this.lex();
    if (op.t !== 'sym' || !(CMP_OPS as readonly string[]).includes(op.v))
      throw new ConditionError(op.pos, `expected a comparison (${CMP_OPS.join(' ')}) after the expression, found ${describe(op)}`);
    const r = this.arith();
    return { t: 'mcmp', l, op: op.v as (typeof CMP_OPS)[number], r, pos };
  }

  private arith(): Arith {
    let l = this.term();
    for (;;) {
      const t = this.peek(true);
      if (t.t === 'sym' && (t.v === '+' || t.v === '-')) {
        this.lex(true);
        l = { t: 'bin', op: t.v, l, r: this.term() };
      } else return l;
    }
  }

  private term(): Arith {
    let l = this.factor();
    for (;;) {
      const t = this.peek(true);
      if (t.t === 'sym' && (t.v === '*' || t.v === '/')) {
        this.lex(true);
        l = { t: 'bin', op: t.v, l, r: this.factor() };
      } else return l;
    }
  }

  private factor(): Arith {
    const t = this.lex(true);
    if (t.t === 'sym' && t.v === '-') return { t: 'bin', op: '-', l: { t: 'num', v: 0 }, r: this.factor() };
    if (t.t === 'sym' && t.v === '(') {
      const a = this.arith();
      const c = this.lex(true);
      if (c.t !== 'sym' || c.v !== ')') throw new ConditionError(c.pos, `expected ")", found ${describe(c)}`);
      return a;
    }
    if (t.t !== 'word') throw new ConditionError(t.pos, `expected a number or a metric, found ${describe(t)}`);
    if (/^\d/.test(t.v)) {
      const v = Number(t.v);
      if (!Number.isFinite(v)) throw new ConditionError(t.pos, `not a number: ${JSON.stringify(t.v)}`);
      return { t: 'num', v };
    }
    if (t.v === 'delta' || t.v === 'rate') {
      const open = this.lex(true);
      if (open.t !== 'sym' || open.v !== '(') throw new ConditionError(open.pos, `expected "(" after ${t.v}`);
      const m = this.metricName(this.lex(true));
      const close = this.lex(true);
      if (close.t !== 'sym' || close.v !== ')') throw new ConditionError(close.pos, `expected ")" after ${t.v}(${m.name}`);
      return { t: 'metric', name: m.name, fn: t.v, pos: t.pos };
    }
    const m = this.metricName(t);
    return { t: 'metric', name: m.name, fn: 'value', pos: t.pos };
  }

  private metricName(t: Tok): { name: MetricName } {
    if (t.t !== 'word' || !t.v.startsWith('metric.')) throw new ConditionError(t.pos, `expected metric.<name>, found ${describe(t)}`);
    const f = resolveField(t.v);
    if (typeof f === 'string') throw new ConditionError(t.pos, f);
    return { name: f.param as MetricName };
  }
}

function describe(t: Tok): string {
  return t.t === 'eof' ? 'end of condition' : t.t === 'str' ? `string ${JSON.stringify(t.v)}` : `"${t.v}"`;
}

/** A name of a system call of an architecture vigil has a table for (or the syscall_<nr> vigil prints for an unknown number). */
export function isSyscallName(name: string): boolean {
  return syscallTable('x86_64').nr(name) !== undefined || syscallTable('arm64').nr(name) !== undefined || /^syscall_\d+$/.test(name);
}

function mapValue(v: Value, f: (s: string) => string): Value {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return (v as readonly unknown[]).map((x) => f(String(x)));
  return undefined;
}

/**
 * A transformer over a field. The result gets its own definition (named after the expression), so
 * the path analysis never takes tolower(fd.name) for fd.name; kinds and system calls carry over.
 */
function transform(name: Transformer, inner: ResolvedField, pos: number): ResolvedField {
  const g = inner.get;
  let get: Getter;
  let type: FieldType = inner.type;
  if (inner.type !== 'string' && inner.type !== 'list')
    throw new ConditionError(pos, `${name}() applies to strings and lists; ${inner.name} is a ${inner.type}`);
  switch (name) {
    case 'tolower':
      get = (c) => mapValue(g(c), (s) => s.toLowerCase());
      break;
    case 'toupper':
      get = (c) => mapValue(g(c), (s) => s.toUpperCase());
      break;
    case 'basename':
      get = (c) => mapValue(g(c), (s) => s.slice(s.lastIndexOf('/') + 1));
      break;
    case 'b64':
      get = (c) => mapValue(g(c), (s) => Buffer.from(s, 'base64').toString('utf8'));
      break;
    case 'len':
      type = 'number';
      get = (c) => {
        const v = g(c);
        return typeof v === 'string' || Array.isArray(v) ? v.length : undefined;
      };
      break;
  }
  const text = `${name}(${inner.name})`;
  const def: FieldDef = { ...inner.def, name: `${name}(${inner.def.name})`, type, get, param: undefined, aliasOf: undefined, compare: undefined };
  return { name: text, def, get, type };
}
