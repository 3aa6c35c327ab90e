/* Node-API surface of the ETW consumer: open(options, onBatch) / stats() / close() /
 * querySession(name) / isElevated() / dosDevices(). One session per process (module state below).
 *
 * Threads: ProcessTrace blocks, so it runs on a thread of its own; its callbacks decode each event
 * (etw_decode.c) into a batch, and each batch crosses to the JS thread through a
 * napi_threadsafe_function. Batches are handed over non-blocking: when JS falls behind by
 * DE_QUEUE_MAX batches the batch is dropped and counted (batchesDropped) rather than stalling
 * ProcessTrace, which would make ETW itself lose whole buffers. */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "etw.h"
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define DE_BATCH_MAX 128
#define DE_QUEUE_MAX 64

typedef struct de_batch {
  uint32_t count;
  de_record recs[DE_BATCH_MAX];
} de_batch;

static struct {
  int open;
  wchar_t name[256];
  char name_utf8[512];
  TRACEHANDLE session;
  TRACEHANDLE trace;
  HANDLE thread;
  napi_threadsafe_function tsfn;
  de_batch *batch; /* touched only by the trace thread */
  de_decoder dec;
  de_counters c;
  int replaced;
  int query_cmdline;
  volatile LONG stopping;
  ULONG end_status;      /* what ProcessTrace returned when the session ended without close() */
  de_session_stats last; /* the session's loss counters, kept after close */
} g;

#define CHECK(env, call)                                                                                               \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error((env), "DE_ETW_NAPI", "Node-API call failed: " #call);                                          \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

/* ---- trace thread ------------------------------------------------------------------------------ */

static void flush(void) {
  de_batch *b = g.batch;
  if (b == NULL || b->count == 0) return;
  g.batch = NULL;
  if (napi_call_threadsafe_function(g.tsfn, b, napi_tsfn_nonblocking) == napi_ok) {
    InterlockedIncrement64(&g.c.batches);
  } else {
    InterlockedIncrement64(&g.c.batches_dropped);
    free(b);
  }
}

static void count_lost(const EVENT_RECORD *ev) {
  /* RT_LostEvent class: opcode 32 RT_LostEvent, 33 RT_LostBuffer, 34 RT_LostMofEvent. */
  UCHAR op = ev->EventHeader.EventDescriptor.Opcode;
  if (op == 33) InterlockedIncrement64(&g.c.rt_lost_buffers);
  else InterlockedIncrement64(&g.c.rt_lost_events);
}

static VOID WINAPI on_event(PEVENT_RECORD ev) {
  if (IsEqualGUID(&ev->EventHeader.ProviderId, &DE_RT_LOST_EVENT_GUID)) {
    count_lost(ev);
    return;
  }
  if (g.batch == NULL) {
    g.batch = (de_batch *)malloc(sizeof(de_batch));
    if (g.batch == NULL) {
      InterlockedIncrement64(&g.c.batches_dropped);
      return;
    }
    g.batch->count = 0;
  }
  de_record *r = &g.batch->recs[g.batch->count];
  int rc = de_decode(&g.dec, ev, r);
  if (rc == 1) {
    InterlockedIncrement64(&g.c.filtered);
    return;
  }
  if (rc < 0) {
    InterlockedIncrement64(&g.c.decode_errors);
    return;
  }
  if (g.query_cmdline && r->provider == DE_PROVIDER_PROCESS && r->event_id == 1) {
    /* Kernel-Process ProcessStart carries no command line: read it from the new process while it
     * lives. A process that already exited (or a recycled pid) gets none: counted, not guessed. */
    const de_prop *pid = de_find(r, "ProcessID");
    const de_prop *created = de_find(r, "CreateTime");
    if (pid != NULL && created != NULL && de_add_command_line(r, (uint32_t)pid->u, created->u) == 0) {
      InterlockedIncrement64(&g.c.command_lines);
    } else {
      InterlockedIncrement64(&g.c.command_lines_missing);
    }
  }
  g.batch->count++;
  InterlockedIncrement64(&g.c.records);
  if (g.batch->count == DE_BATCH_MAX) flush();
}

/* Called after each buffer is delivered: the natural end of a batch (buffers flush at least every
 * FlushTimer second), so JS sees events within about a second even when they are few. */
static ULONG WINAPI on_buffer(PEVENT_TRACE_LOGFILEW logfile) {
  (void)logfile;
  flush();
  return g.stopping ? FALSE : TRUE;
}

static DWORD WINAPI trace_thread(LPVOID arg) {
  (void)arg;
  ULONG rc = ProcessTrace(&g.trace, 1, NULL, NULL);
  flush();
  free(g.batch);
  g.batch = NULL;
  if (!g.stopping) {
    /* The session ended under us (`logman stop NAME -ets`, another tool reusing the name): tell JS,
     * which decides to reopen; a NULL batch is the signal. Blocking: this must not be dropped. */
    g.end_status = rc;
    napi_call_threadsafe_function(g.tsfn, NULL, napi_tsfn_blocking);
  }
  return 0;
}

/* ---- JS thread --------------------------------------------------------------------------------- */

static napi_value js_value(napi_env env, const de_record *r, const de_prop *p) {
  napi_value v = NULL;
  switch (p->type) {
  case DE_NUM:
    if (p->is_signed) napi_create_int64(env, p->i, &v);
    else napi_create_double(env, (double)p->u, &v);
    break;
  case DE_BIGINT:
    if (p->is_signed) napi_create_bigint_int64(env, p->i, &v);
    else napi_create_bigint_uint64(env, p->u, &v);
    break;
  case DE_BOOL:
    napi_get_boolean(env, p->u != 0, &v);
    break;
  default:
    napi_create_string_utf8(env, r->arena + p->str_off, p->str_len, &v);
    break;
  }
  return v;
}

static void set_num(napi_env env, napi_value obj, const char *key, double n) {
  napi_value v;
  napi_create_double(env, n, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value record_to_js(napi_env env, const de_record *r) {
  napi_value obj, props, v;
  napi_create_object(env, &obj);
  const char *provider = r->provider == DE_PROVIDER_PROCESS ? "Microsoft-Windows-Kernel-Process" : "Microsoft-Windows-Kernel-Network";
  napi_create_string_utf8(env, provider, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "provider", v);
  set_num(env, obj, "eventId", r->event_id);
  set_num(env, obj, "version", r->version);
  set_num(env, obj, "opcode", r->opcode);
  set_num(env, obj, "processId", r->pid);
  set_num(env, obj, "threadId", r->tid);
  napi_create_bigint_uint64(env, r->timestamp, &v);
  napi_set_named_property(env, obj, "timestamp", v);
  if (r->sid[0] != '\0') napi_create_string_utf8(env, r->sid, NAPI_AUTO_LENGTH, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, obj, "userSid", v);
  napi_create_object(env, &props);
  for (uint32_t i = 0; i < r->nprops; i++) {
    napi_value pv = js_value(env, r, &r->props[i]);
    if (pv != NULL) napi_set_named_property(env, props, r->props[i].name, pv);
  }
  napi_set_named_property(env, obj, "properties", props);
  return obj;
}

static void call_js(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  de_batch *b = (de_batch *)data;
  if (b == NULL) {
    /* onBatch(null, status): the session ended without close() */
    if (env != NULL && cb != NULL) {
      napi_value argv[2], undefined;
      napi_get_null(env, &argv[0]);
      napi_create_double(env, (double)g.end_status, &argv[1]);
      napi_get_undefined(env, &undefined);
      napi_call_function(env, undefined, cb, 2, argv, NULL);
    }
    return;
  }
  if (env != NULL && cb != NULL) {
    napi_value arr, undefined;
    napi_create_array_with_length(env, b->count, &arr);
    for (uint32_t i = 0; i < b->count; i++) napi_set_element(env, arr, i, record_to_js(env, &b->recs[i]));
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, cb, 1, &arr, NULL);
  }
  free(b);
}

static void throw_win32(napi_env env, const char *code, const char *step, ULONG err) {
  char msg[768];
  snprintf(msg, sizeof msg, "%s failed for session \"%s\" (Win32 error %lu)", step, g.name_utf8, (unsigned long)err);
  napi_throw_error(env, code, msg);
}

static int get_prop(napi_env env, napi_value obj, const char *key, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, out) != napi_ok || napi_typeof(env, *out, &t) != napi_ok) return 0;
  return t != napi_undefined && t != napi_null;
}

static double opt_num(napi_env env, napi_value obj, const char *key, double def) {
  napi_value v;
  double d = def;
  if (get_prop(env, obj, key, &v) && napi_get_value_double(env, v, &d) != napi_ok) d = def;
  return d;
}

static int read_name(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, g.name_utf8, sizeof g.name_utf8, &len) != napi_ok || len == 0) return -1;
  if (MultiByteToWideChar(CP_UTF8, 0, g.name_utf8, -1, g.name, (int)(sizeof g.name / sizeof g.name[0])) == 0) return -1;
  return 0;
}

static void close_session(void) {
  if (!g.open) return;
  InterlockedExchange(&g.stopping, 1);
  de_session_query(g.name, &g.last);
  /* Stopping the session ends ProcessTrace once the buffers already written are delivered. */
  de_session_stop(g.name);
  CloseTrace(g.trace);
  WaitForSingleObject(g.thread, 10000);
  CloseHandle(g.thread);
  napi_release_threadsafe_function(g.tsfn, napi_tsfn_release);
  de_decoder_free(&g.dec);
  g.open = 0;
}

static void cleanup_hook(void *arg) {
  (void)arg;
  /* The session is system-wide: never leave it running when Node exits without close(). */
  close_session();
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (g.open) {
    napi_throw_error(env, "DE_ETW_BUSY", "an ETW session is already open in this process");
    return NULL;
  }
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc == 2) {
    napi_typeof(env, argv[0], &t0);
    napi_typeof(env, argv[1], &t1);
  }
  if (t0 != napi_object || t1 != napi_function) {
    napi_throw_type_error(env, "DE_ETW_ARGS", "open(options, onBatch) expects an object and a function");
    return NULL;
  }
  if (!get_prop(env, argv[0], "sessionName", &v) || read_name(env, v) != 0) {
    napi_throw_type_error(env, "DE_ETW_ARGS", "options.sessionName must be a non-empty string");
    return NULL;
  }
  ULONG buffer_kb = (ULONG)opt_num(env, argv[0], "bufferKb", 64);
  ULONGLONG pk = (ULONGLONG)opt_num(env, argv[0], "processKeywords", (double)DE_PROCESS_KEYWORDS);
  ULONGLONG nk = (ULONGLONG)opt_num(env, argv[0], "networkKeywords", (double)DE_NETWORK_KEYWORDS);
  g.query_cmdline = opt_num(env, argv[0], "queryCommandLine", 1) != 0;
  memset(&g.c, 0, sizeof g.c);
  memset(&g.last, 0, sizeof g.last);
  g.stopping = 0;

  const char *step = "";
  ULONG err = de_session_start(g.name, buffer_kb, &g.session, &g.replaced, &step);
  if (err != ERROR_SUCCESS) {
    throw_win32(env, err == ERROR_ACCESS_DENIED ? "DE_ETW_ACCESS" : "DE_ETW_SESSION", step, err);
    return NULL;
  }
  err = de_session_enable(g.session, pk, nk, &step);
  if (err != ERROR_SUCCESS) {
    de_session_stop(g.name);
    throw_win32(env, err == ERROR_ACCESS_DENIED ? "DE_ETW_ACCESS" : "DE_ETW_ENABLE", step, err);
    return NULL;
  }

  EVENT_TRACE_LOGFILEW lf;
  memset(&lf, 0, sizeof lf);
  lf.LoggerName = g.name;
  lf.ProcessTraceMode = PROCESS_TRACE_MODE_REAL_TIME | PROCESS_TRACE_MODE_EVENT_RECORD;
  lf.EventRecordCallback = on_event;
  lf.BufferCallback = on_buffer;
  g.trace = OpenTraceW(&lf);
  if (g.trace == INVALID_PROCESSTRACE_HANDLE) {
    err = GetLastError();
    de_session_stop(g.name);
    throw_win32(env, "DE_ETW_SESSION", "OpenTraceW", err);
    return NULL;
  }

  napi_value name;
  CHECK(env, napi_create_string_utf8(env, "daemoneye-etw", NAPI_AUTO_LENGTH, &name));
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, DE_QUEUE_MAX, 1, NULL, NULL, NULL, call_js, &g.tsfn) != napi_ok) {
    CloseTrace(g.trace);
    de_session_stop(g.name);
    napi_throw_error(env, "DE_ETW_NAPI", "napi_create_threadsafe_function failed");
    return NULL;
  }
  g.thread = CreateThread(NULL, 0, trace_thread, NULL, 0, NULL);
  if (g.thread == NULL) {
    err = GetLastError();
    CloseTrace(g.trace);
    de_session_stop(g.name);
    napi_release_threadsafe_function(g.tsfn, napi_tsfn_abort);
    throw_win32(env, "DE_ETW_SESSION", "CreateThread", err);
    return NULL;
  }
  g.open = 1;

  napi_value out;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_string_utf8(env, g.name_utf8, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "sessionName", v));
  CHECK(env, napi_get_boolean(env, g.replaced != 0, &v));
  CHECK(env, napi_set_named_property(env, out, "staleSessionReplaced", v));
  set_num(env, out, "processKeywords", (double)pk);
  set_num(env, out, "networkKeywords", (double)nk);
  return out;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_object(env, &out));
  if (g.open) de_session_query(g.name, &g.last);
  set_num(env, out, "records", (double)g.c.records);
  set_num(env, out, "batches", (double)g.c.batches);
  set_num(env, out, "batchesDropped", (double)g.c.batches_dropped);
  set_num(env, out, "decodeErrors", (double)g.c.decode_errors);
  set_num(env, out, "filtered", (double)g.c.filtered);
  set_num(env, out, "rtLostEvents", (double)g.c.rt_lost_events);
  set_num(env, out, "rtLostBuffers", (double)g.c.rt_lost_buffers);
  set_num(env, out, "eventsLost", (double)g.last.events_lost);
  set_num(env, out, "realTimeBuffersLost", (double)g.last.real_time_buffers_lost);
  set_num(env, out, "logBuffersLost", (double)g.last.log_buffers_lost);
  set_num(env, out, "buffersWritten", (double)g.last.buffers_written);
  set_num(env, out, "commandLines", (double)g.c.command_lines);
  set_num(env, out, "commandLinesMissing", (double)g.c.command_lines_missing);
  set_num(env, out, "staleSessionReplaced", g.replaced ? 1 : 0);
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  (void)info;
  close_session();
  napi_value u;
  CHECK(env, napi_get_undefined(env, &u));
  return u;
}

/* For doctor: is a session of this name running (ours, or a stale one), and may we see it? */
static napi_value js_query_session(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char utf8[512];
  wchar_t wide[256];
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], utf8, sizeof utf8, &len) != napi_ok || len == 0 ||
      MultiByteToWideChar(CP_UTF8, 0, utf8, -1, wide, 256) == 0) {
    napi_throw_type_error(env, "DE_ETW_ARGS", "querySession(name) expects a non-empty string");
    return NULL;
  }
  de_session_stats s;
  memset(&s, 0, sizeof s);
  ULONG err = de_session_query(wide, &s);
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_get_boolean(env, err == ERROR_SUCCESS, &v));
  CHECK(env, napi_set_named_property(env, out, "running", v));
  set_num(env, out, "win32Error", (double)err);
  set_num(env, out, "eventsLost", (double)s.events_lost);
  set_num(env, out, "realTimeBuffersLost", (double)s.real_time_buffers_lost);
  return out;
}

static napi_value js_is_elevated(napi_env env, napi_callback_info info) {
  (void)info;
  HANDLE token = NULL;
  TOKEN_ELEVATION e;
  DWORD size = 0;
  int elevated = 0;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    if (GetTokenInformation(token, TokenElevation, &e, sizeof e, &size)) elevated = e.TokenIsElevated != 0;
    CloseHandle(token);
  }
  napi_value v;
  CHECK(env, napi_get_boolean(env, elevated, &v));
  return v;
}

/* Kernel-Process logs NT paths (\Device\HarddiskVolume3\Windows\...): the drive letters that
 * name those devices now, so the TS side can show C:\Windows\... as analysts expect. */
static napi_value js_dos_devices(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  CHECK(env, napi_create_object(env, &out));
  for (wchar_t letter = L'A'; letter <= L'Z'; letter++) {
    wchar_t drive[3] = {letter, L':', L'\0'};
    wchar_t target[1024];
    if (QueryDosDeviceW(drive, target, sizeof target / sizeof target[0]) == 0) continue;
    char key[2048], val[4];
    if (WideCharToMultiByte(CP_UTF8, 0, target, -1, key, sizeof key, NULL, NULL) == 0) continue;
    if (WideCharToMultiByte(CP_UTF8, 0, drive, -1, val, sizeof val, NULL, NULL) == 0) continue;
    CHECK(env, napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v));
    CHECK(env, napi_set_named_property(env, out, key, v));
  }
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"querySession", NULL, js_query_session, NULL, NULL, NULL, napi_default, NULL},
      {"isElevated", NULL, js_is_elevated, NULL, NULL, NULL, napi_default, NULL},
      {"dosDevices", NULL, js_dos_devices, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_add_env_cleanup_hook(env, cleanup_hook, NULL);
  return exports;
}
