// Checks a capture filter without privileges (a dead libpcap handle of the capture's link type)
// and turns libpcap's message into DE_PCAP_FILTER with the column and token at fault.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { LinkType } from './batch-format.ts';
import { describeFilterError, locateFilterError } from './filter-error.ts';
import { loadPcapAddon, type PcapAddon } from './native-pcap.ts';

/** The DE_PCAP_FILTER error for `filter`, whose compile failed with `message`. */
export function filterError(filter: string, message: string, linktype: number, addon: PcapAddon, cause?: unknown): DaemonEyeError {
  const pos = locateFilterError(filter, message, (expr) => addon.checkFilter(expr, linktype, 65535));
  const err = new DaemonEyeError('DE_PCAP_FILTER', describeFilterError(filter, message, pos), { cause });
  return Object.assign(err, { column: pos.column, token: pos.token });
}

/**
 * Throws DE_PCAP_FILTER (with `column` and `token`) when `filter` does not compile for `linktype`
 * (default Ethernet). Needs no privileges; `config check` and `doctor` can call it.
 */
export function checkCaptureFilter(filter: string, linktype: number = LinkType.EN10MB, addon: PcapAddon = loadPcapAddon()): void {
  const message = addon.checkFilter(filter, linktype, 65535);
  if (message !== null) throw filterError(filter, message, linktype, addon);
}
