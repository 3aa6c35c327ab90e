// `daemoneye config check FILE`: validate a config file and say which enabled features are not active.
import type { Command } from 'commander';
import { checkConfigFile, describeConfig } from '../../config/index.ts';
import { formatRows } from '../output.ts';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('validate configuration files');
  config
    .command('check')
    .description('load FILE with the defaults and DAEMONEYE_ environment overrides, and report problems by key and line')
    .argument('<file>', 'a YAML configuration file')
    .option('--print', 'print the effective configuration as JSON')
    .addHelpText('after', `
Precedence: flags > DAEMONEYE_ environment > this file > defaults.
Exit code 0 when valid, 2 with the key, line and accepted values when not.

Examples:
  daemoneye config check /etc/daemoneye/config.yaml
  daemoneye config check examples/enterprise.yaml --print`)
    .action((file: string, opts: { print?: boolean }) => {
      const { config: cfg, sources } = checkConfigFile(file, process.env);
      process.stdout.write(`${file}: valid (sources: ${sources.join(', ') || 'defaults'})\n\n`);
      const features = describeConfig(cfg);
      process.stdout.write(formatRows(features as unknown as Record<string, unknown>[], 'table'));
      const inactive = features.filter((f) => f.enabled && !f.active);
      if (inactive.length > 0) process.stdout.write(`\n${inactive.length} enabled feature(s) are not active in this build yet: ${inactive.map((f) => f.key).join(', ')}\n`);
      if (opts.print) process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
    });
}
