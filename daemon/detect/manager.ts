// Keeps the rules in force current: loads the directories, watches them (debounced), reloads on
// request (the daemon wires SIGHUP to reload()). A set that does not load is logged error by error
// with file:line:column and the rules in force stay. A good set is swapped into the detector between
// two events (JavaScript runs one event at a time, so no event sees half a rule set).
import { existsSync, mkdtempSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { RuleError, formatRuleError, RuleSet, type RuleFileError } from './ruleset.js';

/** The rule directories used when none are given: the package's rules/ and /etc/vigil/rules.d. */
export function defaultRuleDirs(): string[] {
  // From dist/js/daemon/detect/ (built) up to the package root.
  const pkg = fileURLToPath(new URL('../../../../rules', import.meta.url));
  const dirs = [existsSync(pkg) ? pkg : fileURLToPath(new URL('../../rules', import.meta.url))];
  if (existsSync('/etc/vigil/rules.d')) dirs.push('/etc/vigil/rules.d');
  return dirs;
}

/** What Rules.Validate and Rules.Reload answer: whether the text or the directories load, and why not. */
export interface RuleCheck {
  ok: boolean;
  errors: RuleFileError[];
  /** Validate: names of the rules the text defines; reload: the rules in force. */
  rules: string[];
}

/**
 * Rules.Validate: the text compiled as one more rule file after the directories (so it may use their
 * macros and lists), from a private temporary file; errors name the caller's file name.
 */
export function validateRuleText(dirs: readonly string[], text: string, fileName: string): RuleCheck {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-validate-'));
  const file = join(dir, 'input.yaml');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const rs = RuleSet.load([...dirs, file]);
    return {
      ok: true,
      errors: [],
      rules: rs
        .rules()
        .filter((r) => r.source.startsWith(`${file}:`))
        .map((r) => r.name),
    };
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    return { ok: false, errors: err.errors.map((e) => ({ ...e, file: e.file === file ? fileName : e.file })), rules: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RuleManagerOptions {
  dirs: readonly string[];
  logger?: Logger;
  /** Called with each new rule set that loaded (the detector's swap). */
  onReload: (rules: RuleSet) => void;
  /** Wait after the last file change before reloading, ms (default 300). */
  debounceMs?: number;
  /** Watch the directories (default true). */
  watch?: boolean;
}

export class RuleManager {
  private current: RuleSet | undefined;
  private readonly log: Logger;
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<boolean> | undefined;
  private again = false;
  readonly counters = { reloads: 0, failures: 0 };

  constructor(private readonly o: RuleManagerOptions) {
    this.log = o.logger ?? silentLogger();
  }

  get rules(): RuleSet | undefined {
    return this.current;
  }

  /** First load: throws RuleError (nothing is in force yet); starts watching. */
  start(): RuleSet {
    this.current = RuleSet.load(this.o.dirs);
    this.log.info({ rules: this.current.counts.rules, files: this.current.files.length }, 'rules loaded');
    this.logWarnings(this.current);
    if (this.o.watch !== false) this.watch();
    return this.current;
  }

  private watch(): void {
    for (const d of this.o.dirs) {
      try {
        const w = watch(d, { persistent: false }, () => this.schedule());
        w.on('error', (err) => this.log.warn({ err, dir: d }, 'rule directory watch failed'));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn({ err, dir: d }, 'cannot watch rule directory');
      }
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.o.debounceMs ?? 300);
    this.timer.unref?.();
  }

  /** Loads again; true when the new set is in force. Concurrent calls coalesce. */
  reload(): Promise<boolean> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      let ok = false;
      do {
        this.again = false;
        ok = await this.loadOnce();
      } while (this.again);
      this.loading = undefined;
      return ok;
    })();
    return this.loading;
  }

  private async loadOnce(): Promise<boolean> {
    try {
      const rs = await RuleSet.loadAsync(this.o.dirs);
      this.current = rs;
      this.counters.reloads++;
      this.o.onReload(rs);
      this.log.info({ rules: rs.counts.rules, files: rs.files.length }, 'rules reloaded');
      this.logWarnings(rs);
      return true;
    } catch (err) {
      this.counters.failures++;
      if (err instanceof RuleError) {
        for (const e of err.errors) this.log.error({ file: e.file, line: e.line, column: e.column }, `rule reload rejected: ${formatRuleError(e)}`);
        this.log.error({ errors: err.errors.length }, 'rule reload rejected; the rules in force stay');
      } else this.log.error({ err }, 'rule reload failed; the rules in force stay');
      return false;
    }
  }

  /** Rules.Validate against the directories this manager loads. */
  validate(text: string, fileName: string): RuleCheck {
    return validateRuleText(this.o.dirs, text, fileName);
  }

  /**
   * Rules.Reload: loads again and says what is in force; when the new set does not load, its errors
   * (the rules in force stay).
   */
  async reloadChecked(): Promise<RuleCheck> {
    const inForce = (): string[] => (this.current?.rules() ?? []).map((r) => r.name);
    if (await this.reload()) return { ok: true, errors: [], rules: inForce() };
    try {
      RuleSet.load(this.o.dirs);
    } catch (err) {
      if (err instanceof RuleError) return { ok: false, errors: err.errors, rules: inForce() };
    }
    return { ok: false, errors: [], rules: inForce() };
  }

  /** Skipped rules, missing plugins, a newer engine version asked for: loaded anyway, said once per load. */
  private logWarnings(rs: RuleSet): void {
    for (const w of rs.warnings) this.log.warn({ file: w.file, line: w.line, column: w.column }, formatRuleError(w));
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }
}
