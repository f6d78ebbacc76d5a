/* The live-capture functions exported to JS (see live-capture.c). */
#ifndef LOOPY_LIVE_CAPTURE_H
#define LOOPY_LIVE_CAPTURE_H

#include <node_api.h>

napi_value loopy_open_live(napi_env env, napi_callback_info info);
napi_value loopy_live_stats(napi_env env, napi_callback_info info);
napi_value loopy_live_close(napi_env env, napi_callback_info info);
napi_value loopy_live_datalink(napi_env env, napi_callback_info info);
napi_value loopy_live_set_paused(napi_env env, napi_callback_info info);
napi_value loopy_live_set_filter(napi_env env, napi_callback_info info);
napi_value loopy_live_release_slot(napi_env env, napi_callback_info info);
napi_value loopy_live_trim_idle_slots(napi_env env, napi_callback_info info);

#endif
