// Loads the native addon (native/src, built by `make addon` into build/Release/vigil_native.node).
// The rest of the daemon sees only the NativeModule interface of native.ts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { findAbove } from '../../common/node/paths.js';

import { SensorError } from '../core/errors.js';
import type { NativeModule } from './native.js';

const ADDON = join('build', 'Release', 'vigil_native.node');

/** Where the addon is: VIGIL_NATIVE_ADDON, else build/Release under the nearest enclosing folder. */
export function nativeAddonPath(): string {
  const override = process.env.VIGIL_NATIVE_ADDON;
  if (override) return override;
  return findAbove(import.meta.url, ADDON) ?? join(process.cwd(), ADDON);
}

let loaded: NativeModule | undefined;

/** The addon, loaded once. Throws SensorError (VIGIL_SENSOR) when it is not built or cannot load. */
export function loadNative(): NativeModule {
  if (loaded) return loaded;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    throw new SensorError(`the native addon is not built (${path} is missing); run \`make addon\``);
  }
  try {
    loaded = createRequire(import.meta.url)(path) as NativeModule;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SensorError(`the native addon at ${path} cannot be loaded: ${reason}`, { cause: err });
  }
  return loaded;
}
