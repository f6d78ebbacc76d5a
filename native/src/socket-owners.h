#ifndef LOOPY_SOCKET_OWNERS_H
#define LOOPY_SOCKET_OWNERS_H
#include <node_api.h>

napi_value loopy_socket_owners(napi_env env, napi_callback_info info);

#endif
