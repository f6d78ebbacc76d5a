#ifndef LOOPY_CAPABILITIES_H
#define LOOPY_CAPABILITIES_H
#include <node_api.h>

napi_value loopy_keep_capabilities(napi_env env, napi_callback_info info);
napi_value loopy_raise_kept_capabilities(napi_env env, napi_callback_info info);

#endif
