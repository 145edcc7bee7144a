// Rule files to compiled rules. Files load in name order, directories in the order given; items of
// the same name replace, append to (`append: true`) or override per key (`override:`) earlier ones.
// Every error is collected with file:line:column; any error rejects the whole set (RuleError).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node as YNode, type Pair, type YAMLMap } from 'yaml';
import { parseDuration } from '../../common/duration.js';
import { VigilError } from '../core/errors.js';
import type { RuleInfo, RuleKind } from './rule-match.js';
import { ACTIONS, SEVERITIES, type ActionName, type Severity } from '../core/severity.js';
import { resolveField, type EvalContext, type Getter, type ResolvedField, type Value } from './fields.js';
import { ConditionError, Parser, type Node, type Op, type Scope, CMP_OPS, LIST_OPS, WORD_OPS } from './parser.js';
import { compile, compileCmp, kindsOf, metricNames, syscallsOf, type Constraint, type Pred } from './compile.js';
import { ruleStatus, type RuleStatus } from './status.js';
export type { RuleStatus } from './status.js';
import type { MetricName } from '../core/metric-names.js';

/**
 * The Falco rules engine version vigil answers to: that of the stable rule file its compatibility
 * test loads (falcosecurity/rules, required_engine_version 0.57.0). Fields and operators of that
 * version vigil lacks are reported per rule (skipped, with the field), not by this number.
 */
export const FALCO_ENGINE_VERSION = '0.57.0';
/** Plugins whose fields vigil provides itself (Falco's container plugin: container.*, k8s.*). */
const BUILTIN_PLUGINS = new Set(['container']);
/** Falco's priority names, any case, to vigil's severities (which are Falco's levels). */
export const PRIORITY_ALIASES: Record<string, Severity> = { info: 'informational', warn: 'warning', err: 'error', crit: 'critical', emerg: 'emergency' };

export interface RuleFileError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A rule set that cannot load: every error found, each with file:line:column. */
export class RuleError extends VigilError {
  readonly errors: RuleFileError[];
  constructor(errors: RuleFileError[]) {
    super('VIGIL_RULE_PARSE', `${errors.length} error${errors.length === 1 ? '' : 's'} in rule files: ${errors.map(formatRuleError).join('; ')}`);
    this.errors = errors;
  }
}

export function formatRuleError(e: RuleFileError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

// ---- positions -----------------------------------------------------------------------------------

interface Src {
  file: string;
  text: string;
  lc: LineCounter;
}

class Located extends Error {
  constructor(readonly err: RuleFileError) {
    super(err.message);
  }
}

function locAt(src: Src, offset: number, message: string): RuleFileError {
  const p = src.lc.linePos(offset);
  return { file: src.file, line: p.line, column: p.col, message };
}

function at(src: Src, node: YNode | Pair | null | undefined, message: string): Located {
  const range = node && 'range' in node ? node.range : undefined;
  const off =
    range?.[0] ?? (node && 'key' in node && node.key && typeof node.key === 'object' && 'range' in node.key ? (node.key as YNode).range?.[0] : 0) ?? 0;
  return new Located(locAt(src, off, message));
}

/** Condition text with a map from its offsets back to the file (folding changes only white space). */
interface CondText {
  text: string;
  loc(offset: number, message: string): RuleFileError;
  /** file:line of its start. */
  where: string;
}

function condText(src: Src, node: YNode): CondText {
  if (!isScalar(node) || typeof node.value !== 'string') throw at(src, node, 'a condition is a string');
  const text = node.value;
  const start = node.range?.[0] ?? 0;
  let srcStart = start;
  if (node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') {
    const nl = src.text.indexOf('\n', start);
    srcStart = nl < 0 ? start : nl + 1;
  } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') srcStart = start + 1;
  return {
    text,
    where: `${src.file}:${src.lc.linePos(start).line}`,
    loc(offset, message) {
      // Count the non-blank characters before offset in the value; find as many in the source.
      let n = 0;
      for (let i = 0; i < offset && i < text.length; i++) if (!/\s/.test(text[i]!)) n++;
      // At the end (nothing but blanks after): just after the last character.
      const atEnd = text.slice(offset).trim() === '' && n > 0;
      if (atEnd) n--;
      let j = srcStart;
      while (j < src.text.length) {
        if (!/\s/.test(src.text[j]!)) {
          if (n === 0) break;
          n--;
        }
        j++;
      }
      return locAt(src, atEnd ? j + 1 : j, message);
    },
  };
}

function concatCond(a: CondText, b: CondText): CondText {
  const cut = a.text.length + 1;
  return {
    text: `${a.text} ${b.text}`,
    where: b.where,
    loc: (o, m) => (o < cut ? a.loc(o, m) : b.loc(o - cut, m)),
  };
}

function condError(ct: CondText, err: unknown): Located {
  if (err instanceof Located) return err;
  if (err instanceof ConditionError) return new Located(ct.loc(err.offset, err.message));
  throw err;
}

// ---- durations -----------------------------------------------------------------------------------

/** A rule's duration: vigil's one grammar (common/duration.ts), or a YAML number of seconds. */
function ruleDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 && Number.isFinite(v) ? v * 1000 : undefined;
  return typeof v === 'string' ? parseDuration(v) : undefined;
}

// ---- raw items -----------------------------------------------------------------------------------

interface Entry {
  key: Pair;
  value: YNode;
}

interface RawItem {
  type: 'rule' | 'macro' | 'list';
  name: string;
  src: Src;
  node: YAMLMap;
  entries: Map<string, Entry>;
}

/** The keys each item type allows (exported for the rule-file schema, daemon/detect/schema.ts). */
export const ITEM_KEYS: Record<RawItem['type'], readonly string[]> = {
  list: ['list', 'items', 'append', 'override'],
  macro: ['macro', 'condition', 'append', 'override'],
  rule: [
    'rule',
    'desc',
    'condition',
    'output',
    'severity',
    'tags',
    'enabled',
    'exceptions',
    'actions',
    'type',
    'append',
    'override',
    'by',
    'window',
    'steps',
    'count',
    'distinct',
    'for',
    // Falco's keys: priority is severity's Falco name; the rest are accepted as Falco reads them.
    'priority',
    'source',
    'skip-if-unknown-filter',
    'warn_evttypes',
    'capture',
    'capture_duration',
  ],
};

/** Versions compare numerically part by part ("0.57.0" < "0.100.0"); a bare number is major.0.0 (Falco's old integer versions). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number(x) || 0);
  const pb = b.split('.').map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The version items of a Falco rule file: checked, never fatal (a newer file may still load). */
function versionItem(src: Src, entries: Map<string, Entry>, warnings: RuleFileError[]): boolean {
  const eng = entries.get('required_engine_version');
  if (eng) {
    const v = isScalar(eng.value) ? String(eng.value.value) : '';
    // Falco's integer engine versions (<= 0.x era) are older than any semantic version it prints.
    const asked = /^\d+$/.test(v) ? `0.${v}.0` : v;
    if (asked === '' || !/^\d+(\.\d+)*$/.test(asked)) warnings.push(at(src, eng.value, `required_engine_version ${JSON.stringify(v)} is not a version`).err);
    else if (compareVersions(asked, FALCO_ENGINE_VERSION) > 0)
      warnings.push(
        at(
          src,
          eng.value,
          `this file asks for Falco engine ${v}; vigil implements ${FALCO_ENGINE_VERSION}: rules using newer fields are skipped or rejected below`,
        ).err,
      );
    return true;
  }
  const plugins = entries.get('required_plugin_versions');
  if (plugins) {
    if (!isSeq(plugins.value)) throw at(src, plugins.value, 'required_plugin_versions is a list of {name, version}');
    for (const p of plugins.value.items) {
      const name = isMap(p) ? p.get('name') : undefined;
      if (typeof name !== 'string') throw at(src, p as YNode, 'a required plugin has name: and version:');
      if (!BUILTIN_PLUGINS.has(name))
        warnings.push(at(src, p as YNode, `plugin ${JSON.stringify(name)} is not available in vigil: rules with its source are skipped`).err);
    }
    return true;
  }
  return false;
}

function readFile(file: string, errors: RuleFileError[], warnings: RuleFileError[] = []): RawItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    errors.push({ file, line: 1, column: 1, message: `cannot read: ${(err as Error).message}` });
    return [];
  }
  const lc = new LineCounter();
  const src: Src = { file, text, lc };
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) errors.push(locAt(src, e.pos[0], e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')));
    return [];
  }
  const root = doc.contents;
  if (root === null) return [];
  if (!isSeq(root)) {
    errors.push(at(src, root, 'a rule file is a list of items (- rule:, - macro:, - list:)').err);
    return [];
  }
  const out: RawItem[] = [];
  for (const it of root.items) {
    try {
      if (!isMap(it)) throw at(src, it as YNode, 'an item is a mapping with rule:, macro: or list:');
      const entries = new Map<string, Entry>();
      for (const p of it.items) {
        if (!isScalar(p.key) || typeof p.key.value !== 'string') throw at(src, p.key as YNode, 'keys are plain words');
        entries.set(p.key.value, { key: p, value: p.value as YNode });
      }
      const type = (['rule', 'macro', 'list'] as const).find((t) => entries.has(t));
      if (!type) {
        if (versionItem(src, entries, warnings)) continue;
        throw at(src, it, 'an item needs rule:, macro: or list:, or is required_engine_version: or required_plugin_versions:');
      }
      const nameNode = entries.get(type)!.value;
      if (!isScalar(nameNode) || typeof nameNode.value !== 'string' || nameNode.value === '') throw at(src, nameNode ?? it, `${type}: needs a name`);
      for (const [k, e] of entries)
        if (!ITEM_KEYS[type].includes(k))
          throw at(
            src,
            e.key.key as YNode,
            `unknown key ${JSON.stringify(k)} in ${type} ${JSON.stringify(nameNode.value)} (keys: ${ITEM_KEYS[type].join(', ')})`,
          );
      out.push({ type, name: nameNode.value, src, node: it, entries });
    } catch (err) {
      if (err instanceof Located) errors.push(err.err);
      else throw err;
    }
  }
  return out;
}

/** The files of the directories (or files) given, in load order. */
export function ruleFiles(dirs: readonly string[], errors: RuleFileError[]): string[] {
  const files: string[] = [];
  for (const d of dirs) {
    let st;
    try {
      st = statSync(d);
    } catch {
      errors.push({ file: d, line: 1, column: 1, message: 'no such file or directory' });
      continue;
    }
    if (st.isFile()) files.push(d);
    else
      files.push(
        ...readdirSync(d)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(d, f)),
      );
  }
  return files;
}

// ---- merging -------------------------------------------------------------------------------------

interface ListDef {
  items: Array<{ v: string; src: Src; node: YNode }>;
  /** file:line of the definition in force (appends keep it). */
  where: string;
}

interface MacroDef {
  cond: CondText;
  /** file:line of the definition in force (appends keep it). */
  where: string;
}

/** A rule after merging: each key's node (the last definition or override wins). */
interface RuleDef {
  name: string;
  order: number;
  src: Src;
  node: YAMLMap;
  keys: Map<string, { src: Src; value: YNode }>;
  cond?: CondText;
  exceptions: Array<{ src: Src; node: YNode }>;
  extraTags: Array<{ src: Src; node: YNode }>;
  extraActions: Array<{ src: Src; node: YNode }>;
  enabled?: boolean;
}

function override(item: RawItem): Map<string, 'append' | 'replace'> | undefined {
  const e = item.entries.get('override');
  if (!e) return undefined;
  if (!isMap(e.value)) throw at(item.src, e.value, 'override: maps keys to append or replace');
  const out = new Map<string, 'append' | 'replace'>();
  for (const p of e.value.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    const v = isScalar(p.value) ? String(p.value.value) : '';
    if (v !== 'append' && v !== 'replace') throw at(item.src, p.value as YNode, `override of ${k}: append or replace, not ${JSON.stringify(v)}`);
    if (!item.entries.has(k)) throw at(item.src, p.key as YNode, `override names ${k}, which this item does not set`);
    out.set(k, v);
  }
  for (const k of item.entries.keys())
    if (!['rule', 'macro', 'list', 'override'].includes(k) && !out.has(k))
      throw at(item.src, item.entries.get(k)!.key.key as YNode, `${k} is set but not named in override:`);
  return out;
}

function isAppend(item: RawItem): boolean {
  const e = item.entries.get('append');
  if (!e) return false;
  if (!isScalar(e.value) || typeof e.value.value !== 'boolean') throw at(item.src, e.value, 'append: true or false');
  return e.value.value;
}

const RULE_APPENDABLE = new Set(['condition', 'exceptions', 'tags', 'actions']);

export interface Definitions {
  lists: Map<string, ListDef>;
  macros: Map<string, MacroDef>;
  rules: Map<string, RuleDef>;
}

export function merge(items: RawItem[], errors: RuleFileError[], warnings: RuleFileError[] = []): Definitions {
  const defs: Definitions = { lists: new Map(), macros: new Map(), rules: new Map() };
  let order = 0;
  // Items are global by name (as in Falco): a file that defines a list, macro or rule another file
  // already has replaces it for every file, e.g. Falco's shell_binaries replacing the default pack's.
  const replaced = (item: RawItem, oldWhere: string): void => {
    if (oldWhere.slice(0, oldWhere.lastIndexOf(':')) === item.src.file) return;
    warnings.push(
      at(
        item.src,
        item.node,
        `this ${item.type} replaces ${JSON.stringify(item.name)} of ${oldWhere} for every file (append: true or override: extends it instead)`,
      ).err,
    );
  };
  const whereOf = (item: RawItem): string => `${item.src.file}:${item.src.lc.linePos(item.node.range?.[0] ?? 0).line}`;
  for (const item of items) {
    try {
      const ov = override(item);
      const append = isAppend(item);
      if (ov && item.entries.has('append')) throw at(item.src, item.entries.get('append')!.key.key as YNode, 'use append: or override:, not both');
      if (item.type === 'list') {
        const e = item.entries.get('items');
        if (!e || !isSeq(e.value)) throw at(item.src, e?.value ?? item.node, 'a list needs items: [...]');
        const items = e.value.items.map((n) => {
          if (!isScalar(n)) throw at(item.src, n as YNode, 'list items are plain values');
          return { v: String(n.value), src: item.src, node: n as YNode };
        });
        const old = defs.lists.get(item.name);
        const mode = ov?.get('items') ?? (append ? 'append' : 'replace');
        if (mode === 'append' && !old) throw at(item.src, item.node, `append to unknown list ${JSON.stringify(item.name)}`);
        if (mode === 'append') old!.items.push(...items);
        else {
          if (old) replaced(item, old.where);
          defs.lists.set(item.name, { items, where: whereOf(item) });
        }
      } else if (item.type === 'macro') {
        const e = item.entries.get('condition');
        if (!e) throw at(item.src, item.node, 'a macro needs condition:');
        const ct = condText(item.src, e.value);
        const old = defs.macros.get(item.name);
        const mode = ov?.get('condition') ?? (append ? 'append' : 'replace');
        if (mode === 'append' && !old) throw at(item.src, item.node, `append to unknown macro ${JSON.stringify(item.name)}`);
        if (old && mode !== 'append') replaced(item, old.where);
        defs.macros.set(item.name, mode === 'append' ? { cond: concatCond(old!.cond, ct), where: old!.where } : { cond: ct, where: whereOf(item) });
      } else {
        const old = defs.rules.get(item.name);
        const keys = [...item.entries.keys()].filter((k) => !['rule', 'append', 'override'].includes(k));
        if (old && !append && !ov && !(keys.length === 1 && keys[0] === 'enabled'))
          replaced(item, `${old.src.file}:${old.src.lc.linePos(old.node.range?.[0] ?? 0).line}`);
        mergeRule(defs, item, ov, append, order++);
      }
    } catch (err) {
      if (err instanceof Located) errors.push(err.err);
      else throw err;
    }
  }
  return defs;
}

function mergeRule(defs: Definitions, item: RawItem, ov: Map<string, 'append' | 'replace'> | undefined, append: boolean, order: number): void {
  const old = defs.rules.get(item.name);
  const keys = [...item.entries.keys()].filter((k) => !['rule', 'append', 'override'].includes(k));
  const enabledOnly = keys.length === 1 && keys[0] === 'enabled' && !ov;
  if (!old && (append || ov || enabledOnly))
    throw at(item.src, item.node, `${append || ov ? 'append to' : 'enabled: for'} unknown rule ${JSON.stringify(item.name)}`);
  if (!old || (!append && !ov && !enabledOnly)) {
    const def: RuleDef = {
      name: item.name,
      order: old?.order ?? order,
      src: item.src,
      node: item.node,
      keys: new Map(),
      exceptions: [],
      extraTags: [],
      extraActions: [],
    };
    for (const k of keys) {
      const v = item.entries.get(k)!.value;
      if (k === 'condition') def.cond = condText(item.src, v);
      else if (k === 'exceptions') def.exceptions.push({ src: item.src, node: v });
      else def.keys.set(k, { src: item.src, value: v });
    }
    defs.rules.set(item.name, def);
    return;
  }
  old.src = item.src;
  old.node = item.node;
  for (const k of keys) {
    const v = item.entries.get(k)!.value;
    const mode = enabledOnly ? 'replace' : ov ? ov.get(k)! : 'append';
    if (mode === 'append' && !RULE_APPENDABLE.has(k))
      throw at(item.src, item.entries.get(k)!.key.key as YNode, `${k} cannot be appended (appendable: ${[...RULE_APPENDABLE].join(', ')})`);
    if (k === 'condition') {
      const ct = condText(item.src, v);
      old.cond = mode === 'append' && old.cond ? concatCond(old.cond, ct) : ct;
    } else if (k === 'exceptions') {
      if (mode === 'replace') old.exceptions = [];
      old.exceptions.push({ src: item.src, node: v });
    } else if (k === 'tags' && mode === 'append') old.extraTags.push({ src: item.src, node: v });
    else if (k === 'actions' && mode === 'append') old.extraActions.push({ src: item.src, node: v });
    else {
      if (k === 'tags') old.extraTags = [];
      if (k === 'actions') old.extraActions = [];
      old.keys.set(k, { src: item.src, value: v });
    }
  }
}

// ---- compiling -----------------------------------------------------------------------------------

export interface SequenceSpec {
  steps: Pred[];
  stepKinds: Constraint[];
  stepSyscalls: Constraint[];
  by: 'process' | 'container';
  windowMs: number;
}

export interface ThresholdSpec {
  by: ResolvedField;
  windowMs: number;
  count: number;
  distinct?: ResolvedField;
}

export interface MetricSpec {
  forMs: number;
  names: MetricName[];
}

export interface CompiledRule {
  info: RuleInfo;
  /** Position in load order (matches are reported in this order). */
  order: number;
  kinds: Constraint;
  syscalls: Constraint;
  cond: Pred;
  exception: Pred | undefined;
  render(c: EvalContext): string;
  /** The fields the output names, in order (Falco's output_fields). */
  outputFields: OutputField[];
  /** Falco's event source of the rule (vigil evaluates "syscall"). */
  source: string;
  /** Loaded, skipped or never fires (status.ts); skipped rules are never evaluated. */
  status: RuleStatus;
  /** Condition trees (all steps), for the watch derivation. */
  trees: Node[];
  sequence?: SequenceSpec;
  threshold?: ThresholdSpec;
  metric?: MetricSpec;
  /** Equal signatures: the rule's state (sequence chains, threshold windows) survives a reload. */
  signature: string;
}

export interface CompiledSet {
  rules: CompiledRule[];
  files: string[];
  counts: { rules: number; macros: number; lists: number };
  /** What loads but deserves a look: a newer engine version asked for, a plugin vigil lacks, a skipped rule. */
  warnings: RuleFileError[];
}

/** A field an output template names, for Falco's output_fields. */
export interface OutputField {
  name: string;
  type: ResolvedField['type'];
  get: Getter;
}

export interface CompileOptions {
  /** A rule vigil cannot evaluate is an error instead of a skipped rule (vigild rules check --strict). */
  strict?: boolean;
}

/**
 * A list item as a condition would read it: Falco pastes list items into the condition text, so an
 * item written '"(systemd)"' is the string (systemd); the quotes are part of the item, not the value.
 */
function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) return v.slice(1, -1);
  return v;
}

function str(src: Src, v: YNode | undefined, what: string): string {
  if (!isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) throw at(src, v, `${what} is a string`);
  return String(v.value);
}

function strList(src: Src, v: YNode | undefined, what: string): string[] {
  if (!isSeq(v)) throw at(src, v, `${what} is a list`);
  return v.items.map((n) => str(src, n as YNode, `each of ${what}`));
}

class Compiler {
  private readonly macroTrees = new Map<string, Node | 'busy'>();
  private readonly listCache = new Map<string, string[]>();

  constructor(
    private readonly defs: Definitions,
    private readonly errors: RuleFileError[],
  ) {}

  list(name: string, seen = new Set<string>()): string[] | undefined {
    const cached = this.listCache.get(name);
    if (cached) return cached;
    const d = this.defs.lists.get(name);
    if (!d) return undefined;
    if (seen.has(name)) return [];
    seen.add(name);
    const out: string[] = [];
    for (const it of d.items) out.push(...(this.list(it.v, seen) ?? [unquote(it.v)]));
    this.listCache.set(name, out);
    return out;
  }

  /** falco: the rule is written in Falco's form (priority:), so absent fields follow Falco (Scope.falco). */
  scope(metric: boolean, falco = false): Scope {
    return { macro: (n) => this.macro(n, metric, falco), list: (n) => this.list(n), metric, falco };
  }

  macro(name: string, metric: boolean, falco = false): Node | undefined {
    const d = this.defs.macros.get(name);
    if (!d) return undefined;
    const key = `${metric ? 'm' : 'e'}${falco ? 'f' : ''}:${name}`;
    const t = this.macroTrees.get(key);
    if (t === 'busy') throw new Located(d.cond.loc(0, `macro ${JSON.stringify(name)} refers to itself`));
    if (t) return t;
    this.macroTrees.set(key, 'busy');
    try {
      const tree = Parser.parse(d.cond.text, this.scope(metric, falco));
      this.macroTrees.set(key, tree);
      return tree;
    } catch (err) {
      this.macroTrees.delete(key);
      throw condError(d.cond, err);
    }
  }

  parse(ct: CondText, metric: boolean, falco = false): { tree: Node; pred: Pred } {
    try {
      const tree = Parser.parse(ct.text, this.scope(metric, falco));
      return { tree, pred: compile(tree) };
    } catch (err) {
      throw condError(ct, err);
    }
  }

  /** Checks every macro on its own (an unused macro with an error is still an error). */
  checkMacros(): void {
    for (const name of this.defs.macros.keys()) {
      try {
        this.macro(name, false);
      } catch (err) {
        if (err instanceof Located) {
          if (err.err.message.includes('only metric rules')) continue;
          if (!this.errors.some((e) => e.file === err.err.file && e.line === err.err.line && e.column === err.err.column)) this.errors.push(err.err);
        } else throw err;
      }
    }
  }

  exceptions(def: RuleDef): Pred | undefined {
    const preds: Pred[] = [];
    const named = new Map<string, { fields: ResolvedField[]; comps: Array<Op | undefined>; single: boolean }>();
    for (const { src, node } of def.exceptions) {
      if (!isSeq(node)) throw at(src, node, 'exceptions is a list');
      for (const ex of node.items) {
        if (!isMap(ex)) throw at(src, ex as YNode, 'an exception is a mapping: name, fields, values (comps)');
        const get = (k: string): YNode | undefined => ex.items.find((p) => isScalar(p.key) && p.key.value === k)?.value as YNode | undefined;
        for (const p of ex.items) {
          const k = isScalar(p.key) ? String(p.key.value) : '';
          if (!['name', 'fields', 'values', 'comps'].includes(k))
            throw at(src, p.key as YNode, `unknown key ${JSON.stringify(k)} in an exception (keys: name, fields, values, comps)`);
        }
        const nameNode = get('name');
        const exName = isScalar(nameNode) ? String(nameNode.value) : undefined;
        const fieldsNode = get('fields');
        // Falco's way to add values to an exception defined earlier: the same name, values only.
        const earlier = fieldsNode === undefined && exName !== undefined ? named.get(exName) : undefined;
        const single = earlier ? earlier.single : isScalar(fieldsNode);
        let fields: ResolvedField[];
        let comps: Array<Op | undefined>;
        if (earlier) ({ fields, comps } = earlier);
        else {
          const fieldNames = single ? [str(src, fieldsNode, 'fields')] : strList(src, fieldsNode, 'fields');
          fields = fieldNames.map((n, i) => {
            const f = resolveField(n);
            if (typeof f === 'string') throw at(src, single ? fieldsNode : ((fieldsNode as { items: YNode[] }).items[i] ?? fieldsNode), f);
            return f;
          });
          const compsNode = get('comps');
          comps =
            compsNode === undefined
              ? fields.map(() => undefined)
              : isScalar(compsNode)
                ? [str(src, compsNode, 'comps') as Op]
                : (strList(src, compsNode, 'comps') as Op[]);
          if (comps.length !== fields.length) throw at(src, compsNode, `comps has ${comps.length} operators for ${fields.length} fields`);
          for (const c of comps)
            if (c !== undefined && !([...CMP_OPS, ...WORD_OPS] as readonly string[]).includes(c))
              throw at(src, compsNode, `unknown operator ${JSON.stringify(c)} in comps`);
          if (exName !== undefined) named.set(exName, { fields, comps, single });
        }
        const valuesNode = get('values');
        if (valuesNode === undefined) continue;
        if (!isSeq(valuesNode)) throw at(src, valuesNode, 'values is a list of tuples');
        for (const tupleNode of valuesNode.items as YNode[]) {
          const tuple: YNode[] = single ? [tupleNode] : isSeq(tupleNode) ? (tupleNode.items as YNode[]) : [];
          if (tuple.length !== fields.length)
            throw at(
              src,
              tupleNode,
              `a tuple of ${fields.length} value${fields.length === 1 ? '' : 's'} (one per field) is needed, found ${isSeq(tupleNode) ? tuple.length : 'a single value'}`,
            );
          const parts = tuple.map((vn, i) => {
            let values: string[];
            let op = comps[i];
            if (isSeq(vn)) {
              values = vn.items.map((x) => str(src, x as YNode, 'a value'));
              values = values.flatMap((v) => this.list(v) ?? [v]);
              op ??= 'in';
            } else {
              const v = str(src, vn, 'a value');
              const l = this.list(v);
              if (l && (op === undefined || LIST_OPS.has(op))) {
                values = l;
                op ??= 'in';
              } else values = [v];
              op ??= '=';
            }
            try {
              return compileCmp(fields[i]!, op, values, 0);
            } catch (err) {
              if (err instanceof ConditionError) throw at(src, vn, err.message);
              throw err;
            }
          });
          preds.push(parts.length === 1 ? parts[0]! : (c) => parts.every((p) => p(c)));
        }
      }
    }
    if (preds.length === 0) return undefined;
    return (c) => {
      for (let i = 0; i < preds.length; i++) if (preds[i]!(c)) return true;
      return false;
    };
  }

  output(src: Src, node: YNode | undefined, fallback: string, metric: boolean): { render: (c: EvalContext) => string; fields: OutputField[] } {
    if (node === undefined) return { render: () => fallback, fields: [] };
    const text = str(src, node, 'output');
    const parts: Array<string | Getter> = [];
    const fields: OutputField[] = [];
    const re = /%([A-Za-z_][\w.]*(?:\[[^\]]*\])?)/g;
    let last = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      let name = m[1]!;
      while (name.endsWith('.')) name = name.slice(0, -1);
      const f = resolveField(name);
      if (typeof f === 'string') {
        const ct = condText(src, node);
        throw new Located(ct.loc(m.index, `output: ${f}`));
      }
      if (metric && f.def.kinds && !f.def.kinds.includes('metric'))
        throw at(src, node, `output: ${name} is an event field; a metric rule has metric.* and container.*`);
      parts.push(text.slice(last, m.index), f.get);
      if (!fields.some((x) => x.name === name)) fields.push({ name, type: f.type, get: f.get });
      last = m.index + 1 + name.length;
    }
    parts.push(text.slice(last));
    const compact = parts.filter((p) => p !== '');
    return {
      fields,
      render: (c) => {
        let s = '';
        for (const p of compact) s += typeof p === 'string' ? p : show(p(c));
        return s;
      },
    };
  }

  rule(def: RuleDef): CompiledRule {
    const k = (name: string): { src: Src; value: YNode } | undefined => def.keys.get(name);
    const kindNode = k('type');
    const kind = (kindNode ? str(kindNode.src, kindNode.value, 'type') : 'event') as RuleKind;
    if (!['event', 'sequence', 'threshold', 'metric'].includes(kind))
      throw at(kindNode!.src, kindNode!.value, `type is event, sequence, threshold or metric, not ${JSON.stringify(kind)}`);
    const allowed: Record<RuleKind, string[]> = {
      event: [],
      sequence: ['by', 'window', 'steps'],
      threshold: ['by', 'window', 'count', 'distinct'],
      metric: ['for'],
    };
    for (const key of ['by', 'window', 'steps', 'count', 'distinct', 'for']) {
      const e = k(key);
      if (e && !allowed[kind].includes(key)) throw at(e.src, e.value, `${key}: does not apply to a${kind === 'event' ? 'n' : ''} ${kind} rule`);
    }
    const sevKey = k('severity') ? 'severity' : 'priority';
    const sevNode = k(sevKey);
    if (k('severity') && k('priority'))
      throw at(k('priority')!.src, k('priority')!.value, "severity: and priority: are the same key (priority is Falco's name); set one");
    if (!sevNode) throw at(def.src, def.node, `rule ${JSON.stringify(def.name)} needs severity: (or Falco's priority:) (${SEVERITIES.join(', ')})`);
    const written = str(sevNode.src, sevNode.value, sevKey).trim().toLowerCase();
    const severity = (PRIORITY_ALIASES[written] ?? written) as Severity;
    if (!SEVERITIES.includes(severity))
      throw at(sevNode.src, sevNode.value, `${sevKey} is one of ${SEVERITIES.join(', ')} (any case; info for informational), not ${JSON.stringify(written)}`);
    const tagsNode = k('tags');
    const tags = [
      ...new Set([...(tagsNode ? strList(tagsNode.src, tagsNode.value, 'tags') : []), ...def.extraTags.flatMap((t) => strList(t.src, t.node, 'tags'))]),
    ];
    const actNode = k('actions');
    const actions = [
      ...new Set([...(actNode ? strList(actNode.src, actNode.value, 'actions') : []), ...def.extraActions.flatMap((t) => strList(t.src, t.node, 'actions'))]),
    ];
    for (const a of actions)
      if (!(ACTIONS as readonly string[]).includes(a))
        throw at(
          (actNode ?? def.extraActions[0])!.src,
          actNode?.value ?? def.extraActions[0]!.node,
          `unknown action ${JSON.stringify(a)} (actions: ${ACTIONS.join(', ')})`,
        );
    const enNode = k('enabled');
    if (enNode && (!isScalar(enNode.value) || typeof enNode.value.value !== 'boolean')) throw at(enNode.src, enNode.value, 'enabled: true or false');
    const descNode = k('desc');
    const desc = descNode ? str(descNode.src, descNode.value, 'desc') : '';
    const info: RuleInfo = {
      name: def.name,
      desc,
      kind,
      severity,
      tags,
      enabled: enNode ? (enNode.value as { value: boolean }).value : true,
      actions: actions as ActionName[],
      source: `${def.src.file}:${def.src.lc.linePos(def.node.range?.[0] ?? 0).line}`,
    };
    const outNode = k('output');
    const { render, fields: outputFields } = this.output(outNode?.src ?? def.src, outNode?.value, def.name, kind === 'metric');
    const exception = this.exceptions(def);
    const windowOf = (): number => {
      const w = k('window');
      if (!w) throw at(def.src, def.node, `a ${kind} rule needs window: (e.g. 10s)`);
      const ms = ruleDuration((w.value as { value?: unknown }).value);
      if (ms === undefined || ms <= 0) throw at(w.src, w.value, 'window is a duration: 500ms, 10s, 5m, 1h, 1d');
      return ms;
    };
    const base = { info, order: def.order, render, outputFields, exception, source: 'syscall', status: LOADED };
    if (kind === 'sequence') {
      if (def.cond) throw at(def.src, def.node, 'a sequence rule has steps:, not condition:');
      const stepsNode = k('steps');
      if (!stepsNode || !isSeq(stepsNode.value) || stepsNode.value.items.length < 2)
        throw at(stepsNode?.src ?? def.src, stepsNode?.value ?? def.node, 'a sequence rule needs steps: (two or more, each with condition:)');
      const trees: Node[] = [];
      const steps: Pred[] = [];
      for (const st of stepsNode.value.items as YNode[]) {
        if (!isMap(st)) throw at(stepsNode.src, st, 'a step is a mapping with condition:');
        for (const p of st.items) if (!isScalar(p.key) || p.key.value !== 'condition') throw at(stepsNode.src, p.key as YNode, 'a step has only condition:');
        const cn = st.items[0]?.value as YNode | undefined;
        if (!cn) throw at(stepsNode.src, st, 'a step needs condition:');
        const { tree, pred } = this.parse(condText(stepsNode.src, cn), false);
        trees.push(tree);
        steps.push(pred);
      }
      const byNode = k('by');
      const by = byNode ? str(byNode.src, byNode.value, 'by') : 'process';
      if (by !== 'process' && by !== 'container') throw at(byNode!.src, byNode!.value, 'by is process or container');
      const windowMs = windowOf();
      const stepKinds = trees.map(kindsOf);
      const stepSyscalls = trees.map(syscallsOf);
      return {
        ...base,
        kinds: stepKinds.reduce((a, b) => (a === null || b === null ? null : new Set([...a, ...b]))),
        syscalls: stepSyscalls.reduce((a, b) => (a === null || b === null ? null : new Set([...a, ...b]))),
        cond: () => false,
        trees,
        sequence: { steps, stepKinds, stepSyscalls, by, windowMs },
        signature: `sequence|${by}|${windowMs}|${trees.length}|${JSON.stringify(stepsNode.value.toJSON())}`,
      };
    }
    if (!def.cond) throw at(def.src, def.node, `rule ${JSON.stringify(def.name)} needs condition:`);
    const { tree, pred } = this.parse(def.cond, kind === 'metric', k('priority') !== undefined);
    if (kind === 'metric') {
      const f = k('for');
      const forMs = f ? ruleDuration((f.value as { value?: unknown }).value) : 0;
      if (forMs === undefined) throw at(f!.src, f!.value, 'for is a duration: 0s, 30s, 5m, 1h');
      return {
        ...base,
        kinds: new Set(['metric']),
        syscalls: null,
        cond: pred,
        trees: [tree],
        metric: { forMs, names: [...metricNames(tree)] },
        signature: `metric|${def.cond.text}|${forMs}`,
      };
    }
    const kinds = kindsOf(tree);
    if (kinds?.has('metric')) throw condError(def.cond, new ConditionError(0, 'metric.* fields need type: metric'));
    const common = { ...base, kinds, syscalls: syscallsOf(tree), cond: pred, trees: [tree] };
    if (kind === 'threshold') {
      const byNode = k('by');
      const byName = byNode ? str(byNode.src, byNode.value, 'by') : 'container.id';
      const by = resolveField(byName);
      if (typeof by === 'string') throw at(byNode!.src, byNode!.value, by);
      const cn = k('count');
      const count = cn && isScalar(cn.value) ? Number(cn.value.value) : NaN;
      if (!cn || !Number.isInteger(count) || count < 1)
        throw at(cn?.src ?? def.src, cn?.value ?? def.node, 'a threshold rule needs count: (a whole number from 1)');
      const dn = k('distinct');
      let distinct: ResolvedField | undefined;
      if (dn) {
        const d = resolveField(str(dn.src, dn.value, 'distinct'));
        if (typeof d === 'string') throw at(dn.src, dn.value, d);
        distinct = d;
      }
      const windowMs = windowOf();
      return {
        ...common,
        threshold: { by, windowMs, count, ...(distinct ? { distinct } : {}) },
        signature: `threshold|${def.cond.text}|${byName}|${windowMs}|${count}|${distinct?.name ?? ''}`,
      };
    }
    return { ...common, signature: `event|${def.cond.text}` };
  }
}

export function show(v: Value): string {
  if (v === undefined) return '<NA>';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

const LOADED: RuleStatus = Object.freeze({ state: 'loaded', notes: [] }) as RuleStatus;

/** A rule that is not compiled (a plugin's source, an unknown field under skip-if-unknown-filter): reported, never evaluated. */
function skippedRule(def: RuleDef, source: string, reason: string): CompiledRule {
  const k = (name: string): YNode | undefined => def.keys.get(name)?.value;
  const text = (n: YNode | undefined): string => (isScalar(n) ? String(n.value) : '');
  const sev = text(k('priority') ?? k('severity'))
    .trim()
    .toLowerCase();
  const severity = (SEVERITIES as readonly string[]).includes(PRIORITY_ALIASES[sev] ?? sev) ? ((PRIORITY_ALIASES[sev] ?? sev) as Severity) : 'notice';
  const tagsNode = k('tags');
  const tags = isSeq(tagsNode) ? tagsNode.items.map((n) => text(n as YNode)) : [];
  const en = k('enabled');
  return {
    info: {
      name: def.name,
      desc: text(k('desc')),
      kind: 'event',
      severity,
      tags,
      enabled: isScalar(en) ? en.value !== false : true,
      actions: [],
      source: `${def.src.file}:${def.src.lc.linePos(def.node.range?.[0] ?? 0).line}`,
    },
    order: def.order,
    kinds: new Set<string>(),
    syscalls: new Set<string>(),
    cond: () => false,
    exception: undefined,
    render: () => def.name,
    outputFields: [],
    trees: [],
    source,
    status: { state: 'skipped', reason, notes: [] },
    signature: `skipped|${def.name}`,
  };
}

/** Loads, merges and compiles; throws RuleError with every error found. */
export function compileRuleFiles(dirs: readonly string[], opts: CompileOptions = {}): CompiledSet {
  const errors: RuleFileError[] = [];
  const warnings: RuleFileError[] = [];
  const files = ruleFiles(dirs, errors);
  const items = files.flatMap((f) => readFile(f, errors, warnings));
  const defs = merge(items, errors, warnings);
  const c = new Compiler(defs, errors);
  c.checkMacros();
  const rules: CompiledRule[] = [];
  const pushError = (e: RuleFileError): void => {
    if (!errors.some((x) => x.file === e.file && x.line === e.line && x.column === e.column && x.message === e.message)) errors.push(e);
  };
  for (const def of [...defs.rules.values()].sort((a, b) => a.order - b.order)) {
    const srcKey = def.keys.get('source');
    const source = srcKey && isScalar(srcKey.value) ? String(srcKey.value.value) : 'syscall';
    if (source !== 'syscall') {
      rules.push(skippedRule(def, source, `source ${JSON.stringify(source)} is a plugin's event source; vigil evaluates syscall rules`));
      continue;
    }
    try {
      const r = c.rule(def);
      if (r.info.kind !== 'metric') r.status = ruleStatus(r.trees);
      rules.push(r);
    } catch (err) {
      if (!(err instanceof Located)) throw err;
      const skip = def.keys.get('skip-if-unknown-filter');
      if (skip && isScalar(skip.value) && skip.value.value === true && /unknown (field|macro or field)/.test(err.err.message)) {
        rules.push(skippedRule(def, source, `${err.err.message} (skip-if-unknown-filter)`));
        continue;
      }
      pushError(err.err);
    }
  }
  for (const r of rules) {
    if (r.status.state !== 'skipped') continue;
    const [file, line] = [r.info.source.slice(0, r.info.source.lastIndexOf(':')), Number(r.info.source.slice(r.info.source.lastIndexOf(':') + 1))];
    const e = { file, line, column: 3, message: `rule ${JSON.stringify(r.info.name)} ${opts.strict ? 'cannot be evaluated' : 'skipped'}: ${r.status.reason}` };
    if (opts.strict) pushError(e);
    else warnings.push(e);
  }
  if (errors.length > 0) throw new RuleError(errors);
  return { rules, files, counts: { rules: rules.length, macros: defs.macros.size, lists: defs.lists.size }, warnings };
}
