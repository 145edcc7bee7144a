// A loaded, compiled rule set: the candidate index (event kind x system call -> rules), and what the
// probes must send for these rules (system calls, watched paths). Immutable once built.
import { compileRuleFiles, type CompiledRule, type CompiledSet } from './loader.js';
import { watchesOf, type Constraint, type WatchSpec } from './compile.js';
import type { RuleInfo } from './types.js';
import { Handler, syscallTable, type Arch } from '../sensor/syscalls.js';
import type { SyscallEntry, WatchEntry } from '../sensor/native.js';
import { USER_WATCH_ID_BASE, validateWatch } from '../sensor/watches.js';

export { RuleError, formatRuleError, type RuleFileError } from './loader.js';

/** Event kinds each probe handler produces. */
const HANDLER_KINDS: ReadonlyMap<number, readonly string[]> = new Map([
  [Handler.EXECVE, ['exec']],
  [Handler.EXECVEAT, ['exec']],
  [Handler.CLONE, ['fork', 'ns_change']],
  [Handler.CLONE3, ['fork', 'ns_change']],
  [Handler.FORK, ['fork']],
  [Handler.UNSHARE, ['ns_change']],
  [Handler.SETNS, ['ns_change', 'syscall']],
  [Handler.CRED, ['cred_change']],
  ...[Handler.OPEN, Handler.OPENAT, Handler.OPENAT2, Handler.CREAT, Handler.RENAME, Handler.RENAMEAT, Handler.LINK, Handler.LINKAT, Handler.SYMLINK, Handler.SYMLINKAT, Handler.UNLINK, Handler.UNLINKAT].map(
    (h): [number, readonly string[]] => [h, ['file']],
  ),
  [Handler.CONNECT, ['connect']],
]);
/** Process-lineage calls: always traced (the process table and container starts depend on them). */
const ALWAYS: ReadonlySet<number> = new Set([Handler.EXECVE, Handler.EXECVEAT, Handler.CLONE, Handler.CLONE3, Handler.FORK]);

function allows(c: Constraint, v: string): boolean {
  return c === null || c.has(v);
}

export class RuleSet {
  private readonly all: readonly CompiledRule[];
  /** Enabled event-driven rules (event, sequence, threshold). */
  private readonly active: readonly CompiledRule[];
  private readonly metricRules: readonly CompiledRule[];
  private readonly index = new Map<string, CompiledRule[]>();
  readonly files: readonly string[];
  readonly counts: CompiledSet['counts'];

  private constructor(set: CompiledSet) {
    this.all = set.rules;
    this.files = set.files;
    this.counts = set.counts;
    const enabled = set.rules.filter((r) => r.info.enabled);
    this.active = enabled.filter((r) => r.info.kind !== 'metric');
    this.metricRules = enabled.filter((r) => r.info.kind === 'metric');
  }

  /** Loads the rule files of the directories (or files); throws RuleError. */
  static load(dirs: readonly string[]): RuleSet {
    return new RuleSet(compileRuleFiles(dirs));
  }

  /** The same, as a promise (the loader is synchronous; the manager awaits it). */
  static async loadAsync(dirs: readonly string[]): Promise<RuleSet> {
    return RuleSet.load(dirs);
  }

  static empty(): RuleSet {
    return new RuleSet({ rules: [], files: [], counts: { rules: 0, macros: 0, lists: 0 } });
  }

  rules(): RuleInfo[] {
    return this.all.map((r) => ({ ...r.info, tags: [...r.info.tags], actions: [...r.info.actions] }));
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
      l = this.active.filter((r) => allows(r.kinds, kind) && (r.syscalls === null || (syscall !== '' && r.syscalls.has(syscall))));
      this.index.set(key, l);
    }
    return l;
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
    for (const r of this.active) for (const t of r.trees) watchesOf(t, specs);
    for (const s of specs) {
      const key = `${s.kind}:${s.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const w: WatchEntry = { id: firstId + out.length, kind: s.kind, path: s.path };
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
