// The Windows kernel source: one real-time ETW session (named by etw_session_name) whose batches are
// decoded into our event kinds and handed on. Runs in the agent process: ETW needs Administrator
// rights, which the agent has when it runs as a service; there is no separate collector on Windows.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Source, SourceHealth } from '../source.ts';
import { etwError, loadEtwAddon, type EtwAddon, type EtwStats } from './etw-addon.ts';
import { decodeEtwRecords, type EtwDecoded } from './etw-decode.ts';
import { NETWORK_KEYWORDS, PROCESS_KEYWORDS } from './etw-record.ts';

export interface EtwSourceOptions {
  readonly sessionName: string;
  /** Called on the JS thread with each decoded batch. */
  readonly onDecoded: (d: EtwDecoded) => void;
  /** Injected only by code that already loaded the addon (doctor); defaults to loadEtwAddon(). */
  readonly addon?: EtwAddon;
  /** The session ended without stop() (stopped from outside); call stop() before starting anew. */
  readonly onEnded?: (error: DaemonEyeError) => void;
}

export class EtwKernelSource implements Source {
  readonly name = 'etw';
  readonly #opts: EtwSourceOptions;
  #addon: EtwAddon | null = null;
  #health: SourceHealth = { state: 'unavailable', reason: 'not started' };
  #lastStats: EtwStats | null = null;
  readonly #decodeErrors: Record<string, number> = {};
  #commandLinesMissing = 0;
  /** True when a session of our name was still running (left by a crash) and was replaced. */
  staleSessionReplaced = false;

  constructor(opts: EtwSourceOptions) {
    this.#opts = opts;
  }

  /** Throws DaemonEyeError DE_ETW_* with the reason; the caller falls back to scans. */
  start(): void {
    const addon = this.#opts.addon ?? loadEtwAddon();
    const dosDevices = addon.dosDevices();
    try {
      const opened = addon.open(
        { sessionName: this.#opts.sessionName, processKeywords: PROCESS_KEYWORDS, networkKeywords: NETWORK_KEYWORDS },
        (records, endStatus) => {
          if (records === null) {
            const error = new DaemonEyeError('DE_ETW_SESSION', `ETW session "${this.#opts.sessionName}" ended without us (ProcessTrace returned ${endStatus}): stopped from outside?`);
            this.#health = { state: 'unavailable', reason: `${error.code}: ${error.message}` };
            this.#opts.onEnded?.(error);
            return;
          }
          const decoded = decodeEtwRecords(records, { dosDevices, ignorePid: process.pid });
          for (const [reason, n] of Object.entries(decoded.errors)) this.#decodeErrors[reason] = (this.#decodeErrors[reason] ?? 0) + n;
          this.#commandLinesMissing += decoded.commandLinesMissing;
          this.#opts.onDecoded(decoded);
        },
      );
      this.staleSessionReplaced = opened.staleSessionReplaced;
    } catch (e) {
      throw etwError(e);
    }
    this.#addon = addon;
    this.#health = { state: 'ok' };
  }

  health(): SourceHealth {
    const s = this.#stats();
    if (this.#health.state === 'ok' && s !== null && (s.eventsLost > 0 || s.realTimeBuffersLost > 0 || s.batchesDropped > 0)) {
      return { state: 'degraded', reason: `events lost: ${s.eventsLost} by ETW, ${s.realTimeBuffersLost} real-time buffers, ${s.batchesDropped} batches not taken by the agent` };
    }
    return this.#health;
  }

  counters(): Readonly<Record<string, number>> {
    const s = this.#stats();
    const out: Record<string, number> = {
      etw_records: s?.records ?? 0,
      etw_events_lost: (s?.eventsLost ?? 0) + (s?.rtLostEvents ?? 0),
      etw_buffers_lost: (s?.realTimeBuffersLost ?? 0) + (s?.logBuffersLost ?? 0) + (s?.rtLostBuffers ?? 0),
      etw_batches_dropped: s?.batchesDropped ?? 0,
      etw_command_lines_missing: this.#commandLinesMissing,
      'decode_errors.etw_native': s?.decodeErrors ?? 0,
    };
    for (const [reason, n] of Object.entries(this.#decodeErrors)) out[`decode_errors.${reason}`] = n;
    return out;
  }

  async stop(): Promise<void> {
    if (this.#addon === null) return;
    this.#lastStats = this.#addon.stats();
    this.#addon.close();
    this.#addon = null;
    this.#health = { state: 'unavailable', reason: 'stopped' };
  }

  #stats(): EtwStats | null {
    return this.#addon?.stats() ?? this.#lastStats;
  }
}
