// `daemoneye center` in the foreground: serve until SIGINT/SIGTERM; as a regional center, also run
// the federation sync with the primary.
import type { Logger } from '../agent/logger.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import { startCenter } from './center-server.ts';

export interface RunCenterOptions {
  readonly dataDir: string;
  readonly listen?: string | undefined;
  readonly log: Logger;
  readonly config: DaemonEyeConfig;
}

export async function runCenter(o: RunCenterOptions): Promise<void> {
  const fed = o.config.enterprise.federation;
  const center = await startCenter({
    dataDir: o.dataDir, listen: o.listen, log: o.log, conflictPolicy: fed.conflict_resolution,
    isRegional: fed.enable_federation && fed.primary_endpoint !== null,
  });
  o.log.info('center listening', { url: center.url, center_id: center.ctx.centerId, database: center.ctx.engine });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      o.log.info('stopping', { signal: sig });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await center.close();
  o.log.info('center stopped');
}
