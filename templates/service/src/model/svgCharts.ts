// Small inline-SVG charts for HTML pages that must work offline and without scripts: the training report
// (src/training/trainingReport.ts), and any page of the service (it sits in model/, below training and http).
// Each function returns one <svg> element as a string. Every text drawn is escaped, so names taken from
// features.yaml, config.yaml or the data are safe to pass. Colours are presentation attributes, never style
// attributes, so the charts also show under a Content-Security-Policy without 'unsafe-inline'.

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Series colours (Tableau 10): distinguishable, and readable on white. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const GRID = '#e5e5e5';
const AXIS = '#666';
const FONT = 'system-ui, -apple-system, "Segoe UI", sans-serif';

/** A number as a short label: 4 significant digits, exponent notation when very large or small. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(2).replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

/** The smallest and largest of the values (a loop: spreading a long array into Math.min overflows the stack). */
export function extent(values: Iterable<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return [min, max];
}

/** Round tick values covering [min, max], about `count` of them, and the domain they span. */
export function niceScale(min: number, max: number, count = 5): { domain: [number, number]; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [0, 0.5, 1] };
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    [min, max] = [min - pad, max + pad];
  }
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const normalized = rough / magnitude;
  const step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
  const first = Math.floor(min / step);
  const last = Math.ceil(max / step);
  const ticks: number[] = [];
  // toPrecision: 3 * 0.1 is 0.30000000000000004.
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { domain: [ticks[0]!, ticks[ticks.length - 1]!], ticks };
}

/** Coordinates with one decimal: enough on screen, and a smaller file. */
const at = (value: number) => String(Math.round(value * 10) / 10);

/** Keeps a label short on an axis; the full text is in its <title> (a tooltip). */
function shortLabel(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The <svg> element around a chart's content, with a title for screen readers and tooltips. */
function svg(frame: Frame, title: string, content: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${escapeHtml(title)}" font-family="${escapeHtml(FONT)}" font-size="11">`,
    `<title>${escapeHtml(title)}</title>`,
    ...content,
    '</svg>',
  ].join('');
}

type Scale = (value: number) => number;

function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** Grid lines, tick labels and axis titles around the plot area. */
function axes(
  frame: Frame,
  x: { scale: Scale; ticks: number[]; label: string },
  y: { scale: Scale; ticks: number[]; label: string },
): string[] {
  const { width, height, left, right, top, bottom } = frame;
  const parts: string[] = [];
  for (const tick of y.ticks) {
    const py = at(y.scale(tick));
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${py}" y2="${py}" stroke="${GRID}"/>`);
    parts.push(`<text x="${left - 4}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="${AXIS}">${formatNumber(tick)}</text>`);
  }
  for (const tick of x.ticks) {
    const px = at(x.scale(tick));
    parts.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${height - bottom}" stroke="${GRID}"/>`);
    parts.push(`<text x="${px}" y="${height - bottom + 14}" text-anchor="middle" fill="${AXIS}">${formatNumber(tick)}</text>`);
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="${AXIS}"/>`,
  );
  parts.push(axisTitles(frame, x.label, y.label));
  return parts;
}

function axisTitles(frame: Frame, xLabel: string, yLabel: string): string {
  const { width, height, left, right, top, bottom } = frame;
  const cx = at(left + (width - left - right) / 2);
  const cy = at(top + (height - top - bottom) / 2);
  return (
    `<text x="${cx}" y="${height - 6}" text-anchor="middle" fill="#222">${escapeHtml(xLabel)}</text>` +
    `<text transform="translate(12 ${cy}) rotate(-90)" text-anchor="middle" fill="#222">${escapeHtml(yLabel)}</text>`
  );
}

export type LegendPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** A legend box in a corner of the plot area. */
function legend(frame: Frame, entries: { name: string; color: string; dashed?: boolean }[], position: LegendPosition): string {
  if (!entries.length) return '';
  const rowHeight = 15;
  const boxWidth = Math.min(180, 28 + Math.max(...entries.map((entry) => Math.min(entry.name.length, 24))) * 6.2);
  const boxHeight = entries.length * rowHeight + 6;
  const x = position.endsWith('left') ? frame.left + 6 : frame.width - frame.right - boxWidth - 6;
  const y = position.startsWith('top') ? frame.top + 6 : frame.height - frame.bottom - boxHeight - 6;
  const parts = [
    `<rect x="${at(x)}" y="${at(y)}" width="${at(boxWidth)}" height="${boxHeight}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`,
  ];
  entries.forEach((entry, i) => {
    const ry = y + 3 + i * rowHeight + rowHeight / 2;
    const dash = entry.dashed ? ' stroke-dasharray="4 3"' : '';
    parts.push(
      `<line x1="${at(x + 6)}" x2="${at(x + 22)}" y1="${at(ry)}" y2="${at(ry)}" stroke="${entry.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(
      `<text x="${at(x + 27)}" y="${at(ry)}" dominant-baseline="middle" fill="#222"><title>${escapeHtml(entry.name)}</title>${escapeHtml(shortLabel(entry.name, 24))}</text>`,
    );
  });
  return parts.join('');
}

export interface LineSeries {
  name: string;
  /** [x, y] pairs, drawn in this order. */
  points: readonly (readonly [number, number])[];
  /** line (default), steps (a step after each point, as a precision-recall curve), points, or line+points. */
  marks?: 'line' | 'steps' | 'points' | 'line+points';
  /** Default: the palette, by the series' position. */
  color?: string;
  /** A dashed reference line (chance, perfect calibration), left out of the palette order. */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Fixed axis ranges (e.g. [0, 1] for rates); default: nice bounds around the data. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  legend?: LegendPosition | 'none';
  width?: number;
  height?: number;
}

/** Lines, steps or points on numeric axes: ROC and precision-recall curves, calibration, predicted vs actual, residuals. */
export function lineChart(options: LineChartOptions): string {
  const frame: Frame = { width: options.width ?? 440, height: options.height ?? 320, left: 52, right: 14, top: 12, bottom: 42 };
  const all = options.series.flatMap((series) => series.points);
  const axis = (fixed: [number, number] | undefined, values: number[]) =>
    fixed
      ? { domain: fixed, ticks: niceScale(fixed[0], fixed[1]).ticks.filter((t) => t >= fixed[0] && t <= fixed[1]) }
      : niceScale(...extent(values));
  const xs = axis(
    options.xDomain,
    all.map(([x]) => x),
  );
  const ys = axis(
    options.yDomain,
    all.map(([, y]) => y),
  );
  const x = linearScale(xs.domain, [frame.left, frame.width - frame.right]);
  const y = linearScale(ys.domain, [frame.height - frame.bottom, frame.top]);
  const parts = axes(frame, { scale: x, ticks: xs.ticks, label: options.xLabel }, { scale: y, ticks: ys.ticks, label: options.yLabel });
  let paletteIndex = 0;
  const entries: { name: string; color: string; dashed?: boolean }[] = [];
  for (const series of options.series) {
    const color = series.color ?? (series.dashed ? '#888' : PALETTE[paletteIndex++ % PALETTE.length]!);
    entries.push({ name: series.name, color, dashed: series.dashed });
    const marks = series.marks ?? 'line';
    const points = series.points.map(([px, py]) => [x(px), y(py)] as const);
    if (marks !== 'points' && points.length) {
      const path = points.map(([px, py], i) => {
        if (i === 0) return `M${at(px)} ${at(py)}`;
        return marks === 'steps' ? `H${at(px)}V${at(py)}` : `L${at(px)} ${at(py)}`;
      });
      const dash = series.dashed ? ' stroke-dasharray="5 4"' : '';
      parts.push(
        `<path d="${path.join('')}" fill="none" stroke="${color}" stroke-width="${series.dashed ? 1 : 2}"${dash}><title>${escapeHtml(series.name)}</title></path>`,
      );
    }
    if (marks === 'points' || marks === 'line+points') {
      const radius = marks === 'points' ? 2.5 : 3.5;
      parts.push(
        `<g fill="${color}" fill-opacity="${marks === 'points' ? 0.6 : 1}">`,
        ...points.map(([px, py]) => `<circle cx="${at(px)}" cy="${at(py)}" r="${radius}"/>`),
        '</g>',
      );
    }
  }
  if (options.legend !== 'none') parts.push(legend(frame, entries, options.legend ?? 'bottom-right'));
  return svg(frame, options.title, parts);
}

export interface BarSeries {
  name: string;
  /** One value per category (or per bin of a histogram). */
  values: readonly number[];
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Category names under the bars. */
  categories: readonly string[];
  series: readonly BarSeries[];
  /** How a value reads in a bar's tooltip; default formatNumber. */
  format?: (value: number) => string;
  /** A legend row above the plot when there are several series (default true). */
  legend?: boolean;
  width?: number;
  height?: number;
}

/** Grouped vertical bars, one group per category: e.g. the share of each category value in two sets of rows. */
export function barChart(options: BarChartOptions): string {
  const slanted = options.categories.length > 6 || options.categories.some((name) => name.length > 8);
  const frame: Frame = {
    width: options.width ?? 440,
    height: options.height ?? 260,
    left: 52,
    right: 14,
    top: legendRowHeight(options),
    bottom: slanted ? 78 : 42,
  };
  const groupWidth = (frame.width - frame.left - frame.right) / Math.max(1, options.categories.length);
  const frameBottom = frame.height - frame.bottom;
  const spans = options.categories.map((_, group) => [frame.left + group * groupWidth, frame.left + (group + 1) * groupWidth] as const);
  const labels = options.categories.map((name, group) => {
    const cx = at(frame.left + (group + 0.5) * groupWidth);
    const label = `<title>${escapeHtml(name)}</title>${escapeHtml(shortLabel(name, 12))}`;
    return slanted
      ? `<text transform="translate(${cx} ${frameBottom + 8}) rotate(-40)" text-anchor="end" fill="${AXIS}">${label}</text>`
      : `<text x="${cx}" y="${frameBottom + 14}" text-anchor="middle" fill="${AXIS}">${label}</text>`;
  });
  return bars(frame, options, spans, labels);
}

export interface HistogramOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Bin edges, ascending: bin i spans [edges[i], edges[i + 1]]. */
  edges: readonly number[];
  /** One value per bin (edges.length − 1 of them) per series, drawn side by side within the bin. */
  series: readonly BarSeries[];
  format?: (value: number) => string;
  /** A legend row above the plot when there are several series (default true). */
  legend?: boolean;
  width?: number;
  height?: number;
}

/** Bars over numeric bins, the x axis labelled at round values. */
export function histogram(options: HistogramOptions): string {
  const frame: Frame = {
    width: options.width ?? 440,
    height: options.height ?? 260,
    left: 52,
    right: 14,
    top: legendRowHeight(options),
    bottom: 42,
  };
  const { edges } = options;
  const lo = edges[0] ?? 0;
  const hi = edges[edges.length - 1] ?? 1;
  const x = linearScale([lo, hi === lo ? lo + 1 : hi], [frame.left, frame.width - frame.right]);
  const ticks = niceScale(lo, hi).ticks.filter((tick) => tick >= lo && tick <= hi);
  const labels = ticks.map(
    (tick) =>
      `<text x="${at(x(tick))}" y="${frame.height - frame.bottom + 14}" text-anchor="middle" fill="${AXIS}">${formatNumber(tick)}</text>`,
  );
  const categories = edges.slice(1).map((edge, i) => `${formatNumber(edges[i]!)} – ${formatNumber(edge)}`);
  const spans = edges.slice(1).map((edge, i) => [x(edges[i]!), x(edge)] as const);
  return bars(frame, { ...options, categories }, spans, labels);
}

/** The top margin of a bar chart: room for the legend row when there are several series. */
function legendRowHeight(options: { legend?: boolean; series: readonly BarSeries[] }): number {
  return options.legend !== false && options.series.length > 1 ? 28 : 12;
}

/** Shared by barChart and histogram: side-by-side bars in each group's [x0, x1] span, a y axis from 0, the x labels given. */
function bars(
  frame: Frame,
  options: Omit<BarChartOptions, 'width' | 'height'>,
  spans: readonly (readonly [number, number])[],
  xLabels: readonly string[],
): string {
  const format = options.format ?? formatNumber;
  const max = Math.max(0, ...options.series.flatMap((series) => series.values.filter(Number.isFinite)));
  const ys = niceScale(0, max || 1);
  const y = linearScale(ys.domain, [frame.height - frame.bottom, frame.top]);
  const parts: string[] = [];
  for (const tick of ys.ticks) {
    const py = at(y(tick));
    parts.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${py}" y2="${py}" stroke="${GRID}"/>`);
    parts.push(
      `<text x="${frame.left - 4}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="${AXIS}">${formatNumber(tick)}</text>`,
    );
  }
  const seriesCount = Math.max(1, options.series.length);
  const frameBottom = frame.height - frame.bottom;
  options.series.forEach((series, s) => {
    const color = PALETTE[s % PALETTE.length]!;
    parts.push(`<g fill="${color}">`);
    series.values.forEach((value, group) => {
      const span = spans[group];
      if (!span || !Number.isFinite(value)) return;
      const barWidth = ((span[1] - span[0]) * 0.8) / seriesCount;
      const px = span[0] + (span[1] - span[0]) * 0.1 + s * barWidth;
      const py = y(value);
      const name = options.categories[group] ?? '';
      parts.push(
        `<rect x="${at(px)}" y="${at(py)}" width="${at(Math.max(barWidth, 0.5))}" height="${at(Math.max(frameBottom - py, 0))}"><title>${escapeHtml(`${series.name}, ${name}: ${format(value)}`)}</title></rect>`,
      );
    });
    parts.push('</g>');
  });
  parts.push(...xLabels);
  parts.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${frameBottom}" y2="${frameBottom}" stroke="${AXIS}"/>`);
  parts.push(axisTitles(frame, options.xLabel, options.yLabel));
  if (legendRowHeight(options) > 12) {
    // The series' names in a row above the plot, where they never hide a bar.
    let x = frame.left;
    options.series.forEach((series, s) => {
      const name = shortLabel(series.name, 24);
      parts.push(
        `<rect x="${at(x)}" y="6" width="10" height="10" fill="${PALETTE[s % PALETTE.length]}"/>`,
        `<text x="${at(x + 14)}" y="11" dominant-baseline="middle" fill="#222"><title>${escapeHtml(series.name)}</title>${escapeHtml(name)}</text>`,
      );
      x += 14 + name.length * 6.5 + 16;
    });
  }
  return svg(frame, options.title, parts);
}

export interface HorizontalBarChartOptions {
  title: string;
  xLabel: string;
  /** One bar per label, drawn top to bottom in this order. */
  labels: readonly string[];
  values: readonly number[];
  format?: (value: number) => string;
  width?: number;
}

/** One horizontal bar per label with its value written beside it: a ranking, e.g. feature importance. */
export function horizontalBarChart(options: HorizontalBarChartOptions): string {
  const format = options.format ?? formatNumber;
  const rowHeight = 20;
  const labelWidth = Math.min(200, 12 + Math.max(0, ...options.labels.map((label) => Math.min(label.length, 28))) * 6.5);
  const frame: Frame = {
    width: options.width ?? 560,
    height: 12 + options.labels.length * rowHeight + 40,
    left: labelWidth,
    right: 64,
    top: 12,
    bottom: 40,
  };
  const max = Math.max(0, ...options.values.filter(Number.isFinite));
  const xs = niceScale(0, max || 1);
  const x = linearScale(xs.domain, [frame.left, frame.width - frame.right]);
  const parts: string[] = [];
  for (const tick of xs.ticks) {
    const px = at(x(tick));
    parts.push(`<line x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.height - frame.bottom}" stroke="${GRID}"/>`);
    parts.push(`<text x="${px}" y="${frame.height - frame.bottom + 14}" text-anchor="middle" fill="${AXIS}">${formatNumber(tick)}</text>`);
  }
  parts.push(`<g fill="${PALETTE[0]}">`);
  options.labels.forEach((label, i) => {
    const value = options.values[i] ?? 0;
    const py = frame.top + i * rowHeight;
    parts.push(
      `<rect x="${frame.left}" y="${at(py + 3)}" width="${at(Math.max(x(value) - frame.left, 0.5))}" height="${rowHeight - 6}"><title>${escapeHtml(`${label}: ${format(value)}`)}</title></rect>`,
    );
  });
  parts.push('</g>');
  options.labels.forEach((label, i) => {
    const value = options.values[i] ?? 0;
    const cy = at(frame.top + i * rowHeight + rowHeight / 2);
    parts.push(
      `<text x="${frame.left - 6}" y="${cy}" text-anchor="end" dominant-baseline="middle" fill="#222"><title>${escapeHtml(label)}</title>${escapeHtml(shortLabel(label, 28))}</text>`,
      `<text x="${at(x(value) + 4)}" y="${cy}" dominant-baseline="middle" fill="${AXIS}">${escapeHtml(format(value))}</text>`,
    );
  });
  parts.push(
    `<line x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.height - frame.bottom}" stroke="${AXIS}"/>`,
    `<text x="${at(frame.left + (frame.width - frame.left - frame.right) / 2)}" y="${frame.height - 6}" text-anchor="middle" fill="#222">${escapeHtml(options.xLabel)}</text>`,
  );
  return svg(frame, options.title, parts);
}

export interface HeatMapOptions {
  title: string;
  rowTitle: string;
  columnTitle: string;
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** Colour intensity per cell, in [0, 1]. */
  shades: readonly (readonly number[])[];
  /** The text written in each cell. */
  cellText: readonly (readonly string[])[];
  /** A cell's tooltip; default its text. */
  cellTitle?: (row: number, column: number) => string;
}

/** A grid of cells shaded by value, with row and column labels: e.g. a confusion matrix. */
export function heatMap(options: HeatMapOptions): string {
  const rows = options.rowLabels.length;
  const columns = options.columnLabels.length;
  const cell = Math.max(28, Math.min(64, Math.floor(400 / Math.max(rows, columns, 1))));
  const labelWidth = Math.min(160, 14 + Math.max(0, ...options.rowLabels.map((label) => Math.min(label.length, 20))) * 6.5);
  const columnLabelHeight = Math.min(120, 14 + Math.max(0, ...options.columnLabels.map((label) => Math.min(label.length, 20))) * 5);
  const frame: Frame = {
    width: 22 + labelWidth + columns * cell + 12,
    height: 22 + columnLabelHeight + rows * cell + 12,
    left: 22 + labelWidth,
    right: 12,
    top: 22 + columnLabelHeight,
    bottom: 12,
  };
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const shade = Math.min(1, Math.max(0, options.shades[r]?.[c] ?? 0));
      const x = frame.left + c * cell;
      const y = frame.top + r * cell;
      const text = options.cellText[r]?.[c] ?? '';
      const title = options.cellTitle?.(r, c) ?? text;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blend(shade)}" stroke="#fff"><title>${escapeHtml(title)}</title></rect>`,
        `<text x="${at(x + cell / 2)}" y="${at(y + cell / 2)}" text-anchor="middle" dominant-baseline="middle" fill="${shade > 0.55 ? '#fff' : '#222'}">${escapeHtml(text)}</text>`,
      );
    }
  }
  options.rowLabels.forEach((label, r) => {
    parts.push(
      `<text x="${frame.left - 6}" y="${at(frame.top + (r + 0.5) * cell)}" text-anchor="end" dominant-baseline="middle" fill="#222"><title>${escapeHtml(label)}</title>${escapeHtml(shortLabel(label, 20))}</text>`,
    );
  });
  options.columnLabels.forEach((label, c) => {
    parts.push(
      `<text transform="translate(${at(frame.left + (c + 0.5) * cell)} ${frame.top - 6}) rotate(-40)" text-anchor="start" fill="#222"><title>${escapeHtml(label)}</title>${escapeHtml(shortLabel(label, 20))}</text>`,
    );
  });
  parts.push(
    `<text x="${at(frame.left + (columns * cell) / 2)}" y="14" text-anchor="middle" fill="#222" font-weight="bold">${escapeHtml(options.columnTitle)}</text>`,
    `<text transform="translate(12 ${at(frame.top + (rows * cell) / 2)}) rotate(-90)" text-anchor="middle" fill="#222" font-weight="bold">${escapeHtml(options.rowTitle)}</text>`,
  );
  return svg(frame, options.title, parts);
}

/** White → the palette's blue, by a share in [0, 1]. */
function blend(shade: number): string {
  const [r, g, b] = [0x4e, 0x79, 0xa7];
  const mix = (channel: number) => Math.round(255 + (channel - 255) * shade);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}
