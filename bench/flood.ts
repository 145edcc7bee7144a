// Flood benchmark: bin/vigild on its defaults (and again with a small ring), one container flooding
// the sensor, and during the flood attacks in the flooder itself (a core_pattern write, the same
// value back, and a shadow read) and in another container (a shadow read). Two floods:
//   exec: WORKERS loops of short programs;
//   open: reads with no fork, one loop rereading one watched file (the kernel coalesces it) and
//         STORM_CYCLERS loops cycling over 1,500 watched files (no table coalesces that).
// Prints, for each flood and ring size, whether each attack was alerted and after how long,
// whether the flooder was named by "Sensor blinding from container", and the kernel's records by
// kind: sent, dropped (of which shed on purpose: ring shares, budgets) and coalesced, and the daemon's
// peak RSS over the flood (sampled every second): execs carry arguments and lineage, so a flood of
// them weighs more per event than the open storm of bench/footprint.sh.
//
// Usage: node dist/js/bench/flood.js [WORKERS] [SECONDS]   (root, runc; make bench-flood)
// Env: FLOODS (comma-separated, default exec,open), RINGS (default 8MiB,64KiB).
import { readFileSync } from 'node:fs';
import { startContainer } from '../test/runc.js';
import { Vigild, sleep } from '../test/vigild.js';

const workers = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 20);
const RINGS = (process.env.RINGS ?? '8MiB,64KiB').split(',');
const STORM_CYCLERS = 3;

const FLOODS: Record<string, string> = {
  exec: `${Array.from({ length: workers }, () => '(while :; do /bin/true; done) &').join(' ')} wait`,
  open:
    'mkdir -p /root/.ssh && i=0 && while [ $i -lt 1500 ]; do : > /root/.ssh/k$i; i=$((i+1)); done; (while :; do : < /root/.ssh/k0; done) & ' +
    `${'(while :; do for f in /root/.ssh/k*; do : < "$f"; done; done) & '.repeat(STORM_CYCLERS)} wait`,
};

type Counters = Record<string, string>;
interface Row {
  flood: string;
  ring: string;
  attacks: string[];
  blinding: string;
  peakRssMb: number;
  /** User-space losses from /metrics: the detector's queue, the sensor's subscriber queues, the alert intake. */
  userDrops: string;
  counters: { emitted: Counters; dropped: Counters; shed: Counters; coalesced: Counters };
}

async function userSpaceDrops(http: string): Promise<string> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const sum = (re: RegExp): number =>
    text
      .split('\n')
      .filter((l) => re.test(l))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return (
    `detector queue ${sum(/^vigil_detector_queue_dropped_total /)}, sensor queues ${sum(/^vigil_events_dropped_total\{.*stage="queue"/)}, ` +
    `alert intake ${sum(/^vigil_alert_matches_dropped_total /)}`
  );
}

async function run(flood: string, ring: string): Promise<Row> {
  const daemon = await Vigild.start(ring === '8MiB' ? '' : `sensor:\n  ring_buffer_size: ${ring}\n`);
  const tail = await daemon.tail();
  const quiet = startContainer({ args: ['sleep', '600'] });
  const flooder = startContainer({ privileged: true, args: ['timeout', '-s', 'KILL', String(seconds + 90), 'sh', '-c', FLOODS[flood]!] });
  let peakRssMb = 0;
  const rss = setInterval(() => {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'));
    if (kb) peakRssMb = Math.max(peakRssMb, Math.round(Number(kb[1]) / 1024));
  }, 1000);
  try {
    await sleep(seconds * 500);
    const at = Date.now();
    const shadow = ['sh', '-c', 'echo x > /etc/shadow && cat /etc/shadow > /dev/null'];
    flooder.exec(['sh', '-c', 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern'], { timeoutMs: 30_000 });
    flooder.exec(shadow, { timeoutMs: 30_000 });
    quiet.exec(shadow, { timeoutMs: 30_000 });
    await sleep(seconds * 500);
    const deadline = Date.now() + 30_000;
    const [core, ownShadow, shadowElsewhere, blinding] = await Promise.all([
      tail.opened('Write to kernel usermode helper from container', flooder.id, deadline),
      tail.opened('Read of shadow file in container', flooder.id, deadline),
      tail.opened('Read of shadow file in container', quiet.id, deadline),
      tail.opened('Sensor blinding from container', flooder.id, deadline),
    ]);
    const after = (a: { at: number } | undefined): string => (a ? `yes (${((a.at - at) / 1000).toFixed(1)} s)` : 'NO');
    // Counters are read after the flood ends: under a flood at 2 cores a Status call can miss the CLI's
    // deadline, and the kernel's counters do not change once the flooder is gone.
    flooder.delete();
    clearInterval(rss);
    const userDrops = await userSpaceDrops(daemon.http);
    const st = daemon.cli(['status', '-o', 'json'], 60_000);
    if (st.code !== 0) throw new Error(`vigil status failed (${st.code}): ${st.stderr}`);
    const e = (JSON.parse(st.stdout) as { events: Record<string, Counters | undefined> }).events;
    return {
      flood,
      ring,
      attacks: [
        `core_pattern write in the flooder:  ${after(core)}`,
        `shadow read in the flooder:         ${after(ownShadow)}`,
        `shadow read in another container:   ${after(shadowElsewhere)}`,
      ],
      blinding: blinding ? `flooder named after ${((blinding.at - at) / 1000).toFixed(1)} s` : 'flooder NOT named',
      peakRssMb,
      userDrops,
      counters: { emitted: e.kernel_emitted ?? {}, dropped: e.kernel_dropped ?? {}, shed: e.kernel_shed ?? {}, coalesced: e.kernel_coalesced ?? {} },
    };
  } finally {
    clearInterval(rss);
    flooder.delete();
    quiet.delete();
    await tail.stop();
    await daemon.stop();
  }
}

process.stdout.write(
  `floods of ${seconds} s in one privileged runc container, attacks at half time:\n` +
    `  exec: ${workers} loops of /bin/true\n  open: reads of one watched file, and ${STORM_CYCLERS} loops over 1,500 watched files\n\n`,
);
const floods = (process.env.FLOODS ?? Object.keys(FLOODS).join(',')).split(',');
for (const flood of floods) {
  if (!FLOODS[flood]) throw new Error(`unknown flood ${flood}: one of ${Object.keys(FLOODS).join(', ')}`);
  for (const ring of RINGS) {
    const r = await run(flood, ring);
    process.stdout.write(`${r.flood} flood, ring ${r.ring}\n`);
    for (const a of r.attacks) process.stdout.write(`  ${a}\n`);
    process.stdout.write(`  ${r.blinding}\n  daemon peak RSS ${r.peakRssMb} MB\n  user space lost: ${r.userDrops}\n`);
    const c = r.counters;
    const num = (m: Counters, k: string): number => Number(m[k] ?? 0);
    const kinds = Object.keys(c.emitted).filter((k) => num(c.emitted, k) + num(c.dropped, k) + num(c.coalesced, k) > 0);
    for (const k of kinds) {
      const sent = num(c.emitted, k);
      const lost = num(c.dropped, k);
      process.stdout.write(
        `  ${k.padEnd(12)} sent ${String(sent).padStart(9)}  dropped ${String(lost).padStart(9)} (${((100 * lost) / Math.max(1, sent + lost)).toFixed(1)}%, ` +
          `shed ${num(c.shed, k)})  coalesced ${String(num(c.coalesced, k)).padStart(9)}\n`,
      );
    }
    process.stdout.write('\n');
  }
}
