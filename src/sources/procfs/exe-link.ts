// Reading /proc/PID/exe: the kernel appends " (deleted)" to the link once the file is unlinked (or
// replaced by a rename, as package upgrades do), and a running deleted binary is a classic sign of a
// dropper that removed itself.
import { statSync, type Stats } from 'node:fs';

const DELETED_SUFFIX = ' (deleted)';

/**
 * [path, file_exists] for a link target. A file may really be named "x (deleted)" to fake the suffix,
 * so the suffix only counts when that path is not the running file (`exeStat`: stat of /proc/PID/exe).
 */
export function resolveDeletedExe(target: string, exeStat: Stats | undefined): [string, 0 | 1] {
  if (!target.endsWith(DELETED_SUFFIX)) return [target, 1];
  try {
    const named = statSync(target, { throwIfNoEntry: false });
    if (named !== undefined && exeStat !== undefined && named.ino === exeStat.ino && named.dev === exeStat.dev) {
      return [target, 1];
    }
  } catch {
    // the path cannot be checked: trust the kernel's suffix
  }
  return [target.slice(0, -DELETED_SUFFIX.length), 0];
}
