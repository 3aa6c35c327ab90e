// procfs prints integers in plain decimal. Number() would also accept '', ' ', '0x1f' and '1e3', which
// would let a corrupt or hostile file pass as valid numbers, so digits are checked one by one.

/** A base-10 integer (optional leading '-'), or null when `text` is anything else or not a safe integer. */
export function parseDecimal(text: string): number | null {
  const len = text.length;
  let i = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (i === len || len - i > 16) return null;
  let value = 0;
  for (; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  if (!Number.isSafeInteger(value)) return null;
  return text.charCodeAt(0) === 45 ? -value : value;
}
