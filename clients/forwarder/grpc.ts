// The real AlertSource: Events.Subscribe on vigild. Loading, addresses (unix:///run/vigil/vigil.sock
// by default, host:port with TLS, system CAs or `ca`, host:port `insecure` for loopback tests),
// credentials and the token's metadata are common/node/grpc-client.ts's, as for every client.
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, channelCredentials, grpcTarget, tokenMetadata, vigilClients } from '../../common/node/grpc-client.js';
import type { ProtoGrpcType } from '../../proto/gen/events.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { SubscribeResponse__Output } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
import type { DaemonConfig } from './config.js';
import { CursorRejectedError, SourceError } from './core/errors.js';
import type { AlertSource, SubscribeOptions } from './forwarder.js';
import type { StreamItem } from './core/record.js';

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
    const { Events } = vigilClients<ProtoGrpcType['vigil']['v1']>();
    const creds = channelCredentials(
      { addr: d.address, insecure: d.insecure, ca: d.ca || undefined },
      (file, err) => new SourceError(`cannot read the CA file ${file}: ${(err as Error).message}`, err),
    );
    // Keepalive: the forwarder holds one stream for days; a dead peer must show up as an error.
    this.client = new Events(grpcTarget(d.address), creds, { ...CHANNEL_OPTIONS, 'grpc.keepalive_time_ms': 30_000 });
    this.token = d.token;
  }

  async *subscribe(o: SubscribeOptions, signal: AbortSignal): AsyncIterable<StreamItem> {
    const md = tokenMetadata(this.token);
    const call = this.client.Subscribe(
      {
        allow: o.allow,
        deny: o.deny,
        include_alerts: o.includeAlerts,
        include_events: o.includeEvents,
        since_seq: String(o.sinceSeq),
        // what its losses count under in vigil status and vigil_subscriber_dropped_total
        client_name: 'vigil-forward',
        ...(o.epoch ? { epoch: o.epoch } : {}),
        ...(o.fromOldest ? { from_oldest: true } : {}),
      },
      md,
    );
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
        throw new CursorRejectedError(
          e.code === grpc.status.OUT_OF_RANGE ? 'range' : 'epoch',
          `Events.Subscribe: ${e.details}`,
          { epoch: String(epoch), firstSeq: n('vigil-first-seq'), lastSeq: n('vigil-last-seq') },
          err,
        );
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
