// uid → name from /etc/passwd, re-read only when the file changes (its mtime, size or inode: tools
// like useradd write a new file and rename it over the old one), so a scan costs one stat.
import { readFileSync, statSync } from 'node:fs';
import { parsePasswd } from '../../normalize/procfs/parse-passwd.ts';

export class UserNames {
  readonly #path: string;
  #version = '';
  #names = new Map<number, string>();

  constructor(path = '/etc/passwd') {
    this.#path = path;
  }

  /** Re-reads the file if it changed since the last call; call once per scan. */
  refresh(): void {
    let version = 'missing';
    try {
      const st = statSync(this.#path, { throwIfNoEntry: false });
      if (st !== undefined) version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      version = 'unreadable';
    }
    if (version === this.#version) return;
    this.#version = version;
    try {
      this.#names = version.includes(':') ? parsePasswd(readFileSync(this.#path, 'utf8')) : new Map();
    } catch {
      this.#names = new Map();
    }
  }

  nameOf(uid: number | null): string | null {
    return uid === null ? null : (this.#names.get(uid) ?? null);
  }
}
