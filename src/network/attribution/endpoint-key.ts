// Socket identity as text, the same on every path: IPv4-mapped IPv6 addresses are shown as dotted
// quads (the packet decoder does the same), so a v4 flow matches a dual-stack socket.

export function normalizeAddress(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1]! : a.toLowerCase();
}

export function socketKey(protocol: string, localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string {
  return `${protocol}|${normalizeAddress(localAddress)}|${localPort}|${normalizeAddress(remoteAddress)}|${remotePort}`;
}

/** A map that forgets its oldest entries beyond `max` (insertion order). */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #max: number;
  constructor(max: number) {
    super();
    this.#max = max;
  }
  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    super.set(key, value);
    if (this.size > this.#max) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return this;
  }
}
