// `npm run bench`: every benchmark in one run, each in its own process so they don't share caches.
// `npm run bench -- kernel intel` runs only those whose file name contains one of the words.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ALL = ['scan.bench.ts', 'rules.bench.ts', 'ledger.bench.ts', 'kernel.bench.ts', 'idle.bench.ts', 'net-capture.ts', 'net-offline.ts', 'taxii-sync.ts', 'intel-match.ts', 'analytics.ts', 'center-ingest.ts'];
const only = process.argv.slice(2);
for (const b of ALL.filter((f) => only.length === 0 || only.some((w) => f.includes(w)))) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(b, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
  console.log('');
}
