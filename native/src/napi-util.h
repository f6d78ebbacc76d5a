/*
 * Small helpers over node_api.h shared by the capture addon's source files.
 * Every Node-API call is checked: on failure the helpers throw a JS error (unless one is already pending)
 * and the calling function returns NULL, which Node turns into `undefined` plus the pending exception.
 */
#ifndef LOOPY_NAPI_UTIL_H
#define LOOPY_NAPI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* Stable error codes (err.code in JS). */
#define LOOPY_E_ARG "LOOPY_CAPTURE_BAD_ARGUMENT"
#define LOOPY_E_OPEN "LOOPY_CAPTURE_OPEN_FAILED"
#define LOOPY_E_PERM "LOOPY_CAPTURE_PERMISSION_DENIED"
#define LOOPY_E_NODEV "LOOPY_CAPTURE_NO_SUCH_DEVICE"
#define LOOPY_E_FILTER "LOOPY_BAD_FILTER"
#define LOOPY_E_INTERNAL "LOOPY_CAPTURE_INTERNAL"

/* Throws a generic error for a failed Node-API call unless an exception is already pending. */
void loopy_throw_napi_failure(napi_env env, const char *what);

#define NAPI_CALL(env, call)                                                                            \
  do {                                                                                                  \
    if ((call) != napi_ok) {                                                                            \
      loopy_throw_napi_failure((env), #call);                                                           \
      return NULL;                                                                                      \
    }                                                                                                   \
  } while (0)

/* Like NAPI_CALL for functions returning bool (false = failed, exception pending). */
#define NAPI_CALL_BOOL(env, call)                                                                       \
  do {                                                                                                  \
    if ((call) != napi_ok) {                                                                            \
      loopy_throw_napi_failure((env), #call);                                                           \
      return false;                                                                                     \
    }                                                                                                   \
  } while (0)

/* Reads a JS string into a malloc'd UTF-8 C string. Returns NULL (exception pending) if not a string. */
char *loopy_get_string(napi_env env, napi_value value, const char *name);

/* Optional object properties: when absent or undefined, *out keeps its default. False = bad type (thrown). */
bool loopy_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out);
bool loopy_opt_bool(napi_env env, napi_value obj, const char *key, bool *out);
/* Optional string property; *out is NULL when absent, else malloc'd. */
bool loopy_opt_string(napi_env env, napi_value obj, const char *key, char **out);

/* A required unsigned integer argument. */
bool loopy_arg_u32(napi_env env, napi_value value, const char *name, uint32_t *out);

bool loopy_set_u32(napi_env env, napi_value obj, const char *key, uint32_t value);
bool loopy_set_f64(napi_env env, napi_value obj, const char *key, double value);
bool loopy_set_bool(napi_env env, napi_value obj, const char *key, bool value);
/* Sets a string property, or null when value is NULL. */
bool loopy_set_string(napi_env env, napi_value obj, const char *key, const char *value);

#endif
