// What the output may use: colour only on a terminal and only while NO_COLOR is unset (no-color.org:
// set to anything non-empty disables colour); sparklines and tables sized for a terminal.

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function useColour(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

export type Paint = (code: string, text: string) => string;

export function painter(colour: boolean): Paint {
  return colour ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}

/** Removes ANSI SGR sequences (for width measurement). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
