// Reading one YAML config file defensively: config files may be edited by hand, generated, or
// planted by an attacker who hopes the agent falls over. So: a size cap read in bounded chunks
// (`--config /dev/zero` must not hang), strict UTF-8, yaml's alias limit against "billion laughs",
// and every failure becomes a Problem with file:line:col instead of an exception.

import { closeSync, openSync, readSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Problem } from './problems.ts';
import type { KeyPath } from './schema-info.ts';

/** Real config files are a few KiB; anything past this is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** A few anchors are handy; yaml's alias budget stops exponential expansion long before memory does. */
const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  /** The document as plain data (undefined when it could not be parsed). */
  readonly data: unknown;
  readonly problems: Problem[];
  /** `file:line:col` where `path` is written (the key's line), or its nearest written ancestor's. */
  readonly locate: (path: KeyPath) => string;
}

/** Reads at most `limit + 1` bytes; returns null when the file does not exist. */
function readBounded(file: string, limit: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DaemonEyeError('DE_CONFIG_NOT_FOUND', `cannot open configuration file ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(limit + 1);
    let size = 0;
    while (size < buf.length) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
    }
    return buf.subarray(0, size);
  } catch (err) {
    throw new DaemonEyeError('DE_CONFIG_NOT_FOUND', `cannot read configuration file ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** Parses a file; null when it does not exist. Unreadable files throw DE_CONFIG_NOT_FOUND. */
export function readYamlFile(file: string): YamlSource | null {
  const bytes = readBounded(file, MAX_CONFIG_BYTES);
  if (bytes === null) return null;
  const fail = (text: string): YamlSource => ({ data: undefined, problems: [{ code: 'DE_CONFIG_PARSE', where: file, key: '', text }], locate: () => file });
  if (bytes.length > MAX_CONFIG_BYTES) return fail(`file is larger than ${MAX_CONFIG_BYTES} bytes; a configuration file is a few KiB`);
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('file is not UTF-8 text');
  }
  return parseYaml(source, file);
}

/** Parses YAML text; `name` is used in locations (a file path, or a variable name). */
export function parseYaml(source: string, name: string): YamlSource {
  const lines = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  let doc: Document.Parsed;
  try {
    doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true });
  } catch (err) {
    // yaml reports most failures in doc.errors; this is the belt to its braces.
    return { data: undefined, problems: [{ code: 'DE_CONFIG_PARSE', where: name, key: '', text: `cannot parse: ${(err as Error).message}` }], locate: () => name };
  }
  const locate = (path: KeyPath): string => locateIn(doc, path, at) ?? name;
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): Problem => {
      const pos = e.linePos?.[0];
      // The message repeats the position and a source excerpt after the first line; we print our own.
      const text = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { code: 'DE_CONFIG_PARSE', where: pos ? `${name}:${pos.line}:${pos.col}` : name, key: '', text };
    });
    return { data: undefined, problems, locate };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), problems: [], locate };
  } catch (err) {
    return { data: undefined, problems: [{ code: 'DE_CONFIG_PARSE', where: name, key: '', text: (err as Error).message }], locate };
  }
}

/**
 * A mapping entry is located at its key (`scan_intervall:`), also for a bad value: that is where
 * the reader looks, and an empty value has no position of its own. A list item at the item.
 */
function locateIn(doc: Document.Parsed, path: KeyPath, at: (o: number) => string): string | undefined {
  for (let n = path.length; n >= 1; n--) {
    const last = path[n - 1]!;
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    if (typeof last === 'string' && isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
      if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
    } else if (typeof last === 'number') {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
  }
  const top = doc.contents;
  return isNode(top) && top.range ? at(top.range[0]) : undefined;
}
