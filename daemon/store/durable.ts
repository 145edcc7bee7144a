// Small files that must survive what LevelDB's log may not (a torn tail): replaced atomically and
// durably. The content goes to a temporary file that is fsynced, renamed over the old one, and the
// directory is fsynced, so a crash leaves the old or the new file, never a torn one.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { storeErrorFrom, type StoreError } from './errors.js';

/** Replaces `path` with `content`; a failure (ENOSPC: VIGIL_STORE_FULL) is thrown as a StoreError. */
export async function writeDurable(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw storeErrorFrom(err, dirname(path), `cannot write ${path}`) as StoreError;
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readDurable(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storeErrorFrom(err, dirname(path), `cannot read ${path}`);
  }
}
