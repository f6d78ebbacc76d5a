/*
 * threadCpuMs() -> number: the CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in milliseconds.
 * What process attribution counts its cost in: on a machine shared with other work, wall-clock time also
 * counts the time the thread waited for a core, and a pacer that believed it would pause for nothing.
 * (process.cpuUsage() counts every thread: the capture's and the store's too.)
 */
#include <time.h>

#include "napi-util.h"
#include "thread-cpu.h"

napi_value loopy_thread_cpu_ms(napi_env env, napi_callback_info info) {
  struct timespec t;
  napi_value result;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) {
    napi_get_undefined(env, &result);
    return result;
  }
  NAPI_CALL(env, napi_create_double(env, t.tv_sec * 1e3 + t.tv_nsec / 1e6, &result));
  return result;
}
