// `${VAR}` in string values, so secrets (sink tokens, TAXII credentials) stay out of config files.
// `${VAR:-default}` falls back when VAR is unset or empty; `$${` writes a literal `${`.
// The walk also copies the data and rejects cycles: yaml turns a self-referencing alias
// (`a: &a [*a, *a]`) into a cyclic object, which would otherwise make any later walk loop forever.
// (Shared, acyclic aliases are bounded by yaml's maxAliasCount in read-yaml.ts.)

import { parse } from 'yaml';
import type { Problem } from './problems.ts';
import { acceptsString, formatPath, type KeyPath } from './schema-info.ts';

/** The schema nests 4 levels; sink objects pass through, so allow some room, but not unbounded. */
export const MAX_DEPTH = 32;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME_AND_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const WHOLE_REFERENCE = /^\$\{[^}]*\}$/;

export interface Expanded {
  readonly data: unknown;
  readonly problems: Problem[];
  /** Paths (as formatPath shows them) whose value came from a variable: not to be echoed. */
  readonly hidden: Set<string>;
}

/** With `env` null nothing is expanded: only the copy, cycle and depth checks run (environment values). */
export function expandVars(data: unknown, env: NodeJS.ProcessEnv | null, locate: (path: KeyPath) => string, base: KeyPath = []): Expanded {
  const problems: Problem[] = [];
  const hidden = new Set<string>();
  const problem = (path: KeyPath, text: string) =>
    problems.push({ code: 'DE_CONFIG_INVALID', where: locate(path), key: formatPath(path), text });

  const expandString = (s: string, path: KeyPath): unknown => {
    let used = false;
    const out = s.replace(REFERENCE, (match: string, inner: string | undefined) => {
      if (match === '$${') return '${';
      const ref = inner === undefined ? null : NAME_AND_DEFAULT.exec(inner);
      if (!ref) {
        problem(path, `malformed reference \`${match}\`: write \${NAME} or \${NAME:-default} (\$\${ for a literal \${)`);
        return match;
      }
      used = true;
      const [, name, fallback] = ref as unknown as [string, string, string | undefined];
      const value = env?.[name];
      if (fallback !== undefined && !value) return fallback;
      if (value === undefined) {
        problem(path, `\${${name}} is not set in the environment (write \${${name}:-default} to give a fallback)`);
        return '';
      }
      return value;
    });
    if (!used) return out;
    hidden.add(formatPath(path));
    // `scan_interval: ${SCAN}` means a number: a whole-value reference takes the key's type.
    if (WHOLE_REFERENCE.test(s) && !acceptsString(path)) {
      try {
        const scalar: unknown = parse(out);
        if (scalar === null || typeof scalar !== 'object') return scalar;
      } catch {
        // Not a YAML scalar: leave the string for validation to reject with the expected type.
      }
    }
    return out;
  };

  const ancestors = new Set<object>();
  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return env && value.includes('${') ? expandString(value, path) : value;
    if (value === null || typeof value !== 'object') return value;
    if (ancestors.has(value)) {
      problem(path, 'a YAML alias refers to a node that contains it (a cycle)');
      return null;
    }
    if (path.length - base.length >= MAX_DEPTH) {
      problem(path, `nested more than ${MAX_DEPTH} levels deep`);
      return null;
    }
    ancestors.add(value);
    let out: unknown;
    if (Array.isArray(value)) {
      out = value.map((v, i) => walk(v, [...path, i]));
    } else {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        // A `__proto__` key would set the prototype on assignment; define it as data so zod rejects it.
        Object.defineProperty(copy, k, { value: walk(v, [...path, k]), enumerable: true, writable: true, configurable: true });
      }
      out = copy;
    }
    ancestors.delete(value);
    return out;
  };

  const result = walk(data, base);
  return { data: result, problems, hidden };
}
