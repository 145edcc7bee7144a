// What a command may touch: its output streams, the environment, files, the clock and signals.
// main.ts wires the real ones; tests hand in their own.
import type { ColourMode, OutputStream } from './terminal.js';

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** --color; absent means auto. */
  colour?: ColourMode;
  /** Reads a file's text ('-' is standard input); throws with the errno message. */
  readText(path: string): string;
  now(): number;
  /** Calls `handler` on SIGINT/SIGTERM until the returned function is called. */
  onSignal(handler: () => void): () => void;
}
