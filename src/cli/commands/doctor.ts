// `daemoneye doctor`: every check with ok / warn / fail and a fix; the exit code is the worst status.
import type { Command } from 'commander';
import { STATUS_EXIT, worstStatus, type CheckResult } from '../../doctor/check.ts';
import { dataDirCheck, ebpfCheck, kernelCheck, privilegeCheck, procfsCheck, rulesCheck, runtimeCheck, storeCheck } from '../../doctor/checks.linux.ts';
import { netlinkFallbackCheck } from '../../doctor/fallback-check.linux.ts';
import { captureChecks } from '../../sources/pcap/doctor-checks.linux.ts';
import { linuxOnly, platformKernelChecks } from '../../doctor/platform-checks.ts';
import { isDaemonEyeError } from '../../errors/catalogue.ts';
import { buildContext, type CliContext, type GlobalOptions } from '../context.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('troubleshooting checks (runtime, procfs, privileges, data dir, store, rules, kernel, packet capture, ETW, EndpointSecurity), each with a fix')
    .option('-f, --format <format>', 'text | json (default text)')
    .addHelpText('after', `
Exit code: 0 all ok, 1 at least one warning, 2 at least one failure.

Examples:
  sudo daemoneye doctor
  daemoneye doctor --format json | jq '.[] | select(.status != "ok")'`)
    .action((opts: { format?: string }, cmd: Command) => {
      const format = opts.format ?? cmd.optsWithGlobals<GlobalOptions>().format ?? 'text';
      const results: CheckResult[] = [runtimeCheck(), procfsCheck(), privilegeCheck()];
      let ctx: CliContext | null = null;
      try {
        ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
        results.push({ name: 'config', status: 'ok', detail: `loaded from ${ctx.configSources.join(', ') || 'defaults'}` });
      } catch (e) {
        results.push({ name: 'config', status: 'fail', detail: (e as Error).message, fix: isDaemonEyeError(e) ? e.hint : 'fix the configuration' });
      }
      if (ctx !== null) results.push(dataDirCheck(ctx), storeCheck(ctx), rulesCheck(ctx), kernelCheck(ctx), ebpfCheck(ctx), netlinkFallbackCheck(ctx));
      if (ctx !== null && process.platform === 'linux') results.push(...captureChecks(ctx.config.enterprise.network_monitoring));
      if (ctx !== null) results.push(...platformKernelChecks(ctx));
      results.splice(0, results.length, ...results.map((r) => linuxOnly(r)));
      if (format === 'json') {
        process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      } else {
        for (const r of results) {
          process.stdout.write(`${r.status.toUpperCase().padEnd(4)}  ${r.name.padEnd(10)}  ${r.detail}\n`);
          if (r.fix !== undefined) process.stdout.write(`      ${''.padEnd(10)}  fix: ${r.fix}\n`);
        }
      }
      process.exitCode = STATUS_EXIT[worstStatus(results)];
    });
}
