#ifndef LOOPY_MEMORY_H
#define LOOPY_MEMORY_H
#include <node_api.h>

napi_value loopy_trim_memory(napi_env env, napi_callback_info info);
napi_value loopy_tune_memory(napi_env env, napi_callback_info info);
napi_value loopy_release_pages(napi_env env, napi_callback_info info);

#endif
