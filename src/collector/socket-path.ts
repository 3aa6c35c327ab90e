import { join } from 'node:path';

/** Where the collector serves by default: inside the data dir, which only the agent's user can enter. */
export function collectorSocketPath(dataDir: string): string {
  return join(dataDir, 'collector.sock');
}
