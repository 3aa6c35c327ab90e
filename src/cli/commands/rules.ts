// `daemoneye rules list|validate|test`: detections as data, checked before they run.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runFixtures } from '../../detect/sql/fixture-runner.ts';
import { loadRuleFile, loadRules, openRuleSchemaDb } from '../../detect/sql/load-rules.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreReadOnly, storePath } from '../../store/open-store.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('list, validate and test detection rules');

  rules
    .command('list')
    .description('the loaded rules with their last run status')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Examples:
  daemoneye rules list
  daemoneye rules list --format json | jq '.[] | select(.last_status != "ok")'`)
    .action((opts: { format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const ctx = buildContext(global);
      const { rules: loaded, problems } = loadRules({ builtin: ctx.config.detection.builtin_rules, dirs: ctx.config.detection.rule_dirs });
      const status = lastRuns(ctx.dataDir);
      const disabled = new Set(ctx.config.detection.disabled_rules);
      const rows = loaded.map((r) => ({
        id: r.id, name: r.name, severity: r.severity, attack: r.attack.join(','), kind: r.kind,
        enabled: r.enabled && !disabled.has(r.id), last_status: status.get(r.id)?.last_status ?? null,
        last_ms: status.get(r.id)?.last_duration_ms == null ? null : Number(status.get(r.id)!.last_duration_ms!.toFixed(2)),
        source: r.source,
      }));
      process.stdout.write(formatRows(rows, format));
      for (const p of problems) process.stderr.write(`rejected: ${p.code}: ${p.message}\n`);
      if (problems.length > 0) process.exitCode = 1;
    });

  rules
    .command('validate')
    .description('check rule files: YAML fields, and SQL that is one read-only SELECT with no banned functions')
    .argument('<files...>', 'rule YAML files')
    .addHelpText('after', `
Examples:
  daemoneye rules validate my-rules/suspicious-cron.yaml
  daemoneye rules validate rules/linux/*.yaml`)
    .action((files: string[]) => {
      const schemaDb = openRuleSchemaDb();
      let bad = 0;
      for (const f of files) {
        try {
          const r = loadRuleFile(f, schemaDb);
          process.stdout.write(`ok    ${f}  ${r.id} v${r.version} (${r.severity}, ${r.fixtures.length} fixtures)\n`);
        } catch (e) {
          if (!(e instanceof DaemonEyeError)) throw e;
          bad++;
          process.stdout.write(`FAIL  ${f}\n      ${e.code}: ${e.message.replace(/\n/g, '\n      ')}\n      hint: ${e.hint}\n`);
        }
      }
      schemaDb.close();
      process.exitCode = bad > 0 ? 2 : 0;
    });

  rules
    .command('test')
    .description('run every rule against its fixtures (input rows and the findings they must produce)')
    .option('--rule <id>', 'only this rule')
    .option('--dir <dir>', 'test the rules in this directory instead of the configured ones')
    .option('-v, --verbose', 'print the rows each fixture returned')
    .addHelpText('after', `
Each fixture is loaded into a fresh store and the rule runs in the same
sandbox the agent uses. Exit code 0 when every fixture passes, 1 otherwise.

Examples:
  daemoneye rules test
  daemoneye rules test --rule DE-LNX-0001 --verbose
  daemoneye rules test --dir ./my-rules`)
    .action(async (opts: { rule?: string; dir?: string; verbose?: boolean }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const { rules: loaded, problems } = opts.dir === undefined
        ? loadRules({ builtin: ctx.config.detection.builtin_rules, dirs: ctx.config.detection.rule_dirs })
        : loadRules({ builtin: false, dirs: [opts.dir] });
      const selected = opts.rule === undefined ? loaded : loaded.filter((r) => r.id === opts.rule);
      if (opts.rule !== undefined && selected.length === 0) throw new DaemonEyeError('DE_USAGE', `no rule with id ${opts.rule}`);
      for (const p of problems) process.stdout.write(`REJECTED  ${p.code}: ${p.message}\n`);
      const results = await runFixtures(selected, { timeoutMs: ctx.config.detection.rule_timeout_ms });
      for (const r of results) {
        process.stdout.write(`${r.passed ? 'pass' : 'FAIL'}  ${r.ruleId}  ${r.fixture}${r.passed ? '' : `\n      ${r.message}`}\n`);
        if (opts.verbose || !r.passed) {
          for (const row of r.rows.slice(0, 20)) process.stdout.write(`      row: ${JSON.stringify(row)}\n`);
        }
      }
      const failed = results.filter((r) => !r.passed).length + problems.length;
      const passed = results.length - results.filter((r) => !r.passed).length;
      process.stdout.write(`${passed} of ${results.length} fixtures passed across ${selected.length} rules; ${problems.length} rule files rejected\n`);
      process.exitCode = failed > 0 ? 1 : 0;
    });
}

interface RuleStatus {
  last_status: string | null;
  last_duration_ms: number | null;
}

function lastRuns(dataDir: string): Map<string, RuleStatus> {
  const path = storePath(dataDir);
  if (!existsSync(path)) return new Map();
  const db = openStoreReadOnly(path);
  try {
    const rows = db.prepare('SELECT rule_id, last_status, last_duration_ms FROM rules').all() as (RuleStatus & { rule_id: string })[];
    return new Map(rows.map((r) => [r.rule_id, r]));
  } finally {
    db.close();
  }
}

