/* The real-time ETW session: start (stopping a stale one of the same name), enable the two kernel
 * providers, query loss counters, stop. Sessions are system-wide objects that outlive the process
 * that started them, so a crash leaves ours running, holding one of the 64 session slots. */
#include "etw.h"
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <stddef.h>

const GUID DE_KERNEL_PROCESS_GUID = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};
const GUID DE_KERNEL_NETWORK_GUID = {0x7dd42a49, 0x5329, 0x4832, {0x8d, 0xfd, 0x43, 0xd9, 0x79, 0x15, 0x3a, 0x88}};
const GUID DE_RT_LOST_EVENT_GUID = {0x6a399ae0, 0x4bc6, 0x4de9, {0x87, 0x0b, 0x36, 0x57, 0xf8, 0x94, 0x7e, 0x7e}};

/* EVENT_TRACE_PROPERTIES is followed by the session name (and room for a log file name, unused). */
static EVENT_TRACE_PROPERTIES *props_alloc(const wchar_t *name, ULONG *size_out) {
  size_t name_bytes = (wcslen(name) + 1) * sizeof(wchar_t);
  ULONG size = (ULONG)(sizeof(EVENT_TRACE_PROPERTIES) + name_bytes + 1024 * sizeof(wchar_t));
  EVENT_TRACE_PROPERTIES *p = (EVENT_TRACE_PROPERTIES *)calloc(1, size);
  if (p == NULL) return NULL;
  p->Wnode.BufferSize = size;
  p->LoggerNameOffset = sizeof(EVENT_TRACE_PROPERTIES);
  p->LogFileNameOffset = 0;
  *size_out = size;
  return p;
}

ULONG de_session_stop(const wchar_t *name) {
  ULONG size = 0;
  EVENT_TRACE_PROPERTIES *p = props_alloc(name, &size);
  if (p == NULL) return ERROR_NOT_ENOUGH_MEMORY;
  ULONG status = ControlTraceW(0, name, p, EVENT_TRACE_CONTROL_STOP);
  free(p);
  return status;
}

ULONG de_session_query(const wchar_t *name, de_session_stats *out) {
  ULONG size = 0;
  EVENT_TRACE_PROPERTIES *p = props_alloc(name, &size);
  if (p == NULL) return ERROR_NOT_ENOUGH_MEMORY;
  ULONG status = ControlTraceW(0, name, p, EVENT_TRACE_CONTROL_QUERY);
  if (status == ERROR_SUCCESS) {
    out->events_lost = p->EventsLost;
    out->log_buffers_lost = p->LogBuffersLost;
    out->real_time_buffers_lost = p->RealTimeBuffersLost;
    out->buffers_written = p->BuffersWritten;
  }
  free(p);
  return status;
}

static ULONG start_once(const wchar_t *name, ULONG buffer_kb, TRACEHANDLE *session) {
  ULONG size = 0;
  EVENT_TRACE_PROPERTIES *p = props_alloc(name, &size);
  if (p == NULL) return ERROR_NOT_ENOUGH_MEMORY;
  p->Wnode.Flags = WNODE_FLAG_TRACED_GUID;
  /* 1 = QueryPerformanceCounter: the precise clock; ProcessTrace still hands us FILETIME because
   * we do not ask for PROCESS_TRACE_MODE_RAW_TIMESTAMP. */
  p->Wnode.ClientContext = 1;
  p->LogFileMode = EVENT_TRACE_REAL_TIME_MODE;
  p->BufferSize = buffer_kb;
  /* Buffers absorb bursts (a build spawning thousands of processes) while JS catches up; what
   * overflows is counted by ETW (RealTimeBuffersLost, EventsLost) and reported, never silent. */
  p->MinimumBuffers = 16;
  p->MaximumBuffers = 128;
  p->FlushTimer = 1; /* seconds: bounds how long an event waits in a half-empty buffer */
  ULONG status = StartTraceW(session, name, p);
  free(p);
  return status;
}

ULONG de_session_start(const wchar_t *name, ULONG buffer_kb, TRACEHANDLE *session, int *replaced, const char **step) {
  *replaced = 0;
  *step = "StartTraceW";
  ULONG status = start_once(name, buffer_kb, session);
  if (status == ERROR_ALREADY_EXISTS) {
    /* A session of this name exists: ours, left by a crash (or a second agent, which the data-dir
     * lock prevents). Stop it and start afresh, so its stale buffers and enables do not linger. */
    *step = "ControlTraceW(STOP) of the stale session";
    ULONG stopped = de_session_stop(name);
    if (stopped != ERROR_SUCCESS && stopped != ERROR_WMI_INSTANCE_NOT_FOUND) return stopped;
    *replaced = 1;
    *step = "StartTraceW (after stopping the stale session)";
    status = start_once(name, buffer_kb, session);
  }
  return status;
}

/* EVENT_FILTER_EVENT_ID and EVENT_FILTER_TYPE_EVENT_ID of the Windows SDK's evntprov.h (Windows 8.1
 * and later), spelled out because MinGW-w64's headers lack them; the layout is the SDK's. */
#define DE_EVENT_FILTER_TYPE_EVENT_ID 0x80000200u
typedef struct de_event_id_filter {
  BOOLEAN FilterIn;
  UCHAR Reserved;
  USHORT Count;
  USHORT Events[4];
} de_event_id_filter;

static const USHORT PROCESS_IDS[] = {1, 2, 5};      /* ProcessStart, ProcessStop, ImageLoad (not 6 ImageUnload) */
static const USHORT NETWORK_IDS[] = {12, 15, 28, 31}; /* TCP connect/accept, v4 and v6: not send/receive */

static ULONG enable(TRACEHANDLE session, const GUID *provider, ULONGLONG keywords, const USHORT *ids, USHORT count) {
  ENABLE_TRACE_PARAMETERS params;
  memset(&params, 0, sizeof params);
  params.Version = ENABLE_TRACE_PARAMETERS_VERSION_2;
  /* The user SID of the process that logged the event, as extended data: our uid column. */
  params.EnableProperty = EVENT_ENABLE_PROPERTY_SID;
  /* Filter by event id in the provider, so the events we drop (above all TCP send/receive, the most
   * frequent events of all) are never logged, buffered or delivered. */
  de_event_id_filter filter;
  memset(&filter, 0, sizeof filter);
  filter.FilterIn = TRUE;
  filter.Count = count;
  for (USHORT i = 0; i < count && i < 4; i++) filter.Events[i] = ids[i];
  EVENT_FILTER_DESCRIPTOR desc;
  desc.Ptr = (ULONGLONG)(ULONG_PTR)&filter;
  desc.Size = (ULONG)(offsetof(de_event_id_filter, Events) + count * sizeof(USHORT));
  desc.Type = DE_EVENT_FILTER_TYPE_EVENT_ID;
  params.EnableFilterDesc = &desc;
  params.FilterDescCount = 1;
  ULONG status = EnableTraceEx2(session, provider, EVENT_CONTROL_CODE_ENABLE_PROVIDER, TRACE_LEVEL_INFORMATION,
                                keywords, 0, 0, &params);
  if (status == ERROR_NOT_SUPPORTED || status == ERROR_INVALID_PARAMETER) {
    /* Windows 8.0 has no event-id filters: enable without one (etw_decode.c drops by id anyway). */
    params.EnableFilterDesc = NULL;
    params.FilterDescCount = 0;
    status = EnableTraceEx2(session, provider, EVENT_CONTROL_CODE_ENABLE_PROVIDER, TRACE_LEVEL_INFORMATION,
                            keywords, 0, 0, &params);
  }
  return status;
}

ULONG de_session_enable(TRACEHANDLE session, ULONGLONG process_keywords, ULONGLONG network_keywords, const char **step) {
  *step = "EnableTraceEx2(Microsoft-Windows-Kernel-Process)";
  ULONG status = enable(session, &DE_KERNEL_PROCESS_GUID, process_keywords, PROCESS_IDS, 3);
  if (status != ERROR_SUCCESS) return status;
  if (network_keywords == 0) return ERROR_SUCCESS;
  *step = "EnableTraceEx2(Microsoft-Windows-Kernel-Network)";
  return enable(session, &DE_KERNEL_NETWORK_GUID, network_keywords, NETWORK_IDS, 4);
}
