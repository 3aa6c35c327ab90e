// Feature tables as CSV for `daemoneye analytics score`: a header line names the columns, every
// other line is one row. Quoted cells (RFC 4180) are accepted so tables exported by spreadsheets or
// `daemoneye query --format csv` load; every feature cell must parse as a finite number.
import { readFileSync } from 'node:fs';
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Matrix } from './models/isolation-forest.ts';

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function parseCsv(text: string, source = 'CSV'): CsvTable {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endCell = () => { row.push(cell); cell = ''; };
  const endRow = () => { endCell(); if (!(row.length === 1 && row[0] === '')) records.push(row); row = []; };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        quoted = false;
      } else cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') endCell();
    else if (ch === '\n') endRow();
    else if (ch !== '\r') cell += ch;
    i++;
  }
  if (quoted) throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source}: a quoted cell is never closed`);
  if (cell !== '' || row.length > 0) endRow();
  if (records.length === 0) throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source} is empty: it needs a header line and rows`);
  const [header, ...rows] = records;
  rows.forEach((r, n) => {
    if (r.length !== header!.length) {
      throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source} row ${n + 1} has ${r.length} cells, the header has ${header!.length}`);
    }
  });
  return { header: header!.map((h) => h.trim()), rows };
}

export function readCsvFile(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new DaemonEyeError('DE_ANALYTICS_CSV', `cannot read ${path}`, { cause, hint: 'check the path and its permissions' });
  }
  return parseCsv(text, path);
}

/** Picks the feature columns (all but `ignore`, or exactly `features`) and parses them as numbers. */
export function toFeatureMatrix(table: CsvTable, source: string, opts: { features?: readonly string[]; ignore?: readonly string[] }): { matrix: Matrix; columns: string[] } {
  const ignore = new Set(opts.ignore ?? []);
  const columns = opts.features ? [...opts.features] : table.header.filter((h) => !ignore.has(h));
  if (columns.length === 0) throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source}: no feature columns left`);
  const at = columns.map((c) => {
    const i = table.header.indexOf(c);
    if (i < 0) throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source} has no column "${c}" (it has ${table.header.join(', ')})`);
    return i;
  });
  const data = new Float64Array(table.rows.length * columns.length);
  table.rows.forEach((r, n) => {
    at.forEach((col, j) => {
      const text = r[col]!.trim();
      const v = text === '' ? NaN : Number(text);
      if (!Number.isFinite(v)) {
        throw new DaemonEyeError('DE_ANALYTICS_CSV', `${source} row ${n + 1}, column "${columns[j]}": "${text.slice(0, 40)}" is not a number`);
      }
      data[n * columns.length + j] = v;
    });
  });
  return { matrix: { data, rows: table.rows.length, cols: columns.length }, columns };
}
