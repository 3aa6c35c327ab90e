// One append followed by fsync: what "acknowledged" means for the file sinks (on disk, survives a
// power cut). Errors become retryable SinkDeliveryErrors: a full disk or a permission change may be
// fixed while the alerts wait in the outbox.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SinkDeliveryError } from './sink-error.ts';

export function appendDurably(path: string, text: string, sinkName: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'a', 0o640);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new SinkDeliveryError(`${sinkName} sink: cannot append to ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { retryable: true, cause: e });
  }
}
