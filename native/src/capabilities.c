/*
 * Capabilities kept across the agent's drop from root to --user, for process attribution (reading other
 * processes' /proc/PID/fd needs CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE). A setuid away from root clears
 * every capability unless the thread has set PR_SET_KEEPCAPS; then the permitted set stays (the effective
 * one is still cleared). So, on the thread that will read /proc (the agent's JS thread):
 *   keepCapabilities()                 before the setuid: prctl(PR_SET_KEEPCAPS, 1)
 *   raiseKeptCapabilities([2, 19])     after it: permitted = effective = those of the list still
 *                                      permitted, nothing else (CAP_SETUID goes: no way back to root);
 *                                      KEEPCAPS off again. Returns the numbers it could not keep.
 * Capabilities belong to a thread: glibc's setuid changes every thread's uid, and only the calling
 * thread keeps these. Raw capget/capset (linux/capability.h, version 3): no libcap needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capabilities.h"
#include "napi-util.h"

napi_value loopy_keep_capabilities(napi_env env, napi_callback_info info) {
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0, &result));
  return result;
}

/* The capability numbers of a JS array as a 64-bit mask; false (thrown) when it is not one. */
static bool wanted_mask(napi_env env, napi_value list, uint64_t *mask) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array || napi_get_array_length(env, list, &length) != napi_ok) {
    napi_throw_type_error(env, LOOPY_E_ARG, "raiseKeptCapabilities(caps): an array of capability numbers");
    return false;
  }
  *mask = 0;
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    uint32_t cap = 0;
    NAPI_CALL_BOOL(env, napi_get_element(env, list, i, &item));
    if (!loopy_arg_u32(env, item, "capability", &cap)) return false;
    if (cap < 64) *mask |= 1ull << cap;
  }
  return true;
}

napi_value loopy_raise_kept_capabilities(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint64_t wanted = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !wanted_mask(env, argv[0], &wanted)) return NULL;
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &header, data) != 0) {
    napi_throw_error(env, LOOPY_E_INTERNAL, strerror(errno));
    return NULL;
  }
  uint64_t permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
  uint64_t kept = wanted & permitted;
  for (int i = 0; i < 2; i++) {
    data[i].permitted = data[i].effective = (uint32_t)(kept >> (32 * i));
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    napi_throw_error(env, LOOPY_E_INTERNAL, strerror(errno));
    return NULL;
  }
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  napi_value missing;
  NAPI_CALL(env, napi_create_array(env, &missing));
  uint32_t at = 0;
  for (uint32_t cap = 0; cap < 64; cap++) {
    if (!((wanted & ~kept) >> cap & 1)) continue;
    napi_value number;
    NAPI_CALL(env, napi_create_uint32(env, cap, &number));
    NAPI_CALL(env, napi_set_element(env, missing, at++, number));
  }
  return missing;
}
