// `daemoneye center` in the foreground: serve until SIGINT/SIGTERM; as a regional center (federation
// enabled, primary_endpoint set, and an identity enrolled with the primary in DATA_DIR/identity),
// also run the sync with the primary.
import { join } from 'node:path';
import type { Logger } from '../agent/logger.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { hasIdentity, loadIdentity } from '../center-client/identity.ts';
import { federationRoutes } from '../federation/federation-routes.ts';
import { FederationSync } from '../federation/federation-sync.ts';
import { startCenter, type RunningCenter } from './center-server.ts';

export interface RunCenterOptions {
  readonly dataDir: string;
  readonly listen?: string | undefined;
  readonly log: Logger;
  readonly config: DaemonEyeConfig;
}

export async function startFederatedCenter(o: RunCenterOptions): Promise<{ center: RunningCenter; sync: FederationSync | null }> {
  const fed = o.config.enterprise.federation;
  const regional = fed.enable_federation && fed.primary_endpoint !== null;
  const identityDir = join(o.dataDir, 'identity');
  if (regional && !hasIdentity(identityDir)) {
    throw new DaemonEyeError('DE_FED_CONFIG', `federation names a primary (${fed.primary_endpoint}) but ${identityDir} holds no identity enrolled with it`);
  }
  const identity = regional ? loadIdentity(identityDir) : null;
  if (identity !== null && identity.role !== 'center') {
    throw new DaemonEyeError('DE_FED_CONFIG', `${identityDir} is enrolled as ${identity.role}, not as a center`, {
      hint: 'on the primary: `daemoneye center token --role center`; here: `daemoneye enroll --center PRIMARY --token T --data-dir CENTER_DIR`',
    });
  }
  let sync: FederationSync | null = null;
  const center = await startCenter({
    dataDir: o.dataDir, listen: o.listen, log: o.log, conflictPolicy: fed.conflict_resolution, isRegional: regional,
    plugins: [federationRoutes(() => sync)],
  });
  if (identity !== null) {
    sync = new FederationSync(center.ctx, identity, {
      primaryUrl: fed.primary_endpoint!, intervalSeconds: fed.sync_interval, batchSize: fed.batch_size, maxBatches: fed.max_batches_per_sync,
    });
    sync.start();
  }
  return { center, sync };
}

export async function runCenter(o: RunCenterOptions): Promise<void> {
  const { center, sync } = await startFederatedCenter(o);
  o.log.info('center listening', {
    url: center.url, center_id: center.ctx.centerId, database: center.ctx.engine,
    role: sync === null ? 'primary' : 'regional', ...(sync === null ? {} : { primary: o.config.enterprise.federation.primary_endpoint ?? '' }),
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      o.log.info('stopping', { signal: sig });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sync?.stop();
  await center.close();
  o.log.info('center stopped');
}
