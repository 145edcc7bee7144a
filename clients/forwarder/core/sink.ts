// What a sink is to the forwarder: the interface sinks/ implement and the pipeline (pipeline.ts)
// drives. It sits in core/ with the record type and the errors, below both, so a sink does not
// import the module that assembles it.
import type { ForwardRecord } from './record.js';

export interface Sink {
  /** "syslog", "hec", ...: for logs and stats. */
  readonly type: string;
  /** Deliver a batch; resolves once the sink acknowledged all of it. Throws SinkError (or any error:
   * treated as `retry`). `signal` aborts an attempt when the forwarder gives up at shutdown. */
  send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
