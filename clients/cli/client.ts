// The CLI's connection to vigild: one grpc-js channel shared by typed clients of every vigil.v1
// service (the generated types in proto/gen describe what they send and receive). Loading, addresses,
// credentials and the token's metadata are common/node/grpc-client.ts's, as for every client; the
// default address is unix:///run/vigil/vigil.sock, --ca/VIGIL_CA names a private CA, --insecure is
// only allowed to a loopback address (args.ts checks) and VIGIL_TOKEN goes with every call.
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, channelCredentials, grpcTarget, tokenMetadata, vigilClients } from '../../common/node/grpc-client.js';
import type { ProtoGrpcType as AlertsProto } from '../../proto/gen/alerts.js';
import type { ProtoGrpcType as ContainersProto } from '../../proto/gen/containers.js';
import type { ProtoGrpcType as EventsProto } from '../../proto/gen/events.js';
import type { ProtoGrpcType as MetricsProto } from '../../proto/gen/metrics.js';
import type { ProtoGrpcType as RulesProto } from '../../proto/gen/rules.js';
import type { ProtoGrpcType as StatusProto } from '../../proto/gen/status.js';
import type { ProtoGrpcType as TargetsProto } from '../../proto/gen/targets.js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { AlertsClient, AlertsDefinition } from '../../proto/gen/vigil/v1/Alerts.js';
import type { ContainersClient, ContainersDefinition } from '../../proto/gen/vigil/v1/Containers.js';
import type { EventsClient } from '../../proto/gen/vigil/v1/Events.js';
import type { ForecastsClient, ForecastsDefinition } from '../../proto/gen/vigil/v1/Forecasts.js';
import type { MetricsClient, MetricsDefinition } from '../../proto/gen/vigil/v1/Metrics.js';
import type { RulesClient, RulesDefinition } from '../../proto/gen/vigil/v1/Rules.js';
import type { StatusClient, StatusDefinition } from '../../proto/gen/vigil/v1/Status.js';
import type { TargetsClient, TargetsDefinition } from '../../proto/gen/vigil/v1/Targets.js';
import type { Connection } from './args.js';
import { CliError } from './errors.js';

type VigilProto = AlertsProto & ContainersProto & EventsProto & MetricsProto & RulesProto & StatusProto & TargetsProto;

export interface Api {
  events: EventsClient;
  alerts: AlertsClient;
  targets: TargetsClient;
  metrics: MetricsClient;
  forecasts: ForecastsClient;
  rules: RulesClient;
  status: StatusClient;
  containers: ContainersClient;
  /** Metadata for a call (the bearer token when VIGIL_TOKEN is set). */
  metadata(): grpc.Metadata;
  /** Call options with the per-call deadline. */
  options(): grpc.CallOptions;
  close(): void;
  readonly addr: string;
}

export function connect(conn: Connection, env: NodeJS.ProcessEnv = process.env): Api {
  const creds = channelCredentials(
    conn,
    (file, err) => new CliError('VIGIL_IO', `cannot read the CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`),
  );
  const v1 = vigilClients<VigilProto['vigil']['v1']>();
  const channelOptions: grpc.ChannelOptions = { ...CHANNEL_OPTIONS };
  const target = grpcTarget(conn.addr);
  const first = new v1.Status(target, creds, channelOptions);
  // Every other client shares the first one's channel.
  const channelOverride = first.getChannel();
  const make = <T>(Ctor: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T): T =>
    new Ctor(target, creds, { ...channelOptions, channelOverride });
  const token = env.VIGIL_TOKEN;
  return {
    addr: conn.addr,
    status: first,
    events: make(v1.Events),
    alerts: make(v1.Alerts),
    targets: make(v1.Targets),
    metrics: make(v1.Metrics),
    forecasts: make(v1.Forecasts),
    rules: make(v1.Rules),
    containers: make(v1.Containers),
    metadata() {
      return tokenMetadata(token);
    },
    options() {
      return { deadline: Date.now() + conn.timeoutMs };
    },
    close() {
      first.close();
    },
  };
}

/** The unary services by their Api names, with the generated definitions that type their methods. */
interface UnaryServices {
  alerts: AlertsDefinition;
  targets: TargetsDefinition;
  metrics: MetricsDefinition;
  forecasts: ForecastsDefinition;
  rules: RulesDefinition;
  status: StatusDefinition;
  containers: ContainersDefinition;
}
// biome-ignore-start lint/suspicious/noExplicitAny: any in the positions infer does not read, so every definition matches
type RequestOf<D> = D extends MethodDefinition<infer Q, any, any, any> ? Q : never;
type ResponseOf<D> = D extends MethodDefinition<any, any, any, infer R> ? R : never;
// biome-ignore-end lint/suspicious/noExplicitAny: see above
type UnaryFn = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => grpc.ClientUnaryCall;

/** One unary call as a promise, with the token and the deadline: `call(api, 'alerts', 'Get', { id })`. */
export function call<S extends keyof UnaryServices, M extends keyof UnaryServices[S] & string>(
  api: Api,
  service: S,
  method: M,
  req: RequestOf<UnaryServices[S][M]>,
): Promise<ResponseOf<UnaryServices[S][M]>> {
  const client = api[service] as unknown as Record<string, UnaryFn>;
  return new Promise((resolve, reject) => {
    client[method]!.call(client, req, api.metadata(), api.options(), (err, res) => {
      if (err) reject(err);
      else if (res === undefined) reject(new CliError('VIGIL_RPC', 'vigild sent an empty answer'));
      else resolve(res as ResponseOf<UnaryServices[S][M]>);
    });
  });
}

export const HINT_START = 'is it running? start it with `make run` or `systemctl start vigild`';

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'details' in err;
}

/** A gRPC failure as the one line the user reads, with a stable code. */
export function errorFromRpc(err: unknown, addr: string): CliError {
  if (err instanceof CliError) return err;
  if (!isServiceError(err)) return new CliError('VIGIL_RPC', err instanceof Error ? err.message : String(err), { cause: err });
  const details = err.details || grpc.status[err.code] || 'unknown error';
  switch (err.code) {
    case grpc.status.UNAVAILABLE: {
      if (/certificate|self[- ]signed|SSL|TLS|handshake|altnames/i.test(details))
        return new CliError('VIGIL_UNREACHABLE', `TLS to vigild at ${addr} failed: ${details} (give the daemon's CA with --ca or VIGIL_CA)`, { cause: err });
      if (/EACCES|permission denied/i.test(details))
        return new CliError('VIGIL_UNREACHABLE', `no permission to use ${addr} (run as root, or as a user the socket's permissions allow)`, { cause: err });
      return new CliError('VIGIL_UNREACHABLE', `cannot reach vigild at ${addr} (${HINT_START})`, { cause: err });
    }
    case grpc.status.UNAUTHENTICATED:
      return new CliError('VIGIL_AUTH', 'the daemon refused the token (set VIGIL_TOKEN)', { cause: err });
    case grpc.status.PERMISSION_DENIED:
      return new CliError('VIGIL_AUTH', `the daemon refused: ${details}`, { cause: err });
    case grpc.status.INVALID_ARGUMENT:
      return new CliError('VIGIL_INVALID', details, { cause: err });
    case grpc.status.NOT_FOUND:
      return new CliError('VIGIL_NOT_FOUND', details, { cause: err });
    case grpc.status.FAILED_PRECONDITION:
      return new CliError('VIGIL_STATE', details, { cause: err });
    case grpc.status.DEADLINE_EXCEEDED:
      return new CliError('VIGIL_UNREACHABLE', `vigild at ${addr} did not answer in time (${details})`, { cause: err });
    case grpc.status.UNIMPLEMENTED:
      return new CliError('VIGIL_RPC', `vigild at ${addr} does not offer this (${details}); is it older than this vigil?`, { cause: err });
    default:
      return new CliError('VIGIL_RPC', `${grpc.status[err.code] ?? err.code}: ${details}`, { cause: err });
  }
}

export function isCancelled(err: unknown): boolean {
  return isServiceError(err) && err.code === grpc.status.CANCELLED;
}
