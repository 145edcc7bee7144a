// HTTP sinks: Splunk HEC, Elasticsearch/OpenSearch _bulk and a plain webhook. One POST per batch over
// a keep-alive agent; a 2xx answer is the acknowledgement. Status policy, shared by all three:
// 400, 422 -> the records are malformed for this receiver: dropped and counted (retrying cannot help);
// 413 -> split the batch; anything else (network errors, 401/403 a wrong token, 404, 429, 5xx) ->
// retried with backoff, so nothing is lost while an operator fixes the receiver or the config.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SinkError } from '../core/errors.js';
import { bulkBody, bulkResults, hecBody, webhookBody, type HecOptions } from '../format/json.js';
import { falcoJson } from '../format/falco.js';
import type { ForwardRecord } from '../core/record.js';
import type { Sink } from '../core/sink.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpTarget {
  url: URL;
  headers: Record<string, string>;
  /** CA bundle (PEM) for https; default the system's. */
  ca?: Buffer | undefined;
  timeoutMs?: number;
}

/** POST `body` and collect the answer; network failures throw SinkError('retry'). */
export class HttpClient {
  private readonly t: HttpTarget;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(t: HttpTarget) {
    this.t = t;
    this.agent = t.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: t.ca }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  post(body: string, contentType: string, signal: AbortSignal): Promise<HttpResponse> {
    const request = this.t.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        this.t.url,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          timeout: this.t.timeoutMs ?? 30_000,
          headers: { ...this.t.headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err) => reject(new SinkError('retry', `${this.t.url.origin}: ${err.message}`, { cause: err })));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => reject(new SinkError('retry', `POST ${this.t.url.href}: ${err.message}`, { cause: err })));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throw the SinkError the status calls for; return on 2xx. */
export function checkStatus(res: HttpResponse, what: string): void {
  if (res.status >= 200 && res.status < 300) return;
  const detail = `${what}: HTTP ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
  if (res.status === 400 || res.status === 422) throw new SinkError('reject', detail);
  if (res.status === 413) throw new SinkError('split', detail);
  throw new SinkError('retry', detail);
}

/** URL with `path` appended when the configured one has no path of its own. */
export function withDefaultPath(url: string, path: string): URL {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = path;
  return u;
}

export interface HecSinkOptions extends HecOptions {
  url: string;
  token: string;
  ca?: Buffer | undefined;
}

/** Splunk HTTP Event Collector: POST /services/collector/event, "Authorization: Splunk <token>". */
export class HecSink implements Sink {
  readonly type = 'hec';
  private readonly o: HecSinkOptions;
  private readonly http: HttpClient;

  constructor(o: HecSinkOptions) {
    this.o = o;
    this.http = new HttpClient({
      url: withDefaultPath(o.url, '/services/collector/event'),
      ca: o.ca,
      headers: { authorization: `Splunk ${o.token}` },
    });
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    const res = await this.http.post(hecBody(batch, this.o), 'application/json', signal);
    // HEC answers 400 for "invalid data format" and "no data", 403 for a bad token, 503 when busy.
    checkStatus(res, 'HEC');
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

export interface BulkSinkOptions {
  url: string;
  index: string;
  /** Authorization header value ("Basic ...", "ApiKey ...", "Bearer ..."). */
  authorization?: string | undefined;
  ca?: Buffer | undefined;
}

/**
 * Elasticsearch/OpenSearch _bulk. The answer is 200 even when items failed: `errors: true` and a
 * status per item. Items refused with 429 or 5xx are sent again; items refused otherwise (a mapping
 * conflict) are dropped and counted.
 */
export class BulkSink implements Sink {
  readonly type = 'bulk';
  private readonly o: BulkSinkOptions;
  private readonly http: HttpClient;

  constructor(o: BulkSinkOptions) {
    this.o = o;
    this.http = new HttpClient({
      url: withDefaultPath(o.url, '/_bulk'),
      ca: o.ca,
      headers: o.authorization ? { authorization: o.authorization } : {},
    });
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    const res = await this.http.post(bulkBody(batch, { index: this.o.index }), 'application/x-ndjson', signal);
    checkStatus(res, '_bulk');
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new SinkError('retry', '_bulk: the answer is not JSON');
    }
    if ((parsed as { errors?: unknown }).errors !== true) return;
    const items = bulkResults(parsed);
    if (!items || items.length !== batch.length) throw new SinkError('retry', '_bulk: errors, and the items do not match the batch');
    const remaining: number[] = [];
    let refused = 0;
    let firstError: unknown;
    items.forEach((item, i) => {
      if (item.status >= 200 && item.status < 300) return;
      if (item.status === 429 || item.status >= 500) remaining.push(i);
      else {
        refused++;
        firstError ??= item.error;
      }
    });
    if (remaining.length > 0) {
      throw new SinkError('retry', `_bulk: ${remaining.length} of ${batch.length} items to retry`, { remaining });
    }
    if (refused > 0) {
      // Partly taken: the refused ones will never be; report them (the pipeline drops the batch rest, all taken).
      throw new SinkError('reject', `_bulk: ${refused} of ${batch.length} items refused: ${JSON.stringify(firstError).slice(0, 200)}`);
    }
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

export interface WebhookSinkOptions {
  url: string;
  headers: Record<string, string>;
  ca?: Buffer | undefined;
}

/** A plain webhook: POST a JSON array of the batch's documents. */
export class WebhookSink implements Sink {
  readonly type = 'webhook';
  private readonly http: HttpClient;

  constructor(o: WebhookSinkOptions) {
    this.http = new HttpClient({ url: new URL(o.url), headers: o.headers, ca: o.ca });
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    checkStatus(await this.http.post(webhookBody(batch), 'application/json', signal), 'webhook');
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

export interface FalcoSinkOptions {
  url: string;
  headers: Record<string, string>;
  /** Names the host when an alert does not (alerts of a daemon older than the hostname field). */
  hostname: string;
  ca?: Buffer | undefined;
}

/**
 * Falco's http_output: each new alert as Falco's JSON alert, one POST per alert with Content-Type
 * application/json, as falcosidekick (default http://localhost:2801/) and Falco Talon take them.
 * Only an alert's first version is sent (Falco emits an alert once; acks and folded repeats are not
 * new Falco alerts). A failure part-way through a batch retries from the alert that failed; an alert
 * the receiver refuses as malformed (400, 422, 413) is dropped alone.
 */
export class FalcoSink implements Sink {
  readonly type = 'falco';
  private readonly o: FalcoSinkOptions;
  private readonly http: HttpClient;

  constructor(o: FalcoSinkOptions) {
    this.o = o;
    this.http = new HttpClient({ url: new URL(o.url), headers: o.headers, ca: o.ca });
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      if (r.type !== 'alert' || r.change !== 'ALERT_CHANGE_OPENED') continue;
      try {
        checkStatus(await this.http.post(falcoJson(r.alert, this.o.hostname), 'application/json', signal), 'falco http_output');
      } catch (err) {
        if (err instanceof SinkError && (err.failure === 'reject' || err.failure === 'split')) continue;
        const remaining = Array.from({ length: batch.length - i }, (_, k) => i + k);
        if (err instanceof SinkError) throw new SinkError(err.failure, err.message, { cause: err, remaining });
        throw new SinkError('retry', (err as Error).message, { cause: err, remaining });
      }
    }
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
