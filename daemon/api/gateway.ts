// The HTTP/JSON API under /api/v1 (docs/api.md): a transcoding gateway in front of the daemon's own
// gRPC server, reached over its unix socket. The dashboard therefore gets exactly what gRPC clients
// get: the same handlers, argument checks, subscription filters and per-subscriber bounded queues
// with gap accounting, and the same JSON shapes (proto/README.md loader options). Nothing here
// interprets a request beyond routing it.
//
// /api/v1/stream turns Events.Subscribe into server-sent events; a slow browser back-pressures its
// own gRPC stream, whose server-side queue then drops and reports a gap, never stalling anyone else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, channelCredentials, grpcTarget } from '../../common/node/grpc-client.js';
import { ALERT_STATES } from '../alerts/alert.js';
import { SEVERITIES } from '../core/severity.js';
import { clientConstructors } from './proto.js';

const MAX_BODY = 1 << 20;
const UNARY_DEADLINE_MS = 30_000;
const PING_MS = 15_000;

/** gRPC status -> HTTP status (the mapping of google.api.http / grpc-gateway). */
const HTTP_STATUS: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.FAILED_PRECONDITION]: 412,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
};

/** An error the gateway answers itself, before any gRPC call. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
type Query = URLSearchParams;

interface Route {
  method: 'GET' | 'POST';
  /** Path under /api/v1, segments starting with ':' capture (URL-decoded). */
  path: string;
  service: string;
  rpc: string;
  /** Query parameters accepted, with how to read each. */
  query?: Record<string, (v: string, name: string) => unknown>;
  /** Builds the request from path captures, query and body. */
  request: (p: Record<string, string>, q: Json, body: Json) => Json;
}

const text = (v: string): string => v;
const U63 = 1n << 63n;
const whole = (v: string, name: string): string => {
  if (!/^\d+$/.test(v)) throw new HttpError(400, 'INVALID_ARGUMENT', `${name}: not a whole number: ${JSON.stringify(v)}`);
  // gRPC's 64-bit fields would wrap a larger number silently (2^64 + 5 becomes 5): refuse it here.
  if (BigInt(v) >= U63) throw new HttpError(400, 'OUT_OF_RANGE', `${name}: ${v} is at or above 2^63`);
  return v;
};
const flag = (v: string, name: string): boolean => {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new HttpError(400, 'INVALID_ARGUMENT', `${name}: true or false, not ${JSON.stringify(v)}`);
};
const oneOf =
  (prefix: string, names: readonly string[]) =>
  (v: string, name: string): string => {
    const full = v.toUpperCase().startsWith(prefix) ? v.toUpperCase() : `${prefix}${v.toUpperCase()}`;
    if (!names.some((n) => `${prefix}${n.toUpperCase()}` === full))
      throw new HttpError(400, 'INVALID_ARGUMENT', `${name}: one of ${names.join(', ')}, not ${JSON.stringify(v)}`);
    return full;
  };

const ROUTES: Route[] = [
  { method: 'GET', path: '/status', service: 'Status', rpc: 'Get', request: () => ({}) },
  { method: 'GET', path: '/containers', service: 'Containers', rpc: 'List', query: { include_stopped: flag }, request: (_p, q) => q },
  { method: 'GET', path: '/containers/:id', service: 'Containers', rpc: 'Get', request: (p) => ({ id: p['id'] }) },
  {
    method: 'GET',
    path: '/alerts',
    service: 'Alerts',
    rpc: 'List',
    query: {
      rule: text,
      container: text,
      state: oneOf('ALERT_STATE_', ALERT_STATES),
      min_severity: oneOf('SEVERITY_', SEVERITIES),
      since_ms: whole,
      until_ms: whole,
      limit: whole,
      page_token: text,
    },
    request: (_p, q) => q,
  },
  { method: 'GET', path: '/alerts/:id', service: 'Alerts', rpc: 'Get', request: (p) => ({ id: p['id'] }) },
  { method: 'POST', path: '/alerts/:id/acknowledge', service: 'Alerts', rpc: 'Acknowledge', request: (p, _q, b) => update(p, b) },
  { method: 'POST', path: '/alerts/:id/resolve', service: 'Alerts', rpc: 'Resolve', request: (p, _q, b) => update(p, b) },
  { method: 'GET', path: '/targets', service: 'Targets', rpc: 'List', request: () => ({}) },
  { method: 'POST', path: '/targets', service: 'Targets', rpc: 'Add', request: (_p, _q, b) => ({ targets: listOf(b, 'targets') }) },
  { method: 'POST', path: '/targets/remove', service: 'Targets', rpc: 'Remove', request: (_p, _q, b) => ({ ids: listOf(b, 'ids') }) },
  {
    method: 'GET',
    path: '/metrics/:target/:metric',
    service: 'Metrics',
    rpc: 'Query',
    query: { start_ms: whole, end_ms: whole, step_ms: whole },
    request: (p, q) => ({ target: p['target'], metric: p['metric'], ...q }),
  },
  { method: 'GET', path: '/forecasts/:target/:metric', service: 'Forecasts', rpc: 'Get', request: (p) => ({ target: p['target'], metric: p['metric'] }) },
  { method: 'GET', path: '/rules', service: 'Rules', rpc: 'List', request: () => ({}) },
];

function update(p: Record<string, string>, b: Json): Json {
  const out: Json = { id: p['id'], by: 'dashboard' };
  for (const [k, v] of Object.entries(b)) {
    if (k !== 'comment' && k !== 'by') throw new HttpError(400, 'INVALID_ARGUMENT', `unknown field ${JSON.stringify(k)} (known: comment, by)`);
    if (typeof v !== 'string') throw new HttpError(400, 'INVALID_ARGUMENT', `${k}: must be a string`);
    if (k === 'by' && v === '') continue;
    out[k] = v;
  }
  return out;
}

function listOf(b: Json, key: string): unknown[] {
  const v = b[key];
  if (!Array.isArray(v)) throw new HttpError(400, 'INVALID_ARGUMENT', `${key}: must be a list`);
  return v;
}

export interface GatewayOptions {
  /** The daemon's gRPC unix socket; without it the gateway answers 503. */
  socket?: string;
}

export interface GatewayStats {
  requests: number;
  errors: number;
  streams: number;
}

export class Gateway {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly streams = new Set<grpc.ClientReadableStream<unknown>>();
  private readonly counters = { requests: 0, errors: 0 };
  private closed = false;

  constructor(private readonly o: GatewayOptions) {}

  stats(): GatewayStats {
    return { ...this.counters, streams: this.streams.size };
  }

  /** Answers a request whose path starts with /api/; the caller has checked auth. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.counters.requests++;
    try {
      const sub = url.pathname.slice('/api/v1'.length);
      if (!url.pathname.startsWith('/api/v1/')) throw new HttpError(404, 'NOT_FOUND', 'unknown API version: use /api/v1/');
      if (sub === '/stream') {
        if (req.method !== 'GET') throw new HttpError(405, 'INVALID_ARGUMENT', 'GET only');
        return this.stream(req, res, url.searchParams);
      }
      const { route, params } = match(req.method ?? 'GET', sub);
      const q = readQuery(url.searchParams, route.query ?? {});
      const body = route.method === 'POST' ? await readJson(req) : {};
      const reply = await this.unary(route.service, route.rpc, route.request(params, q, body));
      sendJson(res, 200, reply);
    } catch (err) {
      this.counters.errors++;
      const { status, body } = toHttp(err);
      if (!res.headersSent) sendJson(res, status, body);
      else res.destroy();
    }
  }

  private client(service: string): grpc.Client {
    if (!this.o.socket) throw new HttpError(503, 'UNAVAILABLE', 'the HTTP API needs the gRPC unix socket (api.socket), which is off');
    let c = this.clients.get(service);
    if (!c) {
      const Ctor = clientConstructors()[service];
      if (!Ctor) throw new HttpError(500, 'INTERNAL', `no service ${service}`);
      const addr = `unix:${this.o.socket}`;
      c = new Ctor(grpcTarget(addr), channelCredentials({ addr }), { ...CHANNEL_OPTIONS });
      this.clients.set(service, c);
    }
    return c;
  }

  private unary(service: string, rpc: string, request: Json): Promise<unknown> {
    const c = this.client(service) as unknown as Record<
      string,
      (r: Json, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void
    >;
    return new Promise((resolve, reject) => {
      c[rpc]!.call(c, request, new grpc.Metadata(), { deadline: Date.now() + UNARY_DEADLINE_MS }, (err, v) => (err ? reject(err) : resolve(v)));
    });
  }

  private stream(req: IncomingMessage, res: ServerResponse, q: Query): void {
    for (const k of q.keys()) if (k !== 'request') throw new HttpError(400, 'INVALID_ARGUMENT', `unknown parameter ${JSON.stringify(k)} (known: request)`);
    let request: Json = { include_alerts: true };
    const raw = q.get('request');
    if (raw !== null) {
      try {
        request = JSON.parse(raw) as Json;
      } catch (err) {
        throw new HttpError(400, 'INVALID_ARGUMENT', `request: not JSON: ${(err as Error).message}`);
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request))
        throw new HttpError(400, 'INVALID_ARGUMENT', 'request: must be a JSON object (a SubscribeRequest)');
    }
    const last = req.headers['last-event-id'];
    if (typeof last === 'string' && last !== '') {
      if (!/^\d+$/.test(last)) throw new HttpError(400, 'INVALID_ARGUMENT', `Last-Event-ID: not a whole number: ${JSON.stringify(last)}`);
      request = { ...request, since_seq: last };
    }
    // A cursor the store cannot serve: 416 (beyond the range, at or above 2^63) or 409 (another epoch).
    const since = request['since_seq'];
    if (since !== undefined && since !== null) {
      const text = typeof since === 'number' || typeof since === 'string' ? String(since) : '';
      if (!/^\d+$/.test(text)) throw new HttpError(400, 'INVALID_ARGUMENT', `since_seq: not a whole number: ${JSON.stringify(since)}`);
      if (BigInt(text) >= U63)
        throw new HttpError(416, 'OUT_OF_RANGE', `since_seq ${text} is at or above 2^63: not a sequence number (rejected, never wrapped)`);
      request = { ...request, since_seq: text };
    }
    const c = this.client('Events') as unknown as { Subscribe(r: Json, md: grpc.Metadata): grpc.ClientReadableStream<Json> };
    const call = c.Subscribe(request, new grpc.Metadata());
    this.streams.add(call);
    let open = false;
    let ping: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearInterval(ping);
      this.streams.delete(call);
      call.cancel();
      res.end();
    };
    const start = (): void => {
      if (open) return;
      open = true;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.flushHeaders();
      ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
      ping.unref();
    };
    call.on('metadata', start);
    call.on('data', (m: Json) => {
      start();
      const kind = typeof m['message'] === 'string' ? m['message'] : 'message';
      const alert = m['alert'] as { seq?: string } | null | undefined;
      const id = kind === 'alert' && alert?.seq ? `id: ${alert.seq}\n` : '';
      if (!res.write(`event: ${kind}\n${id}data: ${JSON.stringify(m)}\n\n`)) {
        // The browser is slower than the stream: let the server-side queue absorb it and count a gap.
        call.pause();
        res.once('drain', () => call.resume());
      }
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED) return finish();
      this.counters.errors++;
      const { status, body } = toHttp(err);
      if (!open) {
        clearInterval(ping);
        this.streams.delete(call);
        // A cursor the store cannot serve: 416 (beyond the range) or 409 (another epoch), with the range.
        const cursor =
          err.code === grpc.status.OUT_OF_RANGE
            ? 416
            : err.code === grpc.status.FAILED_PRECONDITION && err.metadata?.get('vigil-epoch').length
              ? 409
              : undefined;
        if (cursor !== undefined) {
          const md = (k: string): string => String(err.metadata?.get(k)[0] ?? '');
          const range = err.metadata?.get('vigil-epoch').length
            ? { epoch: md('vigil-epoch'), first_seq: md('vigil-first-seq'), last_seq: md('vigil-last-seq') }
            : {};
          return sendJson(res, cursor, { ...body, ...range });
        }
        return sendJson(res, status, body);
      }
      res.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
      finish();
    });
    call.on('end', finish);
    res.on('close', finish);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.cancel();
    this.streams.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

function match(method: string, sub: string): { route: Route; params: Record<string, string> } {
  const parts = sub.split('/').slice(1);
  let pathMatched = false;
  for (const route of ROUTES) {
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i]!;
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(parts[i]!);
        } catch {
          throw new HttpError(400, 'INVALID_ARGUMENT', `bad URL encoding in ${JSON.stringify(parts[i])}`);
        }
        ok = params[p.slice(1)] !== '';
      } else ok = p === parts[i];
    }
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
  }
  if (pathMatched) throw new HttpError(405, 'INVALID_ARGUMENT', `method ${method} not allowed here`);
  throw new HttpError(404, 'NOT_FOUND', `no API route ${JSON.stringify(sub)} (see docs/api.md)`);
}

function readQuery(q: Query, accepted: Record<string, (v: string, name: string) => unknown>): Json {
  const out: Json = {};
  for (const [k, v] of q) {
    const read = accepted[k];
    if (!read)
      throw new HttpError(
        400,
        'INVALID_ARGUMENT',
        `unknown parameter ${JSON.stringify(k)}${Object.keys(accepted).length ? ` (known: ${Object.keys(accepted).join(', ')})` : ''}`,
      );
    if (v !== '') out[k] = read(v, k);
  }
  return out;
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const type = req.headers['content-type'] ?? '';
  // Requiring JSON also forces a CORS preflight on cross-site POSTs, which this server never grants.
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'INVALID_ARGUMENT', 'send the body as Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'INVALID_ARGUMENT', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'INVALID_ARGUMENT', `the body is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'INVALID_ARGUMENT', 'the body must be a JSON object');
  return v as Json;
}

function toHttp(err: unknown): { status: number; body: { code: string; message: string } } {
  if (err instanceof HttpError) return { status: err.status, body: { code: err.code, message: err.message } };
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code === 'number') {
    const name = grpc.status[e.code] ?? 'UNKNOWN';
    return { status: HTTP_STATUS[e.code as grpc.status] ?? 500, body: { code: name, message: e.details ?? '' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
