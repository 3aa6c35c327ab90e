// @peculiar/x509 registers its algorithms in a tsyringe container, and tsyringe refuses to load
// unless a Reflect metadata API exists (the `reflect-metadata` package is not installed here).
// x509's classes take no constructor parameters, so the only metadata tsyringe ever reads is
// absent; a small WeakMap-backed implementation of the four functions it calls is enough.
// Import this module before '@peculiar/x509' (ESM evaluates imports in order).
type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();
const r = Reflect as unknown as Record<string, unknown>;
if (typeof r['getMetadata'] !== 'function') {
  const own = (target: Target, create: boolean) => {
    let m = store.get(target);
    if (m === undefined && create) store.set(target, (m = new Map()));
    return m;
  };
  r['defineMetadata'] = (key: unknown, value: unknown, target: Target) => { own(target, true)!.set(key, value); };
  r['getOwnMetadata'] = (key: unknown, target: Target) => own(target, false)?.get(key);
  r['hasMetadata'] = (key: unknown, target: Target) => (r['getMetadata'] as (k: unknown, t: Target) => unknown)(key, target) !== undefined;
  r['getMetadata'] = (key: unknown, target: Target): unknown => {
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const m = own(t, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  r['metadata'] = (key: unknown, value: unknown) => (target: Target) => { own(target, true)!.set(key, value); };
}
export {};
