// The configuration module's public surface: everything else in src/config is internal.

export { configSchema, defaultConfig, type DaemonEyeConfig, type DaemonEyeConfigInput } from './schema.ts';
export { loadConfig, checkConfigFile, type LoadConfigOptions, type LoadedConfig } from './load-config.ts';
export { type ResolvedConfig } from './resolve-config.ts';
export { describeConfig, ACTIVE_FEATURES, ACTIVE_SINK_TYPES, type FeatureStatus } from './config-report.ts';
export { configJsonSchema } from './schema-info.ts';
export { ENV_ALIASES, ENV_PREFIX, envVarName } from './env-layer.ts';
export { SYSTEM_CONFIG_FILE, userConfigFile, defaultDataDir } from './paths.ts';
