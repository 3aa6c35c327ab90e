/*
 * XDP flow accounting records: shared by flow.bpf.c (kernel), xdp-addon.c (user space) and,
 * through the addon's layout(), checked against src/sources/pcap/flow-records.ts.
 * Append-only: a new field goes at the end of the struct, never in the middle.
 */
#ifndef DAEMONEYE_FLOW_H
#define DAEMONEYE_FLOW_H

#define DE_FLOW_PROG_NAME "de_xdp_flow"

/* One direction of a flow as it arrives on the interface (XDP sees ingress only). */
struct de_flow_key {
	__u8 family; /* 4 or 6 */
	__u8 proto;  /* IPPROTO_* */
	__u16 vlan;  /* outer 802.1Q id, 0 untagged */
	__u16 sport; /* host order; ICMP: type */
	__u16 dport; /* host order; ICMP: code */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

struct de_flow_val {
	__u64 packets;
	__u64 bytes;    /* L2 frame bytes as received */
	__u64 first_ns; /* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) */
	__u64 last_ns;
	__u8 tcp_flags; /* OR of every packet's flags */
	__u8 dirs;      /* DE_FLOW_DIR_* of the hooks that saw it */
	__u8 _pad[6];
};

#define DE_FLOW_DIR_INGRESS 1 /* XDP */
#define DE_FLOW_DIR_EGRESS 2  /* TC egress */

/* Where the TC egress filter sits, so a leftover of ours can be found and removed. */
#define DE_TC_HANDLE 0xde
#define DE_TC_PRIORITY 0xde
#define DE_TC_PROG_NAME "de_tc_flow"

/* Per-CPU counters of the program itself. */
enum de_flow_counter {
	DE_FLOW_CTR_PACKETS = 0,
	DE_FLOW_CTR_BYTES = 1,
	DE_FLOW_CTR_NON_IP = 2,   /* ARP, LLDP, ...: counted, not keyed */
	DE_FLOW_CTR_MALFORMED = 3, /* headers cut short or inconsistent */
	DE_FLOW_CTR_UPDATE_FAIL = 4,
	DE_FLOW_CTR_MAX = 5,
};

#endif
