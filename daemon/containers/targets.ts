// Monitored targets: which containers (and the host) vigil samples metrics for and applies rules to.
//
// A target is a selector, written as text:
//   id:<id or prefix>        container id, or a prefix of it (as `docker ps` shortens them)
//   name:<glob>              container name
//   image:<glob>             image reference (docker.io/library/nginx:1.25)
//   label:<key>=<glob>       a label; k8s.namespace and k8s.pod stand for the pod's namespace and name
//   <key>=<glob>             shorthand for label:<key>=<glob> (k8s.namespace=prod)
//   cgroup:<glob>            cgroup path; here * stays inside one path segment, ** crosses them
//   host                     the host itself (processes outside containers, host-wide metrics)
//   all                      every container
// Globs: the grammar of common/glob.ts: * (any run of characters), ? (one), [abc] [a-z] [!abc] (one
// of / none of), \x (x itself); cgroup globs in path mode, the others in plain mode.
// A target may narrow what it applies: metrics=<name>,<name> and rules=<name>,<name> (absent: all).
//
// Targets are added and removed in batches (a request, a list, a file), each applied whole or not at
// all: one LevelDB batch in the store's 'targets' keyspace, reloaded at open. A target's id is its
// selector in canonical form (k8s.namespace=prod is stored as label:k8s.namespace=prod).
//
// Batch files: one target per line, as `selector [metrics=...] [rules=...]`; # starts a comment; blank
// lines are ignored; errors name file:line:column.
import { readFile } from 'node:fs/promises';
import { compileGlob, globFault, type Glob, type GlobMode } from '../../common/glob.js';
import { VigilError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { METRICS, type MetricName, type Sample } from '../core/metric-names.js';
import { openRecord, sealRecord } from '../store/record.js';
import type { Keyspace, Store, StoreOp } from '../store/store.js';
import type { ContainerInfo } from './container-info.js';

export type Selector =
  | { kind: 'id'; prefix: string }
  | { kind: 'name' | 'image' | 'cgroup'; glob: string }
  | { kind: 'label'; key: string; value: string }
  | { kind: 'host' }
  | { kind: 'all' };

export interface Target {
  /** The selector in canonical form; the target's identity. */
  id: string;
  selector: Selector;
  /** Metrics to sample for what it selects; undefined: all. */
  metrics?: MetricName[];
  /** Rules (by name) to apply to what it selects; undefined: all. */
  rules?: string[];
  /** ISO time it was added (or last replaced). */
  addedAt: string;
}

/** What a batch adds: a selector, or a selector with the metrics and rules it narrows to. */
export interface TargetSpec {
  selector: string;
  metrics?: string[];
  rules?: string[];
}

const KINDS = ['id', 'name', 'image', 'label', 'cgroup', 'host', 'all'] as const;

/** A selector (or a target line) that does not parse: names it and the 1-based column of the fault. */
export class SelectorError extends VigilError {
  readonly selector: string;
  readonly column: number;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly reason: string;

  constructor(selector: string, column: number, reason: string, where?: { file: string; line: number }) {
    const at = where ? `${where.file}:${where.line}:${column}: ` : '';
    super('VIGIL_CONFIG', `${at}bad selector ${JSON.stringify(selector)}${where ? '' : ` at column ${column}`}: ${reason}`);
    this.selector = selector;
    this.reason = reason;
    this.column = column;
    this.file = where?.file;
    this.line = where?.line;
  }
}

/** A batch refused whole: every fault found, one per line of the message. */
export class TargetBatchError extends VigilError {
  readonly errors: readonly VigilError[];
  constructor(errors: readonly VigilError[]) {
    super('VIGIL_CONFIG', errors.length === 1 ? errors[0]!.message : `${errors.length} errors, nothing applied:\n${errors.map((e) => e.message).join('\n')}`);
    this.errors = errors;
  }
}

const ID_CHARS = /^[0-9A-Za-z_.-]$/;
const LABEL_KEY_CHARS = /^[0-9A-Za-z_./-]$/;

/** Checks a glob (common/glob.ts grammar); returns the 0-based index and reason of the first fault, or undefined. */
function checkGlob(glob: string): [number, string] | undefined {
  if (glob.length === 0) return [0, 'empty pattern'];
  const fault = globFault(glob);
  return fault ? [fault.index, fault.reason] : undefined;
}

/** Parses one selector; throws a SelectorError naming it and the column of the fault. */
export function parseSelector(text: string): Selector {
  const bad = (index: number, reason: string): never => {
    throw new SelectorError(text, index + 1, reason);
  };
  if (text.length === 0) bad(0, 'empty selector');
  if (text.trim() !== text) bad(/^\s/.test(text) ? 0 : text.trimEnd().length, 'white space around the selector');
  if (text === 'host' || text === 'all') return { kind: text };
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  if (colon < 0 || (eq >= 0 && eq < colon)) {
    if (eq > 0) return parseLabel(text, text, 0);
    bad(0, `unknown selector (expected ${KINDS.map((k) => (k === 'host' || k === 'all' ? k : `${k}:...`)).join(', ')} or key=value)`);
  }
  const kind = text.slice(0, colon);
  const value = text.slice(colon + 1);
  const at = colon + 1;
  switch (kind) {
    case 'host':
    case 'all':
      return bad(colon, `'${kind}' takes no value`);
    case 'id': {
      if (value.length === 0) bad(at, 'empty id');
      if (value.length > 128) bad(at + 128, 'id longer than 128 characters');
      for (let i = 0; i < value.length; i++) if (!ID_CHARS.test(value[i]!)) bad(at + i, `character ${JSON.stringify(value[i])} cannot be in a container id`);
      return { kind: 'id', prefix: value };
    }
    case 'name':
    case 'image':
    case 'cgroup': {
      const fault = checkGlob(value);
      if (fault) bad(at + fault[0], fault[1]);
      return { kind, glob: value };
    }
    case 'label':
      return parseLabel(text, value, at);
    default:
      return bad(0, `unknown kind ${JSON.stringify(kind)} (expected one of ${KINDS.join(', ')})`);
  }
}

function parseLabel(text: string, kv: string, at: number): Selector {
  const bad = (index: number, reason: string): never => {
    throw new SelectorError(text, index + 1, reason);
  };
  const eq = kv.indexOf('=');
  if (eq < 0) bad(at + kv.length, "expected '=' and a value after the label key");
  if (eq === 0) bad(at, 'empty label key');
  const key = kv.slice(0, eq);
  for (let i = 0; i < key.length; i++) if (!LABEL_KEY_CHARS.test(key[i]!)) bad(at + i, `character ${JSON.stringify(key[i])} cannot be in a label key`);
  const value = kv.slice(eq + 1);
  if (value.length > 0) {
    const fault = checkGlob(value);
    if (fault) bad(at + eq + 1 + fault[0], fault[1]);
  }
  return { kind: 'label', key, value };
}

/** The canonical text of a selector (its target id). */
export function formatSelector(s: Selector): string {
  switch (s.kind) {
    case 'host':
    case 'all':
      return s.kind;
    case 'id':
      return `id:${s.prefix}`;
    case 'label':
      return `label:${s.key}=${s.value}`;
    default:
      return `${s.kind}:${s.glob}`;
  }
}

// Selectors are matched on every container lookup: each glob is compiled once (bounded cache).
const globCache = new Map<string, Glob>();
function globMatch(glob: string, value: string, mode: GlobMode = 'plain'): boolean {
  const key = `${mode === 'path' ? 'p' : 'n'}${glob}`;
  let g = globCache.get(key);
  if (!g) {
    g = compileGlob(glob, mode);
    if (globCache.size > 10_000) globCache.clear();
    globCache.set(key, g);
  }
  return g.test(value);
}

function isHost(c: ContainerInfo | 'host'): c is 'host' {
  return c === 'host';
}

function labelValue(c: ContainerInfo, key: string): string | undefined {
  if (key === 'k8s.namespace') return c.namespace ?? c.labels['io.kubernetes.pod.namespace'];
  if (key === 'k8s.pod') return c.pod ?? c.labels['io.kubernetes.pod.name'];
  return c.labels[key];
}

/** Whether a selector selects a container or (given 'host', or a container whose runtime is 'host') the host. */
export function selectorMatches(s: Selector, c: ContainerInfo | 'host'): boolean {
  const host = isHost(c) || c.runtime === 'host';
  if (s.kind === 'host') return host;
  if (host || isHost(c)) return false;
  switch (s.kind) {
    case 'all':
      return true;
    case 'id':
      return c.id.startsWith(s.prefix);
    case 'name':
      return globMatch(s.glob, c.name);
    case 'image':
      return globMatch(s.glob, c.image);
    case 'cgroup':
      return globMatch(s.glob, c.cgroupPath, 'path');
    case 'label': {
      const v = labelValue(c, s.key);
      return v !== undefined && (s.value === '' ? v === '' : globMatch(s.value, v));
    }
  }
}

const METRIC_NAMES = new Set(Object.keys(METRICS));
// A rule name (they have spaces: the API takes them; a target file, split on spaces, takes tags) or a tag.
const RULE_NAME = /^[^\x00-\x1f,]{1,200}$/;

/** Checks a spec and builds its target; throws a SelectorError (columns within the selector, or the options). */
export function targetFromSpec(spec: TargetSpec | string, addedAt = new Date().toISOString()): Target {
  const sp: TargetSpec = typeof spec === 'string' ? { selector: spec } : spec;
  const selector = parseSelector(sp.selector);
  const t: Target = { id: formatSelector(selector), selector, addedAt };
  if (sp.metrics !== undefined) {
    for (const m of sp.metrics) if (!METRIC_NAMES.has(m)) throw new SelectorError(sp.selector, 1, `unknown metric ${JSON.stringify(m)}`);
    t.metrics = [...new Set(sp.metrics as MetricName[])].sort();
  }
  if (sp.rules !== undefined) {
    for (const r of sp.rules) if (!RULE_NAME.test(r)) throw new SelectorError(sp.selector, 1, `bad rule name ${JSON.stringify(r)}`);
    t.rules = [...new Set(sp.rules)].sort();
  }
  return t;
}

/** Parses batch-file text: one `selector [metrics=a,b] [rules=x,y]` a line, # comments. All faults are reported. */
export function parseTargetFile(text: string, file = '<input>'): TargetSpec[] {
  const specs: TargetSpec[] = [];
  const errors: VigilError[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const where = { file, line: n + 1 };
    let line = lines[n]!;
    const hash = line.search(/(^|\s)#/);
    if (hash >= 0) line = line.slice(0, hash);
    const tokens = [...line.matchAll(/\S+/g)];
    if (tokens.length === 0) continue;
    const sel = tokens[0]!;
    const spec: TargetSpec = { selector: sel[0] };
    try {
      parseSelector(sel[0]);
    } catch (err) {
      if (err instanceof SelectorError) {
        errors.push(new SelectorError(sel[0], sel.index! + err.column, err.reason, where));
        continue;
      }
      throw err;
    }
    let ok = true;
    for (const tok of tokens.slice(1)) {
      const m = /^(metrics|rules)=(.+)$/.exec(tok[0]);
      const col = tok.index! + 1;
      if (!m) {
        errors.push(new SelectorError(sel[0], col, `unexpected ${JSON.stringify(tok[0])} (expected metrics=a,b or rules=x,y)`, where));
        ok = false;
        break;
      }
      const list = m[2]!.split(',');
      const key = m[1] as 'metrics' | 'rules';
      if (spec[key] !== undefined) {
        errors.push(new SelectorError(sel[0], col, `${key}= given twice`, where));
        ok = false;
        break;
      }
      spec[key] = list;
      const badItem = list.findIndex((x) => (key === 'metrics' ? !METRIC_NAMES.has(x) : !RULE_NAME.test(x)));
      if (badItem >= 0) {
        const offset = key.length + 1 + list.slice(0, badItem).reduce((s, x) => s + x.length + 1, 0);
        errors.push(
          new SelectorError(sel[0], col + offset, `${key === 'metrics' ? 'unknown metric' : 'bad rule name'} ${JSON.stringify(list[badItem])}`, where),
        );
        ok = false;
        break;
      }
    }
    if (ok) specs.push(spec);
  }
  if (errors.length > 0) throw new TargetBatchError(errors);
  return specs;
}

/** Reads and parses a batch file (see parseTargetFile). */
export async function readTargetFile(path: string): Promise<TargetSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG', `${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseTargetFile(text, path);
}

interface StoredTarget {
  v: 1;
  id: string;
  metrics?: string[];
  rules?: string[];
  addedAt: string;
}

/** The monitored targets: persisted, changed in whole batches, asked which apply to a container. */
export class TargetSet {
  /** Stored targets that could not be read back (corrupt record or selector), skipped at open. */
  readonly stats = { corrupt: 0 };
  private readonly store: Store;
  private readonly ks: Keyspace;
  private readonly log: Logger;
  private targets = new Map<string, Target>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store, log: Logger) {
    this.store = store;
    this.ks = store.keyspace('targets');
    this.log = log;
  }

  /** Loads the targets stored in `store`. */
  static async open(store: Store, options: { log?: Logger } = {}): Promise<TargetSet> {
    const set = new TargetSet(store, options.log ?? silentLogger());
    for await (const [key, value] of set.ks.entries()) {
      const payload = openRecord(value);
      let target: Target | undefined;
      if (payload !== undefined) {
        try {
          const rec = JSON.parse(payload.toString('utf8')) as StoredTarget;
          target = targetFromSpec(
            { selector: rec.id, ...(rec.metrics ? { metrics: rec.metrics } : {}), ...(rec.rules ? { rules: rec.rules } : {}) },
            rec.addedAt,
          );
          if (target.id !== key.toString('utf8')) target = undefined;
        } catch {
          target = undefined;
        }
      }
      if (!target) {
        set.stats.corrupt++;
        store.noteCorrupt('targets');
        set.log.warn({ key: key.toString('utf8') }, 'stored target unreadable, skipped');
        continue;
      }
      set.targets.set(target.id, target);
    }
    return set;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Adds (or replaces, by canonical selector) every target of the batch, or none: a TargetBatchError lists
   * every bad selector; a StoreError leaves both the store and the set as they were. Returns the targets added.
   */
  addBatch(specs: ReadonlyArray<TargetSpec | string>): Promise<Target[]> {
    return this.serial(async () => {
      const errors: VigilError[] = [];
      const added: Target[] = [];
      const seen = new Set<string>();
      const now = new Date().toISOString();
      for (const spec of specs) {
        try {
          const t = targetFromSpec(spec, now);
          if (seen.has(t.id)) throw new SelectorError(typeof spec === 'string' ? spec : spec.selector, 1, `${t.id} appears twice in the batch`);
          seen.add(t.id);
          added.push(t);
        } catch (err) {
          if (!(err instanceof VigilError)) throw err;
          errors.push(err);
        }
      }
      if (errors.length > 0) throw new TargetBatchError(errors);
      const ops: StoreOp[] = added.map((t) => {
        const rec: StoredTarget = { v: 1, id: t.id, addedAt: t.addedAt, ...(t.metrics ? { metrics: t.metrics } : {}), ...(t.rules ? { rules: t.rules } : {}) };
        return { type: 'put', keyspace: 'targets', key: Buffer.from(t.id, 'utf8'), value: sealRecord(Buffer.from(JSON.stringify(rec), 'utf8')) };
      });
      await this.store.write(ops);
      const next = new Map(this.targets);
      for (const t of added) next.set(t.id, t);
      this.targets = next;
      this.log.info({ targets: added.map((t) => t.id) }, 'targets added');
      return added;
    });
  }

  /** Removes every named target (by id or any selector text that canonicalises to one), or none. */
  removeBatch(items: readonly string[]): Promise<Target[]> {
    return this.serial(async () => {
      const errors: VigilError[] = [];
      const removed = new Map<string, Target>();
      for (const item of items) {
        try {
          const id = formatSelector(parseSelector(item));
          const t = this.targets.get(id);
          if (!t) throw new SelectorError(item, 1, 'no such target');
          removed.set(id, t);
        } catch (err) {
          if (!(err instanceof VigilError)) throw err;
          errors.push(err);
        }
      }
      if (errors.length > 0) throw new TargetBatchError(errors);
      await this.store.write([...removed.keys()].map((id) => ({ type: 'del' as const, keyspace: 'targets' as const, key: Buffer.from(id, 'utf8') })));
      const next = new Map(this.targets);
      for (const id of removed.keys()) next.delete(id);
      this.targets = next;
      this.log.info({ targets: [...removed.keys()] }, 'targets removed');
      return [...removed.values()];
    });
  }

  /** Every target, sorted by id. */
  list(): Target[] {
    return [...this.targets.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.targets.size;
  }

  /** The targets that select `c`. */
  matching(c: ContainerInfo | 'host'): Target[] {
    const out: Target[] = [];
    for (const t of this.targets.values()) if (selectorMatches(t.selector, c)) out.push(t);
    return out;
  }

  /** Whether any target selects `c` (is it monitored?). */
  matches(c: ContainerInfo | 'host'): boolean {
    for (const t of this.targets.values()) if (selectorMatches(t.selector, c)) return true;
    return false;
  }

  /** Metrics to sample for `c`: 'all', a set (union over the targets selecting it), or empty when unmonitored. */
  metricsFor(c: ContainerInfo | 'host'): 'all' | Set<MetricName> {
    const out = new Set<MetricName>();
    for (const t of this.matching(c)) {
      if (!t.metrics) return 'all';
      for (const m of t.metrics) out.add(m);
    }
    return out;
  }

  /** Rules that apply to `c`: 'all', a set of rule names, or empty when unmonitored. */
  rulesFor(c: ContainerInfo | 'host'): 'all' | Set<string> {
    const out = new Set<string>();
    for (const t of this.matching(c)) {
      if (!t.rules) return 'all';
      for (const r of t.rules) out.add(r);
    }
    return out;
  }

  /**
   * Whether a match of `rule` in `c` raises an alert: a target's `rules` list (rule names or tags)
   * narrows which rules do for what it selects. Detection itself is never switched off by targets:
   * a container no target names (or one not known, `undefined`) is still watched by every rule.
   */
  ruleInScope(rule: { name: string; tags: readonly string[] }, c: ContainerInfo | 'host' | undefined): boolean {
    if (!c) return true;
    const scope = this.rulesFor(c);
    return scope === 'all' || scope.size === 0 || scope.has(rule.name) || rule.tags.some((t) => scope.has(t));
  }

  /**
   * Keeps, of each target's samples, the metrics its targets ask for (all unless they list some, and
   * all for a container `lookup` does not know).
   */
  samplesInScope(samples: Sample[], lookup: (id: string) => ContainerInfo | undefined): Sample[] {
    const scopes = new Map<string, 'all' | Set<MetricName>>();
    return samples.filter((s) => {
      let scope = scopes.get(s.target);
      if (!scope) {
        const info = s.target === 'host' ? 'host' : lookup(s.target);
        scope = info ? this.metricsFor(info) : 'all';
        if (scope !== 'all' && scope.size === 0) scope = 'all';
        scopes.set(s.target, scope);
      }
      return scope === 'all' || scope.has(s.metric);
    });
  }
}
