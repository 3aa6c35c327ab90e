// `daemoneye analytics ...`: behavioural models.
import type { Command } from 'commander';

export function registerAnalytics(program: Command): void {
  program.command('analytics').description('behavioural analytics: anomaly models over process features');
}
