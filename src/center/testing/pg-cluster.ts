// A throwaway PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl under a temp directory,
// listening on loopback only, trust authentication, removed on stop. PostgreSQL refuses to run as
// root, so as root the cluster runs as the `postgres` system user (Debian's package creates it).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './center-harness.ts';

export interface PgCluster {
  readonly url: string;
  stop(): Promise<void>;
}

function pgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : join(base, versions[0]!, 'bin');
}

/** Starts a cluster, or says why it cannot (the caller skips with that reason). */
export async function startPgCluster(): Promise<PgCluster | { skip: string }> {
  const bin = pgBin();
  if (bin === null) return { skip: 'PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin)' };
  const asRoot = userInfo().uid === 0;
  let uid = userInfo().uid;
  let gid = userInfo().gid;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) return { skip: 'running as root and there is no postgres user to run the cluster as' };
    uid = Number(id.stdout.trim());
    gid = Number(g.stdout.trim());
  }
  const dir = mkdtempSync(join(tmpdir(), 'de-pg-'));
  chmodSync(dir, 0o755);
  if (asRoot) chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const run = (args: string[]) => asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', cwd: dir })
    : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', cwd: dir });
  const init = run([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `initdb failed: ${init.stderr.trim().split('\n').pop()}` };
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start']);
  if (start.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `pg_ctl start failed: ${start.stderr.trim() || start.stdout.trim()}` };
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
