// cgroup id -> container id. The kernel reports a cgroup v2 id, which is the inode number of the
// cgroup's directory under the cgroup2 mount; the container runtime's id is in that directory's
// path (docker-ID.scope, cri-containerd-ID.scope, libpod-ID.scope, kubepods/.../ID). Walking the
// hierarchy is the only way from the number to the path, so walks are cached and rate-limited:
// containers are created far less often than they exec.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { containerIdFromCgroupPath } from '../../normalize/procfs/parse-cgroup.ts';

/**
 * Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified
 * on hybrid ones (systemd's legacy layout). The kernel's cgroup ids are inodes of this tree.
 */
export function cgroup2Root(mounts = '/proc/self/mounts'): string | null {
  try {
    for (const line of readFileSync(mounts, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2') return f[1]!.replace(/\\040/g, ' ');
    }
  } catch {
    // No /proc: no cgroups to resolve either.
  }
  return null;
}

export interface CgroupResolverOptions {
  readonly root?: string;
  /** A miss triggers a fresh walk at most this often. */
  readonly minRewalkMs?: number;
  /** Directories visited per walk at most (a bound against pathological hierarchies). */
  readonly maxDirs?: number;
}

export class CgroupResolver {
  readonly #root: string | null;
  readonly #minRewalkMs: number;
  readonly #maxDirs: number;
  /** inode -> container id (null: a cgroup that is not a container's). */
  #byId = new Map<bigint, string | null>();
  #lastWalk = -Infinity;
  walks = 0;

  constructor(options: CgroupResolverOptions = {}) {
    this.#root = options.root ?? cgroup2Root();
    this.#minRewalkMs = options.minRewalkMs ?? 2000;
    this.#maxDirs = options.maxDirs ?? 50_000;
  }

  /** The container id for a cgroup id, or null (host process, unknown cgroup, no cgroup2 mount). */
  containerId(cgroupId: bigint): string | null {
    if (cgroupId === 0n || this.#root === null) return null;
    const known = this.#byId.get(cgroupId);
    if (known !== undefined) return known;
    const now = performance.now();
    if (now - this.#lastWalk < this.#minRewalkMs) return null;
    this.#lastWalk = now;
    this.#walk();
    return this.#byId.get(cgroupId) ?? null;
  }

  #walk(): void {
    const root = this.#root!;
    this.walks++;
    const next = new Map<bigint, string | null>();
    const stack = [''];
    let visited = 0;
    while (stack.length > 0 && visited < this.#maxDirs) {
      const rel = stack.pop()!;
      const abs = join(root, rel);
      visited++;
      try {
        next.set(statSync(abs, { bigint: true }).ino, containerIdFromCgroupPath('/' + rel));
        for (const d of readdirSync(abs, { withFileTypes: true })) if (d.isDirectory()) stack.push(rel === '' ? d.name : `${rel}/${d.name}`);
      } catch {
        // A cgroup removed while walking, or no permission: skip it, the rest still resolves.
      }
    }
    this.#byId = next;
  }
}
