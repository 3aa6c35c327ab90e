// Where config and data live by default. These are the Linux conventions (FHS for root, XDG for
// users); XDG_CONFIG_HOME / XDG_DATA_HOME are honoured when set to absolute paths, as the XDG spec
// says relative ones must be ignored.

import { isAbsolute, join } from 'node:path';

export const SYSTEM_CONFIG_FILE = '/etc/daemoneye/config.yaml';
export const SYSTEM_DATA_DIR = '/var/lib/daemoneye';

function xdg(env: NodeJS.ProcessEnv, name: string, homeDir: string, fallback: string): string {
  const value = env[name];
  return value && isAbsolute(value) ? value : join(homeDir, fallback);
}

/** ~/.config/daemoneye/config.yaml */
export function userConfigFile(homeDir: string, env: NodeJS.ProcessEnv): string {
  return join(xdg(env, 'XDG_CONFIG_HOME', homeDir, '.config'), 'daemoneye', 'config.yaml');
}

/** /var/lib/daemoneye as root (the system agent), ~/.local/share/daemoneye otherwise. */
export function defaultDataDir(isRoot: boolean, homeDir: string, env: NodeJS.ProcessEnv): string {
  return isRoot ? SYSTEM_DATA_DIR : join(xdg(env, 'XDG_DATA_HOME', homeDir, '.local/share'), 'daemoneye');
}

/** `~` and `~/x` as a shell would expand them; YAML has no tilde expansion of its own. */
export function expandHome(p: string, homeDir: string): string {
  return p === '~' ? homeDir : p.startsWith('~/') ? join(homeDir, p.slice(2)) : p;
}
