/*
 * The ETW consumer's shared definitions. Three files, one job each:
 *   etw_session.c  the real-time session: start (replacing a stale one), enable providers, query, stop
 *   etw_decode.c   one EVENT_RECORD -> one de_record, every top-level property decoded with TDH
 *   etw_addon.c    Node-API surface: open/stats/close, the ProcessTrace thread, batches to JS
 * All policy (what an event means, which table it goes to) is TypeScript: src/sources/etw/.
 */
#ifndef DAEMONEYE_ETW_H
#define DAEMONEYE_ETW_H

#ifndef UNICODE
#define UNICODE
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <evntrace.h>
#include <evntcons.h>
#include <tdh.h>
#include <stdint.h>

/* Microsoft-Windows-Kernel-Process {22FB2CD6-0E7B-422B-A0C7-2FAD1FD0E716} */
extern const GUID DE_KERNEL_PROCESS_GUID;
/* Microsoft-Windows-Kernel-Network {7DD42A49-5329-4832-8DFD-43D979153A88} */
extern const GUID DE_KERNEL_NETWORK_GUID;
/* RT_LostEvent {6A399AE0-4BC6-4DE9-870B-3657F8947E7E}: the session reports what it dropped. */
extern const GUID DE_RT_LOST_EVENT_GUID;

/*
 * Keywords, from the providers' manifests:
 *   Kernel-Process: WINEVENT_KEYWORD_PROCESS (0x10) = ProcessStart/ProcessStop,
 *                   WINEVENT_KEYWORD_IMAGE (0x40) = ImageLoad/ImageUnload.
 *                   Not THREAD (0x20): thread start/stop is an order of magnitude more events and
 *                   no event kind of ours needs it.
 *   Kernel-Network: KERNEL_NETWORK_KEYWORD_IPV4 (0x10) | KERNEL_NETWORK_KEYWORD_IPV6 (0x20).
 *                   These also cover send/receive (ids 10/11, 26/27), by far the most frequent
 *                   events: an event-id filter on EnableTraceEx2 keeps only connect and accept in the
 *                   provider, and etw_decode.c drops any other id before decoding as a second guard
 *                   (Windows 8.0 has no event-id filters).
 */
#define DE_PROCESS_KEYWORDS 0x50ULL
#define DE_NETWORK_KEYWORDS 0x30ULL

#define DE_PROVIDER_PROCESS 1
#define DE_PROVIDER_NETWORK 2

#define DE_MAX_PROPS 24
#define DE_NAME_MAX 48
#define DE_ARENA 4096

enum de_value_type { DE_NUM = 1, DE_BIGINT = 2, DE_STR = 3, DE_BOOL = 4 };

typedef struct de_prop {
  char name[DE_NAME_MAX];
  uint8_t type;
  /* DE_NUM (<= 32 bits, exact in a double), DE_BIGINT (64-bit, pointers, FILETIME), DE_BOOL */
  uint64_t u;
  int64_t i;
  uint8_t is_signed;
  /* DE_STR: UTF-8 in the record's arena */
  uint32_t str_off;
  uint32_t str_len;
} de_prop;

typedef struct de_record {
  uint8_t provider;
  uint16_t event_id;
  uint8_t version;
  uint8_t opcode;
  uint32_t pid; /* EVENT_HEADER: the process that logged it (for ProcessStart: the creator) */
  uint32_t tid;
  uint64_t timestamp; /* FILETIME (100 ns since 1601, UTC): ProcessTrace converts unless RAW_TIMESTAMP */
  char sid[80];       /* EVENT_HEADER_EXT_TYPE_SID as S-1-..., "" when absent */
  uint32_t nprops;
  de_prop props[DE_MAX_PROPS];
  uint32_t arena_used;
  char arena[DE_ARENA];
} de_record;

typedef struct de_counters {
  volatile LONG64 records;
  volatile LONG64 batches;
  volatile LONG64 batches_dropped;
  volatile LONG64 decode_errors;
  volatile LONG64 filtered;
  volatile LONG64 rt_lost_events;
  volatile LONG64 rt_lost_buffers;
  volatile LONG64 command_lines;
  volatile LONG64 command_lines_missing;
} de_counters;

/* etw_session.c */
typedef struct de_session_stats {
  ULONG events_lost;
  ULONG log_buffers_lost;
  ULONG real_time_buffers_lost;
  ULONG buffers_written;
} de_session_stats;

/* Starts the named real-time session. A session of the same name that is already running (left by
 * a crash: ETW sessions outlive their process) is stopped and replaced; *replaced says so.
 * Returns ERROR_SUCCESS or the Win32 error; *step names the call that failed. */
ULONG de_session_start(const wchar_t *name, ULONG buffer_kb, TRACEHANDLE *session, int *replaced, const char **step);
ULONG de_session_enable(TRACEHANDLE session, ULONGLONG process_keywords, ULONGLONG network_keywords, const char **step);
ULONG de_session_query(const wchar_t *name, de_session_stats *out);
ULONG de_session_stop(const wchar_t *name);

/* etw_decode.c */
typedef struct de_decoder {
  TRACE_EVENT_INFO *info;
  ULONG info_cap;
  BYTE *prop;
  ULONG prop_cap;
} de_decoder;

/* 0 = decoded, 1 = not ours / filtered (skip silently), -1 = decode error */
int de_decode(de_decoder *d, EVENT_RECORD *ev, de_record *out);
void de_decoder_free(de_decoder *d);
/* Appends a UTF-8 string property; returns 0, or -1 when the record is full. */
int de_add_string(de_record *r, const char *name, const wchar_t *value, size_t wchars);
/* For ProcessStart: the new process's command line, read from the process if it still exists and
 * its creation time matches CreateTime (so a recycled pid never lends its command line). */
int de_add_command_line(de_record *r, uint32_t pid, uint64_t create_time);
const de_prop *de_find(const de_record *r, const char *name);

#endif
