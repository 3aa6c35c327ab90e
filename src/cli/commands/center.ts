// `daemoneye center ...`: run a security center.
import type { Command } from 'commander';

export function registerCenter(program: Command): void {
  program.command('center').description('run a security center that agents and regional centers report to');
}
