// Test harness for the center's end-to-end tests: real `daemoneye` processes (center, enroll,
// agents) on loopback with real TLS, and a raw HTTPS client for requests the product's own client
// would never send (wrong identity, oversized, malformed). Test code only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DAEMONEYE_')) env[k] = v;
  if (extra['TEST_CLOCK_SKEW_MS'] !== undefined) env['NODE_OPTIONS'] = `--import=${fileURLToPath(new URL('./skew-clock.mjs', import.meta.url))}`;
  env['HOME'] = '/nonexistent-home';
  return { ...env, ...extra };
}

export interface CliResult { readonly status: number | null; readonly stdout: string; readonly stderr: string }

export function cli(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: cleanEnv(env), timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like cli(), without blocking the event loop (a center in this process may have to answer). */
export function cliAsync(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A `daemoneye center` child process. */
export class CenterProcess {
  readonly dataDir: string;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly args: readonly string[];
  child: ChildProcess | null = null;
  log = '';

  constructor(dataDir: string, port: number, options: { env?: Record<string, string>; args?: readonly string[] } = {}) {
    this.dataDir = dataDir;
    this.port = port;
    this.env = options.env ?? {};
    this.args = options.args ?? [];
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [MAIN, ...this.args, '--data-dir', this.dataDir, 'center', '--listen', `127.0.0.1:${this.port}`], {
      env: cleanEnv(this.env), stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => {
        this.log += c.toString();
        if (this.log.includes('center listening')) resolve();
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`center exited (${code}) before listening:\n${this.log}`)));
    });
  }

  /** Waits until the center's log (stderr, which arrives through a pipe after its answers) shows `re`. */
  async waitForLog(re: RegExp, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!re.test(this.log)) {
      if (Date.now() > until) throw new Error(`the center never logged ${re}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The crash the center must survive. */
  async kill9(): Promise<void> {
    const c = this.child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

export interface RawResponse { readonly status: number; readonly body: string }

/** One HTTPS request with exactly the TLS material and bytes given. */
export function rawRequest(url: string, o: { ca: string; cert?: string; key?: string; method?: string; path: string; body?: string | Buffer; headers?: Record<string, string | number> }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
    const req = request(new URL(o.path, url), {
      method: o.method ?? (body ? 'POST' : 'GET'), ca: o.ca, cert: o.cert, key: o.key, agent: false,
      headers: { ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}), ...o.headers },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A rule raising `perScan` distinct alerts every scan (so a running agent produces a steady stream). */
export function stormRule(perScan: number, severity = 'high'): string {
  return `id: TEST-CENTER-STORM
name: ${perScan} findings per scan
version: 1
description: generates alerts for the center tests
severity: ${severity}
attack: [T1059]
kind: event
sql: |
  WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${perScan}),
       s(id) AS (SELECT max(scan_id) FROM scans)
  SELECT 'scan' || s.id || '-' || n.x AS dedup_key, 'storm ' || s.id || ' ' || n.x AS command_line,
         'finding ' || n.x || ' of scan ' || s.id AS reason
  FROM n, s
`;
}

/** An alert as an agent would post it (for hostile-payload tests). */
export function sampleAlert(id: number, uuid: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    alert_id: id, alert_uuid: uuid, rule_id: 'TEST-1', rule_name: 'test', rule_version: 1, severity: 'high', attack_ids: [], tags: [],
    host: 'h', summary: 's', dedup_key: `k${id}`, pid: 1, process_name: 'p', executable_path: '/p', command_line: 'p', process_start: null,
    first_seen: now, last_seen: now, occurrences: 1, cleared_at: null, triage_status: 'open', scan_id: null, evidence: {},
  };
}

/** An identity's TLS material for rawRequest. */
export function tlsOf(i: { caPem: string; certPem: string; keyPem: string }): { ca: string; cert: string; key: string } {
  return { ca: i.caPem, cert: i.certPem, key: i.keyPem };
}

/** JSON over mutual TLS with an identity; throws on a non-2xx answer. */
export async function api<T = unknown>(url: string, who: { caPem: string; certPem: string; keyPem: string }, method: string, path: string, body?: unknown): Promise<T> {
  const r = await rawRequest(url, { ...tlsOf(who), method, path, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body}`);
  return JSON.parse(r.body) as T;
}

/**
 * Set-up shortcuts for tests whose subject is not `center init` / `center token` / `enroll`
 * themselves (test/center-enrollment.test.ts runs those as processes): the same functions the
 * commands call, in-process, which saves a Node start per step.
 */
export async function initCenterDir(dataDir: string, port: number): Promise<void> {
  const { initCenter } = await import('../center-init.ts');
  await initCenter({ dataDir, listen: `127.0.0.1:${port}` });
}

/** A fresh center (initialised in-process, as initCenterDir) serving on a free port. */
export async function startCenter(dataDir: string): Promise<CenterProcess> {
  const port = await freePort();
  await initCenterDir(dataDir, port);
  const center = new CenterProcess(dataDir, port);
  await center.start();
  return center;
}

/**
 * Two center processes sharing one PostgreSQL database, as behind a load balancer: `center init`
 * (the command) in WORK/c1, its data directory copied to WORK/c2 as another machine would hold it.
 * Started processes are pushed to `started` as soon as they exist, so the caller's cleanup stops them.
 */
export async function startCentersOnPostgres(work: string, url: string, started: CenterProcess[]): Promise<[CenterProcess, CenterProcess]> {
  const dir1 = join(work, 'c1');
  const init = cli(['--data-dir', dir1, 'center', 'init', '--database', url]);
  if (init.status !== 0) throw new Error(`center init on PostgreSQL failed (${init.status}): ${init.stderr}`);
  const dir2 = join(work, 'c2');
  cpSync(dir1, dir2, { recursive: true });
  const c1 = new CenterProcess(dir1, await freePort());
  const c2 = new CenterProcess(dir2, await freePort());
  started.push(c1, c2);
  await c1.start();
  await c2.start();
  return [c1, c2];
}

export async function enrolWith(centerDir: string, centerUrl: string, dataDir: string, role: 'agent' | 'center' | 'analyst' = 'agent'): Promise<import('../../center-client/identity.ts').Identity> {
  const { issueToken } = await import('../issue-token.ts');
  const { enroll } = await import('../../center-client/enroll.ts');
  const t = await issueToken(centerDir, role);
  return enroll({ centerUrl, token: t.text, dataDir, name: dataDir.split('/').pop() });
}
