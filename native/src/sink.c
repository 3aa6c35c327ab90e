/*
 * See sink.h. Why in C: the collector used to hand every 10 ms batch to JavaScript, which framed
 * it and wrote it to the socket; waking the JS thread, copying and writing through libuv for each
 * batch was most of the collector's CPU. The drain thread now writes the frame itself (one
 * sendmsg of header + batch, no copy) and JavaScript only accepts the agent and sends STATS.
 *
 * One mutex guards the socket and the queue: the drain thread writes batches, the JS thread writes
 * STATS and attaches/detaches the agent. Writes never block (MSG_DONTWAIT); what does not fit waits
 * in the queue, in order, and a frame is never split across two agents (a partly written frame is
 * dropped when its agent goes away).
 */
#define _GNU_SOURCE
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

struct frame {
	struct frame *next;
	size_t len;
	size_t off;   /* bytes already written */
	bool started; /* the rest of a frame whose beginning went out: belongs to this agent only */
	unsigned char data[];
};

static struct {
	pthread_mutex_t lock;
	int fd;
	struct frame *head, *tail;
	size_t queued, max_queued;
	struct sink_stats stats;
} K = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

void sink_init(size_t max_queued)
{
	pthread_mutex_lock(&K.lock);
	K.max_queued = max_queued;
	pthread_mutex_unlock(&K.lock);
}

/* Called with the lock held: frees the frame at the head of the queue. */
static void pop_head(void)
{
	struct frame *f = K.head;

	K.head = f->next;
	if (!K.head)
		K.tail = NULL;
	K.queued -= f->len;
	free(f);
}

/* Called with the lock held. */
static void drop_sink(void)
{
	if (K.fd >= 0)
		close(K.fd);
	K.fd = -1;
	/* The rest of a half-written frame would put the next agent's stream out of step. */
	if (K.head && (K.head->off > 0 || K.head->started)) {
		pop_head();
		K.stats.frames_dropped++;
	}
}

/* Called with the lock held: writes queued frames until the socket is full. */
static void pump_locked(void)
{
	while (K.fd >= 0 && K.head) {
		struct frame *f = K.head;
		ssize_t n = send(K.fd, f->data + f->off, f->len - f->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_sink();
			return;
		}
		f->off += (size_t)n;
		K.stats.bytes_sent += (uint64_t)n;
		if (f->off < f->len)
			return;
		pop_head();
		K.stats.frames_sent++;
	}
}

/* Called with the lock held: appends the unsent part [skip, len) of header + payload. */
static bool enqueue(const unsigned char *head, size_t head_len, const void *payload, size_t len, size_t skip)
{
	size_t total = head_len + len - skip;
	struct frame *f;

	if (K.queued + total > K.max_queued) {
		K.stats.frames_dropped++;
		return false;
	}
	f = malloc(sizeof(*f) + total);
	if (!f) {
		K.stats.frames_dropped++;
		return false;
	}
	f->next = NULL;
	f->len = total;
	f->off = 0;
	f->started = skip > 0;
	if (skip < head_len) {
		memcpy(f->data, head + skip, head_len - skip);
		memcpy(f->data + head_len - skip, payload, len);
	} else {
		memcpy(f->data, (const unsigned char *)payload + (skip - head_len), total);
	}
	if (K.tail)
		K.tail->next = f;
	else
		K.head = f;
	K.tail = f;
	K.queued += total;
	return true;
}

/* Sends header + payload at once when nothing waits ahead of them, else queues them. */
static bool offer_locked(const unsigned char *head, size_t head_len, const void *payload, size_t len)
{
	size_t sent = 0;

	if (K.fd >= 0 && !K.head) {
		struct iovec iov[2] = {
			{ .iov_base = (void *)head, .iov_len = head_len },
			{ .iov_base = (void *)payload, .iov_len = len },
		};
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
		ssize_t n;

		do
			n = sendmsg(K.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			drop_sink(); /* agent gone: the frame waits for the next one */
		} else if (n > 0) {
			sent = (size_t)n;
			K.stats.bytes_sent += (uint64_t)n;
			if (sent == head_len + len) {
				K.stats.frames_sent++;
				return true;
			}
		}
		if (sent > 0) {
			/* Partly written: the rest must follow on this connection, ahead of anything else. */
			bool ok = enqueue(head, head_len, payload, len, sent);

			if (!ok)
				drop_sink(); /* cannot finish the frame: this stream is out of step */
			return ok;
		}
	}
	return enqueue(head, head_len, payload, len, 0);
}

bool sink_offer(uint8_t type, const void *payload, size_t len)
{
	unsigned char head[9];
	uint32_t length = (uint32_t)len + 1, crc;
	bool ok;

	head[0] = length & 0xff;
	head[1] = (length >> 8) & 0xff;
	head[2] = (length >> 16) & 0xff;
	head[3] = (length >> 24) & 0xff;
	head[8] = type;
	crc = (uint32_t)crc32(0L, head + 8, 1);
	crc = (uint32_t)crc32(crc, payload, (uInt)len);
	head[4] = crc & 0xff;
	head[5] = (crc >> 8) & 0xff;
	head[6] = (crc >> 16) & 0xff;
	head[7] = (crc >> 24) & 0xff;
	pthread_mutex_lock(&K.lock);
	ok = offer_locked(head, sizeof(head), payload, len);
	pthread_mutex_unlock(&K.lock);
	return ok;
}

bool sink_offer_encoded(const void *frame, size_t len)
{
	bool ok;

	pthread_mutex_lock(&K.lock);
	ok = offer_locked(frame, len, NULL, 0);
	pthread_mutex_unlock(&K.lock);
	return ok;
}

/*
 * The agent reads once per commit window (250 ms), not per batch: the socket itself holds what
 * arrives meanwhile. 8 MiB is a window of a heavy burst; past it frames wait in the queue.
 */
#define SINK_SOCKET_BYTES (8 << 20)

void sink_attach(int fd)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	int size = SINK_SOCKET_BYTES;

	/* SO_SNDBUFFORCE passes net.core.wmem_max (the collector runs as root); else the capped value. */
	if (own >= 0 && setsockopt(own, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(own, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

	pthread_mutex_lock(&K.lock);
	drop_sink();
	K.fd = own;
	if (own >= 0)
		K.stats.clients++;
	pump_locked();
	pthread_mutex_unlock(&K.lock);
}

void sink_detach(void)
{
	pthread_mutex_lock(&K.lock);
	drop_sink();
	pthread_mutex_unlock(&K.lock);
}

bool sink_pump(void)
{
	bool backlog;

	pthread_mutex_lock(&K.lock);
	pump_locked();
	backlog = K.fd >= 0 && K.head != NULL;
	pthread_mutex_unlock(&K.lock);
	return backlog;
}

void sink_get_stats(struct sink_stats *out)
{
	pthread_mutex_lock(&K.lock);
	*out = K.stats;
	out->queued_bytes = K.queued;
	pthread_mutex_unlock(&K.lock);
}

void sink_close(void)
{
	pthread_mutex_lock(&K.lock);
	if (K.fd >= 0)
		close(K.fd);
	K.fd = -1;
	while (K.head)
		pop_head();
	pthread_mutex_unlock(&K.lock);
}
