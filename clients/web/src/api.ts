// The daemon's HTTP/JSON API (the gRPC API transcoded: proto field names, int64 as decimal strings,
// enums as names). Every shape is a generated proto type; nothing here re-declares a message.
import type { AddTargetsRequest } from '../../../proto/gen/vigil/v1/AddTargetsRequest.js';
import type { AddTargetsResponse__Output } from '../../../proto/gen/vigil/v1/AddTargetsResponse.js';
import type { Alert__Output } from '../../../proto/gen/vigil/v1/Alert.js';
import type { ContainerSummary__Output } from '../../../proto/gen/vigil/v1/ContainerSummary.js';
import type { Forecast__Output } from '../../../proto/gen/vigil/v1/Forecast.js';
import type { GetStatusResponse__Output } from '../../../proto/gen/vigil/v1/GetStatusResponse.js';
import type { ListAlertsRequest } from '../../../proto/gen/vigil/v1/ListAlertsRequest.js';
import type { ListAlertsResponse__Output } from '../../../proto/gen/vigil/v1/ListAlertsResponse.js';
import type { ListContainersResponse__Output } from '../../../proto/gen/vigil/v1/ListContainersResponse.js';
import type { ListRulesResponse__Output } from '../../../proto/gen/vigil/v1/ListRulesResponse.js';
import type { ListTargetsResponse__Output } from '../../../proto/gen/vigil/v1/ListTargetsResponse.js';
import type { QueryMetricsResponse__Output } from '../../../proto/gen/vigil/v1/QueryMetricsResponse.js';
import type { RemoveTargetsRequest } from '../../../proto/gen/vigil/v1/RemoveTargetsRequest.js';
import type { RemoveTargetsResponse__Output } from '../../../proto/gen/vigil/v1/RemoveTargetsResponse.js';
import type { UpdateAlertRequest } from '../../../proto/gen/vigil/v1/UpdateAlertRequest.js';
import { authHeaders } from './auth.js';

export const API = 'api/v1';

/** A failed call: the HTTP status and the gRPC code name and message of the error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Unauthorized = () => void;
let onUnauthorized: Unauthorized = () => undefined;

/** Called on every 401 (the page shows its token prompt). */
export function setUnauthorizedHandler(fn: Unauthorized): void {
  onUnauthorized = fn;
}

export function notifyUnauthorized(): void {
  onUnauthorized();
}

/** Reads the {code, message} error body, or describes what came instead. */
export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') return new ApiError(res.status, typeof body.code === 'string' ? body.code : '', body.message);
  } catch {
    // not JSON: a proxy's page, or the daemon is not the one answering
  }
  return new ApiError(res.status, '', `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${API}/${path}`, {
      method,
      headers: { accept: 'application/json', ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach vigild: ${(err as Error).message}`);
  }
  if (res.status === 401) {
    onUnauthorized();
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

const seg = encodeURIComponent;

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== 0 && v !== false) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export type AlertFilter = Pick<ListAlertsRequest, 'rule' | 'container' | 'state' | 'min_severity' | 'limit' | 'page_token'> & {
  since_ms?: number;
  until_ms?: number;
};

export const api = {
  status: (signal?: AbortSignal) => call<GetStatusResponse__Output>('GET', 'status', undefined, signal),
  containers: (includeStopped = false, signal?: AbortSignal) =>
    call<ListContainersResponse__Output>('GET', `containers${query({ include_stopped: includeStopped })}`, undefined, signal),
  container: (id: string, signal?: AbortSignal) => call<ContainerSummary__Output>('GET', `containers/${seg(id)}`, undefined, signal),
  alerts: (f: AlertFilter = {}, signal?: AbortSignal) =>
    call<ListAlertsResponse__Output>(
      'GET',
      `alerts${query({ rule: f.rule, container: f.container, state: f.state === undefined ? undefined : String(f.state), min_severity: f.min_severity === undefined ? undefined : String(f.min_severity), since_ms: f.since_ms, until_ms: f.until_ms, limit: f.limit, page_token: f.page_token })}`,
      undefined,
      signal,
    ),
  alert: (id: string, signal?: AbortSignal) => call<Alert__Output>('GET', `alerts/${seg(id)}`, undefined, signal),
  acknowledge: (id: string, body: Omit<UpdateAlertRequest, 'id'>) => call<Alert__Output>('POST', `alerts/${seg(id)}/acknowledge`, body),
  resolve: (id: string, body: Omit<UpdateAlertRequest, 'id'>) => call<Alert__Output>('POST', `alerts/${seg(id)}/resolve`, body),
  targets: (signal?: AbortSignal) => call<ListTargetsResponse__Output>('GET', 'targets', undefined, signal),
  addTargets: (req: AddTargetsRequest) => call<AddTargetsResponse__Output>('POST', 'targets', req),
  removeTargets: (req: RemoveTargetsRequest) => call<RemoveTargetsResponse__Output>('POST', 'targets/remove', req),
  rules: (signal?: AbortSignal) => call<ListRulesResponse__Output>('GET', 'rules', undefined, signal),
  metrics: (target: string, metric: string, range: { start_ms: number; end_ms: number; step_ms: number }, signal?: AbortSignal) =>
    call<QueryMetricsResponse__Output>('GET', `metrics/${seg(target)}/${seg(metric)}${query(range)}`, undefined, signal),
  /** The stored forecast, or null while the engine has none for the series (404). */
  forecast: async (target: string, metric: string, signal?: AbortSignal): Promise<Forecast__Output | null> => {
    try {
      return await call<Forecast__Output>('GET', `forecasts/${seg(target)}/${seg(metric)}`, undefined, signal);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  },
};
