// /proc/PID/cgroup: "hierarchy-id:controllers:path" per line (one "0::path" line on cgroup v2). The
// container id is read from the path, where every runtime puts the 64-hex id in its own spelling:
//   docker (systemd driver)      /system.slice/docker-<id>.scope
//   docker (cgroupfs driver)     /docker/<id>
//   containerd under kubernetes  /kubepods.slice/.../cri-containerd-<id>.scope
//   cri-o                        /kubepods.slice/.../crio-<id>.scope
//   podman                       /machine.slice/libpod-<id>.scope
//   kubernetes, cgroupfs driver  /kubepods/burstable/pod<uid>/<id>
// The conmon monitors (crio-conmon-<id>, libpod-conmon-<id>) run outside the container and do not
// match. With nested runtimes (docker in docker) the innermost id is the process's own container.

export interface CgroupInfo {
  /** The cgroup path of each hierarchy line, in file order. */
  readonly paths: readonly string[];
  readonly containerId: string | null;
}

const RUNTIME_PREFIXES = ['docker-', 'cri-containerd-', 'crio-', 'libpod-'];
// Parents under which a bare 64-hex segment is a container (cgroupfs drivers; ECS tasks), besides
// any segment starting with "kubepods".
const BARE_ID_PARENTS = ['docker', 'containerd', 'ecs'];

/** Parses /proc/PID/cgroup; null when a non-empty line lacks the two ':' separators. */
export function parseCgroup(text: string): CgroupInfo | null {
  const paths: string[] = [];
  let containerId: string | null = null;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) return null;
    const path = line.slice(second + 1);
    paths.push(path);
    containerId ??= containerIdFromCgroupPath(path);
  }
  return { paths, containerId };
}

/** The container id in one cgroup path, or null when the path is not a container's. */
export function containerIdFromCgroupPath(path: string): string | null {
  const segments = path.split('/');
  let found: string | null = null;
  let underRuntime = false;
  for (const segment of segments) {
    const id = runtimeSegmentId(segment) ?? (underRuntime && isContainerId(segment) ? segment : null);
    if (id !== null) found = id;
    if (BARE_ID_PARENTS.includes(segment) || segment.startsWith('kubepods')) underRuntime = true;
  }
  return found;
}

function runtimeSegmentId(segment: string): string | null {
  for (const prefix of RUNTIME_PREFIXES) {
    if (!segment.startsWith(prefix)) continue;
    let id = segment.slice(prefix.length);
    if (id.endsWith('.scope')) id = id.slice(0, -'.scope'.length);
    if (isContainerId(id)) return id;
  }
  return null;
}

function isContainerId(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
