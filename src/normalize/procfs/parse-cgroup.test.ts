import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdFromCgroupPath, parseCgroup } from './parse-cgroup.ts';

const ID = '3f4e2b1a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';
const ID2 = 'a'.repeat(64);

test('each runtime spelling of a container id', () => {
  const cases: [string, string | null][] = [
    [`/system.slice/docker-${ID}.scope`, ID],
    [`/docker/${ID}`, ID],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice/cri-containerd-${ID}.scope`, ID],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod7.slice/crio-${ID}.scope`, ID],
    [`/kubepods/burstable/pod0f1e2d3c-aaaa-bbbb-cccc-0123456789ab/${ID}`, ID],
    [`/kubepods/pod0f1e2d3c/${ID}`, ID],
    [`/machine.slice/libpod-${ID}.scope`, ID],
    [`/machine.slice/libpod-${ID}.scope/container`, ID],
    [`/ecs/5a0d5ceddf6c44a1ad2c9d2bd0b2c8e4/${ID}`, ID],
    [`/docker/${ID2}/docker/${ID}`, ID], // docker in docker: the innermost
  ];
  for (const [path, id] of cases) assert.equal(containerIdFromCgroupPath(path), id, path);
});

test('paths that are not a container', () => {
  const cases = [
    '/', '/user.slice/user-1000.slice/session-2.scope', '/system.slice/docker.service',
    `/machine.slice/libpod-conmon-${ID}.scope`, `/kubepods.slice/crio-conmon-${ID}.scope`,
    `/system.slice/docker-${ID.slice(1)}.scope`, `/system.slice/docker-${ID.toUpperCase()}.scope`,
    `/user.slice/${ID}`, '/process_api/a42e19441f30584614fd78fb924a6916', `/docker/${ID}x`,
  ];
  for (const path of cases) assert.equal(containerIdFromCgroupPath(path), null, path);
});

test('cgroup v1 and v2 files', () => {
  const v1 = `12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`;
  assert.deepEqual(parseCgroup(v1), { paths: [`/docker/${ID}`, `/docker/${ID}`, `/docker/${ID}`, '/'], containerId: ID });
  assert.deepEqual(parseCgroup('0::/init.scope\n'), { paths: ['/init.scope'], containerId: null });
  // A path may itself contain ':' — only the first two separate fields.
  assert.deepEqual(parseCgroup('0::/a:b\n')?.paths, ['/a:b']);
});

test('malformed cgroup files return null', () => {
  assert.equal(parseCgroup('garbage\n'), null);
  assert.equal(parseCgroup('0:/docker\n'), null);
  assert.deepEqual(parseCgroup(''), { paths: [], containerId: null });
});
