// A Windows command line is one string; each program splits it itself. Nearly all use the rules of
// the Microsoft C runtime (and CommandLineToArgvW), reproduced here so argv means the same thing as
// on Linux: the program name is everything up to the first whitespace, or between the first pair of
// quotes, with no escapes; after it, 2n backslashes before a quote give n backslashes and toggle
// quoting, 2n+1 give n backslashes and a literal quote, other backslashes are literal, and "" inside
// quotes is a literal quote (the post-2008 CRT rule).

export function splitWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  const space = (c: string | undefined) => c === ' ' || c === '\t';
  while (i < n && space(line[i])) i++;
  if (i >= n) return args;
  // argv[0]
  let first = '';
  if (line[i] === '"') {
    i++;
    while (i < n && line[i] !== '"') first += line[i++];
    i++;
  } else {
    while (i < n && !space(line[i])) first += line[i++];
  }
  args.push(first);
  for (;;) {
    while (i < n && space(line[i])) i++;
    if (i >= n) return args;
    let arg = '';
    let quoted = false;
    while (i < n && (quoted || !space(line[i]))) {
      if (line[i] === '\\') {
        let slashes = 0;
        while (i < n && line[i] === '\\') {
          slashes++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(slashes >> 1);
          if (slashes % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(slashes);
        }
      } else if (line[i] === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += line[i++];
      }
    }
    args.push(arg);
  }
}
