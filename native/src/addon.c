/*
 * loopy_capture.node: live capture with libpcap (one JS callback per batch of packets), tcpdump-syntax
 * filters over packets in memory, device listing. Plain C on node_api.h (NAPI_VERSION 8), so one build
 * works on every Node version that has Node-API 8, with no dependency but libpcap.
 */
#include <node_api.h>

#include "capabilities.h"
#include "connect-trace.h"
#include "devices.h"
#include "live-capture.h"
#include "memory.h"
#include "napi-util.h"
#include "offline-filter.h"
#include "peer.h"
#include "sock-diag.h"
#include "socket-owners.h"
#include "thread-cpu.h"
#include "thread-name.h"

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"openLive", NULL, loopy_open_live, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, loopy_live_stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, loopy_live_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"datalink", NULL, loopy_live_datalink, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setPaused", NULL, loopy_live_set_paused, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setFilter", NULL, loopy_live_set_filter, NULL, NULL, NULL, napi_enumerable, NULL},
    {"releaseSlot", NULL, loopy_live_release_slot, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trimIdleSlots", NULL, loopy_live_trim_idle_slots, NULL, NULL, NULL, napi_enumerable, NULL},
    {"compileFilter", NULL, loopy_compile_filter, NULL, NULL, NULL, napi_enumerable, NULL},
    {"filterBatch", NULL, loopy_filter_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listDevices", NULL, loopy_list_devices, NULL, NULL, NULL, napi_enumerable, NULL},
    {"libVersion", NULL, loopy_lib_version, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trimMemory", NULL, loopy_trim_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"tuneMemory", NULL, loopy_tune_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"releasePages", NULL, loopy_release_pages, NULL, NULL, NULL, napi_enumerable, NULL},
    {"peerCredentials", NULL, loopy_peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL},
    {"socketDump", NULL, loopy_socket_dump, NULL, NULL, NULL, napi_enumerable, NULL},
    {"socketLookup", NULL, loopy_socket_lookup, NULL, NULL, NULL, napi_enumerable, NULL},
    {"socketOwners", NULL, loopy_socket_owners, NULL, NULL, NULL, napi_enumerable, NULL},
    {"threadCpuMs", NULL, loopy_thread_cpu_ms, NULL, NULL, NULL, napi_enumerable, NULL},
    {"nameThread", NULL, loopy_name_thread, NULL, NULL, NULL, napi_enumerable, NULL},
    {"connectTraceOpen", NULL, loopy_connect_trace_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"connectTraceRead", NULL, loopy_connect_trace_read, NULL, NULL, NULL, napi_enumerable, NULL},
    {"connectTraceClose", NULL, loopy_connect_trace_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keepCapabilities", NULL, loopy_keep_capabilities, NULL, NULL, NULL, napi_enumerable, NULL},
    {"raiseKeptCapabilities", NULL, loopy_raise_kept_capabilities, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
