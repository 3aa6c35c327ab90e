// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * XDP flow accounting: per-flow packet and byte counters in an LRU hash, read periodically by the
 * collector, so volume telemetry costs one map update per packet and no copy to user space.
 * Every packet is passed on (XDP_PASS): this program only counts; content decoding happens on the
 * packets the capture filter selects.
 *
 * Plain header parsing with explicit bounds checks (the verifier demands them); no CO-RE needed
 * since only packet memory is read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flow.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#define DE_IPPROTO_ICMPV6 58

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* set from user space before load */
	__type(key, struct de_flow_key);
	__type(value, struct de_flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DE_FLOW_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += n; /* per-CPU: no atomics needed */
}

struct vlan_hdr_de {
	__be16 tci;
	__be16 proto;
};

static __always_inline int parse_ports(void *l4, void *end, __u8 proto, struct de_flow_key *k, __u8 *flags)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *t = l4;

		if ((void *)(t + 1) > end)
			return -1;
		k->sport = bpf_ntohs(t->source);
		k->dport = bpf_ntohs(t->dest);
		*flags = ((__u8 *)t)[13];
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *u = l4;

		if ((void *)(u + 1) > end)
			return -1;
		k->sport = bpf_ntohs(u->source);
		k->dport = bpf_ntohs(u->dest);
	} else if (proto == IPPROTO_ICMP || proto == DE_IPPROTO_ICMPV6) {
		__u8 *ic = l4;

		if ((void *)(ic + 2) > end)
			return -1;
		k->sport = ic[0];
		k->dport = ic[1];
	}
	return 0;
}

/* Keys one packet and adds it to its flow; every outcome is counted, nothing is dropped. */
static __always_inline void account(void *data, void *end, __u64 len, __u8 dir)
{
	struct ethhdr *eth = data;
	struct de_flow_key k = {};
	struct de_flow_val *v;
	__u8 flags = 0;
	__u16 proto;
	void *l3;
	__u64 now;

	count(DE_FLOW_CTR_PACKETS, 1);
	count(DE_FLOW_CTR_BYTES, len);
	if ((void *)(eth + 1) > end)
		goto malformed;
	proto = bpf_ntohs(eth->h_proto);
	l3 = eth + 1;
	/* 802.1Q and QinQ: up to two tags; the outer id is part of the key. */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		struct vlan_hdr_de *vh = l3;

		if ((void *)(vh + 1) > end)
			goto malformed;
		if (i == 0)
			k.vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->proto);
		l3 = vh + 1;
	}

	if (proto == ETH_P_IP) {
		struct iphdr *ip = l3;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			goto malformed;
		ihl = ip->ihl * 4u;
		if (ihl < sizeof(*ip))
			goto malformed;
		k.family = 4;
		k.proto = ip->protocol;
		__builtin_memcpy(k.saddr, &ip->saddr, 4);
		__builtin_memcpy(k.daddr, &ip->daddr, 4);
		/* Later fragments carry no L4 header: they count towards the ports-less key. */
		if (!(bpf_ntohs(ip->frag_off) & IP_OFFSET) && parse_ports((void *)ip + ihl, end, k.proto, &k, &flags) < 0)
			goto malformed;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;
		__u8 nh;
		void *l4;

		if ((void *)(ip6 + 1) > end)
			goto malformed;
		k.family = 6;
		__builtin_memcpy(k.saddr, &ip6->saddr, 16);
		__builtin_memcpy(k.daddr, &ip6->daddr, 16);
		nh = ip6->nexthdr;
		l4 = ip6 + 1;
		/* Walk a few extension headers (hop-by-hop, routing, destination options, fragment). */
#pragma unroll
		for (int i = 0; i < 4; i++) {
			__u8 *ext = l4;

			if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
				break;
			if ((void *)(ext + 8) > end)
				goto malformed;
			if (nh == 44) {
				/* Non-first fragment: no L4 header. */
				if ((bpf_ntohs(*(__be16 *)(ext + 2)) & 0xfff8) != 0) {
					nh = ext[0];
					k.proto = nh;
					goto keyed;
				}
				nh = ext[0];
				l4 = ext + 8;
			} else {
				nh = ext[0];
				l4 = ext + (ext[1] + 1) * 8;
			}
		}
		k.proto = nh;
		if (parse_ports(l4, end, nh, &k, &flags) < 0)
			goto malformed;
	} else {
		count(DE_FLOW_CTR_NON_IP, 1);
		return;
	}
keyed:
	now = bpf_ktime_get_boot_ns();
	v = bpf_map_lookup_elem(&flows, &k);
	if (!v) {
		struct de_flow_val fresh = { .packets = 1, .bytes = len, .first_ns = now, .last_ns = now, .tcp_flags = flags, .dirs = dir };

		if (bpf_map_update_elem(&flows, &k, &fresh, BPF_NOEXIST) == 0)
			return;
		/* Another CPU inserted it first: add to theirs. */
		v = bpf_map_lookup_elem(&flows, &k);
		if (!v) {
			count(DE_FLOW_CTR_UPDATE_FAIL, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
	v->last_ns = now;
	v->tcp_flags |= flags;
	v->dirs |= dir;
	return;
malformed:
	count(DE_FLOW_CTR_MALFORMED, 1);
}

/* Ingress: every frame the interface receives, before the stack allocates anything for it. */
SEC("xdp")
int de_xdp_flow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	account(data, end, (__u64)(end - data), DE_FLOW_DIR_INGRESS);
	return XDP_PASS;
}

/*
 * Egress: XDP has no transmit hook, so the other direction is counted by a TC classifier in
 * direct-action mode. skb->len is the frame length; headers past the linear part (rare on
 * egress) count as malformed rather than costing a bpf_skb_pull_data per packet.
 */
SEC("tc")
int de_tc_flow(struct __sk_buff *skb)
{
	account((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, DE_FLOW_DIR_EGRESS);
	return 0; /* TC_ACT_OK */
}
