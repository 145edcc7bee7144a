// The page's container-name filter: the daemon's glob grammar in plain mode (common/glob.ts), so the
// page shows the alerts the API's container_names filter would send, and a hostile glob typed into
// the box costs linear time, never a frozen tab. No DOM here: the unit tests run it under Node.
import { compileGlob, GlobError } from '../../../common/glob.js';

/** A test for container names; throws an Error whose message names the column of a bad glob. */
export function nameMatcher(glob: string): (name: string) => boolean {
  try {
    const g = compileGlob(glob, 'plain');
    return (name) => g.test(name);
  } catch (err) {
    if (err instanceof GlobError) throw new Error(err.message);
    throw err;
  }
}
