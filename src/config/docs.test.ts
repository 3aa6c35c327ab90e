// Keeps the reference in step with the schema: a key added to schema.ts must be documented in
// docs/configuration.md and shown with its default in examples/daemoneye.yaml.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkConfigFile } from './load-config.ts';
import { defaultConfig } from './schema.ts';
import { allKeyPaths } from './schema-info.ts';
import { envVarName } from './env-layer.ts';

const root = new URL('../../', import.meta.url);
const docs = readFileSync(new URL('docs/configuration.md', root), 'utf8');
const example = new URL('examples/daemoneye.yaml', root).pathname;

test('docs/configuration.md documents every key', () => {
  const missing = allKeyPaths().map((p) => p.join('.')).filter((key) => !docs.includes(`\`${key}\``));
  assert.deepEqual(missing, []);
});

test('the env var example in the docs names a real key', () => {
  assert.ok(docs.includes(envVarName(['enterprise', 'analytics', 'anomaly_threshold'])));
});

test('examples/daemoneye.yaml sets every key, to its default', () => {
  assert.deepEqual(checkConfigFile(example, {}).config, defaultConfig());
  const written: string[] = [];
  const walk = (v: unknown, prefix: string[]) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
    for (const [k, x] of Object.entries(v)) {
      written.push([...prefix, k].join('.'));
      walk(x, [...prefix, k]);
    }
  };
  walk(parse(readFileSync(example, 'utf8')), []);
  assert.deepEqual(written.sort(), allKeyPaths().map((p) => p.join('.')).sort());
});
