#ifndef LOOPY_THREAD_CPU_H
#define LOOPY_THREAD_CPU_H
#include <node_api.h>

napi_value loopy_thread_cpu_ms(napi_env env, napi_callback_info info);

#endif
