// NATS JetStream sink: each record is published to a subject built from a template and counts as
// delivered once JetStream acknowledged storing it (PubAck). Alerts carry a message id
// ("<host>:<alert id>:<seq>"), so a batch published again after a retry or a crash within the stream's
// duplicate window is stored once. Many hosts publishing into one stream is the path to a fleet.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, JSONCodec, type JetStreamClient, type NatsConnection } from 'nats';
import { SinkError } from '../core/errors.js';
import { containerOf, enumName, severityName, toDocument, type ForwardRecord } from '../core/record.js';
import type { Sink } from '../core/sink.js';

export interface NatsSinkOptions {
  servers: string[];
  /** Subject template: {host}, {container} (name), {container_id}, {severity}, {rule}, {kind}. */
  subject: string;
  /** Stream the messages must land in (checked by JetStream on each publish). */
  stream?: string | undefined;
  /** Create the stream when missing, on subjects = the template with each placeholder token as `*`. */
  createStream?: boolean;
  /** Path of a NATS credentials file (JWT + nkey seed). */
  creds?: string | undefined;
  /** CA file for TLS. */
  ca?: string | undefined;
  hostname: string;
  timeoutMs?: number;
}

export const SUBJECT_PLACEHOLDERS = ['host', 'container', 'container_id', 'severity', 'rule', 'kind'] as const;

/** One subject token from a value: NATS separators and wildcards, spaces and controls become "_". */
export function subjectToken(value: string): string {
  return value.replace(/[\s.*>\x00-\x1f\x7f]/g, '_') || '_';
}

export function subjectFor(template: string, r: ForwardRecord, hostname: string): string {
  const c = containerOf(r);
  const values: Record<string, string> = {
    host: hostname,
    container: c.name,
    container_id: c.id,
    severity: r.type === 'alert' ? severityName(r.alert.severity) : 'none',
    rule: r.type === 'alert' ? r.alert.rule : 'none',
    kind: r.type === 'alert' ? 'alert' : enumName(r.event.kind, 'EVENT_KIND_'),
  };
  return template.replace(/\{([a-z_]+)\}/g, (m, name: string) => (name in values ? subjectToken(values[name]!) : m));
}

/** The stream's subject filter for a template: every token with a placeholder becomes `*`. */
export function streamSubject(template: string): string {
  return template
    .split('.')
    .map((t) => (t.includes('{') ? '*' : t))
    .join('.');
}

export class NatsSink implements Sink {
  readonly type = 'nats';
  private readonly o: NatsSinkOptions;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<JetStreamClient> | undefined;
  private readonly codec = JSONCodec();

  constructor(o: NatsSinkOptions) {
    this.o = o;
  }

  private async client(): Promise<JetStreamClient> {
    if (this.js && this.nc && !this.nc.isClosed()) return this.js;
    this.connecting ??= (async () => {
      try {
        const nc = await connect({
          servers: this.o.servers,
          name: `vigil-forward@${this.o.hostname}`,
          timeout: this.o.timeoutMs ?? 10_000,
          // The pipeline retries with its own backoff; the client also reconnects on its own once up.
          maxReconnectAttempts: -1,
          ...(this.o.creds ? { authenticator: credsAuthenticator(readFileSync(this.o.creds)) } : {}),
          ...(this.o.ca ? { tls: { caFile: this.o.ca } } : {}),
        });
        if (this.o.stream && this.o.createStream) {
          const jsm = await nc.jetstreamManager();
          try {
            await jsm.streams.info(this.o.stream);
          } catch {
            await jsm.streams.add({ name: this.o.stream, subjects: [streamSubject(this.o.subject)] });
          }
        }
        this.nc = nc;
        this.js = nc.jetstream({ timeout: this.o.timeoutMs ?? 10_000 });
        return this.js;
      } catch (err) {
        throw new SinkError('retry', `nats ${this.o.servers.join(',')}: ${(err as Error).message}`, { cause: err });
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  async send(batch: readonly ForwardRecord[]): Promise<void> {
    const js = await this.client();
    // Publish the whole batch at once and wait for every ack: acks are pipelined, not one round trip each.
    const results = await Promise.allSettled(
      batch.map((r) =>
        js.publish(subjectFor(this.o.subject, r, this.o.hostname), this.codec.encode(toDocument(r)), {
          ...(r.type === 'alert' ? { msgID: `${this.o.hostname}:${r.alert.id}:${r.seq}` } : {}),
          ...(this.o.stream ? { expect: { streamName: this.o.stream } } : {}),
        }),
      ),
    );
    const remaining: number[] = [];
    let firstError: unknown;
    results.forEach((res, i) => {
      if (res.status === 'rejected') {
        remaining.push(i);
        firstError ??= res.reason;
      }
    });
    if (remaining.length > 0) {
      throw new SinkError('retry', `nats: ${remaining.length} of ${batch.length} not acknowledged: ${(firstError as Error)?.message}`, { remaining });
    }
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
