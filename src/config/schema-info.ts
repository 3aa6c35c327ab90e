// Questions about the schema asked by key path: which keys exist, what a key accepts, in words.
// Answered from zod's JSON Schema export rather than zod internals: it is a public, stable format,
// and the same document can be handed to editors (yaml-language-server) for completion.

import { z } from 'zod';
import { configSchema } from './schema.ts';

export type KeyPath = ReadonlyArray<string | number>;

/** The subset of JSON Schema that z.toJSONSchema emits for our schema. */
export interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  required?: string[];
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  format?: string;
  default?: unknown;
}

let cached: JsonSchemaNode | undefined;

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') for (const x of Object.values(Object.freeze(v))) deepFreeze(x);
  return v;
}

/** The configuration as JSON Schema (input side: every key optional, defaults shown). Frozen: shared. */
export function configJsonSchema(): JsonSchemaNode {
  cached ??= deepFreeze(z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode);
  return cached;
}

/** `agent.scan_interval`, `alerting.sinks[0].type`: how a path is shown to people. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(top level)';
}

/** The schema node for a path, or undefined when the path names no key. */
export function schemaAt(path: KeyPath): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = configJsonSchema();
  for (const seg of path) {
    if (!node) return undefined;
    // A nullable object or list is anyOf [thing, null]: descend into the thing.
    const inner: JsonSchemaNode = node.anyOf?.find((n) => n.type === 'object' || n.type === 'array') ?? node;
    if (typeof seg === 'number') {
      node = inner.items;
    } else if (inner.properties && Object.hasOwn(inner.properties, seg)) {
      node = inner.properties[seg];
    } else {
      const extra = inner.additionalProperties;
      node = typeof extra === 'object' ? extra : undefined;
    }
  }
  return node;
}

/** The keys one may write inside the mapping at `path`. */
export function childKeys(path: KeyPath): string[] {
  return Object.keys(schemaAt(path)?.properties ?? {});
}

/** Every key path in the schema (sections and leaves), in schema order. Lists are not entered. */
export function allKeyPaths(): string[][] {
  const out: string[][] = [];
  const walk = (node: JsonSchemaNode, prefix: string[]) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      out.push([...prefix, key]);
      walk(child, [...prefix, key]);
    }
  };
  walk(configJsonSchema(), []);
  return out;
}

/** True when the key takes a string: env values and `${VAR}` results there stay strings (`007`). */
export function acceptsString(path: KeyPath): boolean {
  const node = schemaAt(path);
  const alternatives = node?.anyOf ?? (node ? [node] : []);
  return alternatives.some((n) => n.type === 'string' && !n.enum);
}

/** What a key accepts, in words: "an integer from 1 to 86400", "one of: a, b, c or null". */
export function expectedText(node: JsonSchemaNode | undefined): string {
  if (!node) return 'nothing (no such key)';
  if (node.anyOf) return node.anyOf.map(expectedText).join(' or ');
  if (node.enum) return `one of: ${node.enum.map(String).join(', ')}`;
  const range = node.minimum !== undefined && node.maximum !== undefined
    ? ` from ${node.minimum} to ${node.maximum}`
    : node.minimum !== undefined ? ` of at least ${node.minimum}` : '';
  switch (node.type) {
    case 'integer': return `an integer${range}`;
    case 'number': return `a number${range}`;
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'string':
      if (node.format === 'uri') return 'an http:// or https:// URL';
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'array': return `a list (each item: ${expectedText(node.items)})`;
    case 'object': {
      const req = node.required?.map((k) => `\`${k}\``).join(', ');
      return req ? `a mapping with ${req}` : 'a mapping';
    }
    default: return 'any value';
  }
}
