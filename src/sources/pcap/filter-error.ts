// Says WHERE a capture filter is wrong. libpcap's compiler reports "syntax error" without a
// position, so we find the first token after which no continuation can make the expression valid:
// each prefix is compiled with a few generic endings (closing brackets added as needed). The first
// prefix that no ending rescues ends at the offending token. Semantic errors that libpcap quotes
// ("unknown host 'foo'") name their token directly, which also avoids repeating a name lookup.

/** Where a filter goes wrong: 1-based column, the token there and a caret line for terminals. */
export interface FilterErrorPosition {
  readonly column: number;
  readonly token: string;
  readonly caret: string;
}

interface Token {
  readonly text: string;
  readonly start: number;
}

// Parentheses and brackets are tokens of their own; everything else splits on whitespace.
function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  const re = /[()\[\]]|[^\s()\[\]]+/g;
  for (let m = re.exec(filter); m !== null; m = re.exec(filter)) tokens.push({ text: m[0], start: m.index });
  return tokens;
}

const ENDINGS = [
  '', ' 1', ' tcp', ' 192.0.2.1', ' port 1', ' host 192.0.2.1', ' net 192.0.2.0/24', ' 1 = 1', ' = 1', ' and tcp',
  ' tcp port 1', ' 1] = 1', ' 1:1] = 1', ':1] = 1', '] = 1', ' 1', ' 1 and tcp',
];

function closers(prefix: string): string {
  let parens = 0;
  let brackets = 0;
  for (const ch of prefix) {
    if (ch === '(') parens++;
    else if (ch === ')') parens--;
    else if (ch === '[') brackets++;
    else if (ch === ']') brackets--;
  }
  return ']'.repeat(Math.max(0, brackets)) + ')'.repeat(Math.max(0, parens));
}

function at(filter: string, start: number, token: string): FilterErrorPosition {
  return { column: start + 1, token, caret: `${filter}\n${' '.repeat(start)}${'^'.repeat(Math.max(1, token.length))}` };
}

/**
 * Finds the offending token of a filter that does not compile. `compiles(expr)` returns null when
 * `expr` compiles (the addon's checkFilter for the capture's link type).
 */
export function locateFilterError(filter: string, message: string, compiles: (expr: string) => string | null): FilterErrorPosition {
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (quoted !== undefined) {
    const i = filter.indexOf(quoted);
    if (i >= 0) return at(filter, i, quoted);
  }
  const tokens = tokenize(filter);
  for (const t of tokens) {
    const prefix = filter.slice(0, t.start + t.text.length);
    const viable = ENDINGS.some((ending) => {
      const candidate = prefix + ending;
      return compiles(candidate + closers(candidate)) === null;
    });
    if (!viable) return at(filter, t.start, t.text);
  }
  // Every prefix could still be completed: the expression stops too early.
  return at(filter, filter.trimEnd().length, '');
}

/** "syntax error at column 13 near 'adn':\n  tcp port 80 adn udp\n              ^^^" */
export function describeFilterError(filter: string, message: string, pos: FilterErrorPosition): string {
  const near = pos.token === '' ? 'at the end of the expression' : `at column ${pos.column} near '${pos.token}'`;
  const [line, caret] = pos.caret.split('\n');
  return `capture filter does not compile: ${message} ${near}\n    ${line}\n    ${caret}`;
}
