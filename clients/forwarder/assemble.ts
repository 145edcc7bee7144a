// From a config to a running forwarder: one sink and one pipeline per configured sink, the cursor
// store, and the server-side filter (the union of the sinks' filters).
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Filter } from '../../proto/gen/vigil/v1/Filter.js';
import type { ForwarderConfig, SinkConfig } from './config.js';
import { ConfigError } from './core/errors.js';
import { compileFilter, toProtoFilter } from './filter.js';
import { Forwarder, type AlertSource } from './forwarder.js';
import type { Sink } from './core/sink.js';
import { Pipeline } from './pipeline.js';
import { CursorStore } from './state.js';
import { BulkSink, FalcoSink, HecSink, WebhookSink } from './sinks/http.js';
import { NatsSink } from './sinks/nats.js';
import { SyslogSink } from './sinks/syslog.js';

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${what}: ${(err as Error).message}`);
  }
}

export function makeSink(s: SinkConfig, hostname: string, version: string): Sink {
  const where = `sink ${s.name}`;
  switch (s.type) {
    case 'syslog':
      return new SyslogSink({
        transport: s.transport,
        host: s.host,
        port: s.port,
        format: s.format,
        appName: s.appName,
        facility: s.facility,
        sdId: s.sdId,
        hostname,
        version,
        ca: readPem(s.ca, `${where}: ca`),
        cert: readPem(s.cert, `${where}: cert`),
        key: readPem(s.key, `${where}: key`),
        servername: s.servername,
      });
    case 'hec':
      return new HecSink({
        url: s.url,
        token: s.token,
        index: s.index,
        sourcetype: s.sourcetype,
        source: s.source,
        hostname,
        ca: readPem(s.ca, `${where}: ca`),
      });
    case 'bulk':
      return new BulkSink({ url: s.url, index: s.index, authorization: s.authorization, ca: readPem(s.ca, `${where}: ca`) });
    case 'webhook':
      return new WebhookSink({ url: s.url, headers: s.headers, ca: readPem(s.ca, `${where}: ca`) });
    case 'falco':
      return new FalcoSink({ url: s.url, headers: s.headers, hostname, ca: readPem(s.ca, `${where}: ca`) });
    case 'nats':
      return new NatsSink({ servers: s.servers, subject: s.subject, stream: s.stream, createStream: s.createStream, creds: s.creds, ca: s.ca, hostname });
  }
}

/** What the daemon is asked for: nothing filtered out unless every sink names what it allows. */
export function subscriptionAllow(sinks: readonly SinkConfig[]): Filter[] {
  if (sinks.some((s) => s.filter.allow.length === 0)) return [];
  return sinks.flatMap((s) => s.filter.allow.map(toProtoFilter));
}

export interface Assembled {
  forwarder: Forwarder;
  pipelines: Pipeline[];
  store: CursorStore;
}

export function assemble(
  cfg: ForwarderConfig,
  source: AlertSource,
  log: Logger,
  version: string,
  sinkFor: (s: SinkConfig) => Sink = (s) => makeSink(s, cfg.hostname, version),
): Assembled {
  const store = new CursorStore(cfg.stateFile);
  let forwarder: Forwarder | undefined;
  const pipelines = cfg.sinks.map(
    (s) =>
      new Pipeline({
        name: s.name,
        sink: sinkFor(s),
        filter: compileFilter(s.filter),
        alerts: s.alerts,
        events: s.events,
        batch: s.batch,
        queueMax: s.queueMax,
        retry: s.retry,
        cursor: store.get(s.name),
        onCursor: (seq) => store.set(s.name, seq),
        onResync: () => forwarder?.requestResync(),
        log,
      }),
  );
  forwarder = new Forwarder({ source, pipelines, store, log, allow: subscriptionAllow(cfg.sinks), onEpochChange: cfg.onEpochChange });
  return { forwarder, pipelines, store };
}
