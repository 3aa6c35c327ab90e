/* Netlink process connector fallback (proc-connector.c): emits records.h records. */
#ifndef DE_PROC_CONNECTOR_H
#define DE_PROC_CONNECTOR_H

#include <stddef.h>
#include <linux/types.h>

/* pc_handle's result when the socket overflowed: events were lost (counted as kernel drops). */
#define PC_OVERRUN 1

typedef void (*pc_emit_fn)(void *ctx, void *record, size_t size);

#define PC_PENDING_MAX 4096
struct pc_pending {
	__u32 tgid, tid;
	unsigned long long ktime;
};
/* Execs waiting for execve to finish before /proc is read (proc-connector.c explains). */
struct pc_state {
	__u32 max_args;
	unsigned head, tail;
	struct pc_pending queue[PC_PENDING_MAX];
};

/* Subscribes to process events; returns the socket or -1 with the reason in err. */
int pc_open(char *err, size_t errlen);
/* Reads one datagram and emits a record per fork (processes only), exec and exit (leaders only). */
int pc_handle(int fd, struct pc_state *st, pc_emit_fn emit, void *ctx);
/* Emits the queued execs that have waited long enough; call on every loop iteration. */
void pc_tick(struct pc_state *st, pc_emit_fn emit, void *ctx);
unsigned pc_pending(const struct pc_state *st);
void pc_close(int fd);

#endif
