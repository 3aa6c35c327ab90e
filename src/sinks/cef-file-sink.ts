// CEF records appended to a file, one per line (cef.ts escapes line breaks), for a SIEM's file
// collector. Each batch is one append and an fsync: acknowledged means on disk.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert } from '../alerts/alert.ts';
import { formatCef } from './cef.ts';
import { SinkDeliveryError } from './sink-error.ts';
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
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(this.path, 'a', 0o640);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      // A full disk or a permission change may be fixed while the alert waits in the outbox.
      throw new SinkDeliveryError(`cef sink ${this.name}: cannot append to ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { retryable: true, cause: e });
    }
  }

  async close(): Promise<void> {}
}
