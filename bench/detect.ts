// Detection benchmark: events per second through decode, enrichment and the default rule pack on one
// core, from a capture (record one with `bin/vigild trace --record FILE` during a busy workload), and
// the ten most expensive rules.
//
// Usage: node dist/js/bench/detect.js CAPTURE [ROUNDS] [RULE DIR...]
import { ContainerRegistry } from '../daemon/containers/registry.js';
import { ProcessEnricher } from '../daemon/process/process-enricher.js';
import { Sensor } from '../daemon/sensor/sensor.js';
import type { VigilEvent } from '../daemon/sensor/events.js';
import { silentLogger } from '../daemon/core/log.js';
import { Detector } from '../daemon/detect/detector.js';
import { RuleSet } from '../daemon/detect/ruleset.js';
import { defaultRuleDirs } from '../daemon/detect/manager.js';

const [capture, roundsArg, ...dirsArg] = process.argv.slice(2);
if (!capture) {
  process.stderr.write('usage: detect.js CAPTURE [ROUNDS] [RULE DIR...]\n');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 20);
const rules = RuleSet.load(dirsArg.length ? dirsArg : defaultRuleDirs());

async function pipeline(keep: boolean): Promise<{ events: VigilEvent[]; count: number; seconds: number; matches: number }> {
  const containers = new ContainerRegistry({ walk: false });
  let matches = 0;
  const det = new Detector({ rules, onMatch: () => matches++, resolveContainer: (cg) => (cg === undefined ? undefined : containers.resolve(cg)) });
  const events: VigilEvent[] = [];
  const sensor = Sensor.replay(capture!, { enrichers: [new ProcessEnricher(), containers], logger: silentLogger() });
  await sensor.open();
  const t0 = performance.now();
  let count = 0;
  // Only the last run keeps its events (for the detection-only rounds): holding every run's would
  // measure the garbage collector, not the pipeline.
  sensor.subscribe((ev) => {
    det.evaluate(ev);
    count++;
    if (keep) events.push(ev);
  });
  await sensor.done;
  sensor.flush();
  const seconds = (performance.now() - t0) / 1000;
  await sensor.close();
  return { events, count, seconds, matches };
}

const runs: number[] = [];
let events: VigilEvent[] = [];
for (let i = 0; i < 5; i++) {
  const r = await pipeline(i === 4);
  if (i === 4) events = r.events;
  runs.push(r.count / r.seconds);
}
runs.sort((a, b) => a - b);
process.stdout.write(`capture: ${events.length} events; rules: ${rules.rules().length}\n`);
process.stdout.write(`decode + enrich + detect (replay, median of 5): ${Math.round(runs[2]!).toLocaleString('en')} events/s\n`);

// Detection alone, on the enriched events, many rounds (the share of the pipeline the rules cost).
let matches = 0;
const det = new Detector({ rules, onMatch: () => matches++ });
for (const ev of events) det.evaluate(ev); // warm-up
const t0 = performance.now();
for (let r = 0; r < rounds; r++) for (const ev of events) det.evaluate(ev);
const s = (performance.now() - t0) / 1000;
process.stdout.write(`detect only: ${Math.round((events.length * rounds) / s).toLocaleString('en')} events/s (${matches} matches)\n`);

const top = det
  .stats()
  .rules.sort((a, b) => b.timeMs - a.timeMs)
  .slice(0, 10);
process.stdout.write('ten most expensive rules (sampled time, evaluations, matches):\n');
for (const r of top)
  process.stdout.write(`  ${r.timeMs.toFixed(1).padStart(8)} ms  ${String(r.evaluations).padStart(9)}  ${String(r.matches).padStart(6)}  ${r.name}\n`);
