// `vigil completion bash|zsh|fish`: completion scripts generated from the tables the argument parser
// uses (args.ts: SPECS, GROUPS, ALIASES, COMMON), so a new command, option or output format completes
// without anyone editing three shell scripts. What the scripts know: the commands and subcommands, each
// command's options (its own and the common ones), the fixed values of options such as -o and
// --color, and where a value or an argument is a file. The scripts work out the command from the
// words before the cursor the way parseCommandLine does: options (and the value of those that take
// one) are skipped, the first other word is the command, the next one a group's subcommand.
import { ALIASES, COMMON, GROUPS, SPECS, type OptionDef, type Shell } from './args.js';

interface Opt {
  long: string;
  short?: string;
  takesValue: boolean;
  value?: readonly string[] | 'file' | 'dir';
}

interface Model {
  /** Top-level words: the commands, the groups, help. */
  top: string[];
  groups: Record<string, string[]>;
  aliases: Record<string, string>;
  /** Full command name ("alerts ls") -> its options, the common ones included. */
  commands: Map<string, { options: Opt[]; positionals?: readonly string[] | 'file' }>;
  common: Opt[];
  /** Every option spelling that takes a value (--addr, -o, ...): the words after them are values. */
  valueWords: string[];
}

const opt = (long: string, d: OptionDef): Opt => ({
  long,
  takesValue: d.type === 'string',
  ...(d.short !== undefined ? { short: d.short } : {}),
  ...(d.value !== undefined ? { value: d.value } : {}),
});

/** The command tables as the completion scripts need them. Throws if an option is a flag in one command and takes a value in another (a script could not tell what follows it). */
export function completionModel(): Model {
  const common = Object.entries(COMMON).map(([k, d]) => opt(k, d));
  const commands: Model['commands'] = new Map();
  for (const [name, spec] of Object.entries(SPECS)) {
    const own = Object.entries(spec.options).map(([k, d]) => opt(k, d));
    commands.set(name, { options: [...own, ...common], ...(spec.positionals !== undefined ? { positionals: spec.positionals } : {}) });
  }
  const kinds = new Map<string, boolean>();
  for (const { options } of commands.values())
    for (const o of options)
      for (const w of [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]) {
        if (kinds.has(w) && kinds.get(w) !== o.takesValue) throw new Error(`completion: ${w} takes a value in one command and not in another`);
        kinds.set(w, o.takesValue);
      }
  const top = [...new Set([...Object.keys(SPECS).map((n) => n.split(' ')[0]!), ...Object.keys(GROUPS)])];
  top.push('help');
  return {
    top,
    groups: Object.fromEntries(Object.entries(GROUPS).map(([g, { subs }]) => [g, subs])),
    aliases: { ...ALIASES },
    commands,
    common,
    valueWords: [...kinds]
      .filter(([, v]) => v)
      .map(([w]) => w)
      .sort(),
  };
}

const spellings = (o: Opt): string[] => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])];
/** A shell word list for `case` patterns: --output|-o. */
const alt = (words: string[]): string => words.join('|');

export function completionScript(shell: Shell): string {
  const m = completionModel();
  switch (shell) {
    case 'bash':
      return bash(m);
    case 'zsh':
      return zsh(m);
    case 'fish':
      return fish(m);
  }
}

/**
 * The part bash and zsh share (their `case` syntax is the same): find the command in the words
 * before the cursor. `word(i)` is the shell expression of the i-th word, 0 being `vigil`; expects
 * `cword` (the cursor's word, 0-based); sets `cmd`.
 */
function findCommand(m: Model, word: (i: string) => string): string {
  const aliases = Object.entries(m.aliases)
    .map(([a, c]) => `${a}) w=${c} ;;`)
    .join(' ');
  return `  local i w cmd=""
  for ((i = 1; i < cword; i++)); do
    w="${word('i')}"
    case "$w" in
      --*=*) ;;
      ${alt(m.valueWords)})
        # Its value follows (bash splits --opt=value into --opt, = and value).
        if [[ "${word('i + 1')}" == "=" ]]; then ((i += 2)); else ((i++)); fi ;;
      -*) ;;
      *)
        if [[ -z "$cmd" ]]; then
          cmd="$w"
        else
          case "$cmd" in
            ${alt(Object.keys(m.groups))})
              case "$w" in ${aliases} esac
              cmd="$cmd $w" ;;
          esac
        fi ;;
    esac
  done`;
}

/** `case "$cmd|$prev"` arms for option values: fixed words, or files. `emit` turns a word list (or 'file'/'dir') into shell code. */
function valueArms(m: Model, emit: (v: readonly string[] | 'file' | 'dir') => string): string {
  const arms: string[] = [];
  const seen = new Set<string>();
  const arm = (cmdPattern: string | undefined, o: Opt): void => {
    if (o.value === undefined) return;
    // "alerts ls|-o" for one command's option, *"|--color" for a common one.
    const pattern = spellings(o).map((w) => (cmdPattern === undefined ? `*"|${w}"` : `"${cmdPattern}|${w}"`));
    const key = pattern.join('|');
    if (seen.has(key)) return;
    seen.add(key);
    arms.push(`      ${key}) ${emit(o.value)}; return ;;`);
  };
  for (const [name, c] of m.commands) for (const o of c.options) if (!m.common.includes(o)) arm(name, o);
  for (const o of m.common) arm(undefined, o);
  return arms.join('\n');
}

function optionArms(m: Model, emit: (words: string[]) => string): string {
  const lines = [...m.commands].map(([name, c]) => `      "${name}") ${emit(c.options.flatMap(spellings))} ;;`);
  lines.push(`      "") ${emit([...m.common.flatMap(spellings), '--version'])} ;;`);
  lines.push(`      *) ${emit(m.common.flatMap(spellings))} ;;`);
  return lines.join('\n');
}

function positionalArms(m: Model, emit: (v: readonly string[] | 'file') => string): string {
  const lines = [`      ""|help) ${emit(m.top)} ;;`];
  for (const [g, subs] of Object.entries(m.groups)) lines.push(`      ${g}) ${emit(subs)} ;;`);
  for (const [name, c] of m.commands) if (c.positionals !== undefined) lines.push(`      "${name}") ${emit(c.positionals)} ;;`);
  return lines.join('\n');
}

const HEADER = (shell: Shell): string =>
  `# ${shell} completion for vigil, generated by \`vigil completion ${shell}\` from the CLI's own command\n# tables (clients/cli/args.ts); regenerate it after upgrading vigil.\n`;

function bash(m: Model): string {
  const words = (v: readonly string[]): string => `COMPREPLY=($(compgen -W "${v.join(' ')}" -- "$cur"))`;
  const files = (dirs: boolean): string => `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen ${dirs ? '-d' : '-f'} -- "$cur"))`;
  const emit = (v: readonly string[] | 'file' | 'dir'): string => (v === 'file' ? files(false) : v === 'dir' ? files(true) : words(v));
  return `${HEADER('bash')}_vigil() {
  local -a line=("\${COMP_WORDS[@]}")
  local cword=$COMP_CWORD cur="\${COMP_WORDS[COMP_CWORD]}" prev=""
  ((cword > 0)) && prev="\${COMP_WORDS[cword-1]}"
  # --opt=value: bash hands over --opt, = and the value as three words.
  if [[ "$cur" == "=" ]]; then prev="\${COMP_WORDS[cword-1]}"; cur=""; elif [[ "$prev" == "=" ]] && ((cword > 1)); then prev="\${COMP_WORDS[cword-2]}"; fi
  COMPREPLY=()
${findCommand(m, (i) => `\${line[${i}]}`)}
  case "$cmd|$prev" in
${valueArms(m, emit)}
  esac
  case "$prev" in
    ${alt(m.valueWords)}) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${optionArms(m, words)}
    esac
    return
  fi
  case "$cmd" in
${positionalArms(m, emit)}
  esac
}
complete -F _vigil vigil
`;
}

function zsh(m: Model): string {
  const words = (v: readonly string[]): string => `compadd -- ${v.join(' ')}`;
  const emit = (v: readonly string[] | 'file' | 'dir'): string => (v === 'file' ? '_files' : v === 'dir' ? '_files -/' : words(v));
  return `#compdef vigil
${HEADER('zsh')}_vigil() {
  # $words is 1-based and $CURRENT indexes it; cword counts from 0, as bash does.
  local cword=$((CURRENT - 1)) cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  if [[ "$cur" == --*=* ]]; then prev="\${cur%%=*}"; compset -P '*='; fi
${findCommand(m, (i) => `\${words[${i} + 1]}`)}
  case "$cmd|$prev" in
${valueArms(m, emit)}
  esac
  case "$prev" in
    ${alt(m.valueWords)}) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${optionArms(m, words)}
    esac
    return
  fi
  case "$cmd" in
${positionalArms(m, emit)}
  esac
}
if [[ "\${funcstack[1]}" == _vigil ]]; then _vigil "$@"; else compdef _vigil vigil; fi
`;
}

function fish(m: Model): string {
  const q = (s: string): string => `'${s.replace(/'/g, "\\'")}'`;
  const out: string[] = [HEADER('fish').trimEnd()];
  const aliasCases = Object.entries(m.aliases)
    .map(([a, c]) => `            case ${a}\n                set w ${c}`)
    .join('\n');
  out.push(`function __vigil_cmd --description 'the vigil command named before the cursor'
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd ''
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
            case ${m.valueWords.map(q).join(' ')}
                set skip 1
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $w
                else if contains -- $cmd ${Object.keys(m.groups).join(' ')}
                    switch $w
${aliasCases.replace(/^/gm, '        ')}
                    end
                    set cmd "$cmd $w"
                end
        end
    end
    echo $cmd
end
function __vigil_is --description 'whether the vigil command before the cursor is $argv[1]'
    set -l c (__vigil_cmd)
    test "$c" = "$argv[1]"
end
complete -c vigil -f`);
  const optLine = (cond: string, o: Opt): string => {
    const parts = ['complete -c vigil', cond, o.short ? `-s ${o.short}` : '', `-l ${o.long}`];
    if (o.takesValue) parts.push('-r');
    if (Array.isArray(o.value)) parts.push(`-f -a ${q((o.value as readonly string[]).join(' '))}`);
    else if (o.value === 'file' || o.value === 'dir') parts.push('-F');
    return parts.filter(Boolean).join(' ');
  };
  out.push(`complete -c vigil -n ${q('__vigil_is ""')} -a ${q(m.top.join(' '))}`);
  out.push(`complete -c vigil -n ${q('__vigil_is help')} -a ${q(m.top.join(' '))}`);
  out.push(`complete -c vigil -n ${q('__vigil_is ""')} -l version`);
  for (const [g, subs] of Object.entries(m.groups)) out.push(`complete -c vigil -n ${q(`__vigil_is ${g}`)} -a ${q(subs.join(' '))}`);
  for (const o of m.common) out.push(optLine('', o));
  for (const [name, c] of m.commands) {
    const cond = `-n ${q(`__vigil_is "${name}"`)}`;
    for (const o of c.options) if (!m.common.includes(o)) out.push(optLine(cond, o));
    if (Array.isArray(c.positionals)) out.push(`complete -c vigil ${cond} -a ${q((c.positionals as readonly string[]).join(' '))}`);
    else if (c.positionals === 'file') out.push(`complete -c vigil ${cond} -F`);
  }
  return out.join('\n') + '\n';
}
