// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle sensor: exec, fork, exit; and TCP connect/accept/listen.
 *
 * Hooks are tp_btf (BTF-typed raw tracepoints): they need neither tracefs nor
 * kprobes/fentry, which this fleet's kernels do not always offer, and they get
 * typed task_struct pointers so CO-RE relocations keep working across kernels.
 *
 * Every record goes through one ring buffer so user space sees one ordered
 * stream per CPU and drains it with one epoll. Records are assembled in a
 * per-CPU scratch map (the 512-byte BPF stack cannot hold an exec record) and
 * copied with bpf_ringbuf_output at their exact length, which is what lets
 * exec records be variable-length without reserving the worst case.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "records.h"

char LICENSE[] SEC("license") = "GPL"; /* ringbuf + task helpers are GPL-only */

/* Set by the loader before load; rodata so the verifier prunes on them. */
const volatile __u32 self_pid = 0;
const volatile __u32 max_args_bytes = DE_ARGS_DEFAULT;

/* Filters from kernel_monitoring.filters (records.h): counts first so an empty list costs nothing. */
const volatile __u32 n_ignore_pids = 0;
const volatile __u32 ignore_pids[DE_FILTER_PIDS] = {};
const volatile __u32 n_ignore_uids = 0;
const volatile __u32 ignore_uids[DE_FILTER_UIDS] = {};
const volatile __u32 n_only_uids = 0;
const volatile __u32 only_uids[DE_FILTER_UIDS] = {};
const volatile __u32 n_ignore_cgroups = 0;
const volatile __u64 ignore_cgroups[DE_FILTER_CGROUPS] = {};
const volatile __u32 n_ignore_comms = 0;
const volatile char ignore_comms[DE_FILTER_COMMS][16] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden by the loader (ringBytes) */
} events SEC(".maps");

/* Per-CPU so the hot path never contends on an atomic; user space sums it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * The scratch value is larger than the biggest record on purpose: lengths are
 * masked (not just clamped) before use so the verifier can bound every access
 * even when clang reorders the clamps, and the masks overshoot the real caps.
 */
#define SCRATCH_BYTES 16384
#define FN_MASK 0x1ff   /* >= DE_FILENAME_MAX */
#define ARGS_MASK 0x1fff /* >= DE_ARGS_CAP */
struct scratch {
	__u8 buf[SCRATCH_BYTES];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &zero);

	if (d)
		*d += 1; /* per-CPU slot and BPF programs do not nest here: no atomic needed */
}

/*
 * Waking the consumer for every record costs an epoll wakeup per event (thousands a second under
 * load). The loader polls on its batch window anyway, so records go in silently and the consumer is
 * woken only when the ring is an eighth full: latency stays within one window, and a burst still
 * gets drained before the ring can overflow.
 */
static __always_inline void emit(void *rec, __u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 ring = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	__u64 flags = avail > ring / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, rec, size, flags))
		count_drop();
}

/* Fills the fields common to every kind from the *current* task. */
static __always_inline void fill_header(struct de_header *h, __u32 kind, __u32 size)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->kind = kind;
	h->size = size;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->euid = BPF_CORE_READ(task, cred, euid.val);
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline bool comm_equal(const char *a, const volatile char *b)
{
	for (int i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

/*
 * True when the current task's events must not cross into user space: the
 * collector and agent themselves (their own activity would feed back into what
 * they record), and whatever the operator filtered out. Loops are bounded by
 * the rodata counts, which the verifier sees as constants.
 */
static __always_inline bool is_self(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 uid;
	bool listed;

	if (self_pid && tgid == self_pid)
		return true;
	for (__u32 i = 0; i < DE_FILTER_PIDS && i < n_ignore_pids; i++)
		if (ignore_pids[i] == tgid)
			return true;
	if (n_ignore_uids || n_only_uids) {
		uid = (__u32)bpf_get_current_uid_gid();
		for (__u32 i = 0; i < DE_FILTER_UIDS && i < n_ignore_uids; i++)
			if (ignore_uids[i] == uid)
				return true;
		if (n_only_uids) {
			listed = false;
			for (__u32 i = 0; i < DE_FILTER_UIDS && i < n_only_uids; i++)
				if (only_uids[i] == uid)
					listed = true;
			if (!listed)
				return true;
		}
	}
	if (n_ignore_cgroups) {
		__u64 cg = bpf_get_current_cgroup_id();

		for (__u32 i = 0; i < DE_FILTER_CGROUPS && i < n_ignore_cgroups; i++)
			if (ignore_cgroups[i] == cg)
				return true;
	}
	if (n_ignore_comms) {
		char comm[16];

		bpf_get_current_comm(comm, sizeof(comm));
		for (__u32 i = 0; i < DE_FILTER_COMMS && i < n_ignore_comms; i++)
			if (comm_equal(comm, ignore_comms[i]))
				return true;
	}
	return false;
}

/*
 * The working directory as components innermost first (records.h de_exec):
 * up the dentry chain, crossing each mount to its mount point, until the root
 * of the root mount. One step per bpf_loop iteration: the verifier checks the
 * callback once instead of unrolling DE_CWD_DEPTH iterations of branches with a
 * growing length, which exceeded its 1M-instruction budget.
 */
#define CWD_MASK 0x3ff /* >= DE_CWD_MAX */
struct cwd_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 base;      /* where the cwd starts in the scratch record's data[] */
	__u32 len;
	__u32 truncated;
};

static long cwd_step(__u64 index, struct cwd_walk *w)
{
	/* Locals, not w->x: BPF_CORE_READ relocates its first argument's type, and cwd_walk is ours. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	__u32 zero = 0, len = w->len;
	struct de_exec *e;
	long n;

	if (dentry == mnt_root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || dentry != mnt_root) {
			w->truncated = 0; /* reached the root of the root mount */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = &up->mnt;
		return 0;
	}
	if (len >= DE_CWD_MAX)
		return 1;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 1;
	n = bpf_probe_read_kernel_str(e->data + ((w->base + (len & CWD_MASK)) & (FN_MASK | ARGS_MASK | CWD_MASK)), 256,
				      BPF_CORE_READ(dentry, d_name.name));
	if (n <= 0)
		return 1;
	w->len = len + n; /* the NUL separates components */
	w->dentry = parent;
	return 0;
}

static __always_inline __u32 read_cwd(struct task_struct *task, __u32 base, __u32 *truncated)
{
	struct path pwd = BPF_CORE_READ(task, fs, pwd);
	struct cwd_walk w = {
		.dentry = pwd.dentry,
		.vfsmnt = pwd.mnt,
		.mnt = container_of(pwd.mnt, struct mount, mnt),
		.base = base,
		.truncated = 1,
	};

	bpf_loop(DE_CWD_DEPTH, cwd_step, &w, 0);
	if (w.len > DE_CWD_MAX) {
		w.len = DE_CWD_MAX;
		w.truncated = 1;
	}
	*truncated = w.truncated;
	return w.len;
}

/*
 * The executed file's mtime: "a binary written minutes before it ran" is a dropper's signature.
 * Kernels 6.11+ keep i_mtime_sec; 6.6-6.10 __i_mtime; older i_mtime. The flavours below let
 * CO-RE pick whichever this kernel has (the others relocate to nothing and are skipped).
 */
struct inode___v66 {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));
struct inode___old {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline __s64 exe_mtime(struct linux_binprm *bprm)
{
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);

	if (bpf_core_field_exists(inode->i_mtime_sec))
		return BPF_CORE_READ(inode, i_mtime_sec);
	if (bpf_core_field_exists(((struct inode___v66 *)inode)->__i_mtime))
		return BPF_CORE_READ((struct inode___v66 *)inode, __i_mtime.tv_sec);
	if (bpf_core_field_exists(((struct inode___old *)inode)->i_mtime))
		return BPF_CORE_READ((struct inode___old *)inode, i_mtime.tv_sec);
	return 0;
}

/*
 * Fires after the new image is loaded: current already has the new mm (argv
 * lives at mm->arg_start..arg_end, freshly copied so the pages are present) and
 * the new comm.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct de_exec *e;
	__u64 flen = 0, alen = 0, clen, cap, arg_start, arg_end;
	long n;

	if (is_self())
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;

	/* Read one byte more than we keep so a 256-byte path still gets its NUL. */
	n = bpf_probe_read_kernel_str(e->data, DE_FILENAME_MAX + 1, BPF_CORE_READ(bprm, filename));
	if (n > 0) {
		flen = n - 1; /* drop the NUL: lengths are explicit on the wire */
		if (flen > DE_FILENAME_MAX)
			flen = DE_FILENAME_MAX;
	}
	flen &= FN_MASK;

	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	cap = max_args_bytes;
	if (cap > DE_ARGS_CAP)
		cap = DE_ARGS_CAP;
	e->args_truncated = 0;
	if (arg_end > arg_start) {
		alen = arg_end - arg_start;
		if (alen > cap) {
			alen = cap;
			e->args_truncated = 1;
		}
	}
	alen &= ARGS_MASK;
	/* A fault (argv page not resident) degrades to an empty argv, not a lost exec. */
	if (alen && bpf_probe_read_user(e->data + flen, alen, (void *)arg_start))
		alen = 0;

	/* Kept in a register, masked: a length read back from the map would be unbounded to the verifier. */
	clen = read_cwd(p, flen + alen, &e->cwd_truncated) & CWD_MASK;
	e->cwd_len = clen;
	e->start_boottime_ns = BPF_CORE_READ(p, start_boottime);
	e->exe_mtime_sec = exe_mtime(bprm);
	e->filename_len = flen;
	e->args_len = alen;
	e->flags = 0;
	fill_header(&e->h, DE_KIND_EXEC, sizeof(*e) + flen + alen + clen);
	emit(e, sizeof(*e) + flen + alen + clen);
	return 0;
}

/* Also fires for new threads (CLONE_THREAD): child_pid == pid then, child_tid is the new thread. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct de_fork f = {};

	if (is_self())
		return 0;
	fill_header(&f.h, DE_KIND_FORK, sizeof(f));
	f.child_pid = BPF_CORE_READ(child, tgid);
	f.child_tid = BPF_CORE_READ(child, pid);
	emit(&f, sizeof(f));
	return 0;
}

/*
 * Only the thread-group leader is reported: per-thread exits would flood the
 * ring and the process, not the thread, is what detections reason about.
 * exit_code is already stored in the task when this tracepoint fires.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p, bool group_dead)
{
	struct de_exit x = {};
	__u32 code;

	if (is_self())
		return 0;
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;
	fill_header(&x.h, DE_KIND_EXIT, sizeof(x));
	code = BPF_CORE_READ(p, exit_code);
	x.exit_code = (code >> 8) & 0xff;
	x.signal = code & 0x7f;
	emit(&x, sizeof(x));
	return 0;
}

/* ---------- TCP connections ---------- */

/*
 * Connects waiting for their source port. tcp_v4_connect/tcp_v6_connect move
 * the socket to SYN_SENT *before* inet_hash_connect picks the ephemeral port,
 * so at CLOSE -> SYN_SENT an unbound socket still has skc_num == 0. The record
 * is built there (process context: that is the only moment current is the
 * connecting task) and parked under the socket pointer; it is emitted at the
 * socket's next transition out of SYN_SENT (ESTABLISHED, or CLOSE on failure),
 * by then with its port. LRU so a lost transition cannot leak entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct de_conn);
} pending_conn SEC(".maps");

/* Local port: skc_num, or inet_sport once inet_put_port (TCP_CLOSE) has zeroed skc_num. */
static __always_inline __u16 local_port(const struct sock *sk)
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

	if (!port)
		port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	return port;
}

/* Addresses and ports; false for a family we do not report. c must be zeroed. */
static __always_inline bool fill_conn(struct de_conn *c, const struct sock *sk, __u16 event)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == DE_AF_INET) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(c->saddr, &s, 4);
		__builtin_memcpy(c->daddr, &d, 4);
	} else if (family == DE_AF_INET6 && bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr)) {
		BPF_CORE_READ_INTO(&c->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->daddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return false;
	}
	c->family = family;
	c->event = event;
	c->sport = local_port(sk);
	c->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return true;
}

/*
 * CLOSE -> SYN_SENT = connect and CLOSE -> LISTEN = listen run in the calling
 * task. SYN_RECV -> ESTABLISHED = accept happens on the new child socket when
 * the handshake's last ACK arrives, in softirq: current is whoever was
 * interrupted, so the process fields stay zero rather than lie. (The accept(2)
 * caller is not known yet at that point, and may never be.)
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_conn, const struct sock *sk, int oldstate, int newstate)
{
	struct de_conn c = {};
	struct de_conn *pending;
	__u64 key = (__u64)sk;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	if (oldstate == TCP_SYN_SENT) {
		pending = bpf_map_lookup_elem(&pending_conn, &key);
		if (!pending)
			return 0;
		/* Copy before delete: an LRU element can be reused as soon as it is freed. */
		__builtin_memcpy(&c, pending, sizeof(c));
		bpf_map_delete_elem(&pending_conn, &key);
		if (!c.sport)
			c.sport = local_port(sk);
		emit(&c, sizeof(c));
		return 0;
	}

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		if (is_self() || !fill_conn(&c, sk, DE_CONN_CONNECT))
			return 0;
		fill_header(&c.h, DE_KIND_CONN, sizeof(c));
		if (c.sport) /* bound before connect(): complete already */
			emit(&c, sizeof(c));
		else if (bpf_map_update_elem(&pending_conn, &key, &c, BPF_ANY))
			count_drop();
		return 0;
	}

	if (oldstate == TCP_CLOSE && newstate == TCP_LISTEN) {
		if (is_self() || !fill_conn(&c, sk, DE_CONN_LISTEN))
			return 0;
		fill_header(&c.h, DE_KIND_CONN, sizeof(c));
		emit(&c, sizeof(c));
		return 0;
	}

	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		if (!fill_conn(&c, sk, DE_CONN_ACCEPT))
			return 0;
		/* Process fields, cgroup and comm stay zero: current is unrelated here. */
		c.h.kind = DE_KIND_CONN;
		c.h.size = sizeof(c);
		c.h.ktime_ns = bpf_ktime_get_boot_ns();
		emit(&c, sizeof(c));
	}
	return 0;
}

/* ---------- security-relevant syscalls (kind DE_KIND_SEC) ---------- */

/*
 * Per-syscall tracepoints (tracefs events/syscalls/sys_enter_*): the generic
 * tp_btf/sys_enter would run for every syscall on the system; these run only
 * for the four calls of interest. Their context is the common trace header,
 * the syscall number and the six arguments as longs, which is what
 * trace_event_raw_sys_enter describes. Filtering happens here so only attach
 * requests and W+X mappings cost a ring record.
 */
#define DE_PTRACE_ATTACH 16
#define DE_PTRACE_SEIZE 0x4206
#define DE_PROT_WRITE 0x2
#define DE_PROT_EXEC 0x4

static __always_inline void emit_sec(__u32 op, __u32 target_pid, __u64 arg0, __u64 arg1, const void *uname)
{
	struct de_sec s = {};

	fill_header(&s.h, DE_KIND_SEC, sizeof(s));
	s.op = op;
	s.target_pid = target_pid;
	s.arg0 = arg0;
	s.arg1 = arg1;
	/* A fault leaves the name empty rather than losing the record. */
	if (uname && bpf_probe_read_user_str(s.name, sizeof(s.name), uname) < 0)
		s.name[0] = 0;
	emit(&s, sizeof(s));
}

SEC("tracepoint/syscalls/sys_enter_ptrace")
int handle_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	long req = ctx->args[0];

	if (req != DE_PTRACE_ATTACH && req != DE_PTRACE_SEIZE)
		return 0;
	if (is_self())
		return 0;
	emit_sec(DE_SEC_PTRACE_ATTACH, (__u32)ctx->args[1], (__u64)req, 0, NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_memfd_create")
int handle_memfd(struct trace_event_raw_sys_enter *ctx)
{
	if (is_self())
		return 0;
	emit_sec(DE_SEC_MEMFD_CREATE, 0, ctx->args[1], 0, (const void *)ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mprotect")
int handle_mprotect(struct trace_event_raw_sys_enter *ctx)
{
	if ((ctx->args[2] & (DE_PROT_WRITE | DE_PROT_EXEC)) != (DE_PROT_WRITE | DE_PROT_EXEC))
		return 0;
	if (is_self())
		return 0;
	emit_sec(DE_SEC_MPROTECT_WX, 0, ctx->args[0], ctx->args[1], NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int handle_mmap(struct trace_event_raw_sys_enter *ctx)
{
	if ((ctx->args[2] & (DE_PROT_WRITE | DE_PROT_EXEC)) != (DE_PROT_WRITE | DE_PROT_EXEC))
		return 0;
	if (is_self())
		return 0;
	emit_sec(DE_SEC_MMAP_WX, 0, ctx->args[0], ctx->args[1], NULL);
	return 0;
}

/*
 * Module loads. This kernel's BTF has no btf_trace_module_load (so no tp_btf
 * form), hence the tracefs tracepoint. Its context is declared here rather than
 * taken from vmlinux.h, which lacks it on kernels built without modules: the
 * common header, taints, then the name as a __data_loc (low 16 bits offset from
 * the record start, high 16 bits length). On a kernel without the event the
 * program loads but does not attach, and the others are unaffected.
 */
struct de_tp_module_load {
	__u64 common;
	__u32 taints;
	__u32 name_loc;
};

SEC("tracepoint/module/module_load")
int handle_module_load(struct de_tp_module_load *ctx)
{
	struct de_sec s = {};
	__u32 loc = ctx->name_loc;

	if (is_self())
		return 0;
	fill_header(&s.h, DE_KIND_SEC, sizeof(s));
	s.op = DE_SEC_MODULE_LOAD;
	if (bpf_probe_read_kernel_str(s.name, sizeof(s.name), (void *)ctx + (loc & 0xffff)) < 0)
		s.name[0] = 0;
	emit(&s, sizeof(s));
	return 0;
}
