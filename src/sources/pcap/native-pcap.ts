// Loads native/pcap/build/Release/daemoneye_pcap.node (built by scripts/build-native.sh). Optional
// like the eBPF addon: a host without it gets DE_SOURCE_UNAVAILABLE with the precise reason.
// Only this file knows the addon's raw shape; the rest of src/sources/pcap uses typed wrappers.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DaemonEyeError } from '../../errors/catalogue.ts';

/** Opaque handle owned by the addon (a JS external). */
export type NativeHandle = { readonly __pcapHandle: unique symbol };

export interface NativeLiveOptions {
  readonly device?: string;
  readonly snaplen?: number;
  readonly promisc?: boolean;
  readonly bufferBytes?: number;
  readonly timeoutMs?: number;
  readonly batchBytes?: number;
  readonly batchMs?: number;
  readonly filter?: string;
  readonly maxPackets?: number;
  readonly writePath?: string;
}

export interface NativeLiveStats {
  /** pcap_stats ps_recv: packets the kernel passed through the filter (delivered or dropped). */
  readonly received: number;
  /** pcap_stats ps_drop: dropped because the capture buffer was full. */
  readonly droppedKernel: number;
  /** pcap_stats ps_ifdrop: dropped by the interface or its driver. */
  readonly droppedInterface: number;
  /** Packets copied into batches by the worker thread. */
  readonly delivered: number;
  readonly bytes: number;
  readonly batches: number;
  /** Packets that could not be handed to JS (allocation failure, closed while JS was stalled). */
  readonly userDrops: number;
}

export interface PcapAddon {
  openLive(
    options: NativeLiveOptions,
    onBatch: (batch: Buffer | null, endError?: string | null) => void,
  ): { handle: NativeHandle; linktype: number; nano: boolean; warning: string };
  stats(handle: NativeHandle): NativeLiveStats;
  closeLive(handle: NativeHandle): void;
  openOffline(path: string): { handle: NativeHandle; linktype: number; snaplen: number; nano: boolean; majorVersion: number; minorVersion: number };
  readOffline(handle: NativeHandle, maxBytes: number): Buffer | null;
  /** Byte offset reached in the file, -1 when unknown (stdin). */
  offlinePosition(handle: NativeHandle): number;
  closeOffline(handle: NativeHandle): void;
  checkFilter(filter: string, linktype: number, snaplen: number): string | null;
  libVersion(): string;
  linktypeName(dlt: number): string | null;
}

// src/sources/pcap -> package root, both from src/ and from dist/ (same depth).
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PCAP_ADDON_PATH = join(packageRoot, 'native', 'pcap', 'build', 'Release', 'daemoneye_pcap.node');

let cached: PcapAddon | undefined;

export function loadPcapAddon(path: string = PCAP_ADDON_PATH): PcapAddon {
  if (cached !== undefined && path === PCAP_ADDON_PATH) return cached;
  if (!existsSync(path)) {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the packet capture addon is not built: ${path} does not exist`, {
      hint: 'run `npm run build:native` (needs libpcap-dev, gcc and node-gyp)',
    });
  }
  let addon: PcapAddon;
  try {
    addon = createRequire(import.meta.url)(path) as PcapAddon;
  } catch (e) {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the packet capture addon ${path} failed to load: ${(e as Error).message}`, {
      hint: 'install libpcap0.8 (Debian) or rebuild with `npm run build:native`',
      cause: e,
    });
  }
  if (path === PCAP_ADDON_PATH) cached = addon;
  return addon;
}

/** Re-throws an addon error (plain Error with a DE_PCAP_* code) as a DaemonEyeError. */
export function asDaemonEyeError(e: unknown): unknown {
  const code = (e as { code?: unknown })?.code;
  if (e instanceof DaemonEyeError || typeof code !== 'string' || !code.startsWith('DE_PCAP_')) return e;
  return new DaemonEyeError(code as 'DE_PCAP_OPEN', (e as Error).message);
}
