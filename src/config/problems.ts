// Turning zod issues into sentences an operator can act on: where (file:line:col or variable),
// which key, what it accepts, what it got, and for an unknown key the key that was probably meant.
// All problems of all sources are collected and thrown as one error, one problem per line.

import type { z } from 'zod';
import { DaemonEyeError, type ErrorCode } from '../errors/catalogue.ts';
import { acceptsString, allKeyPaths, childKeys, expectedText, formatPath, schemaAt, type KeyPath } from './schema-info.ts';
import { SECRET_KEYS } from './sinks-schema.ts';
import { nearest } from './suggest.ts';

export interface Problem {
  readonly code: ErrorCode;
  /** `/etc/daemoneye/config.yaml:3:3`, `DAEMONEYE_AGENT__SCAN_INTERVAL`, `command-line flags`. */
  readonly where: string;
  /** Dotted key path, empty when the problem is not about one key (YAML syntax). */
  readonly key: string;
  readonly text: string;
}

export interface IssueContext {
  readonly code: ErrorCode;
  /** Where a key path was written, e.g. `file:line:col`. */
  readonly locate: (path: KeyPath) => string;
  /** The raw value that failed, for "got ..." (undefined when absent). */
  readonly valueAt: (path: KeyPath) => unknown;
  /** Paths whose value came from `${VAR}`: never echoed, they may be secrets. */
  readonly hidden?: ReadonlySet<string>;
}

/** Shows a value without flooding the terminal: long strings are cut, structures named. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export function unknownKeyText(parent: KeyPath, key: string): string {
  const siblings = childKeys(parent);
  const near = nearest(key, siblings, 0.4);
  if (near) return `unknown key; did you mean \`${near}\`?`;
  // The right key in the wrong section (`scan_interval` under `logging`) is a common slip.
  const elsewhere = allKeyPaths().find((p) => p.at(-1) === key);
  if (elsewhere) return `unknown key here; \`${key}\` belongs at \`${elsewhere.join('.')}\``;
  return siblings.length ? `unknown key; valid keys here: ${siblings.join(', ')}` : 'unknown key: nothing may be set here';
}

/** `alerting.sinks[2].token`, `alerting.sinks[0].headers.Authorization`: values never echoed. */
function isSecretPath(path: KeyPath): boolean {
  return path[0] === 'alerting' && path[1] === 'sinks' && path.slice(3).some((seg) => typeof seg === 'string' && SECRET_KEYS.has(seg));
}

export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  const add = (path: KeyPath, text: string) => {
    const key = formatPath(path);
    if (seen.has(`${key}\0${text}`)) return;
    seen.add(`${key}\0${text}`);
    out.push({ code: ctx.code, where: ctx.locate(path), key, text });
  };
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...path, key], unknownKeyText(path, key));
      continue;
    }
    // Cross-key rules (unique sink names, `path` or `address`) say what is wrong in their message.
    if (issue.code === 'custom') {
      add(path, issue.message);
      continue;
    }
    const value = ctx.valueAt(path);
    const secret = isSecretPath(path);
    const got = ctx.hidden?.has(formatPath(path)) ? 'the value of a ${VAR} reference (not shown)'
      : secret ? 'a secret (not shown)' : showValue(value);
    // A pattern's message describes the accepted form (`udp://HOST:PORT, ...`) better than "a string".
    const expected = issue.code === 'invalid_format' && issue.format === 'regex' ? issue.message : expectedText(schemaAt(path));
    // `host_name: 12` is a number in YAML; the fix is quoting, which people rarely guess.
    const quote = acceptsString(path) && (typeof value === 'number' || typeof value === 'boolean') && !ctx.hidden?.has(formatPath(path)) && !secret
      ? ` (quote it to make it a string: "${String(value)}")` : '';
    add(path, value === undefined ? `missing: expected ${expected}` : `expected ${expected}; got ${got}${quote}`);
  }
  return out;
}

/** Orders problems of one file by line and column (problems without a position keep their place at the end). */
export function byPosition(problems: readonly Problem[]): Problem[] {
  const pos = (p: Problem) => {
    const m = /:(\d+):(\d+)$/.exec(p.where);
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : Infinity;
  };
  return [...problems].sort((a, b) => (pos(a) - pos(b)) || 0); // Infinity - Infinity is NaN: equal
}

/** One DaemonEyeError listing every problem; its code is the first problem's (sources in precedence order). */
export function problemsError(problems: readonly Problem[]): DaemonEyeError {
  const shown = problems.slice(0, 50);
  const lines = shown.map((p) => `  ${p.where}: ${p.key ? `${p.key}: ` : ''}${p.text}`);
  if (problems.length > shown.length) lines.push(`  ... and ${problems.length - shown.length} more`);
  const n = problems.length;
  return new DaemonEyeError(problems[0]!.code, `${n} configuration problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`);
}
