/** How the CLI shows sizes, times and tables to people. */

const SIZE_UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** Formats a byte count with SI units, one decimal: "512 B", "1.2 kB", "3.4 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit: string = 'B';
  for (const next of SIZE_UNITS) {
    // Step up before rounding so that 999_950 bytes reads "1.0 MB", never "1000.0 kB".
    if (value < 999.95) break;
    value /= 1000;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** An epoch-ms time as ISO 8601 in UTC, to the second: "2025-11-24T16:00:00Z". */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lays out rows under a header with two spaces between columns; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}
