// `daemoneye run`: the agent. Runs until SIGINT/SIGTERM, or one cycle with --once.
import type { Command } from 'commander';
import { Agent, type CycleReport } from '../../agent/agent.ts';
import { severityRank, SEVERITIES, type Severity } from '../../detect/sql/rule.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { buildContext, type GlobalOptions } from '../context.ts';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent: scan processes every scan_interval, store them, evaluate rules, raise alerts')
    .option('--once', 'run one full cycle (scan, store, detect, alert) and exit')
    .option('--fail-on <severity>', `with --once: exit 1 if an alert of at least this severity was raised (${SEVERITIES.join('|')})`)
    .option('--interval <seconds>', 'override agent.scan_interval for this run')
    .addHelpText('after', `
Alerts go to stdout (human lines on a terminal, JSON lines when piped) and to
DATA_DIR/alerts.jsonl. Operational logs go to stderr.

Examples:
  daemoneye run                          # monitor this host until Ctrl-C
  daemoneye run --once --fail-on high    # one cycle, exit 1 on high/critical alerts
  daemoneye run --once | jq .rule_id     # JSON lines when piped
  DAEMONEYE_AGENT__SCAN_INTERVAL=10 daemoneye run`)
    .action(async (opts: { once?: boolean; failOn?: string; interval?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const failOn = parseFailOn(opts.failOn ?? ctx.config.alerting.fail_on ?? undefined);
      const config = opts.interval === undefined ? ctx.config : { ...ctx.config, agent: { ...ctx.config.agent, scan_interval: parseInterval(opts.interval) } };
      const agent = new Agent(config, ctx.dataDir, ctx.log);
      ctx.log.info('agent started', {
        host: agent.host, data_dir: ctx.dataDir, rules: agent.rules.filter((r) => r.enabled).length,
        rejected_rules: agent.ruleProblems.length, interval_s: config.agent.scan_interval,
      });
      const logCycle = (r: CycleReport) =>
        ctx.log.info('cycle', {
          scan: r.scanId, processes: r.processes, lifecycle: r.lifecycleEvents, scan_ms: r.scanMs,
          detect_ms: Math.round(r.detectMs), alerts: r.raised.length,
          rule_failures: r.outcomes.filter((o) => o.status !== 'ok').length,
          ...kernelCounters(agent.counters()),
        });
      try {
        if (opts.once) {
          const report = await agent.runOnce();
          logCycle(report);
          const worst = Math.max(-1, ...report.raised.map((a) => severityRank(a.severity)));
          process.exitCode = failOn !== undefined && worst >= severityRank(failOn) ? 1 : 0;
          return;
        }
        const stop = new AbortController();
        const onSignal = (sig: string) => {
          ctx.log.info('stopping', { signal: sig });
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        await agent.run(stop.signal, logCycle);
      } finally {
        await agent.close();
        ctx.log.info('agent stopped');
      }
    });
}

function parseFailOn(v: string | undefined): Severity | undefined {
  if (v === undefined) return undefined;
  if (!(SEVERITIES as readonly string[]).includes(v)) {
    throw new DaemonEyeError('DE_USAGE', `--fail-on must be one of ${SEVERITIES.join(', ')}, not "${v}"`);
  }
  return v as Severity;
}

function parseInterval(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) {
    throw new DaemonEyeError('DE_USAGE', `--interval must be whole seconds from 1 to 86400, not "${v}"`);
  }
  return n;
}

/** The counters an operator must see every cycle: kernel events taken in, and anything lost or killed. */
function kernelCounters(c: Record<string, number>): Record<string, number> {
  const keys = ['kernel_events', 'kernel_drops', 'kernel_decode_errors', 'store_errors', 'rule_sandbox_kills',
    'net.packets', 'net.rows_written', 'net.decode_errors', 'net.batches_dropped', 'net.flow_evictions', 'pcap.dropped_kernel', 'pcap.dropped_interface'];
  return Object.fromEntries(keys.filter((k) => (c[k] ?? 0) > 0).map((k) => [k, c[k]!]));
}
