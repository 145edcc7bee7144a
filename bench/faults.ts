// Fault benchmark (issue 12): the fault scenarios of test/integration/faults.ts, run once each against
// the real daemon and forwarder, with what each produced, persisted, delivered, lost and reused.
// Printed, never asserted (the tests in `make test` assert the same scenarios). Run as root after
// `make build`: bench/faults.sh (or node dist/js/bench/faults.js [full-disk|torn-log|kill-flood]).
import { fullDisk, killFlood, tornLog, type FaultReport } from '../test/integration/faults.js';

const SCENARIOS: Record<string, () => Promise<FaultReport>> = { 'full-disk': fullDisk, 'torn-log': tornLog, 'kill-flood': killFlood };
const which = process.argv.slice(2);
const names = which.length > 0 ? which : Object.keys(SCENARIOS);
const rows: FaultReport[] = [];
let bad = 0;
for (const name of names) {
  const run = SCENARIOS[name];
  if (!run) throw new Error(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const r = await run();
  rows.push(r);
  if (r.lost > 0 || r.reused > 0) bad++;
  console.log(`${r.fault}\n  ${JSON.stringify(r.notes)}`);
}
console.log('');
console.log(
  `${'fault'.padEnd(72)} ${'produced'.padStart(8)} ${'persisted'.padStart(9)} ${'delivered'.padStart(9)} ${'lost'.padStart(5)} ${'reused'.padStart(6)}`,
);
for (const r of rows) {
  console.log(
    `${r.fault.padEnd(72)} ${String(r.produced).padStart(8)} ${String(r.persisted).padStart(9)} ${(r.delivered === undefined ? '-' : String(r.delivered)).padStart(9)} ${String(r.lost).padStart(5)} ${String(r.reused).padStart(6)}`,
  );
}
console.log('');
console.log('Counts are rule matches (an alert counts the matches folded into it). produced: execs of the marker seen by the daemon;');
console.log('persisted: matches whose alerts the store holds at the end; delivered: matches of stored alerts the forwarder delivered;');
console.log(
  'lost: matches not persisted (full disk) or stored alerts not delivered (torn log: the tear itself is the fault, counted in notes.lost_to_the_tear);',
);
console.log('reused: seqs seen for two different alerts, or at or below a seq handed out before the restart.');
process.exitCode = bad > 0 ? 1 : 0;
