/*
 * The collector's socket to the agent, written from the drain thread: each batch goes out as a
 * BATCH frame (src/collector/protocol.ts) without waking the JavaScript thread. Frames the socket
 * cannot take at once (agent slow or not connected) wait in a bounded queue; past the bound whole
 * frames are dropped and counted, so kernel intake never waits on the agent.
 */
#ifndef DAEMONEYE_SINK_H
#define DAEMONEYE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SINK_FRAME_BATCH 2u

struct sink_stats {
	uint64_t frames_sent;
	uint64_t bytes_sent;
	uint64_t frames_dropped;
	uint64_t queued_bytes;
	uint64_t clients;
};

/* Starts with no agent; frames queue (up to max_queued bytes) until one attaches. */
void sink_init(size_t max_queued);
/* The agent's connected socket (a dup is kept; the caller keeps its own). Replaces an older one. */
void sink_attach(int fd);
/* The agent went away: stop writing; later frames queue for the next one. */
void sink_detach(void);
/* Frames `payload` as `type` and sends or queues it; false when it was dropped. */
bool sink_offer(uint8_t type, const void *payload, size_t len);
/* A frame already encoded (the JS thread's STATS); false when dropped. */
bool sink_offer_encoded(const void *frame, size_t len);
/* Writes what the socket takes; true while frames remain queued for an attached agent. */
bool sink_pump(void);
void sink_get_stats(struct sink_stats *out);
/* Closes the socket and frees the queue. */
void sink_close(void);

#endif
