#ifndef LOOPY_SOCK_DIAG_H
#define LOOPY_SOCK_DIAG_H
#include <node_api.h>

napi_value loopy_socket_dump(napi_env env, napi_callback_info info);
napi_value loopy_socket_lookup(napi_env env, napi_callback_info info);

#endif
