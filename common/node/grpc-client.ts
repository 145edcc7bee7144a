// The client side of vigil's gRPC API, for every Node client of it: the CLI (clients/cli/client.ts),
// the forwarder (clients/forwarder/grpc.ts) and the daemon's own HTTP/JSON gateway
// (daemon/api/gateway.ts), with the server loading the same definitions (daemon/api/proto.ts).
// Definitions come from proto/ (the single source of truth) with the options of proto/README.md:
// snake_case names, 64-bit values as decimal strings, enums by name. Addresses:
//   unix:///run/vigil/vigil.sock   the socket's file permissions are the access control
//   host:port                      TLS (the system's CAs, or a private CA file)
//   host:port, insecure            plain TCP (callers allow it only to a loopback address)
// A token goes with each call as `authorization: Bearer <token>` metadata (per call rather than as
// call credentials, which grpc-js refuses on an insecure channel).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findAbove } from './paths.js';

export const PROTO_FILES = [
  'vigil/v1/events.proto',
  'vigil/v1/alerts.proto',
  'vigil/v1/targets.proto',
  'vigil/v1/metrics.proto',
  'vigil/v1/rules.proto',
  'vigil/v1/status.proto',
  'vigil/v1/containers.proto',
] as const;

export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The repository's (or installed tree's) proto/ folder, found above this module. */
export function protoDir(): string {
  const events = findAbove(import.meta.url, join('proto', 'vigil', 'v1', 'events.proto'));
  if (!events) throw new Error('cannot find proto/vigil/v1 above ' + fileURLToPath(import.meta.url));
  return dirname(dirname(dirname(events)));
}

let definition: protoLoader.PackageDefinition | undefined;

/** Every vigil.v1 service, loaded once per process. */
export function packageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return definition;
}

let clients: unknown;

/**
 * The vigil.v1 client constructors by service name. `T` is the generated package type the caller
 * knows (proto/gen's ProtoGrpcType['vigil']['v1']); untyped callers get constructors by name.
 */
export function vigilClients<T = Record<string, grpc.ServiceClientConstructor>>(): T {
  clients ??= (grpc.loadPackageDefinition(packageDefinition()) as unknown as { vigil: { v1: unknown } }).vigil.v1;
  return clients as T;
}

/** grpc-js target for an address: unix:///path as is, unix:/path normalised, host:port as is. */
export function grpcTarget(addr: string): string {
  if (addr.startsWith('unix:') && !addr.startsWith('unix://')) return `unix://${addr.slice('unix:'.length)}`;
  return addr;
}

export interface Dial {
  /** unix:///path, unix:/path or host:port. */
  addr: string;
  /** Plain TCP to host:port. */
  insecure?: boolean;
  /** A private CA's PEM file for TLS (the system's CAs otherwise). */
  ca?: string | undefined;
}

/**
 * Credentials for an address: none on a unix socket or when insecure, else TLS. A CA file that
 * cannot be read becomes the caller's error (`caError`), so each client keeps its own error codes.
 */
export function channelCredentials(
  d: Dial,
  caError: (file: string, err: unknown) => Error = (file, err) => new Error(`cannot read the CA file ${file}: ${(err as Error).message}`),
): grpc.ChannelCredentials {
  if (d.addr.startsWith('unix:') || d.insecure) return grpc.credentials.createInsecure();
  let ca: Buffer | null = null;
  if (d.ca !== undefined) {
    try {
      ca = readFileSync(d.ca);
    } catch (err) {
      throw caError(d.ca, err);
    }
  }
  return grpc.credentials.createSsl(ca);
}

/** Channel options of every client: fail fast when the daemon is not there, take large replies. */
export const CHANNEL_OPTIONS: Readonly<grpc.ChannelOptions> = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_receive_message_length': 64 << 20,
});

/** Call metadata carrying the bearer token, when there is one. */
export function tokenMetadata(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}
