// The real AlertSource: Events.Subscribe on vigild, loaded from proto/ with the options of
// proto/README.md. Addresses as the CLI takes them: unix:///run/vigil/vigil.sock (the default; file
// permissions are the access control), host:port with TLS (system CAs or `ca`), host:port with
// `insecure` (plain TCP, for loopback tests). A token goes with the call as `authorization: Bearer`.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from '../../proto/gen/events.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { DaemonConfig } from './config.js';
import { CursorRejectedError, SourceError } from './errors.js';
import type { AlertSource, SubscribeOptions } from './forwarder.js';
import type { StreamItem } from './record.js';

/** proto/ of this checkout: dist/js/clients/forwarder/grpc.js -> <repo>/proto. */
export const PROTO_DIR = fileURLToPath(new URL('../../../../proto/', import.meta.url));

export function loadEventsService(): ProtoGrpcType['vigil']['v1']['Events'] {
  const def = protoLoader.loadSync(['vigil/v1/events.proto'], {
    includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  return (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).vigil.v1.Events;
}

/** A SubscribeResponse as the forwarder's StreamItem; undefined for a message it does not know. */
export function toStreamItem(m: SubscribeResponse__Output): StreamItem | undefined {
  if (m.alert) return { type: 'alert', seq: Number(m.alert.seq), alert: m.alert, change: m.alert_change };
  if (m.event) return { type: 'event', event: m.event };
  if (m.gap) {
    return { type: 'gap', lost: Number(m.gap.lost), lostAlerts: Number(m.gap.lost_alerts), lastSeq: Number(m.gap.last_seq), reason: m.gap.reason };
  }
  if (m.heartbeat) return { type: 'heartbeat', lastSeq: Number(m.heartbeat.last_seq), epoch: m.heartbeat.epoch ?? '' };
  return undefined;
}

export class GrpcSource implements AlertSource {
  private readonly client: EventsClient;
  private readonly token: string | undefined;

  constructor(d: DaemonConfig) {
    const Events = loadEventsService();
    const target = d.address.startsWith('unix:') && !d.address.startsWith('unix://') ? `unix://${d.address.slice(5)}` : d.address;
    let creds: grpc.ChannelCredentials;
    if (target.startsWith('unix:') || d.insecure) {
      creds = grpc.credentials.createInsecure();
    } else {
      let ca: Buffer | null = null;
      if (d.ca) {
        try {
          ca = readFileSync(d.ca);
        } catch (err) {
          throw new SourceError(`cannot read the CA file ${d.ca}: ${(err as Error).message}`, err);
        }
      }
      creds = grpc.credentials.createSsl(ca);
    }
    this.client = new Events(target, creds, {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.keepalive_time_ms': 30_000,
    });
    this.token = d.token;
  }

  async *subscribe(o: SubscribeOptions, signal: AbortSignal): AsyncIterable<StreamItem> {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    const call = this.client.Subscribe({
      allow: o.allow, deny: o.deny, include_alerts: o.includeAlerts, include_events: o.includeEvents,
      since_seq: String(o.sinceSeq),
      // what its losses count under in vigil status and vigil_subscriber_dropped_total
      client_name: 'vigil-forward',
      ...(o.epoch ? { epoch: o.epoch } : {}),
      ...(o.fromOldest ? { from_oldest: true } : {}),
    }, md);
    const onAbort = (): void => call.cancel();
    if (signal.aborted) call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const m of call as AsyncIterable<SubscribeResponse__Output>) {
        const item = toStreamItem(m);
        if (item) yield item;
      }
    } catch (err) {
      if (signal.aborted) return;
      const e = err as grpc.ServiceError;
      const epoch = e.metadata?.get('vigil-epoch')[0];
      if ((e.code === grpc.status.OUT_OF_RANGE || e.code === grpc.status.FAILED_PRECONDITION) && epoch !== undefined) {
        const n = (k: string): number => Number(e.metadata.get(k)[0] ?? 0);
        throw new CursorRejectedError(e.code === grpc.status.OUT_OF_RANGE ? 'range' : 'epoch', `Events.Subscribe: ${e.details}`, { epoch: String(epoch), firstSeq: n('vigil-first-seq'), lastSeq: n('vigil-last-seq') }, err);
      }
      throw new SourceError(`Events.Subscribe: ${e.details || e.message}`, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}
