// /proc/PID/cmdline and /proc/PID/environ are NUL-separated lists the process itself controls: it may
// rewrite them (setproctitle), pad them with NULs, or leave out the final NUL.

/**
 * argv from /proc/PID/cmdline. Trailing empty strings are dropped: setproctitle-style rewriting
 * (nginx, postgres, sshd) pads the argument area with NULs, which would otherwise read as dozens of
 * empty arguments. A genuine trailing '' argument is lost, as it is in ps.
 */
export function parseCmdline(text: string): string[] {
  if (text.length === 0) return [];
  const argv = text.split('\0');
  let end = argv.length;
  while (end > 0 && argv[end - 1] === '') end--;
  argv.length = end;
  return argv;
}

/**
 * The allow-listed variables of /proc/PID/environ. Only names in `allow` are kept, so secrets in the
 * rest of the environment never leave this function. The first definition wins, as with getenv(3).
 */
export function pickEnvironment(text: string, allow: ReadonlySet<string>): Record<string, string> {
  const picked: Record<string, string> = Object.create(null) as Record<string, string>;
  const len = text.length;
  let start = 0;
  // The next '=' at or after `start`, found once and reused: entries without '=' would otherwise make
  // each search scan the rest of the text (quadratic on hostile input).
  let eq = -2;
  while (start < len) {
    let end = text.indexOf('\0', start);
    if (end === -1) end = len;
    if (eq !== -1 && eq < start) eq = text.indexOf('=', start);
    if (eq > start && eq < end) {
      const name = text.slice(start, eq);
      if (allow.has(name) && !Object.hasOwn(picked, name)) picked[name] = text.slice(eq + 1, end);
    }
    start = end + 1;
  }
  return picked;
}
