// The bearer token of an Authorization header (gRPC metadata or HTTP), for the gRPC interceptor and
// the HTTP listener alike. RFC 7235 section 2.1: the scheme is case-insensitive ("Bearer", "bearer",
// "BEARER" are one scheme) and one or more spaces separate it from the credentials.
import { timingSafeEqual } from 'node:crypto';

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
