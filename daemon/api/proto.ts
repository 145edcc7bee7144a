// The gRPC API's service definitions for the server, from the definitions every client loads too
// (common/node/grpc-client.ts: proto/ with the options of proto/README.md).
import type * as grpc from '@grpc/grpc-js';
import { packageDefinition, vigilClients } from '../../common/node/grpc-client.js';

/** The service definitions by short name (Events, Alerts, ...). */
export function serviceDefinitions(): Record<
  'Events' | 'Alerts' | 'Targets' | 'Metrics' | 'Forecasts' | 'Rules' | 'Status' | 'Containers',
  grpc.ServiceDefinition
> {
  const def = packageDefinition();
  const get = (n: string): grpc.ServiceDefinition => def[`vigil.v1.${n}`] as unknown as grpc.ServiceDefinition;
  return {
    Events: get('Events'),
    Alerts: get('Alerts'),
    Targets: get('Targets'),
    Metrics: get('Metrics'),
    Forecasts: get('Forecasts'),
    Rules: get('Rules'),
    Status: get('Status'),
    Containers: get('Containers'),
  };
}

/** Client constructors by service name (the gateway, tests, benchmarks). */
export function clientConstructors(): Record<string, grpc.ServiceClientConstructor> {
  return vigilClients();
}
