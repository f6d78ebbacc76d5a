/*
 * trimMemory(): hands the C heap's free pages back to the system. After a burst, glibc keeps the memory of
 * freed batch and output buffers in its heap (large blocks come from the heap once the dynamic mmap
 * threshold has grown), and the agent's RSS stays at the burst's figure; malloc_trim releases every free
 * page of every arena. A no-op (false) where the C library has no malloc_trim.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
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

/*
 * releasePages(view, from, to): gives the pages lying wholly inside bytes [from, to) of a typed array back to
 * the system (madvise MADV_DONTNEED): they read as zeros from then on and cost nothing until written again.
 * For per-flow columns whose rows in that range belong to no flow. Returns the bytes released (0 when the
 * range holds no whole page, or on error: the memory is then simply kept).
 */
napi_value loopy_release_pages(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t released = 0;
  bool is_typed = false;
  if (argc == 3 && napi_is_typedarray(env, argv[0], &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t length = 0;
    void *data = NULL;
    napi_value buffer;
    size_t offset = 0;
    int64_t from = 0, to = 0;
    if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) == napi_ok && data != NULL &&
        napi_get_value_int64(env, argv[1], &from) == napi_ok && napi_get_value_int64(env, argv[2], &to) == napi_ok) {
      size_t element = type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8
                       : type == napi_int32_array || type == napi_uint32_array || type == napi_float32_array ? 4
                       : type == napi_int16_array || type == napi_uint16_array ? 2
                       : 1;
      int64_t bytes = (int64_t)(length * element);
      if (from < 0) from = 0;
      if (to > bytes) to = bytes;
      uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
      uintptr_t start = ((uintptr_t)data + (uintptr_t)from + page - 1) & ~(page - 1);
      uintptr_t end = ((uintptr_t)data + (uintptr_t)(to > from ? to : from)) & ~(page - 1);
      if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) == 0) released = (int64_t)(end - start);
    }
  }
  napi_value result;
  NAPI_CALL(env, napi_create_int64(env, released, &result));
  return result;
}
