// The ETW addon (C) and its TypeScript side must not drift: the record keys record_to_js sets, the
// stats keys, provider names, event ids, keywords and the added command-line property are read out of
// the C source and compared with the TS constants the decoder uses. (The eBPF layer's equivalent
// compares struct offsets reported by the addon; this addon cannot run here, so the source is read.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ETW_STATS_KEYS } from '../src/sources/etw/etw-addon.ts';
import { COMMAND_LINE_PROPERTY, ETW_RECORD_KEYS, KERNEL_NETWORK, KERNEL_PROCESS, NETWORK_EVENTS, NETWORK_KEYWORDS, PROCESS_EVENTS, PROCESS_KEYWORDS } from '../src/sources/etw/etw-record.ts';

const SRC = join(import.meta.dirname, '..', 'native', 'etw', 'src');
const read = (f: string) => readFileSync(join(SRC, f), 'utf8');
/** The body of a C function, from its signature to the closing brace at column 0. */
function body(source: string, signature: string): string {
  const at = source.indexOf(signature);
  assert.ok(at >= 0, `${signature} not found`);
  return source.slice(at, source.indexOf('\n}\n', at));
}
const keysSet = (code: string, obj: string) =>
  [...code.matchAll(new RegExp(`(?:napi_set_named_property\\(env, ${obj}, |set_num\\(env, ${obj}, )"(\\w+)"`, 'g'))].map((m) => m[1]);

test('record_to_js sets exactly the keys the decoder reads, and the fixtures have them', () => {
  const keys = keysSet(body(read('etw_addon.c'), 'static napi_value record_to_js('), 'obj');
  assert.deepEqual([...keys].sort(), [...ETW_RECORD_KEYS].sort());
  const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'etw', 'records.json'), 'utf8')) as Record<string, unknown>[];
  for (const f of fixtures) assert.deepEqual(Object.keys(f).filter((k) => k !== '_note').sort(), [...ETW_RECORD_KEYS].sort());
});

test('stats() keys match EtwStats', () => {
  const keys = keysSet(body(read('etw_addon.c'), 'static napi_value js_stats('), 'out');
  assert.deepEqual([...keys].sort(), [...ETW_STATS_KEYS].sort());
});

test('provider names, event ids, keywords and the command-line property agree', () => {
  const addon = read('etw_addon.c');
  assert.ok(addon.includes(`"${KERNEL_PROCESS}"`) && addon.includes(`"${KERNEL_NETWORK}"`));
  const session = read('etw_session.c');
  const ids = (name: string) => new RegExp(`static const USHORT ${name}\\[\\] = \\{([^}]*)\\}`).exec(session)![1]!.split(',').map(Number);
  assert.deepEqual(ids('PROCESS_IDS'), Object.values(PROCESS_EVENTS));
  assert.deepEqual(ids('NETWORK_IDS'), Object.values(NETWORK_EVENTS));
  const wanted = body(read('etw_decode.c'), 'static int wanted(');
  for (const id of [...Object.values(PROCESS_EVENTS), ...Object.values(NETWORK_EVENTS)]) assert.match(wanted, new RegExp(`id == ${id}\\b`));
  const header = read('etw.h');
  assert.equal(Number(/#define DE_PROCESS_KEYWORDS (0x[0-9a-f]+)ULL/i.exec(header)![1]), PROCESS_KEYWORDS);
  assert.equal(Number(/#define DE_NETWORK_KEYWORDS (0x[0-9a-f]+)ULL/i.exec(header)![1]), NETWORK_KEYWORDS);
  assert.ok(read('etw_decode.c').includes(`"${COMMAND_LINE_PROPERTY}"`));
});
