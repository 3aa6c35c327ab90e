// Loads rule files. A malformed rule is rejected with its reason and the others still load: one bad
// file must never switch off detection.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Db } from '../../store/open-store.ts';
import { ruleSchema, type Rule } from './rule.ts';
import { createRuleContext, readsKernelEvents, readsNetworkEvents } from './rule-context.ts';
import { validateSelect } from './validate-sql.ts';
import { openMemoryStore } from '../../store/open-store.ts';

const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Where the shipped rules for this platform live (rules/linux on Linux). */
export function builtinRuleDir(platform: NodeJS.Platform = process.platform): string {
  return join(PACKAGE_ROOT, 'rules', platform);
}

export interface LoadedRules {
  readonly rules: Rule[];
  readonly problems: DaemonEyeError[];
}

/** Every *.yaml / *.yml file under the directories (recursively), in a stable order. */
export function ruleFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files.push(...ruleFiles(p));
    else if (/\.ya?ml$/.test(e.name)) files.push(p);
  }
  return files;
}

/** Parses and validates one rule file; throws DE_RULE_PARSE or DE_RULE_SQL naming the file. */
export function loadRuleFile(file: string, schemaDb: Db, source = file): Rule {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DaemonEyeError('DE_RULE_PARSE', `${file}: cannot read the file`, { cause });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = lines.linePos(err.pos[0]);
    throw new DaemonEyeError('DE_RULE_PARSE', `${file}:${pos.line}:${pos.col}: ${err.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new DaemonEyeError('DE_RULE_PARSE', `${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = ruleSchema.safeParse(data);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => {
      const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number] } | undefined;
      const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : '';
      const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `${file}${line}: ${key}: ${issue.message}`;
    });
    throw new DaemonEyeError('DE_RULE_PARSE', details.join('\n'));
  }
  const rule: Rule = { ...parsed.data, source };
  if (readsKernelEvents(rule.sql) && rule.kind !== 'event') {
    throw new DaemonEyeError('DE_RULE_PARSE', `${file}: rule ${rule.id} reads kernel events (a new_process_* or new_network_connections view): it must be \`kind: event\``);
  }
  if (readsNetworkEvents(rule.sql) && rule.kind !== 'event') {
    throw new DaemonEyeError('DE_RULE_PARSE', `${file}: rule ${rule.id} reads decoded packets (a new_network_flows, new_dns_queries, new_tls_handshakes or new_http_requests view): it must be \`kind: event\``);
  }
  try {
    validateSelect(schemaDb, rule.sql);
  } catch (e) {
    if (e instanceof DaemonEyeError) {
      throw new DaemonEyeError('DE_RULE_SQL', `${file}: rule ${rule.id}: ${e.message}`, { cause: e.cause });
    }
    throw e;
  }
  return rule;
}

/** A schema-only database to validate rules against: the store's tables plus the rule views. */
export function openRuleSchemaDb(): Db {
  const db = openMemoryStore();
  createRuleContext(db);
  return db;
}

/**
 * Loads the built-in rules (unless disabled) and the rules in `dirs`. Duplicate ids are rejected
 * (the first one wins and the second is reported).
 */
export function loadRules(options: { builtin: boolean; dirs: readonly string[]; schemaDb?: Db }): LoadedRules {
  const schemaDb = options.schemaDb ?? openRuleSchemaDb();
  const rules: Rule[] = [];
  const problems: DaemonEyeError[] = [];
  const seen = new Map<string, string>();
  const sources: { dir: string; builtin: boolean }[] = [];
  if (options.builtin) sources.push({ dir: builtinRuleDir(), builtin: true });
  for (const dir of options.dirs) sources.push({ dir, builtin: false });
  for (const { dir, builtin } of sources) {
    if (!builtin && !isDirectory(dir)) {
      problems.push(new DaemonEyeError('DE_RULE_PARSE', `${dir}: rule directory does not exist`));
      continue;
    }
    for (const file of ruleFiles(dir)) {
      const source = builtin ? `builtin:${relative(PACKAGE_ROOT, file)}` : file;
      try {
        const rule = loadRuleFile(file, schemaDb, source);
        const earlier = seen.get(rule.id);
        if (earlier !== undefined) {
          problems.push(new DaemonEyeError('DE_RULE_DUPLICATE', `${file}: rule id ${rule.id} is already defined by ${earlier}`));
          continue;
        }
        seen.set(rule.id, file);
        rules.push(rule);
      } catch (e) {
        if (e instanceof DaemonEyeError) problems.push(e);
        else throw e;
      }
    }
  }
  if (options.schemaDb === undefined) schemaDb.close();
  return { rules, problems };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
