// What this build of vigild, vigil and vigil-forward is: the package version (package.json, which
// ships with it), the build commit (dist/build-info.json, written by `make ts` from `git rev-parse
// --short HEAD`; "unknown" when the tree was not a git checkout) and the API. One module for the
// daemon and the clients (they ship together). Read once, never throws: a version line must not be
// the reason a program fails to start.
import { readFileSync } from 'node:fs';

/** The gRPC package every service lives in (proto/vigil/v1; test/version.test.ts holds it to the .proto files). */
export const API_VERSION = 'vigil.v1';

export interface BuildInfo {
  version: string;
  commit: string;
  api: string;
}

function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(url, 'utf8'));
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

let cached: BuildInfo | undefined;

/** dist/js/common/node/version.js -> <package>/package.json and <package>/dist/build-info.json. */
export function buildInfo(): BuildInfo {
  cached ??= {
    version: text(readJson(new URL('../../../../package.json', import.meta.url))?.version) ?? 'unknown',
    commit: text(readJson(new URL('../../../build-info.json', import.meta.url))?.commit) ?? 'unknown',
    api: API_VERSION,
  };
  return cached;
}

/** The one line `--version` prints: "vigild 0.1.0 (commit 1a2b3c4, API vigil.v1)". */
export function versionLine(program: string, info: BuildInfo = buildInfo()): string {
  return `${program} ${info.version} (commit ${info.commit}, API ${info.api})`;
}
