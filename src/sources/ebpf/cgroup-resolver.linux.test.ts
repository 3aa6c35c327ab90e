// Real cgroups: a process is moved into a cgroup named the way docker and containerd name theirs,
// and the kernel's cgroup id for its exec must resolve to that container id. The same cgroup is
// then filtered in the kernel by path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CgroupResolver, cgroup2Root } from './cgroup-resolver.linux.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';
import { decodeBatch, type ExecEvent } from './records.ts';
import { cgroupId } from './sensor-options.ts';

const root = cgroup2Root();
const skip = process.getuid?.() !== 0 ? 'needs root to create cgroups and load BPF'
  : root === null ? 'no cgroup2 hierarchy mounted'
  : !existsSync(ADDON_PATH) ? 'eBPF addon not built' : false;

/** Runs `sh -c 'echo $$ > procs; exec /bin/true marker'` so the exec happens inside the cgroup. */
function execIn(cgroupDir: string, marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/sh', ['-c', `echo $$ > '${join(cgroupDir, 'cgroup.procs')}' && exec /bin/true ${marker}`], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', () => resolve(c.pid!));
  });
}

test('exec events resolve to the container id of their cgroup; a cgroup filtered by path emits nothing', { skip }, async (t) => {
  const id = randomBytes(32).toString('hex');
  const parent = join(root!, `de-test-${process.pid}`);
  const scope = join(parent, `docker-${id}.scope`);
  mkdirSync(scope, { recursive: true });
  t.after(() => {
    try { rmdirSync(scope); rmdirSync(parent); } catch { /* still has a zombie: removed by the kernel later */ }
  });
  const addon = loadBpfAddon();
  t.after(() => addon.close());
  let execs: ExecEvent[] = [];
  addon.open({ batchMs: 5 }, (b) => { execs.push(...decodeBatch(b).events.filter((e): e is ExecEvent => e.kind === 'exec')); });
  const pid = await execIn(scope, 'in-container');
  await new Promise((r) => setTimeout(r, 200));
  const e = execs.find((x) => x.pid === pid && x.argv[1] === 'in-container');
  assert.ok(e, 'exec inside the cgroup seen');
  assert.equal(e.cgroupId, cgroupId(scope));
  const resolver = new CgroupResolver();
  assert.equal(resolver.containerId(e.cgroupId), id);
  assert.equal(resolver.containerId(cgroupId(parent)), null, 'a cgroup that is not a container has none');
  assert.equal(resolver.walks, 1, 'the second lookup was served from the walk');

  addon.close();
  execs = [];
  addon.open({ batchMs: 5, ignoreCgroups: [cgroupId(scope)] }, (b) => { execs.push(...decodeBatch(b).events.filter((x): x is ExecEvent => x.kind === 'exec')); });
  const hidden = await execIn(scope, 'filtered');
  const outside = spawn('/bin/true', ['outside'], { stdio: 'ignore' });
  await new Promise((r) => outside.once('exit', r));
  await new Promise((r) => setTimeout(r, 200));
  // The shell's own exec happened before it moved itself into the cgroup; /bin/true's exec inside it must not show.
  assert.equal(execs.some((x) => x.pid === hidden && x.argv[1] === 'filtered'), false, 'the filtered cgroup emits nothing');
  assert.ok(execs.some((x) => x.argv[1] === 'outside'), 'other cgroups still report');
});

test('a cgroup path that does not exist is a configuration error naming it', () => {
  assert.throws(() => cgroupId('no/such/cgroup-de-test', '/nonexistent-root'), { code: 'DE_CONFIG_INVALID', message: /no\/such\/cgroup-de-test/ });
});
