import { join } from 'node:path';

/** Where the collector serves by default: inside the data dir, which only the agent's user can enter. */
export function collectorSocketPath(dataDir: string): string {
  return join(dataDir, 'collector.sock');
}

/** The collector's packet socket (PACKETS, FLOWS): apart from kernel events so bursts cannot delay them. */
export function collectorPacketSocketPath(dataDir: string): string {
  return join(dataDir, 'collector-net.sock');
}
