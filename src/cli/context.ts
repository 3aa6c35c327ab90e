// What every command needs from the global flags: the effective config and the data directory.
// Flags beat environment beats files beats defaults (docs/configuration.md).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import { createLogger, type Logger, type LogLevel } from '../agent/logger.ts';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  logLevel?: LogLevel;
  format?: string;
}

export interface CliContext {
  readonly config: DaemonEyeConfig;
  readonly configSources: readonly string[];
  readonly dataDir: string;
  readonly log: Logger;
}

export function defaultDataDir(isRoot = process.getuid?.() === 0, home = homedir()): string {
  return isRoot ? '/var/lib/daemoneye' : join(home, '.local', 'share', 'daemoneye');
}

export function buildContext(opts: GlobalOptions): CliContext {
  const overrides: Record<string, Record<string, unknown>> = {};
  if (opts.dataDir !== undefined) overrides['agent'] = { data_dir: opts.dataDir };
  if (opts.logLevel !== undefined) overrides['logging'] = { level: opts.logLevel };
  const { config, sources } = loadConfig({
    ...(opts.config === undefined ? {} : { configFile: opts.config }),
    env: process.env,
    overrides,
  });
  const dataDir = config.agent.data_dir ?? defaultDataDir();
  return { config, configSources: sources, dataDir, log: createLogger(config.logging.level) };
}
