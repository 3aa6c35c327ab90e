// Loading the configuration: layers from lowest to highest precedence
//   defaults < system file < (--config file, else user file) < DAEMONEYE_* environment < CLI flags
// Each layer is validated on its own before merging, which works because every key has a default,
// and is what lets a problem name the file and line (or the variable) it came from. Every problem
// of every layer is collected and thrown as one DaemonEyeError.

import { hostname as osHostname, homedir } from 'node:os';
import { resolve } from 'node:path';
import { DaemonEyeError, type ErrorCode } from '../errors/catalogue.ts';
import { readEnvLayer } from './env-layer.ts';
import { expandVars } from './expand-vars.ts';
import { deepMerge, isPlainObject, withoutUndefined } from './merge.ts';
import { SYSTEM_CONFIG_FILE, userConfigFile } from './paths.ts';
import { byPosition, problemsError, problemsFromIssues, type Problem } from './problems.ts';
import { readYamlFile } from './read-yaml.ts';
import { resolveConfig, type ResolvedConfig } from './resolve-config.ts';
import { configSchema, type DaemonEyeConfig } from './schema.ts';
import { allKeyPaths, childKeys, schemaAt, type KeyPath } from './schema-info.ts';

export interface LoadConfigOptions {
  /** `--config FILE` (else DAEMONEYE_CONFIG): must exist; takes the user file's place. */
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, e.g. `{ agent: { data_dir } }`; undefined values are ignored. */
  readonly overrides?: object;
  readonly homeDir?: string;
  readonly isRoot?: boolean;
  readonly hostname?: string;
  /** null skips the layer (tests, `config check`). */
  readonly systemFile?: string | null;
  readonly userFile?: string | null;
}

export interface LoadedConfig<C = ResolvedConfig> {
  readonly config: C;
  /** What contributed, lowest precedence first: file paths, variable names, `command-line flags`. */
  readonly sources: string[];
}

interface Layer {
  readonly source: string;
  readonly code: ErrorCode;
  readonly data: unknown;
  readonly problems: Problem[];
  readonly locate: (path: KeyPath) => string;
  readonly hidden?: ReadonlySet<string>;
}

const FLAGS = 'command-line flags';

function valueAt(data: unknown, path: KeyPath): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** `logging:` with every key commented out is null in YAML: read it as an absent section. Mutates. */
function dropEmptySections(data: Record<string, unknown>): Record<string, unknown> {
  for (const path of allKeyPaths()) {
    if (schemaAt(path)?.type !== 'object') continue;
    const parent = valueAt(data, path.slice(0, -1));
    if (isPlainObject(parent) && parent[path.at(-1)!] === null) delete parent[path.at(-1)!];
  }
  return data;
}

/** A file as a layer; null when an optional file does not exist. */
function fileLayer(file: string, env: NodeJS.ProcessEnv, required: boolean): Layer | null {
  const source = readYamlFile(file);
  if (!source) {
    if (!required) return null;
    throw new DaemonEyeError('DE_CONFIG_NOT_FOUND', `configuration file ${file} does not exist`);
  }
  if (source.problems.length > 0) return { source: file, code: 'DE_CONFIG_INVALID', ...source };
  // An empty file (or only comments) is an empty configuration, not an error.
  const data = source.data ?? {};
  if (!isPlainObject(data)) {
    const text = `the top level must be a mapping of sections (${childKeys([]).join(', ')}); got ${Array.isArray(data) ? 'a list' : 'a single value'}`;
    return { source: file, code: 'DE_CONFIG_INVALID', data: undefined, locate: source.locate, problems: [{ code: 'DE_CONFIG_INVALID', where: source.locate([]), key: '', text }] };
  }
  const expanded = expandVars(data, env, source.locate);
  const layerData = isPlainObject(expanded.data) ? dropEmptySections(expanded.data) : expanded.data;
  return { source: file, code: 'DE_CONFIG_INVALID', data: layerData, problems: expanded.problems, locate: source.locate, hidden: expanded.hidden };
}

/** Schema problems of one layer; keys that already have a problem (e.g. a missing ${VAR}) are not reported twice. */
function validate(layer: Layer): Problem[] {
  if (layer.data === undefined) return byPosition(layer.problems);
  const result = configSchema.safeParse(layer.data);
  if (result.success) return byPosition(layer.problems);
  const already = new Set(layer.problems.map((p) => p.key));
  const found = problemsFromIssues(result.error.issues, {
    code: layer.code, locate: layer.locate, valueAt: (p) => valueAt(layer.data, p), hidden: layer.hidden,
  });
  return byPosition([...layer.problems, ...found.filter((p) => !already.has(p.key))]);
}

/** Merges validated layers and parses the result (filling defaults). */
function finish(layers: readonly Layer[]): DaemonEyeConfig {
  const problems = layers.flatMap(validate);
  if (problems.length > 0) throw problemsError(problems);
  const merged = layers.reduce<unknown>((acc, l) => deepMerge(acc, l.data), {});
  const result = configSchema.safeParse(merged);
  // Unreachable while the schema has no cross-key rules, since each layer passed on its own.
  if (!result.success) {
    throw problemsError(problemsFromIssues(result.error.issues, {
      code: 'DE_CONFIG_INVALID', locate: () => 'merged configuration', valueAt: (p) => valueAt(merged, p),
    }));
  }
  return result.data;
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const homeDir = options.homeDir ?? homedir();
  const envLayer = readEnvLayer(env);
  const layers: Layer[] = [];
  const add = (layer: Layer | null) => layer && layers.push(layer);

  const systemFile = options.systemFile === undefined ? SYSTEM_CONFIG_FILE : options.systemFile;
  const configFile = options.configFile ?? envLayer.configFile;
  if (systemFile) add(fileLayer(systemFile, env, false));
  if (configFile) {
    // `--config /etc/daemoneye/config.yaml` (as a unit file might say) must not apply it twice.
    if (!systemFile || resolve(configFile) !== resolve(systemFile)) add(fileLayer(configFile, env, true));
  } else {
    const userFile = options.userFile === undefined ? userConfigFile(homeDir, env) : options.userFile;
    if (userFile) add(fileLayer(userFile, env, false));
  }
  add({ source: 'environment', code: 'DE_ENV_INVALID', data: dropEmptySections(envLayer.data), problems: envLayer.problems, locate: envLayer.owner });
  const overrides = withoutUndefined(options.overrides ?? {});
  if (isPlainObject(overrides) && Object.keys(overrides).length > 0) {
    add({ source: FLAGS, code: 'DE_CONFIG_INVALID', data: overrides, problems: [], locate: () => FLAGS });
  }

  const config = finish(layers);
  const sources = layers.flatMap((l) => (l.source === 'environment' ? envLayer.sources : [l.source]));
  return {
    config: resolveConfig(config, {
      homeDir, env,
      isRoot: options.isRoot ?? process.getuid?.() === 0,
      hostname: options.hostname ?? osHostname(),
    }),
    sources,
  };
}

/**
 * One file on its own, as `daemoneye config check FILE` needs: no system or user file, no
 * DAEMONEYE_* overrides; `${VAR}` references are still expanded from `env`. Host-dependent
 * defaults stay null.
 */
export function checkConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig<DaemonEyeConfig> {
  const layer = fileLayer(file, env, true)!;
  return { config: finish([layer]), sources: [file] };
}
