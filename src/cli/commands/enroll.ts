// `daemoneye enroll`: join a security center with a one-time token.
import type { Command } from 'commander';

export function registerEnroll(program: Command): void {
  program.command('enroll').description('enrol this agent (or regional center) with a security center');
}
