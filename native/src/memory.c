/*
 * trimMemory(): hands the C heap's free pages back to the system. After a burst, glibc keeps the memory of
 * freed batch and output buffers in its heap (large blocks come from the heap once the dynamic mmap
 * threshold has grown), and the agent's RSS stays at the burst's figure; malloc_trim releases every free
 * page of every arena. A no-op (false) where the C library has no malloc_trim.
 */
#include <node_api.h>
#include <stdbool.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "memory.h"
#include "napi-util.h"

napi_value loopy_trim_memory(napi_env env, napi_callback_info info) {
  (void)info;
  bool released = false;
#if defined(__GLIBC__)
  released = malloc_trim(0) == 1;
#endif
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, released, &result));
  return result;
}
