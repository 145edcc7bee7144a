// Sparklines: ▁▂▃▄▅▆▇█ scaled between the series' minimum and maximum (a flat series is a flat low
// line; a missing value is a space). Long series are bucketed to `width` by averaging.

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly (number | null | undefined)[], width = values.length): string {
  const series = width > 0 && values.length > width ? bucket(values, width) : values;
  const finite = series.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(series.length);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const span = max - min;
  let out = '';
  for (const v of series) {
    if (typeof v !== 'number' || !Number.isFinite(v)) out += ' ';
    else if (span === 0) out += BARS[0];
    else out += BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / span) * BARS.length))];
  }
  return out;
}

/** Averages consecutive values into `width` buckets (a bucket of only missing values stays missing). */
function bucket(values: readonly (number | null | undefined)[], width: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.floor(((i + 1) * values.length) / width);
    let sum = 0;
    let n = 0;
    for (let j = from; j < to; j++) {
      const v = values[j];
      if (typeof v === 'number' && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    out.push(n > 0 ? sum / n : undefined);
  }
  return out;
}
