#ifndef LOOPY_CONNECT_TRACE_H
#define LOOPY_CONNECT_TRACE_H
#include <node_api.h>

napi_value loopy_connect_trace_open(napi_env env, napi_callback_info info);
napi_value loopy_connect_trace_read(napi_env env, napi_callback_info info);
napi_value loopy_connect_trace_close(napi_env env, napi_callback_info info);

#endif
