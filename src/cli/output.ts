// Rows to text in the three formats the CLI offers. Tables are for people, JSON and CSV for tools.
import { DaemonEyeError } from '../errors/catalogue.ts';
export type OutputFormat = 'table' | 'json' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv'];

export function formatRows(rows: readonly Record<string, unknown>[], format: OutputFormat, columns?: readonly string[]): string {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]!) : []);
  if (format === 'json') return JSON.stringify(rows, bigintSafe, 2) + '\n';
  if (format === 'csv') return [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
  return table(rows, cols);
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** RFC 4180: quote when needed, double the quotes; neutralise spreadsheet formulas. */
function csvCell(v: unknown): string {
  let s = cellText(v);
  if (/^[=+\-@]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const MAX_CELL = 80;

function table(rows: readonly Record<string, unknown>[], cols: readonly string[]): string {
  if (cols.length === 0) return '(no rows)\n';
  const cells = rows.map((r) => cols.map((c) => clip(cellText(r[c]).replace(/[\r\n\t]/g, ' '))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

function clip(s: string): string {
  return s.length > MAX_CELL ? s.slice(0, MAX_CELL - 1) + '…' : s;
}

export function parseFormat(v: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw new DaemonEyeError('DE_USAGE', `--format must be one of ${OUTPUT_FORMATS.join(', ')}, not "${v}"`);
}
