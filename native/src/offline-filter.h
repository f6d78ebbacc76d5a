/* User-space BPF filtering of packets in memory (see offline-filter.c). */
#ifndef LOOPY_OFFLINE_FILTER_H
#define LOOPY_OFFLINE_FILTER_H

#include <node_api.h>

napi_value loopy_compile_filter(napi_env env, napi_callback_info info);
napi_value loopy_filter_batch(napi_env env, napi_callback_info info);

#endif
