/*
 * trimMemory(): hands the C heap's free pages back to the system. After a burst, glibc keeps the memory of
 * freed batch and output buffers in its heap (large blocks come from the heap once the dynamic mmap
 * threshold has grown), and the agent's RSS stays at the burst's figure; malloc_trim releases every free
 * page of every arena. A no-op (false) where the C library has no malloc_trim.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
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

/*
 * tuneMemory(bytes): blocks of at least `bytes` get a mapping of their own and go back to the system the
 * moment they are freed (glibc's M_MMAP_THRESHOLD, fixed: otherwise the threshold grows with the first big
 * free, and every later batch column, evidence chunk and output buffer lands in the heap, where a burst's
 * worth stays resident between trims). False where the C library has no mallopt.
 */
napi_value loopy_tune_memory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t bytes = 0;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes < 4096) bytes = 0;
  bool done = false;
#if defined(__GLIBC__)
  if (bytes > 0) done = mallopt(M_MMAP_THRESHOLD, (int)(bytes > (1 << 30) ? (1 << 30) : bytes)) == 1;
#endif
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, done, &result));
  return result;
}
