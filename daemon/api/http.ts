// The daemon's HTTP listener: /metrics (Prometheus) and /healthz. Closed by default: it binds to
// loopback, and anywhere else it needs a bearer token (the config's http.token_file).
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConfigError } from '../errors.js';
import { isLoopback, splitListen } from '../config.js';
import type { Logger } from '../log.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition, type MetricFamily } from './prometheus.js';

export interface HttpApiOptions {
  listen: string;
  /** Bearer token; required when the address is not loopback. */
  token?: string;
  /** Builds the families of one scrape. */
  metrics: () => MetricFamily[] | Promise<MetricFamily[]>;
  health: () => { ok: boolean; detail: Record<string, unknown> };
  logger: Logger;
}

export class HttpApi {
  private readonly server: Server;
  private readonly token: Buffer | undefined;

  private constructor(private readonly o: HttpApiOptions) {
    this.token = o.token ? Buffer.from(o.token) : undefined;
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

  private authorised(req: IncomingMessage): boolean {
    if (!this.token) return true;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const got = Buffer.from(m[1]!);
    return got.length === this.token.length && timingSafeEqual(got, this.token);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorised(req)) return send(res, 401, 'unauthenticated: send Authorization: Bearer <token>\n', { 'www-authenticate': 'Bearer' });
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET\n', { allow: 'GET, HEAD' });
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') return send(res, 200, renderExposition(await this.o.metrics()), { 'content-type': EXPOSITION_CONTENT_TYPE });
      if (path === '/healthz') {
        const h = this.o.health();
        return send(res, h.ok ? 200 : 503, JSON.stringify(h) + '\n', { 'content-type': 'application/json' });
      }
      return send(res, 404, 'not found: try /metrics or /healthz\n');
    } catch (err) {
      this.o.logger.error({ err, url: req.url }, 'HTTP request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
