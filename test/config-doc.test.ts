// docs/config.md is the complete reference of vigild's config file. The keys are not copied from
// daemon/config.ts by hand: they are asked of its parser. An unknown key is refused with the list of
// the keys its section knows ("unknown key "x" in http (known: listen, token_file, auth)"), so a
// probe key placed in each section, and in each list entry, walks the whole tree. Every key found
// must have a row in the reference table (with a type, a default and a meaning), and every row must
// name a key the parser knows. A default written as one literal value is checked too: setting a key
// to its documented default must give exactly the built-in configuration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { defaultConfig, parseConfig } from '../daemon/config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = join(ROOT, 'docs/config.md');
const PROBE = '__vigil_probe__';

/** A path into the config: key names, '[]' for "an entry of this list". */
type Path = string[];

function nest(path: Path, leaf: unknown): unknown {
  return path.reduceRight<unknown>((inner, seg) => (seg === '[]' ? [inner] : { [seg]: inner }), leaf);
}

/** The error parseConfig gives for a document, or '' when it accepts it. */
function errorOf(doc: unknown): string {
  try {
    parseConfig(stringify(doc), 'probe.yaml');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** The keys the section at `path` knows, or undefined when it is not a section of fixed keys. */
function sectionKeys(path: Path): string[] | undefined {
  const m = new RegExp(`unknown key "${PROBE}" in .*\\(known: ([^)]*)\\)`).exec(errorOf(nest(path, { [PROBE]: 1 })));
  return m ? m[1]!.split(', ').filter(Boolean) : undefined;
}

function display(path: Path): string {
  return path.join('.').replace(/\.\[\]/g, '[]');
}

/** Every leaf key of the config file, as `a.b`, `a.list[].c`. */
function configKeys(path: Path = []): string[] {
  const keys = sectionKeys(path);
  assert.ok(keys, `${display(path) || 'the config'} is not a section`);
  return keys.flatMap((k) => {
    const p = [...path, k];
    if (sectionKeys(p)) return configKeys(p);
    if (sectionKeys([...p, '[]'])) return configKeys([...p, '[]']);
    return [display(p)];
  });
}

interface Row {
  key: string;
  type: string;
  default: string;
  meaning: string;
}

/** The reference table (the section "## Reference"): rows `| \`key\` | type | default | meaning |`. */
function docRows(text: string): Row[] {
  const start = text.indexOf('\n## Reference\n');
  assert.ok(start >= 0, 'docs/config.md has no "## Reference" section');
  const rest = text.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  return (end < 0 ? rest : rest.slice(0, end)).split('\n').flatMap((line) => {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) return [];
    const cells = m[2]!.split(/(?<!\\)\|/).map((c) => c.trim());
    assert.equal(cells.length, 3, `docs/config.md: the row of ${m[1]} needs type, default and meaning: ${line}`);
    return [{ key: m[1]!, type: cells[0]!, default: cells[1]!, meaning: cells[2]! }];
  });
}

describe('docs/config.md covers daemon/config.ts', () => {
  // Computed once, inside the tests: a malformed doc fails a test, not the file.
  const keys = configKeys();
  let cached: Row[] | undefined;
  const docTable = (): Row[] => (cached ??= docRows(readFileSync(DOC, 'utf8')));

  test('the parser is asked for its keys and answers with the whole tree', () => {
    // Keys of each kind of place: top level, a section, a nested section, a list entry.
    for (const k of ['data_dir', 'http.listen', 'metrics.retention.1m', 'containers.patterns[].regex', 'responses.enforce.syscalls']) {
      assert.ok(keys.includes(k), `${k} was not found; found: ${keys.join(', ')}`);
    }
    assert.ok(keys.length >= 30, `only ${keys.length} keys found`);
  });

  test('every key has a row with a type, a default and a meaning', () => {
    const rows = docTable();
    const documented = new Set(rows.map((r) => r.key));
    assert.deepEqual(
      keys.filter((k) => !documented.has(k)),
      [],
      'keys of daemon/config.ts that docs/config.md does not document',
    );
    for (const r of rows) {
      assert.ok(r.type && r.default && r.meaning, `docs/config.md: ${r.key} has an empty cell`);
    }
    const seen = new Set<string>();
    for (const r of rows) {
      assert.ok(!seen.has(r.key), `docs/config.md documents ${r.key} twice`);
      seen.add(r.key);
    }
  });

  test('every row names a key the parser knows (no stale or misspelt rows)', () => {
    assert.deepEqual(
      docTable()
        .map((r) => r.key)
        .filter((k) => !keys.includes(k)),
      [],
      'rows of docs/config.md that daemon/config.ts does not know',
    );
  });

  test('a default written as one literal value is the built-in default', () => {
    let checked = 0;
    for (const r of docTable()) {
      const m = /^`([^`]+)`$/.exec(r.default);
      // Prose defaults ("none", "<data_dir>/http.token, made at first start") and keys of list
      // entries (which exist only inside an entry) are not literal values to set.
      if (!m || r.key.includes('[]')) continue;
      const value: unknown = parseYaml(m[1]!);
      const doc = nest(r.key.split('.'), value);
      let cfg;
      try {
        cfg = parseConfig(stringify(doc), 'docs/config.md');
      } catch (err) {
        assert.fail(`${r.key}: the documented default ${m[1]} is refused: ${(err as Error).message}`);
      }
      assert.deepEqual(cfg, defaultConfig(), `${r.key}: the documented default ${m[1]} is not the built-in one`);
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} defaults were literal values`);
  });

  test('the check can fail: an unknown key is not found, a misspelt row is caught', () => {
    assert.equal(sectionKeys(['http', 'listen']), undefined, 'a leaf is not a section');
    const wrong = docRows('\n## Reference\n| `http.lisen` | host:port | `127.0.0.1:9470` | typo |\n');
    assert.deepEqual(
      wrong.map((r) => r.key).filter((k) => !keys.includes(k)),
      ['http.lisen'],
    );
    // A wrong documented default would differ from the built-in configuration.
    assert.notDeepEqual(parseConfig(stringify(nest(['metrics', 'interval'], '6s')), 'x'), defaultConfig());
  });
});
