// Layering config sources: mappings merge key by key, everything else (lists included) replaces.
// Lists replace rather than append so a file can shorten a default list, e.g. env_allowlist.

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` on top of `base`; undefined in `over` means "not given" (unset CLI flags). Pure. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    // Layers are validated before merging, so this is defence in depth against prototype pollution.
    if (key === '__proto__') continue;
    out[key] = deepMerge(base[key], value);
  }
  return out;
}

/** Sets data[path] = value, creating mappings on the way (replacing non-mappings in the way). */
export function setIn(data: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = data;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    node = node[seg] = isPlainObject(next) ? next : {};
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = deepMerge(node[last], value);
}

/** Drops undefined values, so `{ agent: { data_dir: undefined } }` from unset flags adds nothing. */
export function withoutUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUndefined);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && k !== '__proto__') out[k] = withoutUndefined(x);
  return out;
}
