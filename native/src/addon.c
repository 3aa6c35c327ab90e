/*
 * daemoneye_bpf: loads the process and TCP connection sensor (process.bpf.c, embedded through the
 * bpftool skeleton so nothing has to be found on disk at run time), drains its
 * ring buffer on a worker thread and hands JavaScript one Buffer per batch.
 *
 * Why batches: a JS callback per record costs microseconds of V8 entry each;
 * at thousands of events/s that alone would exceed the CPU budget. Raw records
 * are copied as they are and decoded in TypeScript (records.ts), so this file
 * knows nothing about field meanings beyond the layout it reports.
 *
 * Plain N-API in C (no node-addon-api) keeps the addon free of npm
 * dependencies and ABI-stable across Node versions.
 *
 * One sensor per process: the collector is the only user, and a module-level
 * state keeps close()/stats() free of handle plumbing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <node_api.h>
#include "napi-helpers.h"

#include "records.h"
#include "process.skel.h"
#include "proc-connector.h"
#include "sink.h"

#define DEFAULT_RING_BYTES (8u << 20)
#define DEFAULT_BATCH_MS 10u
/* Hand a batch over early past this size so one Buffer stays cache/GC friendly. */
#define BATCH_FLUSH_BYTES (1u << 20)
/* Room for one more worst-case record past the flush threshold. */
#define BATCH_CAP (BATCH_FLUSH_BYTES + 64u * 1024u)
/*
 * Batches queued for the JS thread before we start dropping. A stalled event
 * loop must not grow memory without bound; dropping here is counted as
 * userDrops, distinct from kernelDrops (ring full).
 */
#define TSFN_QUEUE_MAX 64

struct batch {
	size_t len;
	size_t records;
	unsigned char data[];
};

static struct {
	struct process_bpf *skel;
	struct ring_buffer *rb;
	napi_threadsafe_function tsfn;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	unsigned batch_ms;
	struct batch *cur;
	struct timespec batch_start;
	atomic_ullong records, batches, user_drops;
	bool open;
	void *replacement; /* bytes of ebpf_program_path, when one replaces the embedded object */
	int nl_fd;         /* the netlink process connector (fallback layer), or -1 */
	bool forward;      /* batches go straight to the agent's socket (sink.c), not to JS */
	uint32_t nl_max_args;
	atomic_ullong nl_overruns;
} S = { .nl_fd = -1 };

#define NAPI_CALL(env, call)                                                          \
	do {                                                                          \
		if ((call) != napi_ok) {                                              \
			const napi_extended_error_info *info_;                        \
			napi_get_last_error_info((env), &info_);                      \
			napi_throw_error((env), "DE_NAPI",                            \
					 info_ && info_->error_message ? info_->error_message \
								       : #call);               \
			return NULL;                                                  \
		}                                                                     \
	} while (0)

/* ---------- JS side of the batch hand-off ---------- */

static void free_batch(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	free(hint);
}

static void call_js(napi_env env, napi_value cb, void *ctx, void *data)
{
	struct batch *b = data;
	napi_value buf, undef;
	void *copy;

	(void)ctx;
	if (!env || !cb) { /* tsfn torn down with items still queued */
		free(b);
		return;
	}
	/*
	 * Zero-copy when the runtime allows external buffers; builds with the V8
	 * sandbox refuse them, so fall back to one copy rather than failing.
	 */
	if (napi_create_external_buffer(env, b->len, b->data, free_batch, b, &buf) != napi_ok) {
		if (napi_create_buffer_copy(env, b->len, b->data, &copy, &buf) != napi_ok) {
			atomic_fetch_add(&S.user_drops, b->records);
			free(b);
			return;
		}
		free(b);
	}
	atomic_fetch_add(&S.batches, 1);
	napi_get_undefined(env, &undef);
	napi_call_function(env, undef, cb, 1, &buf, NULL);
}

/* ---------- worker thread ---------- */

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1e3 + (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct batch *new_batch(void)
{
	struct batch *b = malloc(sizeof(*b) + BATCH_CAP);

	if (b) {
		b->len = 0;
		b->records = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &S.batch_start);
	return b;
}

/*
 * Hands the current batch to the JS thread. When the JS queue is full (event
 * loop busy, e.g. spawning children synchronously) a partial batch simply keeps
 * growing and is retried on the next wake-up, so a slow loop means bigger
 * batches, not lost records. Only a full batch waits; while it waits we do not
 * drain the ring, so the ring (ringBytes) absorbs the burst and any overflow is
 * counted by the kernel as kernelDrops. userDrops is left for what cannot be
 * delivered at all (close() while JS is stalled, allocation failure).
 */
static void flush(void)
{
	struct batch *b = S.cur;
	napi_status st;

	if (!b || b->len == 0)
		return;
	if (S.forward) {
		/* Sent or queued as one BATCH frame; the buffer is reused for the next batch. */
		if (sink_offer(SINK_FRAME_BATCH, b->data, b->len))
			atomic_fetch_add(&S.batches, 1);
		else
			atomic_fetch_add(&S.user_drops, b->records);
		b->len = 0;
		b->records = 0;
		return;
	}
	for (;;) {
		st = napi_call_threadsafe_function(S.tsfn, b, napi_tsfn_nonblocking);
		if (st == napi_ok)
			break;
		if (st != napi_queue_full || b->len < BATCH_FLUSH_BYTES)
			goto not_sent;
		if (atomic_load(&S.stop))
			goto not_sent;
		/* Polling, not a blocking call: close() joins this thread on the JS thread. */
		usleep(1000);
	}
	S.cur = new_batch();
	return;
not_sent:
	if (st == napi_queue_full && !atomic_load(&S.stop))
		return; /* keep accumulating; retried after the next poll */
	atomic_fetch_add(&S.user_drops, b->records);
	b->len = 0;
	b->records = 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	atomic_fetch_add(&S.records, 1);
	if (!S.cur)
		S.cur = new_batch();
	if (!S.cur || size > BATCH_CAP) {
		atomic_fetch_add(&S.user_drops, 1);
		return 0;
	}
	if (S.cur && S.cur->len + size > BATCH_CAP)
		flush();
	if (!S.cur || S.cur->len + size > BATCH_CAP) {
		atomic_fetch_add(&S.user_drops, 1);
		return 0;
	}
	/* The window opens with the first record, so batchMs bounds each record's wait. */
	if (S.cur->len == 0)
		clock_gettime(CLOCK_MONOTONIC, &S.batch_start);
	memcpy(S.cur->data + S.cur->len, data, size);
	S.cur->len += size;
	S.cur->records++;
	if (S.cur->len >= BATCH_FLUSH_BYTES)
		flush();
	return 0;
}

/* Frames the agent's socket could not take yet: retry soon rather than after a whole window. */
static int poll_ms(bool backlog)
{
	return backlog ? 2 : (int)S.batch_ms;
}

static void *drain(void *arg)
{
	bool backlog = false;

	(void)arg;
	S.cur = new_batch();
	while (!atomic_load(&S.stop)) {
		/*
		 * The BPF side does not wake us per record (BPF_RB_NO_WAKEUP below an eighth of
		 * the ring), so poll on the batch window: a record waits at most one window,
		 * and a quiet system costs one cheap wakeup per window.
		 */
		int err = ring_buffer__poll(S.rb, poll_ms(backlog));

		/* poll() consumes only after a wakeup; the silent records need an explicit pass. */
		if (err >= 0)
			err = ring_buffer__consume(S.rb);

		if (err < 0 && err != -EINTR)
			break;
		if (S.cur && S.cur->len && ms_since(&S.batch_start) >= S.batch_ms)
			flush();
		backlog = S.forward && sink_pump();
	}
	/* Deliver what the kernel already handed us before the tsfn goes away. */
	ring_buffer__consume(S.rb);
	flush();
	free(S.cur);
	S.cur = NULL;
	return NULL;
}

/* The fallback layer: netlink process connector events, batched exactly like ring records. */
static void nl_emit(void *ctx, void *record, size_t size)
{
	on_record(ctx, record, size);
}

static void *drain_netlink(void *arg)
{
	struct pollfd pfd = { .fd = S.nl_fd, .events = POLLIN };
	struct pc_state *st = calloc(1, sizeof(*st));
	bool backlog = false;

	(void)arg;
	if (!st)
		return NULL;
	st->max_args = S.nl_max_args;
	S.cur = new_batch();
	while (!atomic_load(&S.stop)) {
		/* Queued execs are due within a millisecond: wake for them, else wait a whole window. */
		int ready = poll(&pfd, 1, pc_pending(st) ? 1 : poll_ms(backlog));

		if (ready > 0) {
			int err = pc_handle(S.nl_fd, st, nl_emit, NULL);

			if (err == PC_OVERRUN)
				atomic_fetch_add(&S.nl_overruns, 1); /* the socket overflowed: an unknown number of events lost */
			else if (err < 0)
				break;
		} else if (ready < 0 && errno != EINTR) {
			break;
		}
		pc_tick(st, nl_emit, NULL);
		if (S.cur && S.cur->len && ms_since(&S.batch_start) >= S.batch_ms)
			flush();
		backlog = S.forward && sink_pump();
	}
	pc_tick(st, nl_emit, NULL);
	flush();
	free(S.cur);
	S.cur = NULL;
	free(st);
	return NULL;
}

/* ---------- helpers for options ---------- */

static bool get_bool(napi_env env, napi_value obj, const char *key)
{
	bool has = false, out = false;
	napi_value v;

	if (!obj || napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return false;
	napi_get_named_property(env, obj, key, &v);
	return napi_get_value_bool(env, v, &out) == napi_ok && out;
}

static bool get_u32(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
	bool has = false;
	napi_value v;
	napi_valuetype t;

	if (!obj || napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return false;
	napi_get_named_property(env, obj, key, &v);
	napi_typeof(env, v, &t);
	if (t != napi_number)
		return false;
	return napi_get_value_uint32(env, v, out) == napi_ok;
}


/*
 * options[key] as an array of at most `cap` elements: its length (0 when absent) with the array in
 * *arr, or -1 when it is not such an array. The list readers below convert each element.
 */
static int array_option(napi_env env, napi_value obj, const char *key, uint32_t cap, napi_value *arr)
{
	bool has = false, is_array = false;
	uint32_t n;

	if (!obj || napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return 0;
	napi_get_named_property(env, obj, key, arr);
	if (napi_is_array(env, *arr, &is_array) != napi_ok || !is_array)
		return -1;
	napi_get_array_length(env, *arr, &n);
	return n > cap ? -1 : (int)n;
}

/* Unsigned numbers (uids, pids). Returns the count, 0 when absent, -1 when invalid (the caller throws). */
static int get_u32_list(napi_env env, napi_value obj, const char *key, volatile uint32_t *out, uint32_t cap)
{
	napi_value arr, item;
	uint32_t x;
	int n = array_option(env, obj, key, cap, &arr);

	for (int i = 0; i < n; i++) {
		napi_get_element(env, arr, (uint32_t)i, &item);
		if (napi_get_value_uint32(env, item, &x) != napi_ok)
			return -1;
		out[i] = x;
	}
	return n;
}

/* Cgroup ids: BigInts, or integers below 2^53. */
static int get_u64_list(napi_env env, napi_value obj, const char *key, volatile uint64_t *out, uint32_t cap)
{
	napi_value arr, item;
	napi_valuetype t;
	bool lossless = false;
	uint64_t x;
	double d;
	int n = array_option(env, obj, key, cap, &arr);

	for (int i = 0; i < n; i++) {
		napi_get_element(env, arr, (uint32_t)i, &item);
		napi_typeof(env, item, &t);
		if (t == napi_bigint) {
			if (napi_get_value_bigint_uint64(env, item, &x, &lossless) != napi_ok || !lossless)
				return -1;
		} else if (t == napi_number && napi_get_value_double(env, item, &d) == napi_ok && d >= 0 && d < 9007199254740992.0) {
			x = (uint64_t)d;
		} else {
			return -1;
		}
		out[i] = x;
	}
	return n;
}

/* Comm names (1-15 bytes each, the kernel's TASK_COMM_LEN - 1). */
static int get_comm_list(napi_env env, napi_value obj, const char *key, volatile char (*out)[16], uint32_t cap)
{
	napi_value arr, item;
	size_t len;
	char buf[17];
	int n = array_option(env, obj, key, cap, &arr);

	for (int i = 0; i < n; i++) {
		napi_get_element(env, arr, (uint32_t)i, &item);
		if (napi_get_value_string_utf8(env, item, buf, sizeof(buf), &len) != napi_ok || len == 0 || len > 15)
			return -1;
		for (size_t j = 0; j < 16; j++)
			out[i][j] = j < len ? buf[j] : 0;
	}
	return n;
}

/* options[key] as a string (a file path), or false when absent. */
static bool get_path(napi_env env, napi_value obj, const char *key, char *out, size_t cap)
{
	bool has = false;
	napi_value v;
	napi_valuetype t;
	size_t len;

	if (!obj || napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return false;
	napi_get_named_property(env, obj, key, &v);
	napi_typeof(env, v, &t);
	if (t != napi_string)
		return false;
	return napi_get_value_string_utf8(env, v, out, cap, &len) == napi_ok && len > 0 && len < cap - 1;
}

/* Reads a whole replacement BPF object into malloc'd memory (freed at teardown: libbpf keeps pointers into it). */
static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	if (!buf && !errno)
		errno = EINVAL;
	fclose(f);
	return buf;
}

static napi_value u64num(napi_env env, unsigned long long x)
{
	napi_value v;

	napi_create_double(env, (double)x, &v); /* counters stay far below 2^53 */
	return v;
}

/* Captures libbpf's diagnostics (verifier log included) so errors can carry them. */
static char libbpf_log[16384];
static size_t libbpf_log_len;
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (libbpf_log_len >= sizeof(libbpf_log) - 1)
		return 0;
	n = vsnprintf(libbpf_log + libbpf_log_len, sizeof(libbpf_log) - libbpf_log_len, fmt, ap);
	if (n > 0)
		libbpf_log_len += (size_t)n;
	if (libbpf_log_len > sizeof(libbpf_log) - 1)
		libbpf_log_len = sizeof(libbpf_log) - 1;
	return 0;
}

static void teardown(void)
{
	if (S.thread_started) {
		atomic_store(&S.stop, true);
		pthread_join(S.thread, NULL);
		S.thread_started = false;
		if (S.forward)
			sink_pump(); /* the last batch, if the agent's socket takes it */
	}
	if (S.tsfn) {
		napi_release_threadsafe_function(S.tsfn, napi_tsfn_release);
		S.tsfn = NULL;
	}
	ring_buffer__free(S.rb);
	S.rb = NULL;
	pc_close(S.nl_fd);
	S.nl_fd = -1;
	process_bpf__destroy(S.skel); /* detaches links, closes maps */
	S.skel = NULL;
	free(S.replacement);
	S.replacement = NULL;
	S.open = false;
}

/*
 * The syscall and module hooks are tracefs tracepoints: libbpf resolves them through
 * /sys/kernel/tracing/events. Hosts (and containers) often leave tracefs unmounted, so mount it
 * once when missing. Failure is reported in open()'s result, never fatal: the tp_btf hooks do
 * not need tracefs. Returns "ok", "mounted" or the reason it is unavailable.
 */
#define TRACEFS_DIR "/sys/kernel/tracing"
static char tracefs_status[256];
static const char *ensure_tracefs(void)
{
	struct stat st;

	if (stat(TRACEFS_DIR "/events", &st) == 0 || stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return "ok";
	if (mount("nodev", TRACEFS_DIR, "tracefs", 0, NULL) == 0 && stat(TRACEFS_DIR "/events", &st) == 0)
		return "mounted";
	snprintf(tracefs_status, sizeof(tracefs_status),
		 "tracefs unavailable: mount(\"nodev\", \"%s\", \"tracefs\") failed: %s; the tracepoint/* hooks cannot attach",
		 TRACEFS_DIR, strerror(errno ? errno : ENOENT));
	return tracefs_status;
}

/* ---------- exported functions ---------- */

/*
 * The preamble both open() and openProcConnector() share: one sensor per process, and the
 * (options, onBatch) arguments. Returns false after throwing; *has_options says argv[0] is an object.
 */
static bool open_arguments(napi_env env, napi_callback_info info, const char *fn, napi_value argv[2], bool *has_options)
{
	size_t argc = 2;
	napi_valuetype t0 = napi_undefined, t1 = napi_undefined;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
		throw_code(env, "DE_NAPI", "%s: cannot read the arguments", fn);
		return false;
	}
	if (S.open) {
		throw_code(env, "DE_BPF_BUSY", "the sensor is already open in this process; close() it first");
		return false;
	}
	if (argc >= 1)
		napi_typeof(env, argv[0], &t0);
	if (argc >= 2)
		napi_typeof(env, argv[1], &t1);
	if (t1 != napi_function) {
		throw_code(env, "DE_BPF_ARGS", "%s(options, onBatch): onBatch must be a function", fn);
		return false;
	}
	*has_options = t0 == napi_object;
	return true;
}



/* open(options, onBatch) -> { programs: { name: { attached, error? } } } */
static napi_value js_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result, programs, name;
	napi_valuetype t0;
	bool has_options = false;
	uint32_t ring_bytes = DEFAULT_RING_BYTES, max_args = DE_ARGS_DEFAULT;
	uint32_t batch_ms = DEFAULT_BATCH_MS, self_pid = (uint32_t)getpid();
	bool forward = false;
	static char program_path[4096];
	struct bpf_program *prog;
	int err, attached = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!open_arguments(env, info, "open", argv, &has_options))
		return NULL;
	t0 = has_options ? napi_object : napi_undefined;
	if (has_options) {
		get_u32(env, argv[0], "ringBytes", &ring_bytes);
		get_u32(env, argv[0], "maxArgsBytes", &max_args);
		get_u32(env, argv[0], "batchMs", &batch_ms);
		get_u32(env, argv[0], "selfPid", &self_pid);
		forward = get_bool(env, argv[0], "forwardToSink");
	}
	/* The kernel requires a power-of-two multiple of the page size. */
	if (ring_bytes < (uint32_t)page || (ring_bytes & (ring_bytes - 1)))
		return throw_code(env, "DE_BPF_ARGS", "ringBytes must be a power of two >= %ld, got %u", page, ring_bytes);
	if (max_args > DE_ARGS_CAP)
		return throw_code(env, "DE_BPF_ARGS", "maxArgsBytes must be <= %d, got %u", DE_ARGS_CAP, max_args);
	if (batch_ms == 0)
		batch_ms = 1;

	libbpf_log_len = 0;
	libbpf_log[0] = 0;
	libbpf_set_print(print_fn);
	memset(&S, 0, sizeof(S));
	S.nl_fd = -1;
	S.batch_ms = batch_ms;
	S.forward = forward;

	if (t0 == napi_object && get_path(env, argv[0], "programPath", program_path, sizeof(program_path))) {
		/*
		 * A replacement object (ebpf_program_path) goes through the same skeleton, so it must be
		 * built from this source tree's process.bpf.c and records.h: the skeleton binds its
		 * programs, maps and read-only data by name and layout, and refuses an object that lacks one.
		 */
		size_t size = 0;

		errno = 0;
		S.replacement = read_file(program_path, &size);
		if (!S.replacement)
			return throw_code(env, "DE_BPF_LOAD", "cannot read the BPF object %s: %s", program_path, strerror(errno));
		S.skel = calloc(1, sizeof(*S.skel));
		if (!S.skel || process_bpf__create_skeleton(S.skel)) {
			free(S.skel);
			S.skel = NULL;
			return throw_code(env, "DE_BPF_LOAD", "out of memory creating the BPF skeleton");
		}
		S.skel->skeleton->data = S.replacement;
		S.skel->skeleton->data_sz = size;
		err = bpf_object__open_skeleton(S.skel->skeleton, NULL);
		if (err) {
			process_bpf__destroy(S.skel);
			S.skel = NULL;
			free(S.replacement);
			S.replacement = NULL;
			return throw_code(env, "DE_BPF_LOAD", "%s is not a usable DaemonEye BPF object (%s): %s", program_path, strerror(-err), libbpf_log);
		}
	} else {
		S.skel = process_bpf__open();
	}
	if (!S.skel)
		return throw_code(env, "DE_BPF_LOAD", "opening the embedded BPF object failed: %s %s", strerror(errno), libbpf_log);
	S.skel->rodata->self_pid = self_pid;
	S.skel->rodata->max_args_bytes = max_args;
	if (t0 == napi_object) {
		int n;

		if ((n = get_u32_list(env, argv[0], "ignorePids", S.skel->rodata->ignore_pids, DE_FILTER_PIDS)) < 0)
			goto bad_filter;
		S.skel->rodata->n_ignore_pids = (uint32_t)n;
		if ((n = get_u32_list(env, argv[0], "ignoreUids", S.skel->rodata->ignore_uids, DE_FILTER_UIDS)) < 0)
			goto bad_filter;
		S.skel->rodata->n_ignore_uids = (uint32_t)n;
		if ((n = get_u32_list(env, argv[0], "onlyUids", S.skel->rodata->only_uids, DE_FILTER_UIDS)) < 0)
			goto bad_filter;
		S.skel->rodata->n_only_uids = (uint32_t)n;
		if ((n = get_u64_list(env, argv[0], "ignoreCgroups", (volatile uint64_t *)S.skel->rodata->ignore_cgroups, DE_FILTER_CGROUPS)) < 0)
			goto bad_filter;
		S.skel->rodata->n_ignore_cgroups = (uint32_t)n;
		if ((n = get_comm_list(env, argv[0], "ignoreComms", S.skel->rodata->ignore_comms, DE_FILTER_COMMS)) < 0)
			goto bad_filter;
		S.skel->rodata->n_ignore_comms = (uint32_t)n;
	}
	bpf_map__set_max_entries(S.skel->maps.events, ring_bytes);

	/*
	 * The verifier gives up with EAGAIN when a signal is pending for the loading thread, and it runs
	 * for tens of milliseconds: a profiler's SIGPROF or any timer would fail the load at random. So
	 * signals wait (blocked, not lost) until the programs are loaded.
	 */
	{
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		err = process_bpf__load(S.skel);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err) {
		process_bpf__destroy(S.skel);
		S.skel = NULL;
		return throw_code(env, "DE_BPF_LOAD", "the kernel refused the BPF programs (%s): %s", strerror(-err), libbpf_log);
	}

	/* Attach one by one so one missing hook does not cost the others. */
	NAPI_CALL(env, napi_create_object(env, &result));
	napi_set_named_property(env, result, "tracefs", str(env, ensure_tracefs()));
	NAPI_CALL(env, napi_create_object(env, &programs));
	bpf_object__for_each_program(prog, S.skel->obj) {
		napi_value entry, ok;
		struct bpf_link *link;

		libbpf_log_len = 0;
		libbpf_log[0] = 0;
		link = bpf_program__attach(prog);
		napi_create_object(env, &entry);
		napi_get_boolean(env, link != NULL, &ok);
		napi_set_named_property(env, entry, "attached", ok);
		napi_set_named_property(env, entry, "section", str(env, bpf_program__section_name(prog)));
		if (link) {
			attached++;
			/* Record the link in the skeleton so __destroy detaches it. */
			if (prog == S.skel->progs.handle_exec)
				S.skel->links.handle_exec = link;
			else if (prog == S.skel->progs.handle_fork)
				S.skel->links.handle_fork = link;
			else if (prog == S.skel->progs.handle_exit)
				S.skel->links.handle_exit = link;
			else if (prog == S.skel->progs.handle_conn)
				S.skel->links.handle_conn = link;
			else if (prog == S.skel->progs.handle_ptrace)
				S.skel->links.handle_ptrace = link;
			else if (prog == S.skel->progs.handle_memfd)
				S.skel->links.handle_memfd = link;
			else if (prog == S.skel->progs.handle_mprotect)
				S.skel->links.handle_mprotect = link;
			else if (prog == S.skel->progs.handle_mmap)
				S.skel->links.handle_mmap = link;
			else if (prog == S.skel->progs.handle_module_load)
				S.skel->links.handle_module_load = link;
		} else {
			char e[600];

			snprintf(e, sizeof(e), "%s %s", strerror(errno), libbpf_log);
			napi_set_named_property(env, entry, "error", str(env, e));
		}
		napi_set_named_property(env, programs, bpf_program__name(prog), entry);
	}
	napi_set_named_property(env, result, "programs", programs);
	if (attached == 0) {
		process_bpf__destroy(S.skel);
		S.skel = NULL;
		return throw_code(env, "DE_BPF_ATTACH", "no program attached: %s", libbpf_log);
	}

	S.rb = ring_buffer__new(bpf_map__fd(S.skel->maps.events), on_record, NULL, NULL);
	if (!S.rb) {
		process_bpf__destroy(S.skel);
		S.skel = NULL;
		return throw_code(env, "DE_BPF_LOAD", "ring_buffer__new failed: %s", strerror(errno));
	}

	NAPI_CALL(env, napi_create_string_utf8(env, "daemoneye_bpf.batch", NAPI_AUTO_LENGTH, &name));
	if (napi_create_threadsafe_function(env, argv[1], NULL, name, TSFN_QUEUE_MAX, 1, NULL, NULL, NULL,
					    call_js, &S.tsfn) != napi_ok) {
		teardown();
		return throw_code(env, "DE_NAPI", "napi_create_threadsafe_function failed");
	}
	S.open = true;
	if (pthread_create(&S.thread, NULL, drain, NULL) != 0) {
		teardown();
		return throw_code(env, "DE_BPF_THREAD", "pthread_create failed: %s", strerror(errno));
	}
	S.thread_started = true;
	return result;

bad_filter:
	process_bpf__destroy(S.skel);
	S.skel = NULL;
	free(S.replacement);
	S.replacement = NULL;
	return throw_code(env, "DE_BPF_ARGS", "kernel filters must be arrays: ignorePids (at most %d pids), ignoreUids and onlyUids "
			  "(at most %d uids), ignoreCgroups (at most %d cgroup ids), ignoreComms (at most %d names of 1-15 bytes)",
			  DE_FILTER_PIDS, DE_FILTER_UIDS, DE_FILTER_CGROUPS, DE_FILTER_COMMS);
}

/*
 * openProcConnector(options, onBatch) -> { layer: 'netlink' }: the fallback when open() cannot load
 * the BPF programs. Same batches (records.h), same stats and close(); only fork/exec/exit, with
 * exec details read from /proc (flagged DE_EXEC_DEGRADED).
 */
static napi_value js_open_proc_connector(napi_env env, napi_callback_info info)
{
	napi_value argv[2], name, result;
	bool has_options = false;
	uint32_t batch_ms = DEFAULT_BATCH_MS, max_args = DE_ARGS_DEFAULT;
	bool forward = false;
	char err[256];
	int fd;

	if (!open_arguments(env, info, "openProcConnector", argv, &has_options))
		return NULL;
	if (has_options) {
		get_u32(env, argv[0], "batchMs", &batch_ms);
		get_u32(env, argv[0], "maxArgsBytes", &max_args);
		forward = get_bool(env, argv[0], "forwardToSink");
	}
	if (max_args > DE_ARGS_CAP)
		return throw_code(env, "DE_BPF_ARGS", "maxArgsBytes must be <= %d, got %u", DE_ARGS_CAP, max_args);
	fd = pc_open(err, sizeof(err));
	if (fd < 0)
		return throw_code(env, "DE_BPF_LOAD", "the netlink process connector is unavailable: %s", err);
	memset(&S, 0, sizeof(S));
	S.nl_fd = fd;
	S.nl_max_args = max_args;
	S.batch_ms = batch_ms ? batch_ms : 1;
	S.forward = forward;
	NAPI_CALL(env, napi_create_string_utf8(env, "daemoneye_bpf.netlink", NAPI_AUTO_LENGTH, &name));
	if (napi_create_threadsafe_function(env, argv[1], NULL, name, TSFN_QUEUE_MAX, 1, NULL, NULL, NULL,
					    call_js, &S.tsfn) != napi_ok) {
		pc_close(fd);
		S.nl_fd = -1;
		return throw_code(env, "DE_NAPI", "napi_create_threadsafe_function failed");
	}
	S.open = true;
	if (pthread_create(&S.thread, NULL, drain_netlink, NULL) != 0) {
		teardown();
		return throw_code(env, "DE_BPF_THREAD", "pthread_create failed: %s", strerror(errno));
	}
	S.thread_started = true;
	NAPI_CALL(env, napi_create_object(env, &result));
	napi_set_named_property(env, result, "layer", str(env, "netlink"));
	return result;
}

static napi_value js_close(napi_env env, napi_callback_info info)
{
	napi_value undef;

	(void)info;
	if (S.open)
		teardown();
	napi_get_undefined(env, &undef);
	return undef;
}

static napi_value js_stats(napi_env env, napi_callback_info info)
{
	napi_value o;
	unsigned long long kdrops = 0;

	(void)info;
	if (S.skel) {
		int ncpu = libbpf_num_possible_cpus();
		__u32 zero = 0;

		if (ncpu > 0) {
			__u64 *vals = calloc((size_t)ncpu, sizeof(__u64));

			if (vals && bpf_map_lookup_elem(bpf_map__fd(S.skel->maps.drops), &zero, vals) == 0)
				for (int i = 0; i < ncpu; i++)
					kdrops += vals[i];
			free(vals);
		}
	}
	kdrops += atomic_load(&S.nl_overruns);
	NAPI_CALL(env, napi_create_object(env, &o));
	napi_set_named_property(env, o, "kernelDrops", u64num(env, kdrops));
	napi_set_named_property(env, o, "userDrops", u64num(env, atomic_load(&S.user_drops)));
	napi_set_named_property(env, o, "records", u64num(env, atomic_load(&S.records)));
	napi_set_named_property(env, o, "batches", u64num(env, atomic_load(&S.batches)));
	return o;
}

/* ---------- layout() ---------- */

static void field(napi_env env, napi_value fields, const char *n, size_t off, size_t size)
{
	napi_value f, v;

	napi_create_object(env, &f);
	napi_create_uint32(env, (uint32_t)off, &v);
	napi_set_named_property(env, f, "offset", v);
	napi_create_uint32(env, (uint32_t)size, &v);
	napi_set_named_property(env, f, "size", v);
	napi_set_named_property(env, fields, n, f);
}

#define FSIZE(T, m) sizeof(((T *)0)->m)
#define F(T, m) field(env, fields, #m, offsetof(T, m), FSIZE(T, m))

static napi_value begin_struct(napi_env env, napi_value out, const char *n, size_t size, napi_value *fields)
{
	napi_value s, v;

	napi_create_object(env, &s);
	napi_create_uint32(env, (uint32_t)size, &v);
	napi_set_named_property(env, s, "size", v);
	napi_create_object(env, fields);
	napi_set_named_property(env, s, "fields", *fields);
	napi_set_named_property(env, out, n, s);
	return s;
}

/* Offsets of nested header fields are reported relative to the record start. */
static napi_value js_layout(napi_env env, napi_callback_info info)
{
	napi_value out, fields, v;

	(void)info;
	NAPI_CALL(env, napi_create_object(env, &out));
	begin_struct(env, out, "de_header", sizeof(struct de_header), &fields);
	F(struct de_header, kind);
	F(struct de_header, size);
	F(struct de_header, ktime_ns);
	F(struct de_header, pid);
	F(struct de_header, tid);
	F(struct de_header, ppid);
	F(struct de_header, uid);
	F(struct de_header, gid);
	F(struct de_header, euid);
	F(struct de_header, cgroup_id);
	F(struct de_header, comm);

	begin_struct(env, out, "de_exec", sizeof(struct de_exec), &fields);
	F(struct de_exec, filename_len);
	F(struct de_exec, args_len);
	F(struct de_exec, args_truncated);
	F(struct de_exec, cwd_len);
	F(struct de_exec, start_boottime_ns);
	F(struct de_exec, cwd_truncated);
	F(struct de_exec, flags);
	F(struct de_exec, exe_mtime_sec);
	field(env, fields, "data", offsetof(struct de_exec, data), 0);

	begin_struct(env, out, "de_fork", sizeof(struct de_fork), &fields);
	F(struct de_fork, child_pid);
	F(struct de_fork, child_tid);

	begin_struct(env, out, "de_exit", sizeof(struct de_exit), &fields);
	F(struct de_exit, exit_code);
	F(struct de_exit, signal);

	begin_struct(env, out, "de_conn", sizeof(struct de_conn), &fields);
	F(struct de_conn, family);
	F(struct de_conn, event);
	F(struct de_conn, sport);
	F(struct de_conn, dport);
	F(struct de_conn, saddr);
	F(struct de_conn, daddr);

	begin_struct(env, out, "de_sec", sizeof(struct de_sec), &fields);
	F(struct de_sec, op);
	F(struct de_sec, target_pid);
	F(struct de_sec, arg0);
	F(struct de_sec, arg1);
	F(struct de_sec, name);

	napi_create_object(env, &fields);
	napi_create_uint32(env, DE_KIND_EXEC, &v);
	napi_set_named_property(env, fields, "exec", v);
	napi_create_uint32(env, DE_KIND_FORK, &v);
	napi_set_named_property(env, fields, "fork", v);
	napi_create_uint32(env, DE_KIND_EXIT, &v);
	napi_set_named_property(env, fields, "exit", v);
	napi_create_uint32(env, DE_KIND_CONN, &v);
	napi_set_named_property(env, fields, "conn", v);
	napi_create_uint32(env, DE_KIND_SEC, &v);
	napi_set_named_property(env, fields, "sec", v);
	napi_set_named_property(env, out, "kinds", fields);
	napi_create_uint32(env, DE_FILENAME_MAX, &v);
	napi_set_named_property(env, out, "filenameMax", v);
	napi_create_uint32(env, DE_ARGS_CAP, &v);
	napi_set_named_property(env, out, "argsCap", v);
	napi_create_uint32(env, DE_CWD_MAX, &v);
	napi_set_named_property(env, out, "cwdMax", v);
	return out;
}

/*
 * CLOCK_BOOTTIME now, as a BigInt: the records' clock. Node has no API for it
 * (process.hrtime is CLOCK_MONOTONIC, which stops during suspend), and the TS
 * side needs it once to anchor ktime_ns to the wall clock.
 */
static napi_value js_boottime_ns(napi_env env, napi_callback_info info)
{
	struct timespec ts;
	napi_value v;

	(void)info;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	NAPI_CALL(env, napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, &v));
	return v;
}

/* ---------- the agent's socket (sink.c) ---------- */

/* attachSink(fd): the accepted agent socket, after its HELLO went out; batches are written to it from now on. */
static napi_value js_attach_sink(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], undef;
	int32_t fd = -1;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
		return throw_code(env, "DE_BPF_ARGS", "attachSink(fd) needs the agent socket's file descriptor");
	sink_attach(fd);
	napi_get_undefined(env, &undef);
	return undef;
}

static napi_value js_detach_sink(napi_env env, napi_callback_info info)
{
	napi_value undef;

	(void)info;
	sink_detach();
	napi_get_undefined(env, &undef);
	return undef;
}

/* sendFrame(buffer): an encoded frame (STATS) into the same ordered stream as the batches. */
static napi_value js_send_frame(napi_env env, napi_callback_info info)
{
	size_t argc = 1, len = 0;
	napi_value argv[1], out;
	void *data = NULL;

	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok)
		return throw_code(env, "DE_BPF_ARGS", "sendFrame(buffer) needs an encoded frame");
	NAPI_CALL(env, napi_get_boolean(env, sink_offer_encoded(data, len), &out));
	return out;
}

static napi_value js_sink_stats(napi_env env, napi_callback_info info)
{
	struct sink_stats s;
	napi_value o;

	(void)info;
	sink_get_stats(&s);
	NAPI_CALL(env, napi_create_object(env, &o));
	napi_set_named_property(env, o, "framesSent", u64num(env, s.frames_sent));
	napi_set_named_property(env, o, "bytesSent", u64num(env, s.bytes_sent));
	napi_set_named_property(env, o, "framesDropped", u64num(env, s.frames_dropped));
	napi_set_named_property(env, o, "queuedBytes", u64num(env, s.queued_bytes));
	napi_set_named_property(env, o, "clients", u64num(env, s.clients));
	return o;
}

static void on_env_exit(void *arg)
{
	(void)arg;
	/* Join the drain thread before the env goes: it may be mid-call on the tsfn. */
	if (S.open)
		teardown();
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
		{ "openProcConnector", NULL, js_open_proc_connector, NULL, NULL, NULL, napi_default, NULL },
		{ "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "layout", NULL, js_layout, NULL, NULL, NULL, napi_default, NULL },
		{ "boottimeNs", NULL, js_boottime_ns, NULL, NULL, NULL, napi_default, NULL },
		{ "attachSink", NULL, js_attach_sink, NULL, NULL, NULL, napi_default, NULL },
		{ "detachSink", NULL, js_detach_sink, NULL, NULL, NULL, napi_default, NULL },
		{ "sendFrame", NULL, js_send_frame, NULL, NULL, NULL, napi_default, NULL },
		{ "sinkStats", NULL, js_sink_stats, NULL, NULL, NULL, napi_default, NULL },
	};

	/* As the JS queue held: 64 MiB of frames for an agent that is slow or (re)connecting. */
	sink_init(64u << 20);
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	napi_add_env_cleanup_hook(env, on_env_exit, NULL);
	return exports;
}
