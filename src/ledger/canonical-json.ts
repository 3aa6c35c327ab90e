// RFC 8785 JSON Canonicalization Scheme (JCS): one byte sequence per JSON value, so a hash over it
// means the same thing to every verifier. ECMAScript's own number and string serialisation is what
// JCS specifies, so JSON.stringify does the leaves; we do the structure (sorted keys, no whitespace)
// and refuse anything that would not survive JSON.parse unchanged: the ledger re-canonicalises the
// stored text on verify, and that must give back the same bytes.

/** A value that canonicalize() rejected, with the path to it ("$.payload.evidence[3]"). */
export class CanonicalJsonError extends TypeError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`cannot canonicalise ${path}: ${problem}`);
    this.name = 'CanonicalJsonError';
    this.path = path;
  }
}

/** The RFC 8785 canonical form of a JSON value (plain objects, arrays, strings, finite numbers, booleans, null). */
export function canonicalize(value: unknown): string {
  try {
    return fast(value, 0);
  } catch (e) {
    if (e !== REJECTED) throw e;
  }
  // Something was refused: walk again, slowly, to say exactly what and where.
  write(value, [], new Set());
  throw new CanonicalJsonError('$', `nested deeper than ${MAX_DEPTH} levels`);
}

/** Deeper than this is refused: it bounds the recursion, and stands in for cycle tracking on the fast path. */
const MAX_DEPTH = 1000;
const REJECTED = Symbol('rejected');

/**
 * The hot path (every ledger append): no path bookkeeping and no ancestor set, just the checks. Any
 * refusal throws REJECTED and canonicalize() re-walks with write() to build the error message.
 */
function fast(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw REJECTED;
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw REJECTED;
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw REJECTED;
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) throw REJECTED;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw REJECTED;
      out += (i === 0 ? '' : ',') + fast(v[i], depth + 1);
    }
    return out + ']';
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(v).length > 0) throw REJECTED;
  const keys = Object.keys(v);
  sortKeys(keys);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i === 0 ? '' : ',') + quoteKey(k) + ':' + fast((v as Record<string, unknown>)[k], depth + 1);
  }
  return out + '}';
}

/**
 * Ascending UTF-16 code unit order (what `<` compares). Objects here have a handful of keys, where an
 * insertion sort beats Array.prototype.sort's setup; long key lists still get the library sort.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

// Ledger payloads repeat the same few dozen keys: remember their quoted form (bounded, so a payload
// with random keys cannot grow it without limit).
const quotedKeys = new Map<string, string>();

function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    if (!k.isWellFormed()) throw REJECTED;
    q = JSON.stringify(k);
    if (quotedKeys.size < 4096) quotedKeys.set(k, q);
  }
  return q;
}

type Path = (string | number)[];

/** "$.payload.evidence[3]": built only when something fails, so the hot path allocates no strings for it. */
function formatPath(path: Path): string {
  let s = '$';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  }
  return s;
}

function fail(path: Path, problem: string): never {
  throw new CanonicalJsonError(formatPath(path), problem);
}

function write(v: unknown, path: Path, ancestors: Set<object>): string {
  switch (typeof v) {
    case 'string':
      // I-JSON (RFC 7493), which JCS requires, forbids unpaired surrogates: they have no UTF-8 form.
      if (!v.isWellFormed()) fail(path, 'string contains an unpaired UTF-16 surrogate');
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) fail(path, `${v} is not a finite number`);
      return JSON.stringify(v); // ECMAScript Number::toString, which is what JCS prescribes (and -0 → 0)
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return fail(path, 'undefined is not JSON (omit the key or use null)');
    case 'bigint':
      return fail(path, 'bigint is not JSON (convert it to a number or a string)');
    case 'function':
    case 'symbol':
      return fail(path, `a ${typeof v} is not JSON`);
  }
  if (v === null) return 'null';
  const obj = v as object;
  if (ancestors.has(obj)) fail(path, 'cycle: the value contains itself');
  ancestors.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      path.push(i);
      if (!(i in obj)) fail(path, 'a hole in a sparse array is not JSON');
      out += (i === 0 ? '' : ',') + write(obj[i], path, ancestors);
      path.pop();
    }
    out += ']';
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      // Dates, Buffers, Maps and class instances have no single JSON form: the caller chooses one.
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      fail(path, `a ${name} is not a plain object (convert it to JSON data first)`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) fail(path, 'symbol keys are not JSON');
    // The default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(obj).sort();
    out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      path.push(k);
      if (!k.isWellFormed()) fail(path, 'key contains an unpaired UTF-16 surrogate');
      out += (i === 0 ? '' : ',') + JSON.stringify(k) + ':' + write((obj as Record<string, unknown>)[k], path, ancestors);
      path.pop();
    }
    out += '}';
  }
  ancestors.delete(obj);
  return out;
}

/** True when `text` is exactly the canonical form of the JSON it encodes. */
export function isCanonicalJson(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  try {
    return canonicalize(parsed) === text;
  } catch {
    return false;
  }
}
