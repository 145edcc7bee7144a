// Errors of the store: one class, a stable code per failure a caller can act on.
//
//   VIGIL_STORE_LOCKED   another process (a second daemon) holds the database's lock
//   VIGIL_STORE_CORRUPT  LevelDB reports corruption (open or read); repair or move the data dir
//   VIGIL_STORE_FULL     a write failed with ENOSPC: nothing already stored is lost, the write is not done
//   VIGIL_STORE_IO       any other I/O failure (permissions, a missing directory, a closed store)
import { VigilError } from '../core/errors.js';

export type StoreErrorCode = 'VIGIL_STORE_LOCKED' | 'VIGIL_STORE_CORRUPT' | 'VIGIL_STORE_FULL' | 'VIGIL_STORE_IO';

export class StoreError extends VigilError {
  readonly storeCode: StoreErrorCode;
  readonly dir: string;

  constructor(code: StoreErrorCode, dir: string, message: string, options?: { cause?: unknown }) {
    super(code, `${dir}: ${message}`, options);
    this.storeCode = code;
    this.dir = dir;
  }
}

interface LevelishError {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

function chain(err: unknown): LevelishError[] {
  const out: LevelishError[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    out.push(e as LevelishError);
    e = (e as LevelishError).cause;
  }
  return out;
}

/** Maps an error thrown by classic-level (codes LEVEL_*, causes nested) to a StoreError. */
export function storeErrorFrom(err: unknown, dir: string, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const links = chain(err);
  const codes = links.map((l) => (typeof l.code === 'string' ? l.code : ''));
  const messages = links.map((l) => (typeof l.message === 'string' ? l.message : '')).join(' | ');
  const last = links.length > 0 ? links[links.length - 1] : undefined;
  const reason = last && typeof last.message === 'string' ? last.message : String(err);
  let code: StoreErrorCode = 'VIGIL_STORE_IO';
  let hint = '';
  if (codes.includes('LEVEL_LOCKED') || (/\block\b/i.test(messages) && /resource temporarily unavailable|lock hold/i.test(messages))) {
    code = 'VIGIL_STORE_LOCKED';
    hint = ' (is another vigild running with this data dir?)';
  } else if (/ENOSPC|no space left/i.test(messages) || codes.includes('ENOSPC')) {
    code = 'VIGIL_STORE_FULL';
  } else if (codes.includes('LEVEL_CORRUPTION') || /corrupt/i.test(messages)) {
    code = 'VIGIL_STORE_CORRUPT';
    hint = ' (the data dir may be repaired or moved aside)';
  }
  return new StoreError(code, dir, `${what}: ${reason}${hint}`, { cause: err });
}
