// /etc/passwd: "name:password:uid:gid:gecos:home:shell". Only local accounts are seen here; names
// served by NSS modules (LDAP, sssd) are not, and those rows keep user_name null.
import { parseDecimal } from './parse-decimal.ts';

/** uid → user name. Malformed lines are skipped; the first line for a uid wins, as getpwuid does. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    const fields = line.split(':');
    if (fields.length < 4 || fields[0] === '') continue;
    const uid = parseDecimal(fields[2]!);
    if (uid === null || uid < 0 || names.has(uid)) continue;
    names.set(uid, fields[0]!);
  }
  return names;
}
