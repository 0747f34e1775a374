// Plain-text tables for the commands' terminal output (the --json output is for scripts).

/** Columns padded to their widest cell, two spaces apart; numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** A share as a percentage with one decimal, e.g. 0.9667 → "96.7 %". */
export const percent = (share: number) => `${(share * 100).toFixed(1)} %`;

/** A metric with four decimals; "—" when there is none. */
export const figure = (value: number | null | undefined) => (value === null || value === undefined ? '—' : value.toFixed(4));
