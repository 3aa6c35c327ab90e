/*
 * Wire format shared by the BPF programs (process.bpf.c) and the addon (addon.c).
 *
 * This header is the single C definition of the records; the TypeScript decoder
 * (src/sources/ebpf/records.ts) mirrors it, and records.test.ts compares the
 * offsets reported by addon.layout() with the decoder's LAYOUT so the two
 * cannot drift silently. Kind numbers are append-only: never reuse one.
 *
 * Records are little-endian with every field naturally aligned, so the decoder
 * can read them at fixed offsets without unpacking. It relies on the includer
 * having defined __u8/__u16/__u32/__u64 (vmlinux.h in BPF, <linux/types.h> in user space).
 */
#ifndef DE_RECORDS_H
#define DE_RECORDS_H

#define DE_KIND_EXEC 1
#define DE_KIND_FORK 2
#define DE_KIND_EXIT 3
#define DE_KIND_CONN 4
#define DE_KIND_SEC 5

/* de_conn.event */
#define DE_CONN_CONNECT 1
#define DE_CONN_ACCEPT 2
#define DE_CONN_LISTEN 3
/* de_conn.family: the kernel's AF_* numbers (not in vmlinux.h, which has no macros). */
#define DE_AF_INET 2
#define DE_AF_INET6 10

/* Filename bytes kept per exec (no NUL on the wire). */
#define DE_FILENAME_MAX 256
/* Compile-time ceiling for the argv bytes; the run-time limit (max_args_bytes) is at most this. */
#define DE_ARGS_CAP 4096
#define DE_ARGS_DEFAULT 1024

struct de_header {
	__u32 kind;
	__u32 size;     /* whole record, header included: the reader walks by it */
	__u64 ktime_ns; /* CLOCK_BOOTTIME, so suspend does not skew it; wall clock is derived in TS */
	__u32 pid;      /* tgid */
	__u32 tid;
	__u32 ppid;     /* real_parent->tgid */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u64 cgroup_id;
	char comm[16];
};

/* de_exec.flags: details read from /proc after the fact (netlink fallback), not seen by the kernel hook. */
#define DE_EXEC_DEGRADED 1

/* Bytes of working directory kept per exec, and the deepest path walked. */
#define DE_CWD_MAX 512
#define DE_CWD_DEPTH 24

struct de_exec {
	struct de_header h;
	__u32 filename_len;
	__u32 args_len;
	__u32 args_truncated;
	/*
	 * The working directory's components, innermost first, each NUL-terminated
	 * ("tmp\0user\0home\0"): walking d_parent upward is all BPF can do without
	 * bpf_d_path (not allowed in tp_btf), so the decoder reverses them.
	 */
	__u32 cwd_len;
	__u64 start_boottime_ns; /* task->start_boottime: the process's start, same clock as ktime_ns */
	__u32 cwd_truncated;     /* deeper than DE_CWD_DEPTH or longer than DE_CWD_MAX */
	__u32 flags;             /* DE_EXEC_* */
	__s64 exe_mtime_sec;     /* the executed file's modification time (Unix seconds); 0 when unknown */
	char data[];  /* filename (filename_len), argv (args_len, NUL separated), cwd (cwd_len) */
};

/*
 * In-kernel filters, set from the configuration in read-only data before load
 * (the verifier then prunes the unused checks). A process-context event is
 * dropped when its tgid is an ignored pid, its real uid is ignored (or not in
 * a non-empty only-uid list), its cgroup id is ignored, or its comm is ignored.
 */
#define DE_FILTER_PIDS 8
#define DE_FILTER_UIDS 16
#define DE_FILTER_CGROUPS 16
#define DE_FILTER_COMMS 16

struct de_fork {
	struct de_header h; /* pid/tid = parent */
	__u32 child_pid;
	__u32 child_tid;
};

struct de_exit {
	struct de_header h;
	__u32 exit_code;
	__u32 signal;
};

/*
 * A TCP state change (tp_btf/inet_sock_set_state). Ports are host byte order.
 * Addresses are in network byte order as the kernel keeps them; IPv4 uses the
 * first 4 bytes and leaves the rest zero. s* is the local end, d* the remote.
 * For accept the header's process fields are zero and comm empty (softirq).
 */
struct de_conn {
	struct de_header h;
	__u16 family; /* DE_AF_INET or DE_AF_INET6 */
	__u16 event;  /* DE_CONN_* */
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* de_sec.op */
#define DE_SEC_PTRACE_ATTACH 1 /* PTRACE_ATTACH / PTRACE_SEIZE: target_pid = tracee, arg0 = request */
#define DE_SEC_MODULE_LOAD 2   /* name = module name */
#define DE_SEC_MEMFD_CREATE 3  /* name = memfd name, arg0 = flags */
#define DE_SEC_MPROTECT_WX 4   /* arg0 = address, arg1 = length */
#define DE_SEC_MMAP_WX 5       /* arg0 = requested address (0 = kernel's choice), arg1 = length */
#define DE_SEC_NAME_MAX 64

/*
 * A security-relevant syscall, filtered in the kernel: only attach requests and
 * mappings/protections with both PROT_WRITE and PROT_EXEC produce a record.
 * Recorded at syscall entry, so the call may still fail. name is NUL-padded.
 */
struct de_sec {
	struct de_header h;
	__u32 op; /* DE_SEC_* */
	__u32 target_pid;
	__u64 arg0;
	__u64 arg1;
	char name[DE_SEC_NAME_MAX];
};

#endif
