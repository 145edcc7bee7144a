// The daemon's HTTP listener: /metrics (Prometheus), /healthz, the dashboard's files and its JSON API
// (/api/v1, daemon/api/gateway.ts). Closed by default:
// - /api/ needs the bearer token unless http.auth is none, which only a loopback address may use; then
//   the Host header must name the loopback listener too (a web page on another origin cannot reach
//   it through DNS rebinding) and POSTs must be JSON (a cross-site form cannot send it).
// - /metrics and /healthz need the token off loopback only (a local Prometheus or probe scrapes them).
// - the dashboard's static files hold no data and need nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConfigError } from '../core/errors.js';
import { isLoopback, splitListen } from '../../common/listen.js';
import type { Logger } from '../core/log.js';
import { bearerMatches } from './auth.js';
import type { Gateway } from './gateway.js';
import type { WebRoot } from './web.js';
import type { MetricsRegistry } from './prometheus.js';

export interface HttpApiOptions {
  listen: string;
  /** Bearer token; required when the address is not loopback, or when auth is token. */
  token?: string;
  /** token (default): /api/ needs the token; none: open, loopback only. */
  auth?: 'token' | 'none';
  gateway?: Gateway;
  web?: WebRoot;
  /** What /metrics serves (read at each scrape). */
  metrics: Pick<MetricsRegistry, 'render'>;
  /** /healthz: HTTP 200 when ok (503 otherwise); `status` says more (`degraded`: store writes fail). */
  health: () => { ok: boolean; status?: string; detail: Record<string, unknown> };
  logger: Logger;
}

export class HttpApi {
  private readonly server: Server;
  private readonly token: Buffer | undefined;
  private readonly loopback: boolean;

  private constructor(private readonly o: HttpApiOptions) {
    this.token = o.token ? Buffer.from(o.token) : undefined;
    this.loopback = isLoopback(splitListen(o.listen).host);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.maxHeadersCount = 64;
  }

  /** Binds the listener; rejects with ConfigError for an open address without a token or a busy port. */
  static async start(o: HttpApiOptions): Promise<HttpApi> {
    const { host, port } = splitListen(o.listen);
    if (!isLoopback(host) && !o.token) {
      throw new ConfigError(`refusing to serve HTTP on ${o.listen} without a token: set http.token_file, or listen on 127.0.0.1`);
    }
    if (o.auth === 'none' && !isLoopback(host)) throw new ConfigError(`http.auth: none is only allowed on a loopback address, not ${o.listen}`);
    if ((o.auth ?? 'token') === 'token' && o.gateway && !o.token)
      throw new ConfigError('the HTTP API needs a token (http.token_file) unless http.auth is none');
    const api = new HttpApi(o);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ConfigError(`cannot listen on ${o.listen}: ${err.code === 'EADDRINUSE' ? 'address in use (is another vigild running?)' : err.message}`)),
      );
      api.server.listen(port, host, () => resolve());
    });
    return api;
  }

  get address(): string {
    const a = this.server.address();
    return a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  private hasToken(req: IncomingMessage): boolean {
    return this.token !== undefined && bearerMatches(req.headers.authorization, this.token);
  }

  /** Host names a browser may use for this listener when /api/ is open (auth none). */
  private hostAllowed(req: IncomingMessage): boolean {
    const host = (req.headers.host ?? '')
      .replace(/:\d+$/, '')
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    return host === 'localhost' || isLoopback(host);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://vigil.invalid');
      } catch {
        return send(res, 400, 'bad request URL\n');
      }
      const path = url.pathname;
      if (path.startsWith('/api/') && this.o.gateway) {
        const open = this.o.auth === 'none' && this.hostAllowed(req);
        if (!open && !this.hasToken(req))
          return apiDenied(
            res,
            this.o.auth === 'none' ? 'the Host header must name the loopback listener' : 'send Authorization: Bearer <token> (the token is in http.token_file)',
          );
        return await this.o.gateway.handle(req, res, url);
      }
      if (!this.loopback && !this.hasToken(req) && (path === '/metrics' || path === '/healthz'))
        return send(res, 401, 'unauthenticated: send Authorization: Bearer <token>\n', { 'www-authenticate': 'Bearer' });
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET\n', { allow: 'GET, HEAD' });
      if (path === '/metrics') {
        const m = await this.o.metrics.render();
        return send(res, 200, m.body, { 'content-type': m.contentType });
      }
      if (path === '/healthz') {
        const h = this.o.health();
        return send(res, h.ok ? 200 : 503, JSON.stringify(h) + '\n', { 'content-type': 'application/json' });
      }
      if (this.o.web?.serve(path, res)) return;
      return send(res, 404, 'not found: try /, /metrics, /healthz or /api/v1/status\n');
    } catch (err) {
      this.o.logger.error({ err, url: req.url }, 'HTTP request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    }
  }

  async close(): Promise<void> {
    this.o.gateway?.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }
}

function apiDenied(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ code: 'UNAUTHENTICATED', message }) + '\n';
  res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'www-authenticate': 'Bearer' });
  res.end(body);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
