#!/usr/bin/env node
// The `daemoneye` executable: one binary, subcommands (ARCHITECTURE.md "One product, one command").
// Errors with a DaemonEye code print the code, the message and a hint, and exit with the code's status.
import { Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { VERSION } from '../version.ts';
import { pathToFileURL } from 'node:url';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { registerAlerts } from './commands/alerts.ts';
import { registerAudit } from './commands/audit.ts';
import { registerCollector } from './commands/collector.ts';
import { registerConfig } from './commands/config.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerQuery } from './commands/query.ts';
import { registerRules } from './commands/rules.ts';
import { registerRun } from './commands/run.ts';
import { registerIntel } from './commands/intel.ts';
import { registerNet } from './commands/net.ts';
import { registerAnalytics } from './commands/analytics.ts';
import { registerCenter } from './commands/center.ts';
import { registerEnroll } from './commands/enroll.ts';


export function buildProgram(): Command {
  const program = new Command('daemoneye')
    .description('DaemonEye host security monitor: process, kernel and network telemetry in SQLite, detected with SQL rules, STIX indicators and anomaly models')
    .version(VERSION)
    .option('-c, --config <file>', 'configuration file (default: ~/.config/daemoneye/config.yaml, then /etc/daemoneye/config.yaml)')
    .option('-d, --data-dir <dir>', 'where the store and alerts.jsonl live (default: /var/lib/daemoneye as root, ~/.local/share/daemoneye otherwise)')
    .addOption(new Option('--log-level <level>', 'log verbosity on stderr').choices(['error', 'warn', 'info', 'debug']))
    .option('--format <format>', 'default output format of listing commands (table | json | csv)')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .addHelpText('after', `
Quick start:
  daemoneye run --once                 # one scan, rules, alerts; then exit
  daemoneye run                        # keep monitoring (Ctrl-C stops cleanly)
  daemoneye alerts list --since 24h
  daemoneye query "SELECT pid, name, executable_path FROM processes WHERE file_exists = 0"
  daemoneye audit verify               # prove the alert record was not edited
  daemoneye doctor

Every option can also come from the environment: DAEMONEYE_AGENT__SCAN_INTERVAL=10.
Docs: README.md, docs/schema.md (tables), docs/rules.md, docs/configuration.md, docs/errors.md.`);
  registerRun(program);
  registerQuery(program);
  registerRules(program);
  registerAlerts(program);
  registerAudit(program);
  registerConfig(program);
  registerCollector(program);
  registerDoctor(program);
  registerIntel(program);
  registerNet(program);
  registerAnalytics(program);
  registerCenter(program);
  registerEnroll(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) {
      sub.exitOverride();
      for (const leaf of sub.commands) leaf.exitOverride();
    }
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof DaemonEyeError) {
      process.stderr.write(e.describe() + '\n');
      return e.exitCode;
    }
    process.stderr.write(`error DE_INTERNAL: ${(e as Error).stack ?? String(e)}\n  hint: please report this with the output of \`daemoneye doctor\`\n`);
    return 70;
  }
}

const invokedDirectly = process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
if (invokedDirectly) {
  // `daemoneye --help | head`: a reader that went away is the end of the output, not a crash.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    });
  }
  process.exitCode = await main(process.argv.slice(2));
}
