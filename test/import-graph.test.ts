// The import graph of docs/architecture.md ("The import graph"), held: every relative import of the
// non-test TypeScript sources (type-only and dynamic ones included) is read, and
// - no file-level import cycle exists anywhere;
// - the daemon's folders import only folders before them in the pipeline's order (no back edges);
// - no folder cycle exists outside the dashboard's entry (clients/web/src/main.ts, the router, imports
//   the pages, which import the modules beside it);
// - clients never import daemon/; common/ imports neither; no production file imports test/;
// - common/ outside common/node/ imports no Node module (the dashboard bundles it).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

const REPO = join(import.meta.dirname, '../../..');
const ROOTS = ['common', 'daemon', 'clients', 'bench', 'test'];
const SKIP = new Set(['node_modules', 'dist', 'gen', 'fixtures']);

/** The daemon's folders in pipeline order; a folder imports only folders of a lower rank. */
const DAEMON_RANK: Readonly<Record<string, number>> = {
  'daemon/core': 0,
  'daemon/sensor': 1,
  'daemon/store': 1,
  'daemon/process': 2,
  'daemon/containers': 3,
  'daemon/metrics': 4,
  'daemon/detect': 5,
  'daemon/forecast': 6,
  'daemon/alerts': 7,
  'daemon/api': 8,
  daemon: 9,
  'daemon/cli': 10,
};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) sources(p, out);
    } else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g;

interface Graph {
  /** file -> files it imports (repository-relative, .ts) */
  files: Map<string, Set<string>>;
  /** file -> bare module names it imports (node:fs, pino...) */
  modules: Map<string, Set<string>>;
}

function readGraph(): Graph {
  const files = new Map<string, Set<string>>();
  const modules = new Map<string, Set<string>>();
  for (const f of ROOTS.flatMap((r) => sources(r))) {
    const text = readFileSync(join(REPO, f), 'utf8');
    const to = new Set<string>();
    const mods = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) to.add(normalize(join(dirname(f), spec)).replace(/\.js$/, '.ts'));
      else mods.add(spec);
    }
    files.set(f, to);
    modules.set(f, mods);
  }
  return { files, modules };
}

const folderOf = (f: string): string => (f.startsWith('proto/gen/') ? 'proto/gen' : dirname(f));

/** Strongly connected components of more than one node (Tarjan). */
function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

const graph = readGraph();

/** Each file import that crosses folders, as [from file, to file]. */
const crossing = [...graph.files].flatMap(([f, to]) => [...to].filter((t) => folderOf(t) !== folderOf(f)).map((t): [string, string] => [f, t]));

test('the sources were read (a walk that finds nothing would pass everything)', () => {
  assert.ok(graph.files.size > 150, `${graph.files.size} files`);
  assert.ok(crossing.length > 300, `${crossing.length} imports across folders`);
});

test('no file-level import cycle', () => {
  assert.deepEqual(cycles(graph.files), []);
});

test("the daemon's folders import only folders before them in the pipeline", () => {
  const back: string[] = [];
  for (const [f, t] of crossing) {
    const from = DAEMON_RANK[folderOf(f)];
    const to = DAEMON_RANK[folderOf(t)];
    if (from === undefined || to === undefined) continue;
    if (to >= from) back.push(`${f} -> ${t}`);
  }
  assert.deepEqual(back, []);
  const daemonFolders = new Set([...graph.files.keys()].filter((f) => f.startsWith('daemon/') || dirname(f) === 'daemon').map(folderOf));
  assert.deepEqual(
    [...daemonFolders].filter((d) => DAEMON_RANK[d] === undefined),
    [],
    'a new daemon folder needs its place in DAEMON_RANK (and in docs/architecture.md)',
  );
});

test("no folder cycle (the dashboard's entry aside)", () => {
  const folders = new Map<string, Set<string>>();
  for (const [f, t] of crossing) {
    if (f === 'clients/web/src/main.ts') continue;
    const s = folders.get(folderOf(f)) ?? new Set<string>();
    s.add(folderOf(t));
    folders.set(folderOf(f), s);
  }
  assert.deepEqual(cycles(folders), []);
});

test('clients never import daemon/, common/ neither; only tests and benchmarks import test/', () => {
  const bad = crossing
    .filter(
      ([f, t]) =>
        ((f.startsWith('clients/') || f.startsWith('common/')) && t.startsWith('daemon/')) ||
        (f.startsWith('common/') && t.startsWith('clients/')) ||
        ((f.startsWith('daemon/') || f.startsWith('clients/') || f.startsWith('common/')) && t.startsWith('test/')),
    )
    .map(([f, t]) => `${f} -> ${t}`);
  assert.deepEqual(bad, []);
});

test('common/ outside common/node/ imports no Node module (the dashboard bundles it)', () => {
  const bad: string[] = [];
  for (const [f, mods] of graph.modules) {
    if (!f.startsWith('common/') || f.startsWith('common/node/')) continue;
    for (const m of mods) bad.push(`${f} imports ${m}`);
  }
  assert.deepEqual(bad, []);
});
