// The generated API types the CLI uses (proto/gen, from proto/vigil/v1 by `make ts`), and the enum
// names turned into words. Nothing here restates a message shape: it re-exports the generated ones.
import { EVENT_KINDS } from '../../common/filter.js';
import { Severity } from '../../proto/gen/vigil/v1/Severity.js';

export type { Alert__Output as Alert } from '../../proto/gen/vigil/v1/Alert.js';
export type { Event__Output as Event } from '../../proto/gen/vigil/v1/Event.js';
export type { Filter } from '../../proto/gen/vigil/v1/Filter.js';
export type { SubscribeRequest } from '../../proto/gen/vigil/v1/SubscribeRequest.js';
export type { SubscribeResponse__Output as SubscribeResponse } from '../../proto/gen/vigil/v1/SubscribeResponse.js';
export type { Gap__Output as Gap } from '../../proto/gen/vigil/v1/Gap.js';
export type { Container__Output as Container } from '../../proto/gen/vigil/v1/Container.js';
export type { Target__Output as Target } from '../../proto/gen/vigil/v1/Target.js';
export type { TargetSpec } from '../../proto/gen/vigil/v1/TargetSpec.js';
export type { Rule__Output as Rule } from '../../proto/gen/vigil/v1/Rule.js';
export type { RuleError__Output as RuleError } from '../../proto/gen/vigil/v1/RuleError.js';
export type { QueryMetricsResponse__Output as QueryMetricsResponse } from '../../proto/gen/vigil/v1/QueryMetricsResponse.js';
export type { Forecast__Output as Forecast } from '../../proto/gen/vigil/v1/Forecast.js';
export type { GetStatusResponse__Output as StatusResponse } from '../../proto/gen/vigil/v1/GetStatusResponse.js';
export type { ContainerSummary__Output as ContainerSummary } from '../../proto/gen/vigil/v1/ContainerSummary.js';
export type { ListContainersResponse__Output as ListContainersResponse } from '../../proto/gen/vigil/v1/ListContainersResponse.js';
export type { AlertState } from '../../proto/gen/vigil/v1/AlertState.js';

/** "SEVERITY_CRITICAL" -> "critical", "EVENT_KIND_NS_CHANGE" -> "ns_change", "" when unspecified. */
export function enumWord(value: string | number | undefined, prefix: string): string {
  if (typeof value !== 'string' || value.endsWith('_UNSPECIFIED')) return '';
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value.toLowerCase();
}

/** Event kinds by their docs/events.md names (exec, fork, ...): the shared filter's list, from the generated enum. */
export const KIND_NAMES: readonly string[] = EVENT_KINDS;

/** Severities most severe first (emergency .. debug), from the generated enum. */
export const SEVERITY_WORDS: readonly string[] = Object.keys(Severity)
  .filter((k) => !k.endsWith('_UNSPECIFIED'))
  .map((k) => enumWord(k, 'SEVERITY_'));

export function kindEnum(word: string): string {
  return `EVENT_KIND_${word.toUpperCase()}`;
}

export function severityEnum(word: string): string {
  return `SEVERITY_${word.toUpperCase()}`;
}
