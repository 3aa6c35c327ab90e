// Alerts appended to a JSON-lines file (the data dir's alerts.jsonl by default). Each batch is one
// append followed by fsync, so an alert reported delivered survives a power cut. Size-based
// rotation keeps the file bounded: alerts.jsonl → alerts.jsonl.1 → … → alerts.jsonl.N (dropped),
// done before a write, never splitting a batch, so every rotated file holds whole lines.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { appendDurably } from './append-durably.ts';
import type { Alert } from '../alerts/alert.ts';
import { formatAlertJson } from './format-alert.ts';
import type { Sink } from './sink.ts';

export interface JsonlRotation {
  /** Rotate once the file would grow past this many bytes (0: never). */
  readonly maxBytes: number;
  /** Rotated files kept beside the live one. */
  readonly keep: number;
}

export const DEFAULT_ROTATION: JsonlRotation = { maxBytes: 100 * 1024 * 1024, keep: 5 };

export class JsonlFileSink implements Sink {
  readonly name = 'jsonl_file';
  readonly type = 'jsonl_file';
  readonly path: string;
  readonly #rotation: JsonlRotation;

  constructor(path: string, rotation: JsonlRotation = DEFAULT_ROTATION) {
    this.path = path;
    this.#rotation = rotation;
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const text = alerts.map(formatAlertJson).join('\n') + '\n';
    this.#rotateIfNeeded(Buffer.byteLength(text));
    appendDurably(this.path, text, this.name);
  }

  async close(): Promise<void> {}

  #rotateIfNeeded(incoming: number): void {
    const { maxBytes, keep } = this.#rotation;
    if (maxBytes <= 0 || !existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size === 0 || size + incoming <= maxBytes) return;
    if (keep <= 0) {
      rmSync(this.path);
      return;
    }
    rmSync(`${this.path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
  }
}
