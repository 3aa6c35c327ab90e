// CEF records appended to a file, one per line (cef.ts escapes line breaks), for a SIEM's file
// collector. Each batch is one append and an fsync: acknowledged means on disk.
import type { Alert } from '../alerts/alert.ts';
import { formatCef } from './cef.ts';
import { appendDurably } from './append-durably.ts';
import type { Sink } from './sink.ts';

export class CefFileSink implements Sink {
  readonly type = 'cef';
  readonly name: string;
  readonly path: string;
  readonly #version: string;

  constructor(o: { name: string; path: string; version: string }) {
    this.name = o.name;
    this.path = o.path;
    this.#version = o.version;
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const text = alerts.map((a) => `${formatCef(a, this.#version)}\n`).join('');
    appendDurably(this.path, text, `cef ${this.name}`);
  }

  async close(): Promise<void> {}
}
