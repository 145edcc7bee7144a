// The gRPC API's definitions, loaded from proto/ (the single source of truth) with the options every
// client uses (proto/README.md): snake_case names, 64-bit values as decimal strings, enums by name.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findAbove } from '../core/paths.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

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

/** The repository's proto/ folder, found from this file (source or compiled, dist/js/daemon/api/). */
export function protoDir(): string {
  const events = findAbove(import.meta.url, join('proto', 'vigil', 'v1', 'events.proto'));
  if (!events) throw new Error('cannot find proto/vigil/v1 above ' + fileURLToPath(import.meta.url));
  return dirname(dirname(dirname(events)));
}

let cached: protoLoader.PackageDefinition | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return cached;
}

/** The service definitions by short name (Events, Alerts, ...). */
export function serviceDefinitions(): Record<'Events' | 'Alerts' | 'Targets' | 'Metrics' | 'Forecasts' | 'Rules' | 'Status' | 'Containers', grpc.ServiceDefinition> {
  const def = packageDefinition();
  const get = (n: string): grpc.ServiceDefinition => def[`vigil.v1.${n}`] as unknown as grpc.ServiceDefinition;
  return { Events: get('Events'), Alerts: get('Alerts'), Targets: get('Targets'), Metrics: get('Metrics'), Forecasts: get('Forecasts'), Rules: get('Rules'), Status: get('Status'), Containers: get('Containers') };
}

/** Client constructors (tests, benchmarks; the CLI and the forwarder use the generated types the same way). */
export function clientConstructors(): Record<string, grpc.ServiceClientConstructor> {
  const pkg = grpc.loadPackageDefinition(packageDefinition()) as unknown as { vigil: { v1: Record<string, grpc.ServiceClientConstructor> } };
  return pkg.vigil.v1;
}
