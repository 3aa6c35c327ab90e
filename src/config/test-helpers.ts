// Shared by the config tests: real temp files, and loadConfig isolated from the machine it runs on.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { isDaemonEyeError, type DaemonEyeError, type ErrorCode } from '../errors/catalogue.ts';
import { loadConfig, type LoadConfigOptions } from './load-config.ts';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'daemoneye-config-'));
}

export function writeFile(dir: string, name: string, text: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** loadConfig without /etc, ~ or process.env leaking in. */
export function load(options: LoadConfigOptions = {}) {
  return loadConfig({ systemFile: null, userFile: null, env: {}, homeDir: '/home/tester', isRoot: false, hostname: 'testhost', ...options });
}

/** Runs fn, asserts it throws a DaemonEyeError with `code`, returns it for message checks. */
export function expectError(code: ErrorCode, fn: () => unknown): DaemonEyeError {
  try {
    fn();
  } catch (err) {
    assert.ok(isDaemonEyeError(err), `expected a DaemonEyeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}
