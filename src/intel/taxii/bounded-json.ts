// JSON.parse with a nesting limit. V8's parser recurses: `[[[[...` a million deep throws a
// RangeError from deep inside (or worse, on a small stack). One linear pass over the text first,
// outside strings, finds the depth so the parse never starts on hostile nesting.

export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function parseBoundedJson(text: string, maxDepth: number): unknown {
  const depth = jsonDepth(text);
  if (depth > maxDepth) throw new Error(`JSON nests ${depth} levels deep, more than the ${maxDepth} allowed`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`invalid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}
