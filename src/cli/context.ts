// What every command needs from the global flags: the effective config and the data directory.
// Flags beat environment beats files beats defaults (docs/configuration.md).
import { loadConfig, type ResolvedConfig } from '../config/index.ts';
import { createLogger, type Logger, type LogLevel } from '../agent/logger.ts';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  logLevel?: LogLevel;
  format?: string;
}

export interface CliContext {
  readonly config: ResolvedConfig;
  readonly configSources: readonly string[];
  readonly dataDir: string;
  readonly log: Logger;
}

export function buildContext(opts: GlobalOptions): CliContext {
  const { config, sources } = loadConfig({
    ...(opts.config === undefined ? {} : { configFile: opts.config }),
    env: process.env,
    overrides: { agent: { data_dir: opts.dataDir }, logging: { level: opts.logLevel } },
  });
  return { config, configSources: sources, dataDir: config.agent.data_dir, log: createLogger(config.logging.level) };
}
