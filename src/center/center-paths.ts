// Where a center keeps its state in its data directory. The CA key never leaves it; keys are 0600.
import { join } from 'node:path';

export function centerPaths(dataDir: string) {
  return {
    dataDir,
    config: join(dataDir, 'center.json'),
    caCert: join(dataDir, 'pki', 'ca.pem'),
    caKey: join(dataDir, 'pki', 'ca-key.pem'),
    serverCert: join(dataDir, 'pki', 'server.pem'),
    serverKey: join(dataDir, 'pki', 'server-key.pem'),
    sqlite: join(dataDir, 'center.db'),
    /** The center's own analyst identity (like kubeadm's admin.conf), for the CLI on the center host. */
    adminIdentity: join(dataDir, 'admin'),
  };
}
export type CenterPaths = ReturnType<typeof centerPaths>;
