// Serves the built dashboard (clients/web, built by `make web` into dist/web): index.html and hashed
// assets. Static files hold no data, so they need no token; every datum comes from /api/v1.
import { readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { findAbove } from '../../common/node/paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** What a browser may do with our pages: only our own scripts, no framing, no referrer leaks. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** dist/web beside the compiled daemon (dist/js/daemon/api -> dist/web), when it was built. */
export function defaultWebRoot(): string | undefined {
  const index = findAbove(import.meta.url, join('web', 'index.html'));
  return index ? dirname(index) : undefined;
}

export class WebRoot {
  private readonly cache = new Map<string, { body: Buffer; type: string }>();

  constructor(readonly root: string | undefined) {}

  /** Answers GET/HEAD for a non-API path; false when the path is not a dashboard file. */
  serve(path: string, res: ServerResponse): boolean {
    if (!this.root) {
      if (path !== '/' && path !== '/index.html') return false;
      send(res, 404, 'text/plain; charset=utf-8', Buffer.from('the dashboard is not built: run make web (or make build)\n'), 'no-store');
      return true;
    }
    const rel = path === '/' ? 'index.html' : path.slice(1);
    let decoded: string;
    try {
      decoded = decodeURIComponent(rel);
    } catch {
      return false;
    }
    const file = normalize(join(this.root, decoded));
    if (!file.startsWith(this.root + sep) || decoded.includes('\0')) return false;
    let entry = this.cache.get(file);
    if (!entry) {
      try {
        if (!statSync(file).isFile()) return false;
        entry = { body: readFileSync(file), type: TYPES[extname(file)] ?? 'application/octet-stream' };
      } catch {
        return false;
      }
      // Hashed assets never change under one name; index.html is read each time so a rebuild shows.
      if (rel.startsWith('assets/')) this.cache.set(file, entry);
    }
    // Hashed asset names change with their content; index.html must always be fetched fresh.
    send(res, 200, entry.type, entry.body, rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    return true;
  }
}

function send(res: ServerResponse, status: number, type: string, body: Buffer, cache: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'cache-control': cache, ...SECURITY_HEADERS });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
