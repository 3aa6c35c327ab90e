/*
 * The few Node-API helpers every DaemonEye addon needs (eBPF sensor, pcap capture, XDP flows): a
 * JavaScript Error with a DaemonEye code, and strings and numbers as JavaScript values. Included by
 * each addon's single translation unit; static inline, so an unused one costs nothing.
 */
#ifndef DE_NAPI_HELPERS_H
#define DE_NAPI_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <node_api.h>

/*
 * Throws an Error whose `code` is a DaemonEye error code (src/errors/catalogue.ts) and returns NULL
 * so callers can `return throw_code(...)`. Room for a verifier or libpcap message in full.
 */
static inline napi_value throw_code(napi_env env, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline napi_value throw_code(napi_env env, const char *code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	napi_throw_error(env, code, msg);
	return NULL;
}

static inline napi_value str(napi_env env, const char *s)
{
	napi_value v;

	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
	return v;
}

static inline napi_value num(napi_env env, double x)
{
	napi_value v;

	napi_create_double(env, x, &v);
	return v;
}

#endif
