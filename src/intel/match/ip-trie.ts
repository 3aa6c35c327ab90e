// A binary prefix trie over address bits: every CIDR range containing an address is found in at
// most 32 (IPv4) or 128 (IPv6) steps, however many ranges are loaded.
import type { IpRange } from '../pattern/ip.ts';

interface Node<T> {
  zero: Node<T> | null;
  one: Node<T> | null;
  items: T[] | null;
}

const node = <T>(): Node<T> => ({ zero: null, one: null, items: null });

export class IpTrie<T> {
  readonly #v4: Node<T> = node();
  readonly #v6: Node<T> = node();
  size = 0;

  insert(range: IpRange, item: T): void {
    let n = range.bits === 32 ? this.#v4 : this.#v6;
    for (let i = 0; i < range.prefix; i += 1) {
      const bit = (range.bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      const next = bit === 0 ? n.zero : n.one;
      if (next !== null) { n = next; continue; }
      const created = node<T>();
      if (bit === 0) n.zero = created; else n.one = created;
      n = created;
    }
    (n.items ??= []).push(item);
    this.size += 1;
  }

  /** Items of every range containing the address (4 or 16 bytes). */
  lookup(address: Uint8Array, visit: (item: T) => void): void {
    let n: Node<T> | null = address.length === 4 ? this.#v4 : this.#v6;
    const bits = address.length * 8;
    for (let i = 0; n !== null; i += 1) {
      if (n.items !== null) for (const it of n.items) visit(it);
      if (i === bits) break;
      n = ((address[i >> 3]! >> (7 - (i & 7))) & 1) === 0 ? n.zero : n.one;
    }
  }
}
