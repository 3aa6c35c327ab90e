// The agent's idle cost at the default 30 s interval: CPU percent and RSS of the agent and its rule
// sandbox over BENCH_IDLE_SECONDS (default 300, the 5 minutes), measured from /proc after
// the first cycle. Targets (issue #2): < 0.5 % CPU and < 100 MB RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt } from './bench-utils.ts';

const SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 300);
const TICKS = 100; // USER_HZ on Linux
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'de-bench-idle-'));

function stat(pid: number): { ticks: number; rssBytes: number; ppid: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * 4096 };
  } catch {
    return null;
  }
}

/** The agent and its descendants (the rule sandbox). */
function tree(root: number): number[] {
  const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const out = [root];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      const s = stat(p);
      if (s && out.includes(s.ppid) && !out.includes(p)) {
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DAEMONEYE_')));
const agent = spawn(process.execPath, [main, '--data-dir', dir, 'run', '--interval', '30'], { stdio: ['ignore', 'ignore', 'pipe'], env });
let log = '';
agent.stderr!.on('data', (d: Buffer) => (log += d.toString()));
while (!log.includes(' cycle ')) await new Promise((r) => setTimeout(r, 100));
const pids = tree(agent.pid!);
const ticks0 = pids.reduce((s, p) => s + (stat(p)?.ticks ?? 0), 0);
const t0 = performance.now();
let peakRss = 0;
let peakAgentRss = 0;
while (performance.now() - t0 < SECONDS * 1000) {
  await new Promise((r) => setTimeout(r, 1000));
  const rss = tree(agent.pid!).map((p) => stat(p)?.rssBytes ?? 0);
  peakRss = Math.max(peakRss, rss.reduce((a, b) => a + b, 0));
  peakAgentRss = Math.max(peakAgentRss, rss[0] ?? 0);
}
const elapsed = (performance.now() - t0) / 1000;
const ticks1 = tree(agent.pid!).reduce((s, p) => s + (stat(p)?.ticks ?? 0), 0);
agent.kill('SIGTERM');
await new Promise((r) => agent.on('exit', r));
rmSync(dir, { recursive: true, force: true });
const cycles = log.split('\n').filter((l) => l.includes(' cycle ')).length;
console.log(`# idle benchmark: agent at scan_interval 30 s for ${fmt(elapsed, 0)} s (${cycles} cycles)`);
console.log(`  CPU: ${fmt(((ticks1 - ticks0) / TICKS / elapsed) * 100, 3)} % of one core (agent + rule sandbox; target < 0.5 %)`);
console.log(`  RSS peak: agent ${fmt(peakAgentRss / 2 ** 20)} MiB, agent + sandbox ${fmt(peakRss / 2 ** 20)} MiB (target < 100 MB)`);
