// From validated config to the values the agent uses: the `null` defaults that depend on the host
// (host name, data dir) are filled in, and paths are made concrete. Kept apart from validation so
// `daemoneye config check` can validate a file without depending on the machine it runs on.

import { resolve } from 'node:path';
import type { DaemonEyeConfig } from './schema.ts';
import { defaultDataDir, expandHome } from './paths.ts';

export type ResolvedConfig = DaemonEyeConfig & {
  readonly agent: DaemonEyeConfig['agent'] & { host_name: string; data_dir: string };
};

export interface HostContext {
  readonly homeDir: string;
  readonly isRoot: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly hostname: string;
}

export function resolveConfig(config: DaemonEyeConfig, host: HostContext): ResolvedConfig {
  const home = (p: string) => expandHome(p, host.homeDir);
  // Absolute, so a daemon whose working directory changes (systemd starts in /) keeps its data.
  const dataDir = resolve(home(config.agent.data_dir ?? defaultDataDir(host.isRoot, host.homeDir, host.env)));
  const kernel = config.enterprise.kernel_monitoring;
  return {
    ...config,
    agent: { ...config.agent, host_name: config.agent.host_name ?? host.hostname, data_dir: dataDir },
    alerting: {
      ...config.alerting,
      // Documented as relative to data_dir; an absolute path is kept as is.
      jsonl_file: { ...config.alerting.jsonl_file, path: resolve(dataDir, home(config.alerting.jsonl_file.path)) },
    },
    detection: { ...config.detection, rule_dirs: config.detection.rule_dirs.map(home) },
    enterprise: {
      ...config.enterprise,
      kernel_monitoring: { ...kernel, ebpf_program_path: kernel.ebpf_program_path === null ? null : home(kernel.ebpf_program_path) },
    },
  };
}
