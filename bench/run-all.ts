// `npm run bench`: every benchmark in one run, each in its own process so they don't share caches.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const b of ['scan.bench.ts', 'rules.bench.ts', 'ledger.bench.ts', 'kernel.bench.ts', 'idle.bench.ts', 'net-capture.ts', 'net-offline.ts', 'taxii-sync.ts', 'intel-match.ts', 'analytics.ts', 'center-ingest.ts']) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(b, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
  console.log('');
}
