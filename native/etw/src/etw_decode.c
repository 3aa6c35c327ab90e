/* One EVENT_RECORD -> one de_record. Every top-level property is decoded with TDH by its manifest
 * InType, without interpretation: a port stays the raw UInt16 the provider logged (network byte
 * order, OutType win:Port), an IPv4 address the raw UInt32 (OutType win:IPv4). The TypeScript side
 * (src/sources/etw/) applies the OutType meaning, so the C never holds policy. */
#include "etw.h"
#include <sddl.h>
#include <stddef.h>
#include <winternl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* TDH_IN_TYPE values, as in the Windows SDK's tdh.h and the manifest schema (win:UInt32 = 8, ...).
 * Spelled out because MinGW-w64's tdh.h does not define the enum; values are fixed by the ABI. */
enum {
  DE_IN_UNICODESTRING = 1, DE_IN_ANSISTRING = 2, DE_IN_INT8 = 3, DE_IN_UINT8 = 4, DE_IN_INT16 = 5,
  DE_IN_UINT16 = 6, DE_IN_INT32 = 7, DE_IN_UINT32 = 8, DE_IN_INT64 = 9, DE_IN_UINT64 = 10,
  DE_IN_BOOLEAN = 13, DE_IN_BINARY = 14, DE_IN_GUID = 15, DE_IN_POINTER = 16, DE_IN_FILETIME = 17,
  DE_IN_SID = 19, DE_IN_HEXINT32 = 20, DE_IN_HEXINT64 = 21
};

/* PROCESSINFOCLASS value (winternl.h of newer SDKs names it; MinGW's does not). Windows 8.1+. */
#define DE_PROCESS_COMMAND_LINE_INFORMATION 60

static int grow(void **buf, ULONG *cap, ULONG need) {
  if (need <= *cap) return 0;
  void *p = realloc(*buf, need);
  if (p == NULL) return -1;
  *buf = p;
  *cap = need;
  return 0;
}

void de_decoder_free(de_decoder *d) {
  free(d->info);
  free(d->prop);
  memset(d, 0, sizeof *d);
}

const de_prop *de_find(const de_record *r, const char *name) {
  for (uint32_t i = 0; i < r->nprops; i++) {
    if (strcmp(r->props[i].name, name) == 0) return &r->props[i];
  }
  return NULL;
}

static de_prop *add_prop(de_record *r, const wchar_t *name) {
  if (r->nprops >= DE_MAX_PROPS) return NULL;
  de_prop *p = &r->props[r->nprops];
  memset(p, 0, sizeof *p);
  if (WideCharToMultiByte(CP_UTF8, 0, name, -1, p->name, DE_NAME_MAX, NULL, NULL) == 0) return NULL;
  r->nprops++;
  return p;
}

static int put_utf8(de_record *r, de_prop *p, const char *s, size_t len) {
  if (len > DE_ARENA - r->arena_used) len = DE_ARENA - r->arena_used; /* cut, never overflow */
  memcpy(r->arena + r->arena_used, s, len);
  p->type = DE_STR;
  p->str_off = r->arena_used;
  p->str_len = (uint32_t)len;
  r->arena_used += (uint32_t)len;
  return 0;
}

static int put_wide(de_record *r, de_prop *p, const wchar_t *w, size_t wchars) {
  /* Trailing NULs are part of counted buffers, not of the value. */
  while (wchars > 0 && w[wchars - 1] == L'\0') wchars--;
  int room = (int)(DE_ARENA - r->arena_used);
  /* 0 when it does not fit the arena: an empty string beats a wrongly cut one */
  int n = wchars == 0 ? 0 : WideCharToMultiByte(CP_UTF8, 0, w, (int)wchars, r->arena + r->arena_used, room, NULL, NULL);
  p->type = DE_STR;
  p->str_off = r->arena_used;
  p->str_len = (uint32_t)n;
  r->arena_used += (uint32_t)n;
  return 0;
}

int de_add_string(de_record *r, const char *name, const wchar_t *value, size_t wchars) {
  if (r->nprops >= DE_MAX_PROPS) return -1;
  de_prop *p = &r->props[r->nprops++];
  memset(p, 0, sizeof *p);
  strncpy(p->name, name, DE_NAME_MAX - 1);
  return put_wide(r, p, value, wchars);
}

static void put_hex(de_record *r, de_prop *p, const BYTE *b, ULONG n) {
  static const char digits[] = "0123456789abcdef";
  char tmp[256];
  ULONG m = n > sizeof tmp / 2 ? (ULONG)(sizeof tmp / 2) : n;
  for (ULONG i = 0; i < m; i++) {
    tmp[2 * i] = digits[b[i] >> 4];
    tmp[2 * i + 1] = digits[b[i] & 15];
  }
  put_utf8(r, p, tmp, 2 * m);
}

static void put_uint(de_prop *p, uint64_t v, int bits) {
  p->type = bits <= 32 ? DE_NUM : DE_BIGINT;
  p->u = v;
}

static void put_int(de_prop *p, int64_t v, int bits) {
  p->type = bits <= 32 ? DE_NUM : DE_BIGINT;
  p->is_signed = 1;
  p->i = v;
}

static void decode_value(de_record *r, de_prop *p, USHORT in_type, const BYTE *b, ULONG n) {
  uint64_t u = 0;
  switch (in_type) {
  case DE_IN_UNICODESTRING:
    put_wide(r, p, (const wchar_t *)b, n / sizeof(wchar_t));
    return;
  case DE_IN_ANSISTRING: {
    size_t len = strnlen((const char *)b, n);
    put_utf8(r, p, (const char *)b, len);
    return;
  }
  case DE_IN_INT8: put_int(p, n >= 1 ? (int8_t)b[0] : 0, 8); return;
  case DE_IN_INT16: { int16_t v = 0; memcpy(&v, b, n >= 2 ? 2 : 0); put_int(p, v, 16); return; }
  case DE_IN_INT32: { int32_t v = 0; memcpy(&v, b, n >= 4 ? 4 : 0); put_int(p, v, 32); return; }
  case DE_IN_INT64: { int64_t v = 0; memcpy(&v, b, n >= 8 ? 8 : 0); put_int(p, v, 64); return; }
  case DE_IN_BOOLEAN: { uint32_t v = 0; memcpy(&v, b, n >= 4 ? 4 : n); p->type = DE_BOOL; p->u = v != 0; return; }
  case DE_IN_UINT8:
  case DE_IN_UINT16:
  case DE_IN_UINT32:
  case DE_IN_HEXINT32:
    memcpy(&u, b, n > 4 ? 4 : n);
    put_uint(p, u, 32);
    return;
  case DE_IN_UINT64:
  case DE_IN_HEXINT64:
  case DE_IN_FILETIME:
    memcpy(&u, b, n > 8 ? 8 : n);
    put_uint(p, u, 64);
    return;
  case DE_IN_POINTER:
    /* 4 or 8 bytes by the logger's bitness (EVENT_HEADER_FLAG_32_BIT_HEADER); TDH sized it. */
    memcpy(&u, b, n > 8 ? 8 : n);
    put_uint(p, u, 64);
    return;
  case DE_IN_GUID:
    if (n >= sizeof(GUID)) {
      const GUID *g = (const GUID *)b;
      char tmp[40];
      int len = snprintf(tmp, sizeof tmp, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned long)g->Data1,
                         g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4],
                         g->Data4[5], g->Data4[6], g->Data4[7]);
      put_utf8(r, p, tmp, len > 0 ? (size_t)len : 0);
    }
    return;
  case DE_IN_SID: {
    LPSTR s = NULL;
    if (IsValidSid((PSID)b) && ConvertSidToStringSidA((PSID)b, &s)) {
      put_utf8(r, p, s, strlen(s));
      LocalFree(s);
    } else {
      put_hex(r, p, b, n);
    }
    return;
  }
  default: /* BINARY (IPv6 addresses) and anything else: lowercase hex of the bytes */
    put_hex(r, p, b, n);
    return;
  }
}

static int wanted(uint8_t provider, USHORT id) {
  if (provider == DE_PROVIDER_PROCESS) return id == 1 || id == 2 || id == 5;
  /* TCPv4 connect 12 / accept 15, TCPv6 connect 28 / accept 31 */
  return id == 12 || id == 15 || id == 28 || id == 31;
}

static void header_sid(EVENT_RECORD *ev, de_record *out) {
  out->sid[0] = '\0';
  for (USHORT i = 0; i < ev->ExtendedDataCount; i++) {
    EVENT_HEADER_EXTENDED_DATA_ITEM *x = &ev->ExtendedData[i];
    if (x->ExtType != EVENT_HEADER_EXT_TYPE_SID) continue;
    LPSTR s = NULL;
    if (IsValidSid((PSID)(ULONG_PTR)x->DataPtr) && ConvertSidToStringSidA((PSID)(ULONG_PTR)x->DataPtr, &s)) {
      strncpy(out->sid, s, sizeof out->sid - 1);
      out->sid[sizeof out->sid - 1] = '\0';
      LocalFree(s);
    }
    return;
  }
}

int de_decode(de_decoder *d, EVENT_RECORD *ev, de_record *out) {
  EVENT_HEADER *h = &ev->EventHeader;
  uint8_t provider = IsEqualGUID(&h->ProviderId, &DE_KERNEL_PROCESS_GUID) ? DE_PROVIDER_PROCESS
                     : IsEqualGUID(&h->ProviderId, &DE_KERNEL_NETWORK_GUID) ? DE_PROVIDER_NETWORK
                                                                           : 0;
  if (provider == 0 || !wanted(provider, h->EventDescriptor.Id)) return 1;

  ULONG size = d->info_cap;
  ULONG status = d->info == NULL ? ERROR_INSUFFICIENT_BUFFER : TdhGetEventInformation(ev, 0, NULL, d->info, &size);
  if (status == ERROR_INSUFFICIENT_BUFFER) {
    if (size < 4096) size = 4096;
    if (grow((void **)&d->info, &d->info_cap, size) != 0) return -1;
    status = TdhGetEventInformation(ev, 0, NULL, d->info, &size);
  }
  if (status != ERROR_SUCCESS) return -1;

  memset(out, 0, offsetof(de_record, arena));
  out->provider = provider;
  out->event_id = h->EventDescriptor.Id;
  out->version = h->EventDescriptor.Version;
  out->opcode = h->EventDescriptor.Opcode;
  out->pid = h->ProcessId;
  out->tid = h->ThreadId;
  out->timestamp = (uint64_t)h->TimeStamp.QuadPart;
  header_sid(ev, out);

  TRACE_EVENT_INFO *info = d->info;
  for (ULONG i = 0; i < info->TopLevelPropertyCount; i++) {
    EVENT_PROPERTY_INFO *pi = &info->EventPropertyInfoArray[i];
    /* Neither provider logs structs or arrays in the events we keep; skip rather than guess. */
    if ((pi->Flags & PropertyStruct) || (pi->Flags & PropertyParamCount) || pi->count > 1) continue;
    const wchar_t *name = (const wchar_t *)((BYTE *)info + pi->NameOffset);
    PROPERTY_DATA_DESCRIPTOR desc;
    memset(&desc, 0, sizeof desc);
    desc.PropertyName = (ULONGLONG)(ULONG_PTR)name;
    desc.ArrayIndex = ULONG_MAX;
    ULONG psize = 0;
    if (TdhGetPropertySize(ev, 0, NULL, 1, &desc, &psize) != ERROR_SUCCESS) return -1;
    if (grow((void **)&d->prop, &d->prop_cap, psize + 2) != 0) return -1;
    if (psize > 0 && TdhGetProperty(ev, 0, NULL, 1, &desc, psize, d->prop) != ERROR_SUCCESS) return -1;
    de_prop *p = add_prop(out, name);
    if (p == NULL) break;
    decode_value(out, p, pi->nonStructType.InType, d->prop, psize);
  }
  return 0;
}

int de_add_command_line(de_record *r, uint32_t pid, uint64_t create_time) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (h == NULL) return -1;
  int rc = -1;
  FILETIME created, exited, kernel, user;
  if (GetProcessTimes(h, &created, &exited, &kernel, &user)) {
    uint64_t c = ((uint64_t)created.dwHighDateTime << 32) | created.dwLowDateTime;
    if (c == create_time) {
      BYTE buf[8192];
      ULONG len = 0;
      NTSTATUS st = NtQueryInformationProcess(h, (PROCESSINFOCLASS)DE_PROCESS_COMMAND_LINE_INFORMATION, buf, sizeof buf, &len);
      if (st >= 0) {
        UNICODE_STRING *us = (UNICODE_STRING *)buf;
        rc = de_add_string(r, "DaemonEyeCommandLine", us->Buffer, us->Length / sizeof(wchar_t));
      }
    }
  }
  CloseHandle(h);
  return rc;
}
