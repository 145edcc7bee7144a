// Flood benchmark: bin/vigild on its defaults (and again with a small ring), one container running
// WORKERS loops of short programs, and during the flood one attack from another container (a shadow
// read) and one from the flooder itself (a core_pattern write, the same value back). Prints, for each
// ring size, whether each attack was alerted and after how long, whether the flooder was named by
// "Sensor blinding from container", and the kernel's drops by kind.
//
// Usage: node dist/js/bench/flood.js [WORKERS] [SECONDS]   (root, runc; make bench-flood)
import { startContainer } from '../test/runc.js';
import { Vigild, sleep } from '../test/vigild.js';

const workers = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 20);
const RINGS = ['8MiB', '64KiB'];

interface Row {
  ring: string;
  attacks: string[];
  blinding: string;
  drops: Record<string, string>;
  emitted: Record<string, string>;
}

async function run(ring: string): Promise<Row> {
  const daemon = await Vigild.start(ring === '8MiB' ? '' : `sensor:\n  ring_buffer_size: ${ring}\n`);
  const tail = await daemon.tail();
  const quiet = startContainer({ args: ['sleep', '600'] });
  const loops = Array.from({ length: workers }, () => '(while :; do /bin/true; done) &').join(' ');
  const flood = startContainer({ privileged: true, args: ['timeout', '-s', 'KILL', String(seconds + 60), 'sh', '-c', `${loops} wait`] });
  try {
    await sleep(seconds * 500);
    const at = Date.now();
    flood.exec(['sh', '-c', 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern'], { timeoutMs: 30_000 });
    quiet.exec(['sh', '-c', 'echo x > /etc/shadow && cat /etc/shadow > /dev/null'], { timeoutMs: 30_000 });
    await sleep(seconds * 500);
    const deadline = Date.now() + 30_000;
    const [core, shadow, blinding] = await Promise.all([
      tail.opened('Write to kernel usermode helper from container', flood.id, deadline),
      tail.opened('Read of shadow file in container', quiet.id, deadline),
      tail.opened('Sensor blinding from container', flood.id, deadline),
    ]);
    const after = (a: { at: number } | undefined): string => (a ? `yes (${((a.at - at) / 1000).toFixed(1)} s)` : 'NO');
    // Counters are read after the flood ends: under a flood at 2 cores a Status call can miss the CLI's
    // deadline, and the kernel's drop counters do not change once the flooder is gone.
    flood.delete();
    const st = daemon.cli(['status', '-o', 'json'], 60_000);
    if (st.code !== 0) throw new Error(`vigil status failed (${st.code}): ${st.stderr}`);
    const s = JSON.parse(st.stdout) as { events: { kernel_dropped: Record<string, string>; kernel_emitted: Record<string, string> } };
    return {
      ring,
      attacks: [`core_pattern write in the flooder: ${after(core)}`, `shadow read in another container: ${after(shadow)}`],
      blinding: blinding ? `flooder named after ${((blinding.at - at) / 1000).toFixed(1)} s` : 'flooder NOT named',
      drops: s.events.kernel_dropped,
      emitted: s.events.kernel_emitted,
    };
  } finally {
    flood.delete();
    quiet.delete();
    await tail.stop();
    await daemon.stop();
  }
}

process.stdout.write(`flood: ${workers} loops of /bin/true in one privileged runc container for ${seconds} s; attacks at half time\n\n`);
for (const ring of RINGS) {
  const r = await run(ring);
  process.stdout.write(`ring ${r.ring}\n`);
  for (const a of r.attacks) process.stdout.write(`  ${a}\n`);
  process.stdout.write(`  ${r.blinding}\n`);
  const kinds = Object.keys(r.emitted).filter((k) => Number(r.emitted[k]) > 0 || Number(r.drops[k] ?? 0) > 0);
  for (const k of kinds) {
    const sent = Number(r.emitted[k] ?? 0);
    const lost = Number(r.drops[k] ?? 0);
    process.stdout.write(
      `  ${k.padEnd(12)} sent ${String(sent).padStart(9)}  dropped ${String(lost).padStart(9)}  (${((100 * lost) / Math.max(1, sent + lost)).toFixed(1)}%)\n`,
    );
  }
  process.stdout.write('\n');
}
