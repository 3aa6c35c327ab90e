/*
 * Fallback process events from the netlink process connector (CONFIG_PROC_EVENTS), for hosts
 * where the eBPF sensor cannot load (no BTF, old kernel, BPF forbidden by policy).
 *
 * The connector says only "pid X forked Y / exec'd / exited with Z". Everything else is read from
 * /proc at the moment the event arrives, so a process that is already gone by then keeps its pids
 * and loses its details: that is why these records carry DE_EXEC_DEGRADED and the agent reports
 * the layer as degraded. The records are the eBPF sensor's own (records.h), so everything after
 * the collector (decoder, store, rules) is the same for both layers.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>

#include "records.h"
#include "proc-connector.h"

int pc_open(char *err, size_t errlen)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);

	if (fd < 0) {
		snprintf(err, errlen, "socket(NETLINK_CONNECTOR): %s", strerror(errno));
		return -1;
	}
	/* A burst of forks must not overflow the socket before the thread drains it. */
	int rcvbuf = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(err, errlen, "bind to the process connector: %s (needs CAP_NET_ADMIN and CONFIG_PROC_EVENTS)", strerror(errno));
		close(fd);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.nl.nlmsg_pid = (__u32)getpid();
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(enum proc_cn_mcast_op);
	req.op = PROC_CN_MCAST_LISTEN;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		snprintf(err, errlen, "subscribing to process events: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void pc_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Reads a small /proc file into buf (NUL-terminated); returns bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < cap - 1 && (n = read(fd, buf + total, cap - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

static unsigned long long field_after(const char *text, const char *key, int index)
{
	const char *p = strstr(text, key);
	unsigned long long v = 0;

	if (!p)
		return 0;
	p += strlen(key);
	for (int i = 0; i <= index; i++) {
		char *end;

		v = strtoull(p, &end, 10);
		if (end == p)
			return 0;
		p = end;
	}
	return v;
}

static unsigned long long boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* Header fields of pid from /proc (zeros for what is already gone). */
static void fill_from_proc(struct de_header *h, __u32 kind, __u32 tgid, __u32 tid)
{
	char path[64], status[4096], comm[32];

	h->kind = kind;
	h->ktime_ns = boottime_ns();
	h->pid = tgid;
	h->tid = tid;
	snprintf(path, sizeof(path), "/proc/%u/status", tgid);
	if (read_small(path, status, sizeof(status)) > 0) {
		h->ppid = (__u32)field_after(status, "\nPPid:", 0);
		h->uid = (__u32)field_after(status, "\nUid:", 0);
		h->euid = (__u32)field_after(status, "\nUid:", 1);
		h->gid = (__u32)field_after(status, "\nGid:", 0);
	}
	snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
	if (read_small(path, comm, sizeof(comm)) > 0) {
		size_t n = strcspn(comm, "\n");

		memcpy(h->comm, comm, n < sizeof(h->comm) ? n : sizeof(h->comm) - 1);
	}
}

/* The working directory as records.h wants it: components innermost first, NUL after each. */
static __u32 encode_cwd(const char *cwd, char *out, __u32 cap, __u32 *truncated)
{
	__u32 len = 0;
	const char *end = cwd + strlen(cwd);

	*truncated = 0;
	while (end > cwd) {
		const char *slash = end;

		while (slash > cwd && slash[-1] != '/')
			slash--;
		if (end > slash) {
			__u32 n = (__u32)(end - slash);

			if (len + n + 1 > cap) {
				*truncated = 1;
				break;
			}
			memcpy(out + len, slash, n);
			out[len + n] = 0;
			len += n + 1;
		}
		end = slash > cwd ? slash - 1 : cwd;
	}
	return len;
}

static void emit_exec(__u32 tgid, __u32 tid, unsigned long long ktime, __u32 max_args, pc_emit_fn emit, void *ctx)
{
	static __thread unsigned char rec[sizeof(struct de_exec) + DE_FILENAME_MAX + DE_ARGS_CAP + DE_CWD_MAX];
	struct de_exec *e = (struct de_exec *)rec;
	char path[64], link[4096], statline[1024];
	ssize_t n;
	__u32 flen = 0, alen = 0, clen = 0;
	long hz = sysconf(_SC_CLK_TCK);

	memset(e, 0, sizeof(*e));
	fill_from_proc(&e->h, DE_KIND_EXEC, tgid, tid);
	e->h.ktime_ns = ktime; /* when the event arrived, not when /proc was read */
	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		flen = (__u32)(n > DE_FILENAME_MAX ? DE_FILENAME_MAX : n);
		memcpy(e->data, link, flen);
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", tgid);
	n = read_small(path, (char *)e->data + flen, (max_args > DE_ARGS_CAP ? DE_ARGS_CAP : max_args) + 1);
	if (n > 0) {
		alen = (__u32)n;
		if (alen >= max_args) {
			alen = max_args;
			e->args_truncated = 1;
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/cwd", tgid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		clen = encode_cwd(link, (char *)e->data + flen + alen, DE_CWD_MAX, &e->cwd_truncated);
	} else {
		e->cwd_truncated = 1; /* unknown, not "/" */
	}
	/* /proc/PID/stat field 22: start time in clock ticks since boot (the boot clock). */
	snprintf(path, sizeof(path), "/proc/%u/stat", tgid);
	if (read_small(path, statline, sizeof(statline)) > 0 && hz > 0) {
		char *p = strrchr(statline, ')');
		int field = 2;

		while (p && *p && field < 22) {
			p = strchr(p + 1, ' ');
			field++;
		}
		if (p)
			e->start_boottime_ns = strtoull(p + 1, NULL, 10) * (1000000000ull / (unsigned long long)hz);
	}
	e->filename_len = flen;
	e->args_len = alen;
	e->cwd_len = clen;
	{
		struct stat exe;

		snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
		if (stat(path, &exe) == 0)
			e->exe_mtime_sec = exe.st_mtime;
	}
	e->flags = DE_EXEC_DEGRADED;
	e->h.size = (__u32)(sizeof(*e) + flen + alen + clen);
	emit(ctx, e, e->h.size);
}

/*
 * The exec event is sent while execve is still finishing: read at once, /proc/PID/exe and cmdline
 * are often still empty. So execs wait here about a millisecond before /proc is read. An exit
 * first emits the exiting process's own queued exec, which keeps each pid's records in kernel order
 * (forks do not wait: they only name the parent, whose exec may follow a moment later).
 */
#define PC_EXEC_DELAY_NS 1000000ull

static void drain_pending(struct pc_state *st, bool all, pc_emit_fn emit, void *ctx)
{
	unsigned long long now = boottime_ns();

	while (st->head != st->tail) {
		struct pc_pending *p = &st->queue[st->head % PC_PENDING_MAX];

		if (!all && now - p->ktime < PC_EXEC_DELAY_NS)
			break;
		if (p->tgid) /* 0: already emitted ahead of its exit */
			emit_exec(p->tgid, p->tid, p->ktime, st->max_args, emit, ctx);
		st->head++;
	}
}

/* Emits (now) the queued execs of one process, ahead of its exit. */
static void drain_pid(struct pc_state *st, __u32 tgid, pc_emit_fn emit, void *ctx)
{
	for (unsigned i = st->head; i != st->tail; i++) {
		struct pc_pending *p = &st->queue[i % PC_PENDING_MAX];

		if (p->tgid == tgid) {
			emit_exec(p->tgid, p->tid, p->ktime, st->max_args, emit, ctx);
			p->tgid = 0;
		}
	}
}

void pc_tick(struct pc_state *st, pc_emit_fn emit, void *ctx)
{
	drain_pending(st, false, emit, ctx);
}

unsigned pc_pending(const struct pc_state *st)
{
	return st->tail - st->head;
}

int pc_handle(int fd, struct pc_state *st, pc_emit_fn emit, void *ctx)
{
	__attribute__((aligned(NLMSG_ALIGNTO))) char buf[16384];
	ssize_t len = recv(fd, buf, sizeof(buf), 0);
	struct nlmsghdr *nl;

	if (len < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : (errno == ENOBUFS ? PC_OVERRUN : -errno);
	for (nl = (struct nlmsghdr *)buf; NLMSG_OK(nl, (size_t)len); nl = NLMSG_NEXT(nl, len)) {
		struct cn_msg *cn = NLMSG_DATA(nl);
		struct proc_event *ev;

		if (nl->nlmsg_type == NLMSG_NOOP || nl->nlmsg_type == NLMSG_ERROR)
			continue;
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC || cn->len < sizeof(struct proc_event) - sizeof(ev->event_data))
			continue;
		ev = (struct proc_event *)cn->data;
		switch (ev->what) {
		case PROC_EVENT_FORK: {
			struct de_fork f;

			/* New threads are not processes: the eBPF sensor reports them, the fallback need not. */
			if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
				break;
			memset(&f, 0, sizeof(f));
			fill_from_proc(&f.h, DE_KIND_FORK, (__u32)ev->event_data.fork.parent_tgid, (__u32)ev->event_data.fork.parent_pid);
			f.h.size = sizeof(f);
			f.child_pid = (__u32)ev->event_data.fork.child_tgid;
			f.child_tid = (__u32)ev->event_data.fork.child_pid;
			emit(ctx, &f, sizeof(f));
			break;
		}
		case PROC_EVENT_EXEC:
			if (pc_pending(st) >= PC_PENDING_MAX)
				drain_pending(st, true, emit, ctx);
			st->queue[st->tail % PC_PENDING_MAX] = (struct pc_pending){
				.tgid = (__u32)ev->event_data.exec.process_tgid,
				.tid = (__u32)ev->event_data.exec.process_pid,
				.ktime = boottime_ns(),
			};
			st->tail++;
			break;
		case PROC_EVENT_EXIT: {
			struct de_exit x;

			if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
				break; /* a thread, not the process */
			drain_pid(st, (__u32)ev->event_data.exit.process_tgid, emit, ctx);
			memset(&x, 0, sizeof(x));
			fill_from_proc(&x.h, DE_KIND_EXIT, (__u32)ev->event_data.exit.process_tgid, (__u32)ev->event_data.exit.process_pid);
			x.h.size = sizeof(x);
			x.exit_code = (ev->event_data.exit.exit_code >> 8) & 0xff;
			x.signal = ev->event_data.exit.exit_code & 0x7f;
			emit(ctx, &x, sizeof(x));
			break;
		}
		default:
			break;
		}
	}
	return 0;
}
