// What the output may use: colour as --color says. auto (the default): only on a terminal, only while
// NO_COLOR is unset (no-color.org: set to anything non-empty disables colour) and TERM is not dumb;
// always: colour even into a pipe and despite NO_COLOR (an explicit flag beats the environment, as
// no-color.org asks: `vigil ps --color always | less -R`); never: none. Sparklines and tables are
// sized for a terminal.

export const COLOUR_MODES = ['auto', 'always', 'never'] as const;
export type ColourMode = (typeof COLOUR_MODES)[number];

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function useColour(stream: OutputStream, env: NodeJS.ProcessEnv = process.env, mode: ColourMode = 'auto'): boolean {
  if (mode !== 'auto') return mode === 'always';
  return stream.isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

export type Paint = (code: string, text: string) => string;

export function painter(colour: boolean): Paint {
  return colour ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}

/** Removes ANSI SGR sequences (for width measurement). */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
