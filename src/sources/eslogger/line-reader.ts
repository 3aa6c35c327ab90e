// Splits a byte stream into lines for a reader that must never die on its input: a line longer than
// maxLineBytes is dropped (counted) up to its newline instead of growing a buffer without bound, and a
// last line without a newline is delivered when the stream ends.
import type { Readable } from 'node:stream';

export interface LineReaderCounters {
  lines: number;
  tooLong: number;
}

export function readLines(stream: Readable, onLine: (line: string) => void, maxLineBytes = 1 << 20): LineReaderCounters {
  const counters: LineReaderCounters = { lines: 0, tooLong: 0 };
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const emit = (buf: Buffer) => {
    counters.lines++;
    onLine(buf.toString('utf8'));
  };
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (skipping) {
        skipping = false;
      } else if (size + nl - start > maxLineBytes) {
        counters.tooLong++;
      } else {
        parts.push(chunk.subarray(start, nl));
        emit(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      }
      parts = [];
      size = 0;
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      size += chunk.length - start;
      if (size > maxLineBytes) {
        counters.tooLong++;
        skipping = true;
        parts = [];
        size = 0;
      } else {
        parts.push(chunk.subarray(start));
      }
    }
  });
  stream.on('end', () => {
    if (!skipping && size > 0) emit(Buffer.concat(parts));
    parts = [];
  });
  return counters;
}
