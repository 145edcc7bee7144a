// The API's tokens: the token files (read, and the HTTP one made on first start), and the bearer
// token of an Authorization header (gRPC metadata or HTTP), for the gRPC interceptor and the HTTP
// listener alike. RFC 7235 section 2.1: the scheme is case-insensitive ("Bearer", "bearer",
// "BEARER" are one scheme) and one or more spaces separate it from the credentials.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';

const BEARER = /^bearer +(.+)$/i;

/** The credentials after a Bearer scheme, or undefined when the header is absent or names another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return BEARER.exec(header)?.[1];
}

/** Whether the header carries exactly `token`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const got = bearerToken(header);
  if (got === undefined) return false;
  const b = Buffer.from(got);
  return b.length === token.length && timingSafeEqual(b, token);
}

/**
 * The HTTP token: the file `tokenFile` names, or <dataDir>/http.token, made (0600, 256 random bits)
 * when missing. Returns the token and the file it is in.
 */
export function httpToken(tokenFile: string | undefined, dataDir: string): string {
  const file = tokenFile ?? join(dataDir, 'http.token');
  if (!tokenFile) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`cannot create the HTTP token ${file}: ${(err as Error).message}`);
    }
  }
  return readToken(file);
}

/** A token file's token (trimmed); `what` names the setting in the error. At least 16 characters. */
export function readToken(file: string, what = 'http.token_file'): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  if (token.length < 16) throw new ConfigError(`the token in ${file} is too short (at least 16 characters)`);
  return token;
}
