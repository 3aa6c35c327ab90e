// Alerts appended to a JSON-lines file (the data dir's alerts.jsonl by default). Each batch is one
// append followed by fsync, so an alert reported delivered survives a power cut.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert } from '../alerts/alert.ts';
import { formatAlertJson } from './format-alert.ts';
import type { Sink } from './sink.ts';

export class JsonlFileSink implements Sink {
  readonly name = 'jsonl_file';
  readonly type = 'jsonl_file';
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a', 0o640);
    try {
      writeSync(fd, alerts.map(formatAlertJson).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async close(): Promise<void> {}
}
