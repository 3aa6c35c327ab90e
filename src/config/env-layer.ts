// The environment as a config layer: DAEMONEYE_SECTION__KEY=value, `__` between levels, names
// upper-cased. The valid names are derived from the schema, so a variable that names no key is an
// error that suggests the nearest one: a silently ignored DAEMONEYE_AGENT__SCAN_INTERVALL is exactly
// the kind of misconfiguration a security monitor should not have.

import { expandVars } from './expand-vars.ts';
import { parseYaml } from './read-yaml.ts';
import type { Problem } from './problems.ts';
import { acceptsString, allKeyPaths, type KeyPath } from './schema-info.ts';
import { nearest } from './suggest.ts';
import { setIn } from './merge.ts';

export const ENV_PREFIX = 'DAEMONEYE_';

/**
 * Short names the CLI documents, which are not `__` paths. An alias ranks below the canonical
 * variable for the same key. DAEMONEYE_CONFIG names the file that replaces the user config file.
 */
export const ENV_ALIASES: Readonly<Record<string, readonly string[] | 'config_file'>> = {
  DAEMONEYE_CONFIG: 'config_file',
  DAEMONEYE_DATA_DIR: ['agent', 'data_dir'],
  DAEMONEYE_LOG_LEVEL: ['logging', 'level'],
};

const YAML_NULL = /^(?:~|null|Null|NULL)$/;

export function envVarName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((s) => s.toUpperCase()).join('__');
}

export interface EnvLayer {
  readonly data: Record<string, unknown>;
  readonly problems: Problem[];
  /** The variables that set keys, in the order applied. */
  readonly sources: string[];
  /** The variable that set each key path (for locating validation problems). */
  readonly owner: (path: KeyPath) => string;
  readonly configFile: string | undefined;
}

/**
 * A string key takes the value verbatim (a host named `007` stays `007`); anything else is parsed
 * as YAML, so `10`, `true`, `0.9` and `[a, b]` mean what they look like.
 */
function parseValue(name: string, raw: string, path: readonly string[], problems: Problem[]): unknown {
  if (acceptsString(path)) return YAML_NULL.test(raw) ? null : raw;
  const parsed = parseYaml(raw, name);
  for (const p of parsed.problems) problems.push({ ...p, code: 'DE_ENV_INVALID', where: name, text: `value is not valid YAML: ${p.text}` });
  if (parsed.problems.length > 0) return undefined;
  // Same cycle and depth checks as files (a cyclic sink object would pass the schema).
  const checked = expandVars(parsed.data, null, () => name, path);
  for (const p of checked.problems) problems.push({ ...p, code: 'DE_ENV_INVALID' });
  return checked.data;
}

export function readEnvLayer(env: NodeJS.ProcessEnv): EnvLayer {
  const valid = new Map(allKeyPaths().map((p) => [envVarName(p), p]));
  const problems: Problem[] = [];
  const assignments: { name: string; path: readonly string[]; value: unknown; rank: number }[] = [];
  let configFile: string | undefined;

  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    // Empty counts as unset: service managers and compose files often pass VAR= for "not set".
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || raw === '') continue;
    const alias = ENV_ALIASES[name.toUpperCase()];
    if (alias === 'config_file') {
      configFile = raw;
      continue;
    }
    // Names are matched case-insensitively, as on Windows, where the environment is.
    const path = alias ?? valid.get(name.toUpperCase());
    if (!path) {
      const near = nearest(name, [...valid.keys(), ...Object.keys(ENV_ALIASES)])!;
      const target = valid.get(near) ?? ENV_ALIASES[near];
      const meaning = Array.isArray(target) ? target.join('.') : 'the --config file';
      problems.push({ code: 'DE_ENV_INVALID', where: name, key: '',
        text: `does not name a configuration key; the nearest valid variable is ${near} (${meaning})` });
      continue;
    }
    const before = problems.length;
    const value = parseValue(name, raw, path, problems);
    // Aliases first, then shallow before deep, so DAEMONEYE_AGENT__SCAN_INTERVAL beats DAEMONEYE_AGENT={...}.
    if (problems.length === before) assignments.push({ name, path, value, rank: alias ? 0 : path.length });
  }

  assignments.sort((a, b) => a.rank - b.rank);
  const data: Record<string, unknown> = {};
  for (const a of assignments) setIn(data, a.path, a.value);
  const owner = (path: KeyPath): string => {
    let best = assignments[0]?.name ?? 'environment';
    let bestLength = -1;
    for (const a of assignments) {
      const isPrefix = a.path.every((seg, i) => path[i] === seg);
      if (isPrefix && a.path.length >= bestLength) [best, bestLength] = [a.name, a.path.length];
    }
    return best;
  };
  return { data, problems, sources: assignments.map((a) => a.name), owner, configFile };
}
