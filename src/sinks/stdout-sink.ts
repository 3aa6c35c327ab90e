// Alerts on standard output: human lines on a terminal, JSON lines when piped (auto), or as forced.
import type { Alert } from '../alerts/alert.ts';
import { formatAlertHuman, formatAlertJson } from './format-alert.ts';
import type { Sink } from './sink.ts';

export type StdoutFormat = 'auto' | 'human' | 'json';

export class StdoutSink implements Sink {
  readonly name = 'stdout';
  readonly type = 'stdout';
  readonly #human: boolean;
  readonly #colour: boolean;
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(format: StdoutFormat, out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout) {
    this.#out = out;
    const tty = out.isTTY === true;
    this.#human = format === 'human' || (format === 'auto' && tty);
    this.#colour = this.#human && tty && process.env['NO_COLOR'] === undefined;
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const text = alerts.map((a) => (this.#human ? formatAlertHuman(a, this.#colour) : formatAlertJson(a))).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => this.#out.write(text, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {}
}
