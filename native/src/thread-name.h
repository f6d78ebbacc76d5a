#ifndef LOOPY_THREAD_NAME_H
#define LOOPY_THREAD_NAME_H
#include <node_api.h>

napi_value loopy_name_thread(napi_env env, napi_callback_info info);

#endif
