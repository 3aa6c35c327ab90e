// Loads native/etw/build/Release/daemoneye_etw.node, built on Windows only (native/etw/binding.gyp).
// Anywhere else, or when it is not built, DE_ETW_UNAVAILABLE says why and the agent keeps to scans.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DaemonEyeError } from '../../errors/catalogue.ts';

export interface EtwOpenOptions {
  readonly sessionName: string;
  /** Per-buffer KiB (ETW's BufferSize). Default 64. */
  readonly bufferKb?: number;
  readonly processKeywords?: number;
  /** 0 leaves Microsoft-Windows-Kernel-Network off. */
  readonly networkKeywords?: number;
  /** Read each new process's command line (ProcessStart has none). Default true. */
  readonly queryCommandLine?: boolean;
}

/**
 * stats() of the addon (js_stats in etw_addon.c; the contract test compares the two):
 * records, batches; batchesDropped = batches JS did not take in time (the addon never blocks
 * ProcessTrace); decodeErrors, filtered; rtLostEvents / rtLostBuffers = RT_LostEvent records the
 * session delivered; eventsLost, realTimeBuffersLost, logBuffersLost, buffersWritten = the session's
 * own counters (ControlTrace QUERY), what ETW dropped before we saw it; commandLines /
 * commandLinesMissing; staleSessionReplaced (0 or 1).
 */
export const ETW_STATS_KEYS = ['records', 'batches', 'batchesDropped', 'decodeErrors', 'filtered', 'rtLostEvents', 'rtLostBuffers',
  'eventsLost', 'realTimeBuffersLost', 'logBuffersLost', 'buffersWritten', 'commandLines', 'commandLinesMissing', 'staleSessionReplaced'] as const;

export type EtwStats = Readonly<Record<(typeof ETW_STATS_KEYS)[number], number>>;

export interface EtwAddon {
  /** Throws errors with code DE_ETW_ACCESS / DE_ETW_SESSION / DE_ETW_ENABLE / DE_ETW_BUSY / DE_ETW_ARGS. */
  /**
   * onBatch(records) per batch; onBatch(null, status) once if the session ends without close()
   * (stopped from outside: `logman stop NAME -ets`), status being what ProcessTrace returned.
   */
  open(options: EtwOpenOptions, onBatch: (records: unknown[] | null, endStatus?: number) => void): { sessionName: string; staleSessionReplaced: boolean; processKeywords: number; networkKeywords: number };
  stats(): EtwStats;
  /** Stops the session, lets ProcessTrace deliver what was written, joins the thread. Safe twice. */
  close(): void;
  querySession(name: string): { running: boolean; win32Error: number; eventsLost: number; realTimeBuffersLost: number };
  isElevated(): boolean;
  dosDevices(): Record<string, string>;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ETW_ADDON_PATH = join(packageRoot, 'native', 'etw', 'build', 'Release', 'daemoneye_etw.node');

export function loadEtwAddon(path: string = ETW_ADDON_PATH, platform: NodeJS.Platform = process.platform): EtwAddon {
  if (platform !== 'win32') {
    throw new DaemonEyeError('DE_ETW_UNAVAILABLE', `ETW is a Windows facility; this is ${platform}`);
  }
  if (!existsSync(path)) {
    throw new DaemonEyeError('DE_ETW_UNAVAILABLE', `the ETW addon is not built: ${path} does not exist`);
  }
  try {
    return createRequire(import.meta.url)(path) as EtwAddon;
  } catch (e) {
    throw new DaemonEyeError('DE_ETW_UNAVAILABLE', `the ETW addon ${path} failed to load: ${(e as Error).message}`, { cause: e });
  }
}

/** An error thrown by the addon carries its code; wrap it with our catalogue's hint. */
export function etwError(e: unknown): DaemonEyeError {
  const code = (e as { code?: string }).code;
  const known = code === 'DE_ETW_ACCESS' || code === 'DE_ETW_SESSION' || code === 'DE_ETW_ENABLE' || code === 'DE_ETW_BUSY' ? code : 'DE_ETW_SESSION';
  return new DaemonEyeError(known, (e as Error).message, { cause: e });
}
