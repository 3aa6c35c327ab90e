/*
 * daemoneye_xdp: loads flow.bpf.c (embedded through the bpftool skeleton), attaches it to one
 * interface with a BPF link, and reads its LRU flow map on request.
 *
 * Why a BPF link rather than the netlink attach tcpdump-era tools use: a link belongs to the file
 * descriptor, so if the collector dies the kernel detaches the program itself. A program attached
 * the old way (by an older build, or by hand with bpftool) survives its loader; attach() finds one
 * by its name on the interface and removes it before attaching, and refuses to touch anybody
 * else's program.
 *
 * read() is called from the JS thread every poll interval: it walks the map in batches
 * (bpf_map_lookup_batch, one syscall per few thousand flows) and returns the flows updated since
 * the previous read as one Buffer of fixed records (struct de_flow_key + struct de_flow_val),
 * decoded by src/sources/pcap/flow-records.ts. Idle flows are deleted after their last report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <node_api.h>
#include "napi-helpers.h"

#include "flow.h"
#include "flow.skel.h"

#define RECORD_BYTES (sizeof(struct de_flow_key) + sizeof(struct de_flow_val))
#define LOOKUP_CHUNK 4096u

struct xdp {
	struct flow_bpf *skel;
	struct bpf_link *link;
	bool tc_attached;
	int ifindex;
	char ifname[IF_NAMESIZE];
	__u64 last_read_ns; /* flows with last_ns above it are reported by the next read */
	bool closed;
};

static __u64 boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* libbpf diagnostics for error messages; the previous print function is restored after use. */
static char log_buf[8192];
static size_t log_len;
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG || log_len >= sizeof(log_buf) - 1)
		return 0;
	n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
	if (n > 0)
		log_len += (size_t)n;
	if (log_len > sizeof(log_buf) - 1)
		log_len = sizeof(log_buf) - 1;
	return 0;
}

static const char *mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	default:
		return "none";
	}
}

/* The program attached to ifindex now, if any: id, name, mode, and whether a link owns it. */
struct attached {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u8 mode;
};

static int query_attached(int ifindex, struct attached *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, err;

	memset(out, 0, sizeof(*out));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	out->mode = q.attach_mode;
	out->id = q.prog_id ? q.prog_id : (q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id);
	if (!out->id)
		return 0;
	fd = bpf_prog_get_fd_by_id(out->id);
	if (fd < 0)
		return 0; /* went away meanwhile */
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(out->name, sizeof(out->name), "%s", info.name);
	close(fd);
	return 0;
}

/* libbpf warns on stderr when a TC query finds nothing, which is our normal case: mute it. */
static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void tc_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DE_TC_HANDLE, .priority = DE_TC_PRIORITY);
	libbpf_print_fn_t old = libbpf_set_print(silent_print);

	bpf_tc_detach(&hook, &opts);
	libbpf_set_print(old);
}

/* Name of the TC egress program at our handle/priority, "" if none. Returns its id. */
static __u32 tc_query(int ifindex, char *name, size_t cap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DE_TC_HANDLE, .priority = DE_TC_PRIORITY);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd;

	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int qerr = bpf_tc_query(&hook, &opts);

	libbpf_set_print(old);
	name[0] = 0;
	if (qerr != 0 || !opts.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			snprintf(name, cap, "%s", info.name);
		close(fd);
	}
	return opts.prog_id;
}

/*
 * TC egress at our fixed handle/priority. Unlike the XDP link, a TC filter outlives a crashed
 * collector, so one found there with our program's name is replaced. The clsact qdisc is left in
 * place on detach: other tools may have filters on it.
 */
static int tc_attach_quiet(struct xdp *X, char *err, size_t cap, __u32 *removed_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = X->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DE_TC_HANDLE, .priority = DE_TC_PRIORITY,
		    .prog_fd = bpf_program__fd(X->skel->progs.de_tc_flow));
	char name[BPF_OBJ_NAME_LEN];
	__u32 id;
	int e = bpf_tc_hook_create(&hook);

	*removed_id = 0;
	if (e && e != -EEXIST) {
		snprintf(err, cap, "creating the clsact qdisc failed: %s", strerror(-e));
		return e;
	}
	id = tc_query(X->ifindex, name, sizeof(name));
	if (id) {
		if (strcmp(name, DE_TC_PROG_NAME) != 0) {
			snprintf(err, cap, "another TC egress filter (%s, id %u) holds handle 0x%x priority 0x%x", name[0] ? name : "unnamed", id, DE_TC_HANDLE, DE_TC_PRIORITY);
			return -EBUSY;
		}
		tc_detach(X->ifindex);
		*removed_id = id;
	}
	e = bpf_tc_attach(&hook, &opts);
	if (e) {
		snprintf(err, cap, "attaching TC egress failed: %s", strerror(-e));
		return e;
	}
	X->tc_attached = true;
	return 0;
}

/* Errors come back in err; libbpf's own stderr lines for expected cases (EEXIST) are muted. */
static int tc_attach(struct xdp *X, char *err, size_t cap, __u32 *removed_id)
{
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int e = tc_attach_quiet(X, err, cap, removed_id);

	libbpf_set_print(old);
	return e;
}

static void xdp_teardown(struct xdp *X)
{
	if (X->closed)
		return;
	X->closed = true;
	if (X->tc_attached) {
		tc_detach(X->ifindex);
		X->tc_attached = false;
	}
	if (X->link) {
		bpf_link__destroy(X->link); /* detaches */
		X->link = NULL;
	}
	flow_bpf__destroy(X->skel);
	X->skel = NULL;
}

static void xdp_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	xdp_teardown(data);
	free(data);
}

static struct xdp *get_xdp(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok)
		return NULL;
	return data;
}

static char *arg_string(napi_env env, napi_value v, char *buf, size_t cap)
{
	size_t len = 0;

	if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok)
		return NULL;
	return buf;
}

/*
 * attach(ifname, { maxFlows }) -> { handle, ifindex, mode, removed: { id, name } | null }
 * Throws DE_PCAP_XDP (with libbpf's log) or DE_PCAP_NO_DEVICE.
 */
static napi_value js_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], result, handle, removed;
	char ifname[IF_NAMESIZE + 1] = "";
	uint32_t max_flows = 65536;
	bool egress = true;
	char egress_status[300] = "off";
	napi_value result_extra;
	libbpf_print_fn_t old_print;
	struct attached cur;
	struct xdp *X;
	int err;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || !arg_string(env, argv[0], ifname, sizeof(ifname)) || !ifname[0])
		return throw_code(env, "DE_PCAP_ARGS", "attach(ifname, options): ifname must be an interface name");
	if (argc >= 2) {
		napi_value v;
		bool has = false;

		if (napi_has_named_property(env, argv[1], "maxFlows", &has) == napi_ok && has) {
			napi_get_named_property(env, argv[1], "maxFlows", &v);
			napi_get_value_uint32(env, v, &max_flows);
		}
		if (napi_has_named_property(env, argv[1], "egress", &has) == napi_ok && has) {
			napi_get_named_property(env, argv[1], "egress", &v);
			napi_get_value_bool(env, v, &egress);
		}
	}
	if (max_flows < 1024 || max_flows > (1u << 24))
		return throw_code(env, "DE_PCAP_ARGS", "maxFlows must be between 1024 and %u, got %u", 1u << 24, max_flows);

	X = calloc(1, sizeof(*X));
	if (!X)
		return throw_code(env, "DE_PCAP_XDP", "out of memory");
	snprintf(X->ifname, sizeof(X->ifname), "%s", ifname);
	X->ifindex = (int)if_nametoindex(ifname);
	if (!X->ifindex) {
		free(X);
		return throw_code(env, "DE_PCAP_NO_DEVICE", "no interface named %s for XDP flow accounting", ifname);
	}

	napi_get_null(env, &removed);
	napi_create_object(env, &result_extra);
	{
		napi_value nul;

		napi_get_null(env, &nul);
		napi_set_named_property(env, result_extra, "removedTc", nul);
	}
	if (query_attached(X->ifindex, &cur) == 0 && cur.id) {
		if (strcmp(cur.name, DE_FLOW_PROG_NAME) != 0) {
			free(X);
			return throw_code(env, "DE_PCAP_XDP",
					  "%s already runs another XDP program (%s, id %u, %s mode); DaemonEye will not replace it",
					  ifname, cur.name[0] ? cur.name : "unnamed", cur.id, mode_name(cur.mode));
		}
		/*
		 * Ours, left by a crashed older build or attached by hand. A live collector's link cannot
		 * be detached this way (the kernel answers EBUSY), so a running collector is never robbed.
		 */
		err = bpf_xdp_detach(X->ifindex, cur.mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : (cur.mode == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE : 0), NULL);
		if (err) {
			free(X);
			return throw_code(env, "DE_PCAP_XDP", "%s: a DaemonEye XDP program (id %u) is attached and could not be removed (%s): is another collector running on this interface?",
					  ifname, cur.id, strerror(-err));
		}
		napi_create_object(env, &removed);
		napi_set_named_property(env, removed, "id", num(env, cur.id));
		napi_set_named_property(env, removed, "name", str(env, cur.name));
	}

	log_len = 0;
	log_buf[0] = 0;
	old_print = libbpf_set_print(print_fn);
	X->skel = flow_bpf__open();
	if (!X->skel) {
		libbpf_set_print(old_print);
		free(X);
		return throw_code(env, "DE_PCAP_XDP", "opening the embedded XDP object failed: %s %s", strerror(errno), log_buf);
	}
	bpf_map__set_max_entries(X->skel->maps.flows, max_flows);
	err = flow_bpf__load(X->skel);
	if (err) {
		libbpf_set_print(old_print);
		xdp_teardown(X);
		free(X);
		return throw_code(env, "DE_PCAP_XDP", "the kernel refused the XDP program (%s): %s", strerror(-err), log_buf);
	}
	/* The TC program is attached by tc_attach(), never by the skeleton. */
	X->link = bpf_program__attach_xdp(X->skel->progs.de_xdp_flow, X->ifindex);
	libbpf_set_print(old_print);
	if (!X->link) {
		err = -errno;
		xdp_teardown(X);
		free(X);
		return throw_code(env, "DE_PCAP_XDP", "attaching XDP to %s failed (%s): %s", ifname, strerror(-err), log_buf);
	}
	X->last_read_ns = 0;
	query_attached(X->ifindex, &cur);
	{
		char tc_err[256] = "";
		__u32 tc_removed = 0;

		/* Egress is best effort: without it the flows still count every received packet. */
		if (egress && tc_attach(X, tc_err, sizeof(tc_err), &tc_removed) != 0)
			snprintf(egress_status, sizeof(egress_status), "%s", tc_err);
		else if (egress)
			snprintf(egress_status, sizeof(egress_status), "ok");
		if (tc_removed) {
			napi_value r;

			napi_create_object(env, &r);
			napi_set_named_property(env, r, "id", num(env, tc_removed));
			napi_set_named_property(env, r, "name", str(env, DE_TC_PROG_NAME));
			napi_set_named_property(env, result_extra, "removedTc", r);
		}
	}

	napi_create_external(env, X, xdp_finalize, NULL, &handle);
	napi_create_object(env, &result);
	napi_set_named_property(env, result, "handle", handle);
	napi_set_named_property(env, result, "ifindex", num(env, X->ifindex));
	napi_set_named_property(env, result, "mode", str(env, mode_name(cur.mode)));
	napi_set_named_property(env, result, "programId", num(env, cur.id));
	napi_set_named_property(env, result, "removed", removed);
	napi_set_named_property(env, result, "egress", str(env, egress_status));
	{
		napi_value v;

		napi_get_named_property(env, result_extra, "removedTc", &v);
		napi_set_named_property(env, result, "removedTc", v);
	}
	return result;
}

/*
 * read(handle, idleNs) -> Buffer of records for flows updated since the last read. Flows idle for
 * idleNs (0: never) are reported one last time and deleted, so the map holds live flows and the
 * LRU only evicts under real pressure.
 */
static napi_value js_read(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], buf;
	struct xdp *X;
	double idle = 0;
	__u64 idle_ns, started, threshold;
	int fd;
	size_t cap = 64 * RECORD_BYTES, len = 0, ndel = 0, delcap = 0;
	unsigned char *out = NULL;
	struct de_flow_key *keys = NULL, *del = NULL;
	struct de_flow_val *vals = NULL;
	void *copy;
	bool batch_ok = true;
	__u32 in_batch = 0, out_batch = 0;
	bool first = true;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	X = argc ? get_xdp(env, argv[0]) : NULL;
	if (!X || X->closed)
		return throw_code(env, "DE_PCAP_ARGS", "read(handle): not an attached XDP handle");
	if (argc >= 2)
		napi_get_value_double(env, argv[1], &idle);
	idle_ns = idle > 0 ? (__u64)idle : 0;
	fd = bpf_map__fd(X->skel->maps.flows);
	started = boottime_ns();
	threshold = X->last_read_ns;

	out = malloc(cap);
	keys = calloc(LOOKUP_CHUNK, sizeof(*keys));
	vals = calloc(LOOKUP_CHUNK, sizeof(*vals));
	if (!out || !keys || !vals)
		goto oom;

#define TAKE(K, V)                                                                                  \
	do {                                                                                        \
		bool idle_ = idle_ns && (V)->last_ns + idle_ns < started;                           \
		if ((V)->last_ns > threshold || idle_) {                                            \
			if (len + RECORD_BYTES > cap) {                                             \
				unsigned char *n_ = realloc(out, cap * 2);                          \
				if (!n_)                                                            \
					goto oom;                                                   \
				out = n_;                                                           \
				cap *= 2;                                                           \
			}                                                                           \
			memcpy(out + len, (K), sizeof(struct de_flow_key));                         \
			memcpy(out + len + sizeof(struct de_flow_key), (V), sizeof(struct de_flow_val)); \
			len += RECORD_BYTES;                                                        \
		}                                                                                   \
		if (idle_) {                                                                        \
			if (ndel == delcap) {                                                       \
				struct de_flow_key *n_ = realloc(del, (delcap ? delcap * 2 : 256) * sizeof(*del)); \
				if (!n_)                                                            \
					goto oom;                                                   \
				del = n_;                                                           \
				delcap = delcap ? delcap * 2 : 256;                                 \
			}                                                                           \
			del[ndel++] = *(K);                                                         \
		}                                                                                   \
	} while (0)

	/* Batched walk (one syscall per chunk); older kernels fall back to key-by-key. */
	for (;;) {
		__u32 count = LOOKUP_CHUNK;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals, &count, NULL);

		first = false;
		if (err && errno != ENOENT) {
			if (len == 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == 524 /* ENOTSUPP */))
				batch_ok = false;
			break;
		}
		for (__u32 i = 0; i < count; i++)
			TAKE(&keys[i], &vals[i]);
		if (err) /* ENOENT: that was the last chunk */
			break;
		in_batch = out_batch;
	}
	if (!batch_ok) {
		struct de_flow_key k, next;
		struct de_flow_val v;
		int more = bpf_map_get_next_key(fd, NULL, &next);

		while (more == 0) {
			k = next;
			more = bpf_map_get_next_key(fd, &k, &next);
			if (bpf_map_lookup_elem(fd, &k, &v) == 0)
				TAKE(&k, &v);
		}
	}
#undef TAKE
	for (size_t i = 0; i < ndel; i++)
		bpf_map_delete_elem(fd, &del[i]);
	X->last_read_ns = started;
	free(keys);
	free(vals);
	free(del);
	if (napi_create_buffer_copy(env, len, out, &copy, &buf) != napi_ok) {
		free(out);
		return throw_code(env, "DE_PCAP_XDP", "out of memory");
	}
	free(out);
	return buf;
oom:
	free(out);
	free(keys);
	free(vals);
	free(del);
	return throw_code(env, "DE_PCAP_XDP", "out of memory reading the flow map");
}

/* counters(handle) -> { packets, bytes, nonIp, malformed, updateFailures } summed over CPUs. */
static napi_value js_counters(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	struct xdp *X;
	static const char *names[DE_FLOW_CTR_MAX] = { "packets", "bytes", "nonIp", "malformed", "updateFailures" };
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	X = argc ? get_xdp(env, argv[0]) : NULL;
	if (!X || X->closed)
		return throw_code(env, "DE_PCAP_ARGS", "counters(handle): not an attached XDP handle");
	napi_create_object(env, &o);
	vals = ncpu > 0 ? calloc((size_t)ncpu, sizeof(__u64)) : NULL;
	for (__u32 i = 0; i < DE_FLOW_CTR_MAX; i++) {
		__u64 sum = 0;

		if (vals && bpf_map_lookup_elem(bpf_map__fd(X->skel->maps.counters), &i, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += vals[c];
		napi_set_named_property(env, o, names[i], num(env, (double)sum));
	}
	free(vals);
	return o;
}

static napi_value js_detach(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], undef;
	struct xdp *X;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	X = argc ? get_xdp(env, argv[0]) : NULL;
	if (X)
		xdp_teardown(X);
	napi_get_undefined(env, &undef);
	return undef;
}

/* attached(ifname) -> { id, name, mode } | null: what XDP program the interface runs now. */
static napi_value js_attached(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	char ifname[IF_NAMESIZE + 1] = "";
	struct attached cur;
	int ifindex;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || !arg_string(env, argv[0], ifname, sizeof(ifname)))
		return throw_code(env, "DE_PCAP_ARGS", "attached(ifname): ifname must be a string");
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return throw_code(env, "DE_PCAP_NO_DEVICE", "no interface named %s", ifname);
	if (query_attached(ifindex, &cur) != 0 || !cur.id) {
		napi_get_null(env, &o);
		return o;
	}
	napi_create_object(env, &o);
	napi_set_named_property(env, o, "id", num(env, cur.id));
	napi_set_named_property(env, o, "name", str(env, cur.name));
	napi_set_named_property(env, o, "mode", str(env, mode_name(cur.mode)));
	return o;
}

/* tcEgress(ifname) -> { id, name } | null: the TC egress program at our handle/priority. */
static napi_value js_tc_egress(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	char ifname[IF_NAMESIZE + 1] = "", name[BPF_OBJ_NAME_LEN];
	int ifindex;
	__u32 id;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || !arg_string(env, argv[0], ifname, sizeof(ifname)))
		return throw_code(env, "DE_PCAP_ARGS", "tcEgress(ifname): ifname must be a string");
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return throw_code(env, "DE_PCAP_NO_DEVICE", "no interface named %s", ifname);
	id = tc_query(ifindex, name, sizeof(name));
	if (!id) {
		napi_get_null(env, &o);
		return o;
	}
	napi_create_object(env, &o);
	napi_set_named_property(env, o, "id", num(env, id));
	napi_set_named_property(env, o, "name", str(env, name));
	return o;
}

static napi_value js_boottime_ns(napi_env env, napi_callback_info info)
{
	napi_value v;

	(void)info;
	napi_create_bigint_uint64(env, boottime_ns(), &v);
	return v;
}

static void field(napi_env env, napi_value fields, const char *n, size_t off, size_t size)
{
	napi_value f;

	napi_create_object(env, &f);
	napi_set_named_property(env, f, "offset", num(env, (double)off));
	napi_set_named_property(env, f, "size", num(env, (double)size));
	napi_set_named_property(env, fields, n, f);
}

#define FSIZE(T, m) sizeof(((T *)0)->m)
#define KF(m) field(env, fields, #m, offsetof(struct de_flow_key, m), FSIZE(struct de_flow_key, m))
#define VF(m) field(env, fields, #m, sizeof(struct de_flow_key) + offsetof(struct de_flow_val, m), FSIZE(struct de_flow_val, m))

/* layout() -> { recordBytes, fields: { name: { offset, size } } } for the TS decoder's test. */
static napi_value js_layout(napi_env env, napi_callback_info info)
{
	napi_value out, fields;

	(void)info;
	napi_create_object(env, &out);
	napi_create_object(env, &fields);
	KF(family);
	KF(proto);
	KF(vlan);
	KF(sport);
	KF(dport);
	KF(saddr);
	KF(daddr);
	VF(packets);
	VF(bytes);
	VF(first_ns);
	VF(last_ns);
	VF(tcp_flags);
	VF(dirs);
	napi_set_named_property(env, out, "recordBytes", num(env, RECORD_BYTES));
	napi_set_named_property(env, out, "fields", fields);
	napi_set_named_property(env, out, "programName", str(env, DE_FLOW_PROG_NAME));
	return out;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL },
		{ "read", NULL, js_read, NULL, NULL, NULL, napi_default, NULL },
		{ "counters", NULL, js_counters, NULL, NULL, NULL, napi_default, NULL },
		{ "detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL },
		{ "attached", NULL, js_attached, NULL, NULL, NULL, napi_default, NULL },
		{ "tcEgress", NULL, js_tc_egress, NULL, NULL, NULL, napi_default, NULL },
		{ "boottimeNs", NULL, js_boottime_ns, NULL, NULL, NULL, napi_default, NULL },
		{ "layout", NULL, js_layout, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	return exports;
}
