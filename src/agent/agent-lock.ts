// One agent per data directory: a second `daemoneye run` on the same store would interleave scans and
// double every alert. The lock is a file holding the owner's pid, taken with O_EXCL; a lock whose pid
// is gone (crash, SIGKILL) is stale and taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonEyeError } from '../errors/catalogue.ts';

export class AgentLock {
  readonly path: string;
  #held = false;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'agent.lock');
  }

  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.#held = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new DaemonEyeError('DE_DATA_DIR', `cannot create ${this.path}`, { cause: e });
        }
        const owner = Number.parseInt(readFileSync(this.path, 'utf8').trim(), 10);
        if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
          throw new DaemonEyeError('DE_STORE_LOCKED', `another agent (pid ${owner}) is running on this data directory`);
        }
        rmSync(this.path, { force: true });
      }
    }
    throw new DaemonEyeError('DE_STORE_LOCKED', `could not take ${this.path}`);
  }

  release(): void {
    if (this.#held) rmSync(this.path, { force: true });
    this.#held = false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
