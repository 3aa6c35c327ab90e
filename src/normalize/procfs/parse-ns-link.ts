// The target of a /proc/PID/ns/* link is "type:[inode]", e.g. "pid:[4026531836]". Two processes share
// a namespace exactly when the inode numbers are equal, so the number is what is kept.
import { parseDecimal } from './parse-decimal.ts';

/** The namespace inode of a ns link target, or null when it is not "type:[digits]". */
export function parseNsLink(target: string): number | null {
  const open = target.indexOf(':[');
  if (open <= 0 || target.charCodeAt(target.length - 1) !== 93 /* ] */) return null;
  const inode = parseDecimal(target.slice(open + 2, -1));
  return inode !== null && inode > 0 ? inode : null;
}
