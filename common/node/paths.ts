// Files that ship beside the code (the native addon, proto/, the built dashboard), found by walking up
// from the module asking: it runs as daemon/<stage>/x.ts (or clients/..., common/node/...) in a
// checkout or as dist/js/... in a build, and the file sits at the repository or build root.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above the module at `moduleUrl` that holds `relative`, joined with it; undefined when none does. */
export function findAbove(moduleUrl: string, relative: string): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
