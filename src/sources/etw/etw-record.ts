// What the ETW addon (native/etw/) hands to JS: one object per event, its properties decoded by TDH
// from the provider's manifest InType, uninterpreted. Property names and types are the manifest's
// (test/fixtures/etw/README.md cites them); the mapping to our event kinds is etw-decode.ts.

/** A decoded property: win:UInt8..UInt32 -> number, UInt64/Pointer/FILETIME -> bigint,
 * strings -> string, Binary -> lowercase hex string, SID -> "S-1-...", Boolean -> boolean. */
export type EtwValue = number | bigint | string | boolean;

export interface EtwRecord {
  readonly provider: string;
  readonly eventId: number;
  readonly version: number;
  readonly opcode: number;
  /** EVENT_HEADER.ProcessId / ThreadId: who logged it (for ProcessStart, the creator). */
  readonly processId: number;
  readonly threadId: number;
  /** EVENT_HEADER.TimeStamp as FILETIME: 100 ns intervals since 1601-01-01 UTC. */
  readonly timestamp: bigint;
  /** EVENT_HEADER_EXT_TYPE_SID of the logging thread's token, or null. */
  readonly userSid: string | null;
  readonly properties: Readonly<Record<string, EtwValue>>;
}

/** The keys record_to_js (native/etw/src/etw_addon.c) sets; test/platform-etw-contract.test.ts
 * reads the C and fails when the two drift. */
export const ETW_RECORD_KEYS = ['provider', 'eventId', 'version', 'opcode', 'processId', 'threadId', 'timestamp', 'userSid', 'properties'] as const;

/** The property the addon adds to ProcessStart (not in the manifest): the command line it read. */
export const COMMAND_LINE_PROPERTY = 'DaemonEyeCommandLine';

export const KERNEL_PROCESS = 'Microsoft-Windows-Kernel-Process';
export const KERNEL_NETWORK = 'Microsoft-Windows-Kernel-Network';

/** Event ids from the manifests (append-only facts of Windows, not ours to renumber). */
export const PROCESS_EVENTS = { ProcessStart: 1, ProcessStop: 2, ImageLoad: 5 } as const;
export const NETWORK_EVENTS = { TcpV4Connect: 12, TcpV4Accept: 15, TcpV6Connect: 28, TcpV6Accept: 31 } as const;

/**
 * Keywords the session enables (native/etw/src/etw.h says why these and not others):
 * Kernel-Process WINEVENT_KEYWORD_PROCESS 0x10 | WINEVENT_KEYWORD_IMAGE 0x40;
 * Kernel-Network KERNEL_NETWORK_KEYWORD_IPV4 0x10 | KERNEL_NETWORK_KEYWORD_IPV6 0x20.
 */
export const PROCESS_KEYWORDS = 0x50;
export const NETWORK_KEYWORDS = 0x30;

/** FILETIME epoch (1601) to Unix epoch (1970), in 100 ns units. */
const FILETIME_UNIX_OFFSET = 116_444_736_000_000_000n;

/** FILETIME -> Unix epoch nanoseconds (the clock our kernel-event writer stores on Windows). */
export function filetimeToEpochNs(ft: bigint): bigint {
  return (ft - FILETIME_UNIX_OFFSET) * 100n;
}
