// The completion scripts run in the real shells (bash, zsh, fish: test-only packages of `make test`),
// sourced from `bin/vigil completion SHELL` as a user would. The cases come from the parser's own
// tables (every command, subcommand, option and fixed option value must complete) plus a few command
// lines that exercise how the scripts find the command: prefixes, aliases, options before the
// command, --opt=value, files.
//   bash: COMP_WORDS/COMP_CWORD set by hand, then _vigil; COMPREPLY is what bash would offer.
//   zsh:  compadd and _files stand in as printers (zsh offers completions only inside its line
//         editor), $words/$CURRENT set by hand; zsh's own prefix filter is not applied.
//   fish: `complete -C LINE`, fish's own answer for a command line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { GROUPS, SPECS } from './args.js';
import { completionModel, completionScript } from './completion.js';

const VIGIL = join(import.meta.dirname, '../../../../bin/vigil');

interface Case {
  /** The words before the cursor and the one under it (the last, possibly ''). */
  words: string[];
  /** Must all be offered. */
  want: string[];
  /** Exactly these (bash and fish, which filter by the prefix as the shell would). */
  exact?: boolean;
}

/** Positional arguments a command needs before its options can be tried. */
const NEEDS: Record<string, string[]> = {
  'alerts show': ['ID1'],
  'alerts ack': ['ID1'],
  'alerts resolve': ['ID1'],
  'targets add': ['host'],
  'targets rm': ['host'],
  metrics: ['host'],
  forecast: ['host'],
  'rules check': ['a.yaml'],
};

function casesFromTables(): Case[] {
  const m = completionModel();
  const cases: Case[] = [{ words: ['vigil', ''], want: [...Object.keys(SPECS).map((n) => n.split(' ')[0]!), ...Object.keys(GROUPS)] }];
  for (const [g, { subs }] of Object.entries(GROUPS)) cases.push({ words: ['vigil', g, ''], want: subs, exact: true });
  for (const [name, c] of m.commands) {
    const base = ['vigil', ...name.split(' '), ...(NEEDS[name] ?? [])];
    cases.push({ words: [...base, '--'], want: c.options.map((o) => `--${o.long}`) });
    for (const o of c.options)
      if (Array.isArray(o.value)) cases.push({ words: [...base, `--${o.long}`, ''], want: [...(o.value as readonly string[])], exact: true });
    for (const o of c.options)
      if (Array.isArray(o.value) && o.short) cases.push({ words: [...base, `-${o.short}`, ''], want: [...(o.value as readonly string[])], exact: true });
  }
  return cases;
}

const FIXED: Case[] = [
  { words: ['vigil', 'al'], want: ['alerts'], exact: true },
  { words: ['vigil', 'help', 'da'], want: ['dashboard'], exact: true },
  { words: ['vigil', 'alerts', 'list', '--st'], want: ['--state'], exact: true },
  { words: ['vigil', 'targets', 'remove', '-'], want: ['--file', '--addr'] },
  { words: ['vigil', '--color', 'always', 'ps', '--a'], want: ['--all', '--addr'], exact: true },
  { words: ['vigil', '--addr', 'unix:///run/x.sock', 'st'], want: ['status'], exact: true },
  { words: ['vigil', 'tail', '-o', 'j'], want: ['json'], exact: true },
  { words: ['vigil', 'completion', ''], want: ['bash', 'zsh', 'fish'], exact: true },
  { words: ['vigil', '--'], want: ['--version', '--help', '--color'] },
];

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const SEP = '@@';

/** Runs every case in one shell process; returns the offered words of each. */
function offered(shell: 'bash' | 'zsh' | 'fish', cases: Case[]): string[][] {
  let script: string;
  if (shell === 'bash') {
    script =
      `source <(${sh(VIGIL)} completion bash)\n` +
      cases
        .map(
          (c) =>
            `COMP_WORDS=(${c.words.map(sh).join(' ')}); COMP_CWORD=${c.words.length - 1}; COMPREPLY=(); _vigil; printf '%s\\n' "\${COMPREPLY[@]}"; echo ${SEP}`,
        )
        .join('\n');
    return split(execFileSync('bash', ['-c', script], { encoding: 'utf8', cwd: '/' }));
  }
  if (shell === 'zsh') {
    script =
      `compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print -- '<files>'; }; compset() { :; }; compdef() { :; }\n` +
      `source <(${sh(VIGIL)} completion zsh)\n` +
      cases.map((c) => `words=(${c.words.map(sh).join(' ')}); CURRENT=${c.words.length}; _vigil; echo ${SEP}`).join('\n');
    return split(execFileSync('zsh', ['-fc', script], { encoding: 'utf8', cwd: '/' }));
  }
  // fish: `complete -C` takes the whole line; the last word is what the cursor is on.
  script = `${sh(VIGIL)} completion fish | source\n` + cases.map((c) => `complete -C ${sh(c.words.join(' '))}; echo ${SEP}`).join('\n');
  return split(execFileSync('fish', ['--no-config', '-c', script], { encoding: 'utf8', cwd: '/' })).map((ws) => ws.map((w) => w.split('\t')[0]!));
}

function split(out: string): string[][] {
  return out
    .split(`${SEP}\n`)
    .slice(0, -1)
    .map((block) => block.split('\n').filter(Boolean));
}

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  test(`${shell}: commands, subcommands, options and their values complete from the parser's tables`, () => {
    const cases = [...casesFromTables(), ...FIXED];
    const got = offered(shell, cases);
    assert.equal(got.length, cases.length, `${shell} answered ${got.length} of ${cases.length} cases`);
    cases.forEach((c, i) => {
      const words = got[i]!;
      const what = `${shell}: ${c.words.map((w) => w || "''").join(' ')} -> ${JSON.stringify(words)}`;
      for (const w of c.want) assert.ok(words.includes(w), `${what} lacks ${w}`);
      if (c.exact && shell !== 'zsh') assert.deepEqual([...words].sort(), [...c.want].sort(), what);
    });
  });
}

test('file arguments and values complete as files', () => {
  const cases: Case[] = [
    { words: ['vigil', 'rules', 'check', '/etc/host'], want: ['/etc/hostname'] },
    { words: ['vigil', 'status', '--ca', '/etc/host'], want: ['/etc/hostname'] },
    { words: ['vigil', 'targets', 'add', '-f', '/etc/host'], want: ['/etc/hostname'] },
  ];
  for (const [i, words] of offered('bash', cases).entries())
    assert.ok(words.includes('/etc/hostname'), `bash ${cases[i]!.words.join(' ')}: ${JSON.stringify(words)}`);
  for (const [i, words] of offered('zsh', cases).entries()) assert.deepEqual(words, ['<files>'], `zsh ${cases[i]!.words.join(' ')}`);
  for (const [i, words] of offered('fish', cases).entries())
    assert.ok(words.includes('/etc/hostname'), `fish ${cases[i]!.words.join(' ')}: ${JSON.stringify(words)}`);
});

test('the scripts are generated, not stored: a command added to the tables completes', () => {
  SPECS['frobnicate'] = {
    usage: 'Usage: vigil frobnicate\n',
    options: { level: { type: 'string', value: ['low', 'high'] } },
    build: () => ({ name: 'rules reload' }),
  };
  try {
    const script = completionScript('bash');
    const got = execFileSync(
      'bash',
      [
        '-c',
        `source /dev/stdin <<'EOF'\n${script}EOF\nCOMP_WORDS=(vigil frobnicate --level ''); COMP_CWORD=3; _vigil; echo "\${COMPREPLY[@]}"; COMP_WORDS=(vigil fro); COMP_CWORD=1; _vigil; echo "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(got, 'low high\nfrobnicate\n');
  } finally {
    delete SPECS['frobnicate'];
  }
});
