// Whether a module is the program being run (bin/vigild, bin/vigil) rather than imported by a test:
// the entry modules start their command only then. The bin/ scripts reach the module through
// symlinks and relative paths, so both sides are compared as real paths.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when `moduleUrl` (the caller's import.meta.url) is the script node was started with. */
export function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
