import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, nearest } from './suggest.ts';

test('edit distance counts insertions, substitutions and transpositions as one edit', () => {
  assert.equal(editDistance('scan_intervall', 'scan_interval'), 1);
  assert.equal(editDistance('sacn_interval', 'scan_interval'), 1);
  assert.equal(editDistance('level', 'lvl'), 2);
  assert.equal(editDistance('', 'abc'), 3);
});

test('nearest only suggests plausible typos when a ratio is given', () => {
  assert.equal(nearest('scan_intervall', ['host_name', 'scan_interval', 'data_dir'], 0.4), 'scan_interval');
  assert.equal(nearest('completely_else', ['host_name', 'data_dir'], 0.4), undefined);
  assert.equal(nearest('completely_else', ['host_name', 'data_dir']), 'host_name');
});
