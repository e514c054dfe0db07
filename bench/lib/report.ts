/** One row of the results table: a figure, its value, and how it compares with its target. */
export interface Row {
  /** Figure number and short name, e.g. "1 shim start". */
  figure: string;
  metric: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. "<= 1.2x bare node"; absent for context rows. */
  target?: string;
  /** true/false against the target; null for context rows. */
  pass: boolean | null;
  note?: string;
}

export interface FigureResult {
  rows: Row[];
  /** Anything else worth keeping in results.json (raw samples, breakdowns). */
  details?: Record<string, unknown>;
}

export function fmt(value: number, unit: string): string {
  if (unit === 'x') return `${value.toFixed(2)}x`;
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
  if (unit === 'KB') return `${value.toFixed(1)} KB`;
  if (unit === 'units' || unit === 'RCU+WCU') return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
  if (unit === '/s') return `${value.toFixed(1)} /s`;
  if (unit === 'USD') return `$${value >= 100 ? value.toFixed(0) : value >= 0.1 ? value.toFixed(2) : value.toFixed(4)}`;
  return `${Number.isInteger(value) ? value : value.toFixed(2)}${unit ? ` ${unit}` : ''}`;
}

export function verdict(row: Row): string {
  return row.pass === null ? '' : row.pass ? 'PASS' : 'FAIL';
}

/** A Markdown table (what the terminal shows and README carries). */
export function table(rows: Row[]): string {
  const head = ['figure', 'metric', 'value', 'target', 'result'];
  const body = rows.map((r) => [r.figure, r.metric + (r.note ? ` (${r.note})` : ''), fmt(r.value, r.unit), r.target ?? '', verdict(r)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
