#ifndef LOOPY_PEER_H
#define LOOPY_PEER_H
#include <node_api.h>

napi_value loopy_peer_credentials(napi_env env, napi_callback_info info);

#endif
