// The lineage of an alert: the process that triggered it, then its parent, and so on, each with exe,
// args, pid, comm and uid. Read from the triggering event alone: its header (pid, comm, uid), its exec
// fields, and the `proc` context the process table gave it (exe, args, ancestors). Nothing is guessed:
// what the event does not say is empty ('' or []) or absent (uid of an ancestor from an old capture).
import type { VigilEvent } from '../sensor/events.js';
import type { LineageEntry } from './alert.js';

/** The executable of the process an event is from: a successful exec names the new program even when the table has not caught up. */
function exeOf(ev: VigilEvent): string {
  return ev.kind === 'exec' && ev.retval >= 0 ? ev.exe : (ev.proc?.exe ?? '');
}

export function lineageOf(ev: VigilEvent): LineageEntry[] {
  const execd = ev.kind === 'exec' && ev.retval >= 0;
  const self: LineageEntry = {
    pid: ev.pid,
    exe: exeOf(ev),
    args: execd ? ev.args : (ev.proc?.args ?? []),
    comm: ev.comm,
    uid: ev.uid,
  };
  const out: LineageEntry[] = [self];
  for (const a of ev.proc?.ancestors ?? []) {
    const e: LineageEntry = { pid: a.pid, exe: a.exe, args: a.args ?? [], comm: a.comm };
    if (a.uid !== undefined) e.uid = a.uid;
    out.push(e);
  }
  return out;
}

/** The executable that triggered a match (its lineage's first entry), without building the lineage; '' without events. */
export function triggerExe(events: readonly VigilEvent[]): string {
  const last = events[events.length - 1];
  return last ? exeOf(last) : '';
}

/** The lineage of a match: of its last triggering event (the one that completed it); [] without events. */
export function lineageOfEvents(events: readonly VigilEvent[]): LineageEntry[] {
  const last = events[events.length - 1];
  return last ? lineageOf(last) : [];
}
