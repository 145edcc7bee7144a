// A loaded, compiled rule set: the candidate index (event kind x system call -> rules, then for file
// and connect events basename / path / prefix -> rules), and what the
// probes must send for these rules (system calls, watched paths). Immutable once built.
import { compileRuleFiles, type CompiledRule, type CompiledSet, type RuleFileError, type RuleStatus } from './loader.js';
import { HANDLER_KINDS, pathKeysOf, ruleWatches, type Constraint, type PathKey, type WatchSpec } from './compile.js';
import type { RuleInfo } from './rule-match.js';
import { Handler, syscallTable, type Arch } from '../sensor/syscalls.js';
import type { SyscallEntry, WatchEntry } from '../sensor/native.js';
import { USER_WATCH_ID_BASE, validateWatch } from '../sensor/watches.js';

export { RuleError, formatRuleError, type RuleFileError } from './loader.js';

/** Process-lineage calls: always traced (the process table and container starts depend on them). */
const ALWAYS: ReadonlySet<number> = new Set([Handler.EXECVE, Handler.EXECVEAT, Handler.CLONE, Handler.CLONE3, Handler.FORK]);

function allows(c: Constraint, v: string): boolean {
  return c === null || c.has(v);
}

/** The path keys a rule needs for events of this kind (null: always a candidate). Sequences: every step's. */
function ruleKeys(r: CompiledRule, kind: 'file' | 'connect'): PathKey[] | null {
  const out: PathKey[] = [];
  for (const t of r.trees) {
    const k = pathKeysOf(t, kind);
    if (k === null) return null;
    out.push(...k);
  }
  return out;
}

type Lookup = Map<string, CompiledRule[]>;
interface Side {
  names: Lookup;
  exact: Lookup;
  /** Sorted by prefix. */
  prefixes: Array<[string, CompiledRule[]]>;
}

/**
 * Second-level index of one (kind, system call) candidate list of file or connect events: rules with
 * a necessary path constraint are looked up by the event's basename, path and path prefixes (and
 * those of file.dest); the rest are always candidates. Result in load order.
 */
class PathIndex {
  readonly always: CompiledRule[];
  private readonly path: Side = { names: new Map(), exact: new Map(), prefixes: [] };
  private readonly dest: Side = { names: new Map(), exact: new Map(), prefixes: [] };
  /** Keys on the file's identity (file.fs_path, file.fs_name). */
  private readonly fs: Side = { names: new Map(), exact: new Map(), prefixes: [] };
  private readonly hasDest: boolean;
  /** Rules that have keys (for the counts). */
  readonly keyed: number;

  constructor(rules: readonly CompiledRule[], kind: 'file' | 'connect') {
    this.always = [];
    let keyed = 0;
    const add = (m: Lookup, k: string, r: CompiledRule): void => {
      const l = m.get(k);
      if (!l) m.set(k, [r]);
      else if (!l.includes(r)) l.push(r);
    };
    const prefixes = { path: new Map<string, CompiledRule[]>(), dest: new Map<string, CompiledRule[]>(), fs: new Map<string, CompiledRule[]>() };
    for (const r of rules) {
      const keys = ruleKeys(r, kind);
      if (keys === null) {
        this.always.push(r);
        continue;
      }
      keyed++;
      for (const k of keys) {
        const side = k.on === 'path' ? this.path : k.on === 'dest' ? this.dest : this.fs;
        if (k.type === 'name') add(side.names, k.v, r);
        else if (k.type === 'exact') add(side.exact, k.v, r);
        else add(prefixes[k.on], k.v, r);
      }
    }
    this.keyed = keyed;
    this.path.prefixes = [...prefixes.path].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.dest.prefixes = [...prefixes.dest].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.fs.prefixes = [...prefixes.fs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.hasDest = this.dest.names.size + this.dest.exact.size + this.dest.prefixes.length > 0;
  }

  private static collect(side: Side, p: string, out: CompiledRule[][]): void {
    const i = p.lastIndexOf('/');
    const n = side.names.get(i < 0 ? p : p.slice(i + 1));
    if (n) out.push(n);
    const e = side.exact.get(p);
    if (e) out.push(e);
    const pre = side.prefixes;
    for (let j = 0; j < pre.length; j++) if (p.startsWith(pre[j]![0])) out.push(pre[j]![1]);
  }

  /** The candidates for an event with this path (and destination). */
  lookup(path: string | undefined, dest: string | undefined, fsPath?: string): CompiledRule[] {
    const hits: CompiledRule[][] = [];
    if (path !== undefined) PathIndex.collect(this.path, path, hits);
    if (dest !== undefined && this.hasDest) PathIndex.collect(this.dest, dest, hits);
    if (fsPath !== undefined) PathIndex.collect(this.fs, fsPath, hits);
    if (hits.length === 0) return this.always;
    const set = new Set<CompiledRule>(this.always);
    for (const h of hits) for (const r of h) set.add(r);
    return [...set].sort((a, b) => a.order - b.order);
  }
}

export class RuleSet {
  private readonly all: readonly CompiledRule[];
  /** Enabled event-driven rules (event, sequence, threshold). */
  private readonly active: readonly CompiledRule[];
  private readonly metricRules: readonly CompiledRule[];
  private readonly index = new Map<string, CompiledRule[]>();
  private readonly paths = new Map<string, PathIndex>();
  /** Second-level (path) index for file and connect events; off: every kind/syscall candidate. */
  private readonly narrow: boolean;
  readonly files: readonly string[];
  readonly counts: CompiledSet['counts'];

  /** Non-fatal findings of the load (engine version, missing plugins, skipped rules), file:line:column. */
  readonly warnings: readonly RuleFileError[];

  private constructor(set: CompiledSet, narrow = true) {
    this.narrow = narrow;
    this.all = set.rules;
    this.files = set.files;
    this.counts = set.counts;
    this.warnings = set.warnings;
    // A skipped rule is reported (statuses()), never evaluated.
    const enabled = set.rules.filter((r) => r.info.enabled && r.status.state !== 'skipped');
    this.active = enabled.filter((r) => r.info.kind !== 'metric');
    this.metricRules = enabled.filter((r) => r.info.kind === 'metric');
  }

  /** Loads the rule files of the directories (or files); throws RuleError. */
  static load(dirs: readonly string[], opts: { narrow?: boolean; strict?: boolean } = {}): RuleSet {
    return new RuleSet(compileRuleFiles(dirs, { strict: opts.strict ?? false }), opts.narrow ?? true);
  }

  /** The same, as a promise (the loader is synchronous; the manager awaits it). */
  static async loadAsync(dirs: readonly string[]): Promise<RuleSet> {
    return RuleSet.load(dirs);
  }

  static empty(): RuleSet {
    return new RuleSet({ rules: [], files: [], counts: { rules: 0, macros: 0, lists: 0 }, warnings: [] });
  }

  rules(): RuleInfo[] {
    return this.all.map((r) => ({
      ...r.info,
      tags: [...r.info.tags],
      actions: [...r.info.actions],
      status: { state: r.status.state, ...(r.status.reason !== undefined ? { reason: r.status.reason } : {}) },
    }));
  }

  /** Each rule's status (loaded, skipped, never fires), in load order. */
  statuses(): Array<{ rule: RuleInfo; status: RuleStatus }> {
    return this.all.map((r) => ({ rule: r.info, status: r.status }));
  }

  /** Every compiled rule, enabled or not (detect/ internal). */
  compiled(): readonly CompiledRule[] {
    return this.all;
  }

  metrics(): readonly CompiledRule[] {
    return this.metricRules;
  }

  /** The rules an event of this kind and system call can match (cached per pair). */
  candidates(kind: string, syscall: string): CompiledRule[] {
    const key = syscall === '' ? kind : `${kind}\0${syscall}`;
    let l = this.index.get(key);
    if (l === undefined) {
      // Exec events carry no system call name; a rule that names execve or execveat (Falco's
      // spawned_process) is a candidate for them.
      l = this.active.filter(
        (r) =>
          allows(r.kinds, kind) &&
          (r.syscalls === null || (syscall !== '' ? r.syscalls.has(syscall) : kind === 'exec' && (r.syscalls.has('execve') || r.syscalls.has('execveat')))),
      );
      this.index.set(key, l);
    }
    return l;
  }

  /**
   * The rules this event can match: candidates(kind, syscall), and for file and connect events only
   * those whose path constraint (basename, path, prefix; file.dest's too) the event meets, plus the
   * rules without one. Load order.
   */
  candidatesOf(ev: { kind: string; syscall?: string; path?: string; dest?: string; fs_path?: string }): CompiledRule[] {
    const kind = ev.kind;
    const syscall = ev.syscall ?? '';
    if (!this.narrow || (kind !== 'file' && kind !== 'connect')) return this.candidates(kind, syscall);
    const key = syscall === '' ? kind : `${kind}\0${syscall}`;
    let pi = this.paths.get(key);
    if (pi === undefined) {
      pi = new PathIndex(this.candidates(kind, syscall), kind);
      this.paths.set(key, pi);
    }
    return kind === 'file' ? pi.lookup(ev.path, ev.dest, ev.fs_path) : pi.lookup(ev.path, undefined);
  }

  /** Of the candidates for this kind and system call: how many are always evaluated, how many only on a path key. */
  narrowing(kind: 'file' | 'connect', syscall: string): { always: number; keyed: number } {
    const pi = new PathIndex(this.candidates(kind, syscall), kind);
    return { always: pi.always.length, keyed: pi.keyed };
  }

  /** The subset of the architecture's default syscall table that the enabled rules need. */
  requiredSyscalls(arch: Arch): SyscallEntry[] {
    const table = syscallTable(arch);
    const needs: Array<{ kinds: Constraint; syscalls: Constraint }> = [];
    for (const r of this.active) {
      if (r.sequence) r.sequence.stepKinds.forEach((kinds, i) => needs.push({ kinds, syscalls: r.sequence!.stepSyscalls[i]! }));
      else needs.push({ kinds: r.kinds, syscalls: r.syscalls });
    }
    return table.defaults().filter((e) => {
      if (ALWAYS.has(e.handler)) return true;
      const name = table.name(e.nr) ?? '';
      const kinds = HANDLER_KINDS.get(e.handler) ?? ['syscall'];
      return needs.some((n) => kinds.some((k) => allows(n.kinds, k)) && allows(n.syscalls, name));
    });
  }

  /** Watch entries the enabled rules name (file.name/path, net.path/name), ids from firstId. */
  requiredWatches(firstId = USER_WATCH_ID_BASE): WatchEntry[] {
    const seen = new Set<string>();
    const out: WatchEntry[] = [];
    const specs: WatchSpec[] = [];
    for (const r of this.active) for (const t of r.trees) specs.push(...ruleWatches(t).specs);
    // the probe's tables hold one entry per path: a prefix covers the exact entry of its own path
    const prefixes = new Set(specs.filter((s) => s.kind === 'prefix').map((s) => s.path));
    for (const s of specs) {
      if (s.kind === 'exact' && prefixes.has(s.path)) continue;
      const key = `${s.kind}@${s.magic ?? 0}:${s.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const w: WatchEntry = { id: firstId + out.length, kind: s.kind, path: s.path, ...(s.magic === undefined ? {} : { magic: s.magic }) };
      try {
        validateWatch(w);
      } catch {
        continue;
      }
      out.push(w);
    }
    return out;
  }
}
