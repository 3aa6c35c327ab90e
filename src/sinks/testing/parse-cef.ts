// A CEF parser from the "Implementing ArcSight CEF" rules, independent of cef.ts: seven
// pipe-separated header fields (`\|` and `\\` escaped), then key=value extensions where a value
// runs to the space before the next unescaped `key=`.
export interface CefRecord {
  readonly version: string;
  readonly vendor: string;
  readonly product: string;
  readonly productVersion: string;
  readonly signatureId: string;
  readonly name: string;
  readonly severity: string;
  readonly extensions: Record<string, string>;
}

const unescape = (s: string) => s.replace(/\\(.)/gs, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));

export function parseCef(line: string): CefRecord {
  if (!line.startsWith('CEF:')) throw new Error('not CEF');
  const header: string[] = [];
  let cur = '';
  let i = 4;
  while (header.length < 7) {
    const c = line[i];
    if (c === undefined) throw new Error('short CEF header');
    if (c === '\\') {
      const n = line[i + 1];
      if (n !== '\\' && n !== '|' && n !== 'n' && n !== 'r') throw new Error(`bad header escape \\${n}`);
      cur += c + n;
      i += 2;
    } else if (c === '|') {
      header.push(unescape(cur));
      cur = '';
      i++;
    } else {
      if (c === '\n' || c === '\r') throw new Error('raw line break in header');
      cur += c;
      i++;
    }
  }
  const ext = line.slice(i);
  if (/[\r\n]/.test(ext)) throw new Error('raw line break in extension');
  // Positions of unescaped `=`: each is preceded by a key that starts after a space (or at 0).
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let j = 0; j < ext.length; j++) {
    if (ext[j] === '\\') { j++; continue; }
    if (ext[j] !== '=') continue;
    const before = ext.slice(0, j);
    const m = /(?:^| )([A-Za-z0-9_]+)$/.exec(before);
    if (!m) throw new Error(`unescaped = inside a value at ${j}`);
    keys.push({ key: m[1]!, start: j - m[1]!.length, valueStart: j + 1 });
  }
  const extensions: Record<string, string> = {};
  keys.forEach((k, n) => {
    const end = n + 1 < keys.length ? keys[n + 1]!.start - 1 : ext.length;
    const raw = ext.slice(k.valueStart, end);
    extensions[k.key] = unescape(raw);
  });
  const [version, vendor, product, productVersion, signatureId, name, severity] = header as [string, string, string, string, string, string, string];
  return { version, vendor, product, productVersion, signatureId, name, severity, extensions };
}
