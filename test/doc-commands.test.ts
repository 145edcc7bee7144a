// Every option a doc names exists: each `vigild`, `vigil` and `vigil-forward` command line in the
// READMEs and docs/ is parsed by the program's own parser, in a parse-only mode that runs nothing
// and reads no file (daemon/cli/main.ts checkCommandLine, clients/cli/args.ts parseCommandLine,
// clients/forwarder/args.ts parseForwardArgs). A doc that names an option or a subcommand that does
// not exist, or gives a value the parser refuses, fails here with the file and line.
// Where commands are found: shell code blocks (sh, bash, shell, console or unmarked; in console
// blocks only the lines after a `#` or `$` prompt) and inline code in prose that starts with a
// program name and is a command line: it starts with bin/ or passes an option (`vigild ready`, a log
// message, is not), and is no synopsis ([optional], a|b, <placeholder>, ...). Placeholders such as
// ID or CONTAINER_ID are ordinary arguments to the parsers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parseCommandLine } from '../clients/cli/args.js';
import { parseForwardArgs } from '../clients/forwarder/args.js';
import { checkCommandLine } from '../daemon/cli/main.js';

const ROOT = join(import.meta.dirname, '../../..');
const DOCS = [
  'README.md',
  'deploy/README.md',
  'clients/forwarder/README.md',
  'rules/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const SHELL_BLOCKS = new Set(['', 'sh', 'bash', 'shell', 'console', 'shell-session']);
const PROGRAMS = ['vigild', 'vigil', 'vigil-forward'] as const;
type Program = (typeof PROGRAMS)[number];

export interface DocCommand {
  where: string;
  program: Program;
  args: string[];
  text: string;
}

/**
 * Splits a shell line into simple commands, each a list of words: quotes and backslashes as the
 * shell reads them, `#` comments dropped, ; && || | & separating commands, and the inside of $(...)
 * and <(...) read as commands of their own (the substitution itself becomes one word).
 */
export function shellCommands(line: string): string[][] {
  const out: string[][] = [];
  const parse = (src: string): void => {
    let words: string[] = [];
    let word = '';
    let inWord = false;
    const endWord = (): void => {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    };
    const endCommand = (): void => {
      endWord();
      if (words.length > 0) out.push(words);
      words = [];
    };
    for (let i = 0; i < src.length; i++) {
      const c = src[i]!;
      if (c === "'") {
        const j = src.indexOf("'", i + 1);
        word += src.slice(i + 1, j < 0 ? src.length : j);
        inWord = true;
        i = j < 0 ? src.length : j;
      } else if (c === '"') {
        let j = i + 1;
        for (; j < src.length && src[j] !== '"'; j++) {
          if (src[j] === '\\' && j + 1 < src.length) j++;
          word += src[j];
        }
        inWord = true;
        i = j;
      } else if (c === '\\' && i + 1 < src.length) {
        word += src[++i];
        inWord = true;
      } else if ((c === '$' || c === '<') && src[i + 1] === '(') {
        let depth = 1;
        let j = i + 2;
        for (; j < src.length && depth > 0; j++) depth += src[j] === '(' ? 1 : src[j] === ')' ? -1 : 0;
        parse(src.slice(i + 2, j - 1));
        word += '<substitution>';
        inWord = true;
        i = j - 1;
      } else if (c === '#' && !inWord) {
        break;
      } else if (c === ';' || c === '|' || c === '&') {
        endCommand();
        if (src[i + 1] === c) i++;
      } else if (c === '>' || (c === '<' && src[i + 1] !== '(')) {
        // A redirection: its target is not an argument.
        endWord();
        while (src[i + 1] === ' ') i++;
        let j = i + 1;
        while (j < src.length && !/[\s;|&]/.test(src[j]!)) j++;
        i = j - 1;
      } else if (/\s/.test(c)) {
        endWord();
      } else {
        word += c;
        inWord = true;
      }
    }
    endCommand();
  };
  parse(line);
  return out;
}

/** The program a command runs (after NAME=value assignments and sudo), and its arguments. */
function asVigil(words: string[]): { program: Program; args: string[] } | undefined {
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || words[i] === 'sudo' || words[i] === 'exec')) i++;
  const base = words[i]?.split('/').pop();
  if (base === undefined || !(PROGRAMS as readonly string[]).includes(base)) return undefined;
  return { program: base as Program, args: words.slice(i + 1) };
}

/** A synopsis rather than a command line: optional parts, alternatives, placeholders in angle brackets, ellipses. */
const isSynopsis = (text: string): boolean => /[[\]|<>]|\.\.\.|…/.test(text);

export function docCommands(file: string, text: string): DocCommand[] {
  const found: DocCommand[] = [];
  const add = (lineNo: number, line: string): void => {
    for (const words of shellCommands(line)) {
      const cmd = asVigil(words);
      if (cmd) found.push({ where: `${file}:${lineNo}`, text: line.trim(), ...cmd });
    }
  };
  const lines = text.split('\n');
  let fence: string | undefined;
  let fenceLang = '';
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const open = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (open && (fence === undefined || line.trim().startsWith(fence))) {
      if (fence === undefined) {
        fence = open[1]!;
        fenceLang = open[2]!.toLowerCase();
      } else fence = undefined;
      continue;
    }
    if (fence !== undefined) {
      if (!SHELL_BLOCKS.has(fenceLang)) continue;
      let cmd = line;
      if (fenceLang === 'console' || fenceLang === 'shell-session') {
        const prompt = /^\s*[#$] (.*)$/.exec(line);
        if (!prompt) continue;
        cmd = prompt[1]!;
      }
      // A continued line is read with its continuation.
      const start = n;
      while (cmd.endsWith('\\') && n + 1 < lines.length) cmd = cmd.slice(0, -1) + ' ' + lines[++n]!;
      add(start + 1, cmd);
      continue;
    }
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      const span = m[1]!;
      if (/^(bin\/)?(vigild|vigil|vigil-forward) /.test(span) && (span.startsWith('bin/') || / -/.test(span)) && !isSynopsis(span)) add(n + 1, span);
    }
  }
  return found;
}

/** Parse-only: throws (a usage error) where the program would refuse the command line. */
function check(c: DocCommand): void {
  switch (c.program) {
    case 'vigil':
      parseCommandLine(c.args, { env: {}, stdoutIsTty: false, now: Date.parse('2026-11-28T12:00:00Z') });
      return;
    case 'vigild':
      checkCommandLine(c.args);
      return;
    case 'vigil-forward':
      parseForwardArgs(c.args, {});
      return;
  }
}

test('the shell reader: quotes, comments, separators, substitutions, prompts and redirections', () => {
  const cases: Array<[string, string[][]]> = [
    [
      `bin/vigil alerts ls; bin/vigil alerts ack ID --comment "known"`,
      [
        ['bin/vigil', 'alerts', 'ls'],
        ['bin/vigil', 'alerts', 'ack', 'ID', '--comment', 'known'],
      ],
    ],
    [
      `bin/vigil targets add 'k8s.namespace=prod' 'name:web-*'   # batch, all or nothing`,
      [['bin/vigil', 'targets', 'add', 'k8s.namespace=prod', 'name:web-*']],
    ],
    [
      `VIGIL_TOKEN=$(cat /etc/vigil/api.token) bin/vigil --addr h:9443 status`,
      [
        ['cat', '/etc/vigil/api.token'],
        ['VIGIL_TOKEN=<substitution>', 'bin/vigil', '--addr', 'h:9443', 'status'],
      ],
    ],
    [
      `source <(bin/vigil completion bash)`,
      [
        ['bin/vigil', 'completion', 'bash'],
        ['source', '<substitution>'],
      ],
    ],
    [
      `bin/vigild rules fields > docs/fields.md && git diff`,
      [
        ['bin/vigild', 'rules', 'fields'],
        ['git', 'diff'],
      ],
    ],
    [
      `bin/vigil tail -o json | jq .alert.rule`,
      [
        ['bin/vigil', 'tail', '-o', 'json'],
        ['jq', '.alert.rule'],
      ],
    ],
  ];
  for (const [line, want] of cases) assert.deepEqual(shellCommands(line), want, line);
  const doc = [
    '```console',
    '# bin/vigil status',
    'vigild 0.1.0, up 10s',
    '```',
    'Run `vigild run --rules DIR`, not `vigil alerts ls|show`; it logs `vigild ready`.',
    '```yaml',
    'x: vigil status',
    '```',
    '```sh',
    'bin/vigild trace \\',
    '  -o json',
    '```',
  ].join('\n');
  assert.deepEqual(
    docCommands('x.md', doc).map((c) => [c.where, c.program, ...c.args]),
    [
      ['x.md:2', 'vigil', 'status'],
      ['x.md:5', 'vigild', 'run', '--rules', 'DIR'],
      ['x.md:10', 'vigild', 'trace', '-o', 'json'],
    ],
  );
});

test('the parse-only check refuses what the programs refuse', () => {
  const bad: Array<[Program, string[]]> = [
    ['vigild', ['run', '--rule', 'x']],
    ['vigild', ['trace', '--kinds', 'nope']],
    ['vigild', ['rules', 'lint']],
    ['vigild', ['frob']],
    ['vigil', ['alerts', 'zap']],
    ['vigil', ['ps', '--quiet']],
    ['vigil-forward', ['--dry-run']],
  ];
  for (const [program, args] of bad) assert.throws(() => check({ where: 'test', program, args, text: '' }), `${program} ${args.join(' ')}`);
});

test('every vigild, vigil and vigil-forward command line in the docs parses', () => {
  const all = DOCS.flatMap((f) => docCommands(f, readFileSync(join(ROOT, f), 'utf8')));
  const failures: string[] = [];
  for (const c of all) {
    try {
      check(c);
    } catch (err) {
      failures.push(`${c.where}: ${c.text}\n    ${c.program} ${c.args.join(' ')}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  assert.deepEqual(failures, [], `command lines the parsers refuse:\n${failures.join('\n')}`);
  // The reader must keep finding the docs' commands: a broken reader would pass vacuously.
  for (const p of PROGRAMS)
    assert.ok(all.filter((c) => c.program === p).length >= 2, `only ${all.filter((c) => c.program === p).length} ${p} command lines found`);
  assert.ok(all.length >= 40, `only ${all.length} command lines found in ${DOCS.map((f) => relative(ROOT, join(ROOT, f))).join(', ')}`);
});
