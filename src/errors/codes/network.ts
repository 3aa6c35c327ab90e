// Error codes for packet capture, decoding and flows (DE_PCAP_*, DE_NET_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const NETWORK_ERRORS = {
  DE_PCAP_ARGS: {
    summary: 'the capture was opened with invalid options (snap length, buffer size, handle)',
    hint: 'max_packet_size must be 64..262144 and buffer_size_mb 1..4096; see enterprise.network_monitoring in docs/configuration.md',
    exit: 2,
  },
  DE_PCAP_OPEN: {
    summary: 'libpcap could not open or activate the capture interface',
    hint: 'the message carries libpcap\'s reason; check the interface is up (`ip link`) and run `daemoneye doctor`',
    exit: 4,
  },
  DE_PCAP_NO_DEVICE: {
    summary: 'the capture interface does not exist',
    hint: 'list interfaces with `ip -br link` and set enterprise.network_monitoring.capture_interface (or --interface); `any` captures on all',
    exit: 4,
  },
  DE_PCAP_PERMISSION: {
    summary: 'capturing packets needs privileges this process does not have',
    hint: 'run as root (or grant CAP_NET_RAW and CAP_NET_ADMIN); under `daemoneye run` the privileged collector opens the capture',
    exit: 4,
  },
  DE_PCAP_FILTER: {
    summary: 'the capture filter is not a valid BPF filter expression',
    hint: 'fix the expression at the position shown (pcap-filter(7) syntax, e.g. `tcp port 443 or udp port 53`); `tcpdump -d EXPR` checks it too',
    exit: 2,
  },
  DE_PCAP_FILE: {
    summary: 'a capture file cannot be read: missing, not pcap/pcapng, truncated or corrupt',
    hint: 'check the path; packets before the damage were delivered. `tshark -r FILE` or `capinfos FILE` shows what is wrong with the file',
    exit: 3,
  },
  DE_PCAP_WRITE: {
    summary: 'the capture output file cannot be created or written',
    hint: 'check that the directory exists and is writable, and that the disk is not full',
    exit: 3,
  },
  DE_PCAP_CAPTURE: {
    summary: 'a running capture stopped with an error (interface removed or down)',
    hint: 'the message carries libpcap\'s reason; bring the interface back and restart the capture',
    exit: 4,
  },
  DE_PCAP_XDP: {
    summary: 'the XDP flow-accounting program could not be loaded, attached or read',
    hint: 'needs root, a kernel with BTF and XDP support on the interface; set enterprise.network_monitoring.flow_accounting to off to capture without it',
    exit: 4,
  },
  DE_NET_LINKTYPE: {
    summary: 'the capture file\'s link type is not one the decoders read',
    hint: 'supported: Ethernet (EN10MB, with 802.1Q/QinQ), Linux cooked v1/v2 (SLL, SLL2), raw IP, BSD loopback (NULL); convert with `editcap -T ether` or capture on an Ethernet or `any` interface',
    exit: 2,
  },
} as const satisfies Record<string, ErrorSpec>;
