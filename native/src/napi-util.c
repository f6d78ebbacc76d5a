/* Helpers over node_api.h: argument reading and property setting with errors thrown as JS exceptions. */
#include "napi-util.h"

#include <stdio.h>
#include <stdlib.h>

void loopy_throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "capture addon: %s failed: %s", what,
           info && info->error_message ? info->error_message : "unknown Node-API error");
  napi_throw_error(env, LOOPY_E_INTERNAL, msg);
}

static bool throw_type(napi_env env, const char *name, const char *expected) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s must be %s", name, expected);
  napi_throw_type_error(env, LOOPY_E_ARG, msg);
  return false;
}

char *loopy_get_string(napi_env env, napi_value value, const char *name) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    throw_type(env, name, "a string");
    return NULL;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    loopy_throw_napi_failure(env, "napi_get_value_string_utf8");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, LOOPY_E_INTERNAL, "out of memory");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, s, len + 1, &len) != napi_ok) {
    free(s);
    loopy_throw_napi_failure(env, "napi_get_value_string_utf8");
    return NULL;
  }
  return s;
}

/* Gets obj[key]; *present is false when the property is missing, undefined or null. */
static bool get_prop(napi_env env, napi_value obj, const char *key, napi_value *out, napi_valuetype *type,
                     bool *present) {
  *present = false;
  if (obj == NULL) return true;
  napi_valuetype obj_type;
  NAPI_CALL_BOOL(env, napi_typeof(env, obj, &obj_type));
  if (obj_type == napi_undefined || obj_type == napi_null) return true;
  if (obj_type != napi_object) return throw_type(env, "options", "an object");
  NAPI_CALL_BOOL(env, napi_get_named_property(env, obj, key, out));
  NAPI_CALL_BOOL(env, napi_typeof(env, *out, type));
  *present = *type != napi_undefined && *type != napi_null;
  return true;
}

bool loopy_arg_u32(napi_env env, napi_value value, const char *name, uint32_t *out) {
  napi_valuetype type;
  NAPI_CALL_BOOL(env, napi_typeof(env, value, &type));
  if (type != napi_number) return throw_type(env, name, "a number");
  double d = 0;
  NAPI_CALL_BOOL(env, napi_get_value_double(env, value, &d));
  if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
    return throw_type(env, name, "an integer from 0 to 2^32-1");
  }
  *out = (uint32_t)d;
  return true;
}

bool loopy_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out) {
  napi_value v;
  napi_valuetype type;
  bool present;
  if (!get_prop(env, obj, key, &v, &type, &present)) return false;
  if (!present) return true;
  return loopy_arg_u32(env, v, key, out);
}

bool loopy_opt_bool(napi_env env, napi_value obj, const char *key, bool *out) {
  napi_value v;
  napi_valuetype type;
  bool present;
  if (!get_prop(env, obj, key, &v, &type, &present)) return false;
  if (!present) return true;
  if (type != napi_boolean) return throw_type(env, key, "a boolean");
  NAPI_CALL_BOOL(env, napi_get_value_bool(env, v, out));
  return true;
}

bool loopy_opt_string(napi_env env, napi_value obj, const char *key, char **out) {
  napi_value v;
  napi_valuetype type;
  bool present;
  *out = NULL;
  if (!get_prop(env, obj, key, &v, &type, &present)) return false;
  if (!present) return true;
  *out = loopy_get_string(env, v, key);
  return *out != NULL;
}

bool loopy_set_u32(napi_env env, napi_value obj, const char *key, uint32_t value) {
  napi_value v;
  NAPI_CALL_BOOL(env, napi_create_uint32(env, value, &v));
  NAPI_CALL_BOOL(env, napi_set_named_property(env, obj, key, v));
  return true;
}

bool loopy_set_f64(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  NAPI_CALL_BOOL(env, napi_create_double(env, value, &v));
  NAPI_CALL_BOOL(env, napi_set_named_property(env, obj, key, v));
  return true;
}

bool loopy_set_bool(napi_env env, napi_value obj, const char *key, bool value) {
  napi_value v;
  NAPI_CALL_BOOL(env, napi_get_boolean(env, value, &v));
  NAPI_CALL_BOOL(env, napi_set_named_property(env, obj, key, v));
  return true;
}

bool loopy_set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (value) {
    NAPI_CALL_BOOL(env, napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v));
  } else {
    NAPI_CALL_BOOL(env, napi_get_null(env, &v));
  }
  NAPI_CALL_BOOL(env, napi_set_named_property(env, obj, key, v));
  return true;
}
