// The live stream (GET /api/v1/stream, Events.Subscribe as server-sent events) with reconnects that
// resume where they stopped: the id of each alert message is its seq, sent back as Last-Event-ID.
import type { SubscribeRequest } from '../../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse__Output } from '../../../proto/gen/vigil/v1/SubscribeResponse.js';
import { API, ApiError, errorOf, notifyUnauthorized } from './api.js';
import { authHeaders } from './auth.js';
import { SseParser } from './sse.js';

export type StreamState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'retrying'; inMs: number; reason: string }
  /** Will not retry: a refused filter (400) or token (401), or stopped. */
  | { kind: 'stopped'; reason: string };

export interface StreamHandlers {
  message(m: SubscribeResponse__Output): void;
  state(s: StreamState): void;
}

const MAX_BACKOFF_MS = 15_000;

/** Is the decimal uint64 string a greater than b (empty: none)? */
function seqAfter(a: string, b: string): boolean {
  if (!/^\d+$/.test(a)) return false;
  if (!/^\d+$/.test(b)) return true;
  return BigInt(a) > BigInt(b);
}

/**
 * Subscribes and keeps the subscription up until the returned function is called. `lastEventId`
 * resumes after that alert seq (alerts missed while disconnected are replayed by the server).
 */
export function subscribe(request: SubscribeRequest, h: StreamHandlers, lastEventId = ''): () => void {
  const abort = new AbortController();
  let lastId = lastEventId;
  let stopped = false;

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopped) {
      attempt++;
      h.state({ kind: 'connecting', attempt });
      let reason: string;
      try {
        const res = await fetch(`${API}/stream?request=${encodeURIComponent(JSON.stringify(request))}`, {
          headers: { accept: 'text/event-stream', ...authHeaders(), ...(lastId ? { 'last-event-id': lastId } : {}) },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (res.status === 401 || res.status === 400 || res.status === 403) {
          const err = await errorOf(res);
          if (res.status === 401) notifyUnauthorized();
          h.state({ kind: 'stopped', reason: err.message });
          return;
        }
        if (res.status === 416 || res.status === 409) {
          // The daemon's alert history is not the one lastId names (a new epoch, a cursor beyond its
          // last seq): resuming from it can never work. Start again live.
          const err = await errorOf(res);
          lastId = '';
          throw err;
        }
        if (!res.ok || !res.body) throw await errorOf(res);
        h.state({ kind: 'open' });
        attempt = 0;
        reason = await read(res.body);
      } catch (err) {
        if (stopped) return;
        reason = err instanceof ApiError ? err.message : `connection lost: ${(err as Error).message}`;
      }
      if (stopped) return;
      // First retry quickly (a daemon restart or a proxy timeout), then back off.
      const wait = Math.min(MAX_BACKOFF_MS, attempt <= 1 ? 500 : 1000 * 2 ** Math.min(attempt - 1, 4));
      h.state({ kind: 'retrying', inMs: wait, reason });
      await new Promise((r) => setTimeout(r, wait));
    }
  };

  /** Reads messages until the body ends; returns why it ended. */
  const read = async (body: ReadableStream<Uint8Array>): Promise<string> => {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'the server closed the stream';
        for (const m of parser.push(decoder.decode(value, { stream: true }))) {
          if (m.event === 'error') {
            let detail = m.data;
            try {
              detail = (JSON.parse(m.data) as { message?: string }).message ?? m.data;
            } catch {
              // keep the raw text
            }
            return `stream error: ${detail}`;
          }
          let parsed: SubscribeResponse__Output;
          try {
            parsed = JSON.parse(m.data) as SubscribeResponse__Output;
          } catch {
            continue; // a message that is not JSON is not ours to show
          }
          if (m.event === 'alert' && m.id) lastId = m.id;
          // A heartbeat says every alert up to last_seq has been offered to this stream: resuming from
          // there after a disconnect neither repeats nor misses any.
          if (parsed.heartbeat && seqAfter(parsed.heartbeat.last_seq, lastId)) lastId = parsed.heartbeat.last_seq;
          h.message(parsed);
          // Alerts lost in a gap are still in the store: reconnect from the last one delivered to get them.
          if (parsed.gap && Number(parsed.gap.lost_alerts) > 0) {
            lastId = parsed.gap.last_seq;
            return `resuming after ${parsed.gap.lost_alerts} lost alerts`;
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
  };

  void run();
  return () => {
    stopped = true;
    abort.abort();
    h.state({ kind: 'stopped', reason: 'stopped' });
  };
}
