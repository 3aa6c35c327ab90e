// The longest run of literal text every match of a regex must contain ("implant-" in
// 'implant-[0-9]+'), so MATCHES leaves can be indexed by a trigram of it instead of running the regex
// on every event. Conservative: when unsure (top-level alternation, case-insensitive flags) it
// returns '' and the leaf is evaluated for every event of its object type.
export function requiredLiteral(src: string): string {
  if (/\(\?[a-zA-Z]*i/.test(src)) return '';
  let best = '';
  let cur = '';
  let depth = 0;
  const cut = () => { if (cur.length > best.length) best = cur; cur = ''; };
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      // Escapes that span more characters (\x41, \x{263a}, \p{Greek}, \Q…\E, octal): give up.
      if (n !== undefined && /[xpPQ0-9]/.test(n)) return '';
      i += 1;
      if (depth === 0 && n !== undefined && /[^A-Za-z0-9]/.test(n)) cur += n; else cut();
      continue;
    }
    if (c === '[') {
      // Skip the class: a leading ']' (or '^]') is literal, escapes are skipped.
      let j = i + 1;
      if (src[j] === '^') j += 1;
      if (src[j] === ']') j += 1;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      i = j;
      cut();
      continue;
    }
    if (c === '(') { depth += 1; cut(); continue; }
    if (c === ')') { depth -= 1; cut(); continue; }
    if (depth > 0) continue;
    if (c === '|') return '';
    if (c === '.' || c === '^' || c === '$') { cut(); continue; }
    if (c === '*' || c === '?' || c === '+' || c === '{') {
      // The quantified character is optional (or repeated): it ends the run and is not part of it.
      cur = cur.slice(0, -1);
      cut();
      if (c === '{') { while (i < src.length && src[i] !== '}') i += 1; }
      continue;
    }
    cur += c;
  }
  cut();
  return best;
}
