// Enrichment stages downstream of decoding (process lineage, container identity) plug into the
// sensor through this interface, so the sensor never imports them: data flows sensor -> enrichers.
import type { VigilEvent } from './events.js';

export type SensorSource = 'native' | 'replay';

export interface Enricher {
  /** Names the stage in stats. */
  readonly name: string;
  /** Called once when the sensor opens, before the first record (live: before the probes attach). */
  prepare?(source: SensorSource): void;
  /** Adds this stage's fields to the event (and updates the stage's own state from it). Never throws on input. */
  enrich(ev: VigilEvent): void;
  stats?(): Record<string, number>;
}
