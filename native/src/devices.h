/* Device listing and the libpcap version string (see devices.c). */
#ifndef LOOPY_DEVICES_H
#define LOOPY_DEVICES_H

#include <node_api.h>

napi_value loopy_list_devices(napi_env env, napi_callback_info info);
napi_value loopy_lib_version(napi_env env, napi_callback_info info);

#endif
