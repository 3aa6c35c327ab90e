// Packet capture for DaemonEye: the public surface of src/sources/pcap.
//
//   openOffline(path)              pcap/pcapng files -> PacketBatch (sync or async iteration)
//   new LiveCapture(o, h)          live capture on a worker thread -> PacketBatch callbacks, pcap_stats
//   new CollectorPacketSource(...) the agent's end of the collector's packet socket (batches, flows, stats, drops)
//   CollectorCapture.start(...)    the collector's packet side (capture + XDP, forwarded unchanged)
//   new XdpFlowAccounting(o, f)    per-flow counters from XDP (received) and TC egress (sent)
//   decodeFlowRecords(buf, clock)  FLOWS payloads -> FlowCounter[]
//   checkCaptureFilter(f)          DE_PCAP_FILTER with the column and token at fault, no privileges needed
//   forEachPacket(buf, fn)         walk a batch without copies (batch-format.ts, the layout contract)
//
// Every batch is one Buffer of records `u32 ts_sec | u32 ts_nsec | u32 caplen | u32 wirelen |
// bytes | pad to 4` (little-endian) with the DLT link type beside it; see batch-format.ts.
export { encodePacketRecord, forEachPacket, LinkType, RECORD_HEADER_BYTES, type PacketBatch, type PacketRef } from './batch-format.ts';
export { openOffline, type OfflineCapture, type OfflineOptions } from './offline-reader.ts';
export { LiveCapture, type CaptureStats, type LiveCaptureHandlers, type LiveCaptureOptions } from './live-capture.ts';
export { CollectorPacketSource, type CaptureDrops, type PacketSourceHandlers } from './collector-packet-source.ts';
export { CollectorCapture, collectorCaptureArgs, type CollectorCaptureSettings } from './collector-capture.ts';
export { XdpFlowAccounting, type XdpCounters, type XdpFlowOptions } from './xdp-flow-accounting.ts';
export { decodeFlowRecords, FlowDirection, type BootClockAnchor, type FlowCounter } from './flow-records.ts';
export { CONTENT_FILTER } from './content-filter.ts';
export { checkCaptureFilter } from './filter-check.ts';
export { locateFilterError, type FilterErrorPosition } from './filter-error.ts';
export { loadPcapAddon, PCAP_ADDON_PATH, type PcapAddon } from './native-pcap.ts';
