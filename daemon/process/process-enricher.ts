// The process table as a sensor stage: exec, fork and exit events update it; every event gets the
// `proc` field (exe, args, ancestors) of its process when the table knows it.
import type { Enricher, SensorSource } from '../sensor/enricher.js';
import { KTIME, type VigilEvent } from '../sensor/events.js';
import { readAllProcesses, readProcess } from './procfs.js';
import { ProcessTable } from './table.js';

export interface ProcessEnricherOptions {
  /** Seed from /proc when the sensor opens and look misses up there (default: live only). */
  procfs?: boolean;
  /** A table to use (tests); a new one otherwise. */
  table?: ProcessTable;
}

export class ProcessEnricher implements Enricher {
  readonly name = 'process';
  readonly table: ProcessTable;
  private procfs: boolean | undefined;

  constructor(options: ProcessEnricherOptions = {}) {
    this.procfs = options.procfs;
    this.table = options.table ?? new ProcessTable({ lookup: (pid) => (this.procfs ? readProcess(pid) : undefined) });
  }

  prepare(source: SensorSource): void {
    this.procfs ??= source === 'native';
    if (this.procfs) this.table.seed(readAllProcesses());
  }

  enrich(ev: VigilEvent): void {
    const t = this.table;
    const now = ev[KTIME];
    t.sweep(now);
    switch (ev.kind) {
      case 'exec':
        if (ev.retval >= 0) t.onExec(ev, now, ev.exe, ev.args);
        else t.touch(ev, now);
        break;
      case 'fork':
        t.onFork(ev, now, ev.child_pid);
        ev.live_forked = t.liveForked(ev.cgroup_id);
        break;
      case 'exit':
        t.onExit(ev, now);
        break;
      default:
        t.touch(ev, now);
    }
    const proc = t.procInfo(ev.pid);
    if (proc) ev.proc = proc;
  }

  stats(): Record<string, number> {
    return { ...this.table.stats() };
  }
}
