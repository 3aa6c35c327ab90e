/*
 * daemoneye_pcap: a small N-API binding over libpcap that moves packets to JavaScript in batches.
 *
 * Why our own binding: the npm bindings deliver one JS callback per packet on the main thread and
 * cannot report drops. Here pcap_dispatch runs on a worker thread and fills ~1 MiB batch Buffers
 * in the layout of src/sources/pcap/batch-format.ts:
 *
 *   u32 LE ts_sec | u32 LE ts_nsec | u32 LE caplen | u32 LE wirelen | caplen bytes | zero pad to 4
 *
 * handed to JS through a napi_threadsafe_function. The same layout comes out of offline reading
 * (pcap and pcapng through pcap_open_offline), so the decoders have one input format.
 *
 * Plain N-API in C (no node-addon-api) keeps the addon free of npm dependencies and ABI-stable
 * across Node versions. libpcap is linked dynamically (Debian's libpcap0.8) so updates apply.
 *
 * Handles are JS externals owning a C struct, so a process may hold several captures (tests do).
 * Thread rules: only the worker thread touches a live pcap_t between open and close (pcap_t is
 * not thread-safe); it also reads pcap_stats into atomics that stats() returns. The JS thread
 * only calls pcap_breakloop (documented as callable from another thread) and, after joining the
 * worker, pcap_close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <node_api.h>
#include "napi-helpers.h"

#define RECORD_HEADER_BYTES 16u
#define DEFAULT_BATCH_BYTES (1u << 20)
#define MAX_SNAPLEN 262144u
/* A batch closes at batch_bytes; the cap leaves room for one more worst-case record. */
#define BATCH_SLACK (MAX_SNAPLEN + RECORD_HEADER_BYTES + 4u)
#define DEFAULT_TIMEOUT_MS 100u
/* Batches queued for the JS thread before the worker waits (and the kernel buffer absorbs). */
#define TSFN_QUEUE_MAX 32
/* How often the worker refreshes pcap_stats for stats(). */
#define STATS_EVERY_MS 250.0

enum batch_kind { BATCH_DATA = 0, BATCH_END = 1 };

struct batch {
	enum batch_kind kind;
	size_t len;
	size_t packets;
	char error[PCAP_ERRBUF_SIZE + 64];
	unsigned char data[];
};

struct live {
	pcap_t *p;
	pcap_dumper_t *dumper;
	napi_threadsafe_function tsfn;
	pthread_t thread;
	bool thread_started;
	bool closed;
	atomic_bool stop;
	bool nano;
	int linktype;
	uint32_t batch_bytes;
	uint32_t batch_ms;
	uint64_t max_packets; /* 0: unlimited */
	uint64_t seen;        /* worker only */
	struct batch *cur;
	struct timespec batch_start;
	struct timespec stats_at;
	atomic_ullong delivered, batches, user_drops, bytes;
	atomic_ullong ps_recv, ps_drop, ps_ifdrop;
	atomic_bool stats_valid;
	char end_error[PCAP_ERRBUF_SIZE];
	napi_env env;
	bool hook; /* an env cleanup hook joins the worker if the process exits with the capture open */
};

struct offline {
	pcap_t *p;
	bool nano;
	int linktype;
	char error[PCAP_ERRBUF_SIZE + 64];
	bool failed;
	bool eof;
};

/* ---------- small helpers ---------- */

static napi_value undef(napi_env env)
{
	napi_value v;

	napi_get_undefined(env, &v);
	return v;
}

static bool has_prop(napi_env env, napi_value obj, const char *key, napi_value *out, napi_valuetype want)
{
	bool has = false;
	napi_valuetype t;

	if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return false;
	napi_get_named_property(env, obj, key, out);
	napi_typeof(env, *out, &t);
	return t == want;
}

static bool get_u32(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
	napi_value v;

	return has_prop(env, obj, key, &v, napi_number) && napi_get_value_uint32(env, v, out) == napi_ok;
}

static bool get_f64(napi_env env, napi_value obj, const char *key, double *out)
{
	napi_value v;

	return has_prop(env, obj, key, &v, napi_number) && napi_get_value_double(env, v, out) == napi_ok;
}

static bool get_bool(napi_env env, napi_value obj, const char *key, bool *out)
{
	napi_value v;

	return has_prop(env, obj, key, &v, napi_boolean) && napi_get_value_bool(env, v, out) == napi_ok;
}

/* Copies a string property into a malloc'd buffer (caller frees); NULL when absent. */
static char *get_string(napi_env env, napi_value obj, const char *key)
{
	napi_value v;
	size_t len = 0;
	char *s;

	if (!has_prop(env, obj, key, &v, napi_string))
		return NULL;
	napi_get_value_string_utf8(env, v, NULL, 0, &len);
	s = malloc(len + 1);
	if (s)
		napi_get_value_string_utf8(env, v, s, len + 1, &len);
	return s;
}

static char *arg_string(napi_env env, napi_value v)
{
	size_t len = 0;
	char *s;

	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
		return NULL;
	s = malloc(len + 1);
	if (s)
		napi_get_value_string_utf8(env, v, s, len + 1, &len);
	return s;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Appends one record in the batch-format layout; the caller checked there is room. */
static void append_record(unsigned char *out, size_t *len, const struct pcap_pkthdr *h, const u_char *bytes, bool nano)
{
	unsigned char *r = out + *len;
	uint32_t ts_sec = (uint32_t)h->ts.tv_sec;
	uint32_t ts_nsec = nano ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000u;
	uint32_t caplen = h->caplen, wirelen = h->len;
	uint32_t padded = (caplen + 3u) & ~3u;

	/* Little-endian on the wire regardless of host order: the layout is fixed. */
	for (int i = 0; i < 4; i++) {
		r[i] = (unsigned char)(ts_sec >> (8 * i));
		r[4 + i] = (unsigned char)(ts_nsec >> (8 * i));
		r[8 + i] = (unsigned char)(caplen >> (8 * i));
		r[12 + i] = (unsigned char)(wirelen >> (8 * i));
	}
	memcpy(r + RECORD_HEADER_BYTES, bytes, caplen);
	memset(r + RECORD_HEADER_BYTES + caplen, 0, padded - caplen);
	*len += RECORD_HEADER_BYTES + padded;
}

/* ---------- JS side of the batch hand-off ---------- */

static void free_batch(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	free(hint);
}

/* Called on the JS thread: onBatch(buffer) for data, onBatch(null, error|null) at the end. */
static void call_js(napi_env env, napi_value cb, void *ctx, void *data)
{
	struct live *L = ctx;
	struct batch *b = data;
	napi_value argv[2], buf;
	void *copy;

	if (!env || !cb) { /* tsfn torn down with items still queued */
		free(b);
		return;
	}
	if (b->kind == BATCH_END) {
		napi_get_null(env, &argv[0]);
		if (b->error[0])
			argv[1] = str(env, b->error);
		else
			napi_get_null(env, &argv[1]);
		free(b);
		napi_call_function(env, undef(env), cb, 2, argv, NULL);
		return;
	}
	/* Zero-copy when the runtime allows external buffers; fall back to one copy otherwise. */
	if (napi_create_external_buffer(env, b->len, b->data, free_batch, b, &buf) != napi_ok) {
		if (napi_create_buffer_copy(env, b->len, b->data, &copy, &buf) != napi_ok) {
			atomic_fetch_add(&L->user_drops, b->packets);
			free(b);
			return;
		}
		free(b);
	}
	atomic_fetch_add(&L->batches, 1);
	argv[0] = buf;
	napi_call_function(env, undef(env), cb, 1, argv, NULL);
}

/* ---------- worker thread ---------- */

static struct batch *new_batch(struct live *L)
{
	struct batch *b = malloc(sizeof(*b) + L->batch_bytes + BATCH_SLACK);

	if (b) {
		b->kind = BATCH_DATA;
		b->len = 0;
		b->packets = 0;
		b->error[0] = 0;
	}
	return b;
}

/*
 * Hands the current batch to JS. When the JS queue is full a partial batch keeps growing; a full
 * one waits (polling, since close() joins this thread on the JS thread) while the kernel buffer
 * (buffer_size_mb) absorbs the burst: overflow there is counted by the kernel as ps_drop.
 */
static void flush(struct live *L)
{
	struct batch *b = L->cur;
	napi_status st;

	if (!b || b->len == 0)
		return;
	if (L->dumper)
		pcap_dump_flush(L->dumper);
	for (;;) {
		st = napi_call_threadsafe_function(L->tsfn, b, napi_tsfn_nonblocking);
		if (st == napi_ok) {
			L->cur = new_batch(L);
			return;
		}
		if (st != napi_queue_full || atomic_load(&L->stop))
			break;
		if (b->len < L->batch_bytes)
			return; /* keep accumulating; retried after the next dispatch */
		usleep(1000);
	}
	atomic_fetch_add(&L->user_drops, b->packets);
	b->len = 0;
	b->packets = 0;
}

/*
 * The last batch when the loop ends: unlike flush() it waits for room even when the batch is not
 * full, so a --count capture ending on its own delivers everything. It gives up only when close()
 * is joining (stop set), counting what it could not hand over.
 */
static void flush_final(struct live *L)
{
	struct batch *b = L->cur;
	napi_status st;

	if (!b || b->len == 0)
		return;
	if (L->dumper)
		pcap_dump_flush(L->dumper);
	while ((st = napi_call_threadsafe_function(L->tsfn, b, napi_tsfn_nonblocking)) == napi_queue_full && !atomic_load(&L->stop))
		usleep(1000);
	if (st == napi_ok) {
		L->cur = NULL;
		return;
	}
	atomic_fetch_add(&L->user_drops, b->packets);
	b->len = 0;
	b->packets = 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct live *L = (struct live *)user;
	size_t need = RECORD_HEADER_BYTES + ((h->caplen + 3u) & ~3u);

	if (L->max_packets && L->seen >= L->max_packets)
		return; /* the rest of a kernel block after --count was reached */
	L->seen++;
	if (L->dumper)
		pcap_dump((u_char *)L->dumper, h, bytes);
	if (!L->cur)
		L->cur = new_batch(L);
	if (L->cur && L->cur->len + need > L->batch_bytes + BATCH_SLACK)
		flush(L);
	if (!L->cur || L->cur->len + need > L->batch_bytes + BATCH_SLACK || h->caplen > MAX_SNAPLEN) {
		atomic_fetch_add(&L->user_drops, 1);
		return;
	}
	if (L->cur->len == 0)
		clock_gettime(CLOCK_MONOTONIC, &L->batch_start);
	append_record(L->cur->data, &L->cur->len, h, bytes, L->nano);
	L->cur->packets++;
	atomic_fetch_add(&L->delivered, 1);
	atomic_fetch_add(&L->bytes, h->caplen);
	if (L->cur->len >= L->batch_bytes)
		flush(L);
	if (L->max_packets && L->seen >= L->max_packets)
		pcap_breakloop(L->p);
}

static void refresh_stats(struct live *L)
{
	struct pcap_stat ps;

	if (pcap_stats(L->p, &ps) == 0) {
		atomic_store(&L->ps_recv, ps.ps_recv);
		atomic_store(&L->ps_drop, ps.ps_drop);
		atomic_store(&L->ps_ifdrop, ps.ps_ifdrop);
		atomic_store(&L->stats_valid, true);
	}
	clock_gettime(CLOCK_MONOTONIC, &L->stats_at);
}

/* Tells JS the capture ended on its own (count reached, interface gone); never blocks. */
static void send_end(struct live *L, const char *error)
{
	struct batch *b = malloc(sizeof(*b));

	if (!b)
		return;
	b->kind = BATCH_END;
	b->len = 0;
	b->packets = 0;
	snprintf(b->error, sizeof(b->error), "%s", error ? error : "");
	while (napi_call_threadsafe_function(L->tsfn, b, napi_tsfn_nonblocking) == napi_queue_full) {
		if (atomic_load(&L->stop)) {
			free(b);
			return;
		}
		usleep(1000);
	}
}

/*
 * Why poll() + non-blocking dispatch rather than a blocking pcap_dispatch: with TPACKET_V3 libpcap
 * blocks until the kernel retires a block, which only happens once a block holds a packet. On a
 * quiet link a blocking dispatch would never return, so a half-built batch, the stats and close()
 * would all wait for the next packet. The kernel still batches (it retires a part-filled block
 * after the block timeout), and we wake at most once per batch window when idle.
 */
static void *capture_loop(void *arg)
{
	struct live *L = arg;
	const char *error = NULL;
	int fd = pcap_get_selectable_fd(L->p);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	L->cur = new_batch(L);
	refresh_stats(L);
	while (!atomic_load(&L->stop)) {
		int n;

		if (fd >= 0) {
			int r = poll(&pfd, 1, (int)L->batch_ms);

			if (r < 0 && errno != EINTR) {
				snprintf(L->end_error, sizeof(L->end_error), "poll: %s", strerror(errno));
				error = L->end_error;
				break;
			}
		}
		n = pcap_dispatch(L->p, -1, on_packet, (u_char *)L);
		if (n == PCAP_ERROR) {
			snprintf(L->end_error, sizeof(L->end_error), "%s", pcap_geterr(L->p));
			error = L->end_error;
			break;
		}
		if (L->cur && L->cur->len && ms_since(&L->batch_start) >= L->batch_ms)
			flush(L);
		if (ms_since(&L->stats_at) >= STATS_EVERY_MS)
			refresh_stats(L);
		if (L->max_packets && L->seen >= L->max_packets)
			break;
	}
	flush_final(L);
	refresh_stats(L);
	if (L->dumper)
		pcap_dump_flush(L->dumper);
	if (!atomic_load(&L->stop))
		send_end(L, error);
	free(L->cur);
	L->cur = NULL;
	return NULL;
}

/* ---------- live capture ---------- */

static void live_cleanup_hook(void *arg);

static void live_teardown(struct live *L)
{
	if (L->hook) {
		napi_remove_env_cleanup_hook(L->env, live_cleanup_hook, L);
		L->hook = false;
	}
	if (L->closed)
		return;
	L->closed = true;
	if (L->thread_started) {
		atomic_store(&L->stop, true);
		pcap_breakloop(L->p); /* libpcap >= 1.10 also wakes a blocked poll() */
		pthread_join(L->thread, NULL);
		L->thread_started = false;
	}
	if (L->tsfn) {
		napi_release_threadsafe_function(L->tsfn, napi_tsfn_release);
		L->tsfn = NULL;
	}
	if (L->dumper) {
		pcap_dump_close(L->dumper);
		L->dumper = NULL;
	}
	if (L->p) {
		/* pcap_close restores the interface: promiscuous mode off, ring unmapped. */
		pcap_close(L->p);
		L->p = NULL;
	}
}

static void live_cleanup_hook(void *arg)
{
	struct live *L = arg;

	L->hook = false; /* never remove a hook from inside itself */
	live_teardown(L);
}

static void live_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	live_teardown(data);
	free(data);
}

static struct live *get_live(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok)
		return NULL;
	return data;
}

/* Builds an Error with a code and extra string/number properties for the TS layer. */
static napi_value make_error(napi_env env, const char *code, const char *msg)
{
	napi_value e;

	napi_create_error(env, str(env, code), str(env, msg), &e);
	return e;
}

static const char *activate_code(int err)
{
	switch (err) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return "DE_PCAP_NO_DEVICE";
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return "DE_PCAP_PERMISSION";
	default:
		return "DE_PCAP_OPEN";
	}
}

/*
 * openLive({ device, snaplen, promisc, bufferBytes, timeoutMs, batchBytes, batchMs, filter,
 *            maxPackets, writePath }, onBatch)
 *   -> { handle, linktype, nano, warning }
 * onBatch(buffer) per batch; onBatch(null, error|null) when the capture ends on its own.
 */
static napi_value js_open_live(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], result, handle, name;
	napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char *device = NULL, *filter = NULL, *write_path = NULL;
	uint32_t snaplen = 1500, buffer_bytes = 2u << 20, timeout_ms = DEFAULT_TIMEOUT_MS;
	uint32_t batch_bytes = DEFAULT_BATCH_BYTES, batch_ms = 0;
	double max_packets = 0;
	bool promisc = false;
	struct live *L;
	int err;
	const char *warning = "";
	char warnbuf[PCAP_ERRBUF_SIZE + 64] = "";
	struct bpf_program prog;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc >= 1)
		napi_typeof(env, argv[0], &t0);
	if (argc >= 2)
		napi_typeof(env, argv[1], &t1);
	if (t0 != napi_object || t1 != napi_function)
		return throw_code(env, "DE_PCAP_ARGS", "openLive(options, onBatch): options must be an object and onBatch a function");
	device = get_string(env, argv[0], "device");
	filter = get_string(env, argv[0], "filter");
	write_path = get_string(env, argv[0], "writePath");
	get_u32(env, argv[0], "snaplen", &snaplen);
	get_u32(env, argv[0], "bufferBytes", &buffer_bytes);
	get_u32(env, argv[0], "timeoutMs", &timeout_ms);
	get_u32(env, argv[0], "batchBytes", &batch_bytes);
	get_u32(env, argv[0], "batchMs", &batch_ms);
	get_f64(env, argv[0], "maxPackets", &max_packets);
	get_bool(env, argv[0], "promisc", &promisc);
	if (snaplen < 16 || snaplen > MAX_SNAPLEN) {
		free(device), free(filter), free(write_path);
		return throw_code(env, "DE_PCAP_ARGS", "snaplen must be between 16 and %u, got %u", MAX_SNAPLEN, snaplen);
	}
	if (batch_bytes < 4096 || batch_bytes > (64u << 20))
		batch_bytes = DEFAULT_BATCH_BYTES;
	if (timeout_ms == 0)
		timeout_ms = 1;
	if (batch_ms == 0)
		batch_ms = timeout_ms;

	L = calloc(1, sizeof(*L));
	if (!L) {
		free(device), free(filter), free(write_path);
		return throw_code(env, "DE_PCAP_OPEN", "out of memory");
	}
	L->batch_bytes = batch_bytes;
	L->batch_ms = batch_ms;
	L->max_packets = max_packets > 0 ? (uint64_t)max_packets : 0;

	/* NULL device = libpcap's "any" pseudo-interface (cooked headers, no promiscuous mode). */
	L->p = pcap_create(device && device[0] ? device : "any", errbuf);
	if (!L->p) {
		napi_throw(env, make_error(env, "DE_PCAP_OPEN", errbuf));
		goto fail;
	}
	pcap_set_snaplen(L->p, (int)snaplen);
	pcap_set_promisc(L->p, promisc ? 1 : 0);
	/* A block timeout, not immediate mode: the kernel hands over whole blocks, one wakeup each. */
	pcap_set_timeout(L->p, (int)timeout_ms);
	pcap_set_buffer_size(L->p, (int)buffer_bytes);
	L->nano = pcap_set_tstamp_precision(L->p, PCAP_TSTAMP_PRECISION_NANO) == 0;
	err = pcap_activate(L->p);
	if (err < 0) {
		char msg[PCAP_ERRBUF_SIZE + 128];

		/* libpcap's own text when it has one (it usually repeats the status), else the status. */
		snprintf(msg, sizeof(msg), "cannot capture on %s: %s", device && device[0] ? device : "any",
			 pcap_geterr(L->p)[0] ? pcap_geterr(L->p) : pcap_statustostr(err));
		napi_throw(env, make_error(env, activate_code(err), msg));
		goto fail;
	}
	if (err > 0) {
		snprintf(warnbuf, sizeof(warnbuf), "%s%s%s", pcap_statustostr(err), pcap_geterr(L->p)[0] ? ": " : "", pcap_geterr(L->p));
		warning = warnbuf;
	}
	L->nano = L->nano && pcap_get_tstamp_precision(L->p) == PCAP_TSTAMP_PRECISION_NANO;
	L->linktype = pcap_datalink(L->p);
	if (pcap_setnonblock(L->p, 1, errbuf) != 0) {
		napi_throw(env, make_error(env, "DE_PCAP_OPEN", errbuf));
		goto fail;
	}

	if (filter && filter[0]) {
		if (pcap_compile(L->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			napi_value e = make_error(env, "DE_PCAP_FILTER", pcap_geterr(L->p));

			napi_set_named_property(env, e, "linktype", num(env, L->linktype));
			napi_set_named_property(env, e, "filter", str(env, filter));
			napi_throw(env, e);
			goto fail;
		}
		err = pcap_setfilter(L->p, &prog);
		pcap_freecode(&prog);
		if (err != 0) {
			napi_throw(env, make_error(env, "DE_PCAP_FILTER", pcap_geterr(L->p)));
			goto fail;
		}
	}
	if (write_path && write_path[0]) {
		L->dumper = pcap_dump_open(L->p, write_path);
		if (!L->dumper) {
			napi_throw(env, make_error(env, "DE_PCAP_WRITE", pcap_geterr(L->p)));
			goto fail;
		}
	}

	napi_create_string_utf8(env, "daemoneye_pcap.batch", NAPI_AUTO_LENGTH, &name);
	if (napi_create_threadsafe_function(env, argv[1], NULL, name, TSFN_QUEUE_MAX, 1, NULL, NULL, L, call_js, &L->tsfn) != napi_ok) {
		napi_throw(env, make_error(env, "DE_PCAP_OPEN", "napi_create_threadsafe_function failed"));
		goto fail;
	}
	if (pthread_create(&L->thread, NULL, capture_loop, L) != 0) {
		napi_throw(env, make_error(env, "DE_PCAP_OPEN", "pthread_create failed"));
		goto fail;
	}
	L->thread_started = true;
	L->env = env;
	if (napi_add_env_cleanup_hook(env, live_cleanup_hook, L) == napi_ok)
		L->hook = true;
	free(device), free(filter), free(write_path);

	napi_create_external(env, L, live_finalize, NULL, &handle);
	napi_create_object(env, &result);
	napi_set_named_property(env, result, "handle", handle);
	napi_set_named_property(env, result, "linktype", num(env, L->linktype));
	napi_get_boolean(env, L->nano, &name);
	napi_set_named_property(env, result, "nano", name);
	napi_set_named_property(env, result, "warning", str(env, warning));
	return result;
fail:
	live_teardown(L);
	free(L);
	free(device), free(filter), free(write_path);
	return NULL;
}

static napi_value js_live_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	struct live *L;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	L = argc ? get_live(env, argv[0]) : NULL;
	if (!L)
		return throw_code(env, "DE_PCAP_ARGS", "stats(handle): not a live capture handle");
	napi_create_object(env, &o);
	napi_set_named_property(env, o, "received", num(env, (double)atomic_load(&L->ps_recv)));
	napi_set_named_property(env, o, "droppedKernel", num(env, (double)atomic_load(&L->ps_drop)));
	napi_set_named_property(env, o, "droppedInterface", num(env, (double)atomic_load(&L->ps_ifdrop)));
	napi_set_named_property(env, o, "delivered", num(env, (double)atomic_load(&L->delivered)));
	napi_set_named_property(env, o, "bytes", num(env, (double)atomic_load(&L->bytes)));
	napi_set_named_property(env, o, "batches", num(env, (double)atomic_load(&L->batches)));
	napi_set_named_property(env, o, "userDrops", num(env, (double)atomic_load(&L->user_drops)));
	return o;
}

/* close(handle): stops the worker (delivering what it holds), closes the handle. Idempotent. */
static napi_value js_live_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct live *L;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	L = argc ? get_live(env, argv[0]) : NULL;
	if (!L)
		return throw_code(env, "DE_PCAP_ARGS", "close(handle): not a live capture handle");
	live_teardown(L);
	return undef(env);
}

/* ---------- offline files ---------- */

static void offline_finalize(napi_env env, void *data, void *hint)
{
	struct offline *O = data;

	(void)env;
	(void)hint;
	if (O->p)
		pcap_close(O->p);
	free(O);
}

static struct offline *get_offline(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok)
		return NULL;
	return data;
}

/* openOffline(path) -> { handle, linktype, snaplen, nano, majorVersion, minorVersion } (pcap or pcapng). */
static napi_value js_open_offline(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result, handle, b;
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char *path;
	struct offline *O;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	path = argc ? arg_string(env, argv[0]) : NULL;
	if (!path)
		return throw_code(env, "DE_PCAP_ARGS", "openOffline(path): path must be a string");
	O = calloc(1, sizeof(*O));
	if (!O) {
		free(path);
		return throw_code(env, "DE_PCAP_OPEN", "out of memory");
	}
	/* Nanosecond precision: libpcap scales microsecond files up, so records are always ns. */
	O->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	free(path);
	if (!O->p) {
		free(O);
		napi_throw(env, make_error(env, "DE_PCAP_FILE", errbuf));
		return NULL;
	}
	O->nano = pcap_get_tstamp_precision(O->p) == PCAP_TSTAMP_PRECISION_NANO;
	O->linktype = pcap_datalink(O->p);
	napi_create_external(env, O, offline_finalize, NULL, &handle);
	napi_create_object(env, &result);
	napi_set_named_property(env, result, "handle", handle);
	napi_set_named_property(env, result, "linktype", num(env, O->linktype));
	napi_set_named_property(env, result, "snaplen", num(env, pcap_snapshot(O->p)));
	napi_get_boolean(env, O->nano, &b);
	napi_set_named_property(env, result, "nano", b);
	napi_set_named_property(env, result, "majorVersion", num(env, pcap_major_version(O->p)));
	napi_set_named_property(env, result, "minorVersion", num(env, pcap_minor_version(O->p)));
	return result;
}

/*
 * readOffline(handle, maxBytes) -> Buffer of records, or null at end of file. A corrupt or
 * truncated file first yields the packets before the damage, then throws DE_PCAP_FILE on the
 * next call, so nothing readable is lost. A pcapng section with another link type also ends
 * the batch early (one link type per batch) and is reported the same way.
 */
static napi_value js_read_offline(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], buf;
	struct offline *O;
	uint32_t max_bytes = DEFAULT_BATCH_BYTES;
	unsigned char *tmp;
	size_t len = 0, cap;
	void *out;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	O = argc ? get_offline(env, argv[0]) : NULL;
	if (!O)
		return throw_code(env, "DE_PCAP_ARGS", "readOffline(handle): not an offline handle");
	if (argc >= 2)
		napi_get_value_uint32(env, argv[1], &max_bytes);
	if (max_bytes < 4096)
		max_bytes = 4096;
	if (O->failed)
		return throw_code(env, "DE_PCAP_FILE", "%s", O->error);
	if (O->eof || !O->p) {
		napi_get_null(env, &buf);
		return buf;
	}
	cap = (size_t)max_bytes + BATCH_SLACK;
	tmp = malloc(cap);
	if (!tmp)
		return throw_code(env, "DE_PCAP_FILE", "out of memory");
	while (len < max_bytes) {
		struct pcap_pkthdr *h;
		const u_char *bytes;
		int r = pcap_next_ex(O->p, &h, &bytes);

		if (r == 1) {
			size_t need = RECORD_HEADER_BYTES + ((h->caplen + 3u) & ~3u);

			if (h->caplen > MAX_SNAPLEN || len + need > cap) {
				O->failed = true;
				snprintf(O->error, sizeof(O->error), "a packet record claims %u captured bytes, more than %u", h->caplen, MAX_SNAPLEN);
				break;
			}
			append_record(tmp, &len, h, bytes, O->nano);
			continue;
		}
		if (r == PCAP_ERROR_BREAK) {
			O->eof = true;
			break;
		}
		O->failed = true;
		snprintf(O->error, sizeof(O->error), "%s", pcap_geterr(O->p));
		break;
	}
	if (len == 0) {
		free(tmp);
		if (O->failed)
			return throw_code(env, "DE_PCAP_FILE", "%s", O->error);
		napi_get_null(env, &buf);
		return buf;
	}
	if (napi_create_buffer_copy(env, len, tmp, &out, &buf) != napi_ok) {
		free(tmp);
		return throw_code(env, "DE_PCAP_FILE", "out of memory");
	}
	free(tmp);
	return buf;
}

static napi_value js_close_offline(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct offline *O;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	O = argc ? get_offline(env, argv[0]) : NULL;
	if (O && O->p) {
		pcap_close(O->p);
		O->p = NULL;
	}
	return undef(env);
}

/* offlinePosition(handle) -> byte offset reached in the file (progress bars), -1 if unknown. */
static napi_value js_offline_position(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct offline *O;
	FILE *f;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	O = argc ? get_offline(env, argv[0]) : NULL;
	if (!O || !O->p || !(f = pcap_file(O->p)))
		return num(env, -1);
	return num(env, (double)ftello(f));
}

/* ---------- filters, misc ---------- */

/*
 * checkFilter(filter, linktype, snaplen) -> null when it compiles, else libpcap's message.
 * Uses a dead handle, so it needs no privileges: config checks and the error locator use it.
 */
static napi_value js_check_filter(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], out;
	char *filter;
	uint32_t linktype = 1, snaplen = 65535;
	pcap_t *p;
	struct bpf_program prog;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	filter = argc ? arg_string(env, argv[0]) : NULL;
	if (!filter)
		return throw_code(env, "DE_PCAP_ARGS", "checkFilter(filter, linktype, snaplen): filter must be a string");
	if (argc >= 2)
		napi_get_value_uint32(env, argv[1], &linktype);
	if (argc >= 3)
		napi_get_value_uint32(env, argv[2], &snaplen);
	p = pcap_open_dead((int)linktype, (int)snaplen);
	if (!p) {
		free(filter);
		return throw_code(env, "DE_PCAP_ARGS", "pcap_open_dead(%u) failed", linktype);
	}
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		pcap_freecode(&prog);
		napi_get_null(env, &out);
	} else {
		out = str(env, pcap_geterr(p));
	}
	pcap_close(p);
	free(filter);
	return out;
}

static napi_value js_lib_version(napi_env env, napi_callback_info info)
{
	(void)info;
	return str(env, pcap_lib_version());
}

/* linktypeName(dlt) -> "EN10MB" etc., or null. */
static napi_value js_linktype_name(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	int32_t dlt = -1;
	const char *n;

	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc)
		napi_get_value_int32(env, argv[0], &dlt);
	n = pcap_datalink_val_to_name(dlt);
	if (n)
		return str(env, n);
	napi_get_null(env, &out);
	return out;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "openLive", NULL, js_open_live, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, js_live_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "closeLive", NULL, js_live_close, NULL, NULL, NULL, napi_default, NULL },
		{ "openOffline", NULL, js_open_offline, NULL, NULL, NULL, napi_default, NULL },
		{ "readOffline", NULL, js_read_offline, NULL, NULL, NULL, napi_default, NULL },
		{ "offlinePosition", NULL, js_offline_position, NULL, NULL, NULL, napi_default, NULL },
		{ "closeOffline", NULL, js_close_offline, NULL, NULL, NULL, napi_default, NULL },
		{ "checkFilter", NULL, js_check_filter, NULL, NULL, NULL, napi_default, NULL },
		{ "libVersion", NULL, js_lib_version, NULL, NULL, NULL, napi_default, NULL },
		{ "linktypeName", NULL, js_linktype_name, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	return exports;
}
