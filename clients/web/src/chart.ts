// One time-series chart (uPlot): observed series, the resource's limit as a line, the forecast with
// its interval as a band, the predicted exhaustion, and alerts as vertical markers on the timeline.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ForecastPoint__Output } from '../../../proto/gen/vigil/v1/ForecastPoint.js';
import { h } from './dom.js';
import { clock, dateTime, duration, relative } from './format.js';
import { severityColour } from './severity.js';

/** Times in unix ms, values may be null (no sample, or a counter reset). */
export interface Line {
  label: string;
  colour: string;
  t: number[];
  v: Array<number | null>;
}

export interface ChartMarker {
  t: number;
  severity: string;
  label: string;
}

export interface ChartForecast {
  points: ForecastPoint__Output[];
  /** e.g. "linear, 95%". */
  label: string;
  exhaustion?: { at: number; earliest?: number; latest?: number; limit: number } | undefined;
}

export interface ChartSpec {
  /** data-testid="chart-<key>". */
  key: string;
  title: string;
  format: (v: number) => string;
  lines: Line[];
  limit?: Line | undefined;
  forecast?: ChartForecast | undefined;
  markers: ChartMarker[];
  /** The selected window, unix ms. */
  from: number;
  to: number;
  /** Note under the title (e.g. why there is no forecast). */
  note?: string | undefined;
}

const LIMIT_COLOUR = '#c62828';
const FORECAST_COLOUR = '#7b3fc4';
const BAND_FILL = 'rgba(123, 63, 196, 0.16)';

/** Aligns several (t, v) tables on the union of their times (uPlot wants one x array). */
function align(tables: Array<{ t: number[]; cols: Array<Array<number | null>> }>): { x: number[]; cols: Array<Array<number | null>> } {
  const xs = [...new Set(tables.flatMap((tb) => tb.t))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const cols: Array<Array<number | null>> = [];
  for (const tb of tables) {
    for (const col of tb.cols) {
      const out: Array<number | null> = new Array<number | null>(xs.length).fill(null);
      tb.t.forEach((t, i) => (out[index.get(t)!] = col[i] ?? null));
      cols.push(out);
    }
  }
  return { x: xs.map((t) => t / 1000), cols };
}

export interface ChartHandle {
  el: HTMLElement;
  destroy(): void;
}

/** Builds the chart's block (title, notes, plot) and returns it with a destroy hook. */
export function chart(spec: ChartSpec, width: number): ChartHandle {
  const hasData = spec.lines.some((l) => l.v.some((v) => v !== null));
  const fc = spec.forecast && spec.forecast.points.length > 0 ? spec.forecast : undefined;
  const span = spec.to - spec.from;
  // Every charted quantity is non-negative (bytes, cores, counts, rates): a model's interval below
  // zero is clipped. The forecast gets at most as much room as the history shown, so the history stays readable.
  const fcPoints = fc
    ? fc.points
        .map((p) => ({ t: Number(p.time_ms), v: Math.max(0, p.value), lo: Math.max(0, p.lower), hi: Math.max(0, p.upper) }))
        .filter((p) => p.t <= spec.to + span)
    : [];
  const xMax = Math.max(spec.to, ...fcPoints.map((p) => p.t));

  const tables: Array<{ t: number[]; cols: Array<Array<number | null>> }> = spec.lines.map((l) => ({ t: l.t, cols: [l.v] }));
  const series: uPlot.Series[] = [{ label: 'time', value: (_u, v) => (v === null ? '–' : dateTime(v * 1000)) }];
  const fmt = (_u: uPlot, v: number | null): string => (v === null || v === undefined ? '–' : spec.format(v));
  for (const l of spec.lines) series.push({ label: l.label, stroke: l.colour, width: 1.5, spanGaps: false, value: fmt, points: { show: false } });
  if (spec.limit && spec.limit.t.length > 0) {
    // The limit reaches across the forecast too: that is where the two meet.
    const lastV = [...spec.limit.v].reverse().find((v) => v !== null);
    const t = [...spec.limit.t];
    const v = [...spec.limit.v];
    if (lastV !== undefined && lastV !== null && xMax > (t.at(-1) ?? 0)) {
      t.push(xMax);
      v.push(lastV);
    }
    tables.push({ t, cols: [v] });
    series.push({ label: spec.limit.label, stroke: LIMIT_COLOUR, width: 1.5, dash: [6, 4], spanGaps: true, value: fmt, points: { show: false } });
  }
  const bands: uPlot.Band[] = [];
  if (fcPoints.length > 0) {
    tables.push({ t: fcPoints.map((p) => p.t), cols: [fcPoints.map((p) => p.v), fcPoints.map((p) => p.hi), fcPoints.map((p) => p.lo)] });
    const base = series.length;
    series.push({ label: 'forecast', stroke: FORECAST_COLOUR, width: 1.5, dash: [3, 3], spanGaps: true, value: fmt, points: { show: false } });
    series.push({ label: 'upper', stroke: 'rgba(123, 63, 196, 0.35)', width: 1, spanGaps: true, value: fmt, points: { show: false } });
    series.push({ label: 'lower', stroke: 'rgba(123, 63, 196, 0.35)', width: 1, spanGaps: true, value: fmt, points: { show: false } });
    bands.push({ series: [base + 1, base + 2], fill: BAND_FILL });
  }
  const { x, cols } = align(tables);

  const finiteMax = (vs: Array<number | null>): number => vs.reduce<number>((m, v) => (v !== null && v > m ? v : m), 0);
  const seenMax = Math.max(0, ...spec.lines.map((l) => finiteMax(l.v)), spec.limit ? finiteMax(spec.limit.v) : 0);
  const yCap = fcPoints.length > 0 && seenMax > 0 ? seenMax * (spec.limit ? 1.3 : 2) : 0;
  const markers = spec.markers.filter((m) => m.t >= spec.from && m.t <= xMax);
  const ex = fc?.exhaustion;
  const lastObserved = Math.max(0, ...spec.lines.map((l) => l.t.at(-1) ?? 0));

  const drawMarkers = (u: uPlot): void => {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    const px = (tMs: number): number => Math.round(u.valToPos(tMs / 1000, 'x', true));
    ctx.save();
    // uPlot leaves the last series' dash pattern on the context.
    ctx.setLineDash([]);
    // The exhaustion interval, shaded, then its most likely time as a dashed line.
    if (ex) {
      const lo = ex.earliest ?? ex.at;
      const hi = ex.latest ?? ex.at;
      if (hi >= spec.from && lo <= xMax) {
        const a = px(Math.max(lo, spec.from));
        const b = px(Math.min(hi, xMax));
        ctx.fillStyle = 'rgba(198, 40, 40, 0.10)';
        ctx.fillRect(a, top, Math.max(1, b - a), height);
      }
      if (ex.at >= spec.from && ex.at <= xMax) {
        const xa = px(ex.at);
        ctx.strokeStyle = LIMIT_COLOUR;
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(xa, top);
        ctx.lineTo(xa, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = LIMIT_COLOUR;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        const text = `limit ~${clock(ex.at)}`;
        const w = ctx.measureText(text).width;
        ctx.fillText(text, Math.min(xa + 4 * devicePixelRatio, u.bbox.left + u.bbox.width - w), top + 12 * devicePixelRatio);
      }
    }
    // "Now": where the history ends and the forecast begins.
    if (fcPoints.length > 0 && lastObserved > 0) {
      const xn = px(lastObserved);
      ctx.strokeStyle = 'rgba(0,0,0,0.25)';
      ctx.lineWidth = devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(xn, top);
      ctx.lineTo(xn, top + height);
      ctx.stroke();
    }
    for (const m of markers) {
      const xm = px(m.t);
      ctx.strokeStyle = severityColour(m.severity);
      ctx.fillStyle = severityColour(m.severity);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(xm, top);
      ctx.lineTo(xm, top + height);
      ctx.stroke();
      const s = 5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(xm - s, top);
      ctx.lineTo(xm + s, top);
      ctx.lineTo(xm, top + s * 1.4);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  };

  const plotEl = h('div', { class: 'plot' });
  // The latest value of each line (and the limit) in the header: the legend only shows hovered points.
  const latest = (l: Line): number | undefined => {
    for (let i = l.v.length - 1; i >= 0; i--) if (l.v[i] !== null && l.v[i] !== undefined) return l.v[i]!;
    return undefined;
  };
  const now = spec.lines
    .map((l) => [l.label, latest(l)] as const)
    .filter(([, v]) => v !== undefined)
    .map(([label, v]) => `${label} ${spec.format(v!)}`);
  const limitNow = spec.limit ? latest(spec.limit) : undefined;
  if (limitNow !== undefined) now.push(`${spec.limit!.label} ${spec.format(limitNow)}`);
  const exText = ex
    ? h(
        'span',
        { class: 'exhaustion', 'data-testid': 'exhaustion' },
        `reaches ${spec.format(ex.limit)} ${relative(ex.at)} (${clock(ex.at)}${ex.earliest !== undefined && ex.latest !== undefined ? `, between ${clock(ex.earliest)} and ${clock(ex.latest)}` : ''})`,
      )
    : null;
  const el = h(
    'section',
    {
      class: 'chart',
      'data-testid': `chart-${spec.key}`,
      'data-forecast': fcPoints.length > 0 ? 'yes' : 'no',
      'data-markers': markers.length,
      'data-points': x.length,
    },
    h(
      'header',
      null,
      h('h3', null, spec.title),
      now.length > 0 ? h('span', { class: 'now', 'data-testid': 'latest' }, now.join(' · ')) : null,
      fc ? h('span', { class: 'muted' }, `forecast: ${fc.label}`) : null,
      exText,
      spec.note ? h('span', { class: 'muted' }, spec.note) : null,
    ),
    plotEl,
  );
  if (!hasData) {
    plotEl.append(h('div', { class: 'empty' }, `no samples in the last ${duration(span)}`));
    return { el, destroy: () => undefined };
  }

  const opts: uPlot.Options = {
    width,
    height: 200,
    series,
    bands,
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
    legend: { live: true },
    scales: {
      x: { time: true, range: () => [spec.from / 1000, xMax / 1000] },
      y: {
        range: (_u, _min, max) => {
          let hi = max > 0 ? max * 1.08 : 1;
          // A wide forecast interval would flatten what was observed: clip it above the limit.
          if (yCap > 0 && hi > yCap) hi = yCap;
          return [0, hi];
        },
      },
    },
    axes: [
      { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } },
      { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, size: 72, values: (_u, splits) => splits.map((v) => spec.format(v)) },
    ],
    hooks: { draw: [drawMarkers] },
  };
  const u = new uPlot(opts, [x, ...cols] as uPlot.AlignedData, plotEl);
  return { el, destroy: () => u.destroy() };
}
