/*
 * openLive / stats / close / datalink / setPaused: the JS-facing side of a live capture (main thread).
 * A handle is a JS object wrapping a live_handle; the C struct is freed only when both the JS object and
 * the thread-safe function are gone, because queued batches reference it after close().
 */
#define _GNU_SOURCE
#include "live-capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linktype.h"
#include "live-handle.h"
#include "live-open.h"
#include "napi-util.h"

#define MIN_BYTES_PER_PACKET 32u /* sizes the metadata array; a full array flushes the batch early */

static const napi_type_tag live_handle_tag = {0x6c6f6f7079636170ULL, 0x4c49564548414e44ULL};

static void maybe_free(live_handle *h) {
  if (!(h->closed && h->tsfn_finalized && h->js_finalized)) return;
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cond);
  free(h->device);
  free(h);
}

static void cleanup_hook(void *arg);

static void live_close(live_handle *h, bool from_cleanup_hook) {
  if (h->closed) return;
  pthread_mutex_lock(&h->mu);
  h->closing = true;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mu);
  if (h->thread_started) {
    pcap_breakloop(h->pcap); /* libpcap >= 1.10 also wakes a poll() in progress */
    pthread_join(h->thread, NULL);
    h->thread_started = false;
  }
  h->closed = true;
  loopy_pool_release(h->env, &h->pool); /* the thread is joined: nothing writes into the slots any more */
  if (pcap_stats(h->pcap, &h->final_stats) == 0) h->have_final_stats = true;
  pcap_close(h->pcap);
  h->pcap = NULL;
  if (h->on_error) {
    napi_delete_reference(h->env, h->on_error);
    h->on_error = NULL;
  }
  if (h->cleanup_hook_added && !from_cleanup_hook) {
    napi_remove_env_cleanup_hook(h->env, cleanup_hook, h);
  }
  h->cleanup_hook_added = false;
}

/* At environment teardown (process exit, worker end): stop and join the thread before Node goes away. */
static void cleanup_hook(void *arg) {
  live_handle *h = arg;
  h->cleanup_hook_added = false;
  live_close(h, true);
}

static void on_tsfn_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  live_handle *h = data;
  h->tsfn_finalized = true;
  maybe_free(h);
}

static void on_js_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  live_handle *h = data;
  h->js_finalized = true;
  live_close(h, false);
  maybe_free(h);
}

static live_handle *unwrap_handle(napi_env env, napi_value value) {
  bool ok = false;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_object) {
    napi_check_object_type_tag(env, value, &live_handle_tag, &ok);
  }
  if (!ok) {
    napi_throw_type_error(env, LOOPY_E_ARG, "expected a handle returned by openLive()");
    return NULL;
  }
  void *p = NULL;
  if (napi_unwrap(env, value, &p) != napi_ok) {
    loopy_throw_napi_failure(env, "napi_unwrap");
    return NULL;
  }
  return p;
}


/* Builds the JS handle object: { device, linkType, snaplen, warning, fanoutGroup? }, wrapped and type-tagged. */
static napi_value make_handle_object(napi_env env, live_handle *h, uint32_t snaplen, const char *warning) {
  napi_value obj;
  NAPI_CALL(env, napi_create_object(env, &obj));
  int32_t group = loopy_fanout_group(h->pcap);
  if (!loopy_set_string(env, obj, "device", h->device) || !loopy_set_u32(env, obj, "linkType", (uint32_t)h->linktype) ||
      !loopy_set_u32(env, obj, "snaplen", snaplen) || !loopy_set_string(env, obj, "warning", warning) ||
      (group >= 0 && !loopy_set_u32(env, obj, "fanoutGroup", (uint32_t)group))) {
    return NULL;
  }
  NAPI_CALL(env, napi_type_tag_object(env, obj, &live_handle_tag));
  NAPI_CALL(env, napi_wrap(env, obj, h, on_js_finalized, NULL, NULL));
  return obj;
}

/* openLive(device, options, onBatch(buffer, meta, count), onError(message)) -> handle. With options.pool,
 * onBatch(slot, count) instead: the batch is in the pool's slot, lent until releaseSlot(handle, slot). */
napi_value loopy_open_live(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t2 = napi_undefined, t3 = napi_undefined;
  if (argc >= 4) {
    napi_typeof(env, argv[2], &t2);
    napi_typeof(env, argv[3], &t3);
  }
  if (t2 != napi_function || t3 != napi_function) {
    napi_throw_type_error(env, LOOPY_E_ARG, "openLive(device, options, onBatch, onError): callbacks must be functions");
    return NULL;
  }
  char *device = loopy_get_string(env, argv[0], "device");
  if (!device) return NULL;
  open_options o;
  batch_pool pool;
  if (!loopy_read_open_options(env, argv[1], &o) || !loopy_pool_read(env, argv[1], o.snaplen, &pool)) {
    free(o.filter);
    free(device);
    return NULL;
  }
  char *warning = NULL;
  pcap_t *p = loopy_open_pcap(env, device, &o, &warning);
  free(o.filter);
  if (!p) {
    loopy_pool_release(env, &pool);
    free(device);
    return NULL;
  }

  live_handle *h = calloc(1, sizeof *h);
  if (!h) {
    pcap_close(p);
    loopy_pool_release(env, &pool);
    free(device);
    free(warning);
    napi_throw_error(env, LOOPY_E_INTERNAL, "out of memory");
    return NULL;
  }
  h->pcap = p;
  h->device = device;
  h->linktype = loopy_dlt_to_linktype(pcap_datalink(p));
  h->batch_bytes = o.batch_bytes;
  h->meta_cap = o.batch_bytes / MIN_BYTES_PER_PACKET;
  h->max_in_flight = o.max_in_flight;
  h->pool = pool;
  h->slot = UINT32_MAX;
  /* Pooled, the free slots are the bound: every slot may be queued. */
  if (pool.slots > 0) h->max_in_flight = pool.slots;
  /* 0 (no limit) becomes the largest count, so on_packet needs one comparison and no branch on the mode. */
  h->packets_per_call = o.packets_per_call ? o.packets_per_call : UINT32_MAX;
  h->env = env;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cond, NULL);

  napi_value name;
  napi_status s = napi_create_string_utf8(env, "loopy live capture", NAPI_AUTO_LENGTH, &name);
  if (s == napi_ok) s = napi_create_reference(env, argv[3], 1, &h->on_error);
  if (s == napi_ok) {
    /* Queue size 0 (unbounded): in_flight bounds it, so the capture thread never blocks inside Node. */
    s = napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, h, on_tsfn_finalized, h,
                                        loopy_capture_call_js, &h->tsfn);
  }
  if (s != napi_ok) {
    loopy_throw_napi_failure(env, "napi_create_threadsafe_function");
    h->tsfn_finalized = h->js_finalized = true;
    live_close(h, false);
    maybe_free(h);
    free(warning);
    return NULL;
  }
  if (pthread_create(&h->thread, NULL, loopy_capture_thread_main, h) != 0) {
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_release); /* its finalizer frees h */
    h->js_finalized = true;
    live_close(h, false);
    free(warning);
    napi_throw_error(env, LOOPY_E_INTERNAL, "cannot start the capture thread");
    return NULL;
  }
  h->thread_started = true;
  /* Named (before JS sees the handle) so `top -H`, `ps -L` and the live bench tell it from Node's threads. */
  pthread_setname_np(h->thread, "loopy-capture");
  if (napi_add_env_cleanup_hook(env, cleanup_hook, h) == napi_ok) h->cleanup_hook_added = true;

  napi_value obj = make_handle_object(env, h, o.snaplen, warning);
  free(warning);
  if (!obj) {
    h->js_finalized = true;
    live_close(h, false);
    maybe_free(h);
  }
  return obj;
}

/* stats(handle) -> { received, dropped, ifDropped, addonDropped } (the last values once closed) */
napi_value loopy_live_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h) return NULL;
  struct pcap_stat st;
  memset(&st, 0, sizeof st);
  if (!h->closed) {
    if (pcap_stats(h->pcap, &st) != 0) {
      char msg[PCAP_ERRBUF_SIZE + 64];
      snprintf(msg, sizeof msg, "statistics of %s: %s", h->device, pcap_geterr(h->pcap));
      napi_throw_error(env, LOOPY_E_OPEN, msg);
      return NULL;
    }
  } else if (h->have_final_stats) {
    st = h->final_stats;
  }
  pthread_mutex_lock(&h->mu);
  double addon_dropped = (double)h->addon_dropped;
  pthread_mutex_unlock(&h->mu);
  napi_value obj;
  NAPI_CALL(env, napi_create_object(env, &obj));
  if (!loopy_set_f64(env, obj, "received", st.ps_recv) || !loopy_set_f64(env, obj, "dropped", st.ps_drop) ||
      !loopy_set_f64(env, obj, "ifDropped", st.ps_ifdrop) || !loopy_set_f64(env, obj, "addonDropped", addon_dropped)) {
    return NULL;
  }
  return obj;
}

/* close(handle): stops and joins the capture thread, closes libpcap. Safe to call twice. */
napi_value loopy_live_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h) return NULL;
  live_close(h, false);
  return NULL;
}

/* datalink(handle) -> LINKTYPE_* number of the capture */
napi_value loopy_live_datalink(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h) return NULL;
  NAPI_CALL(env, napi_create_uint32(env, (uint32_t)h->linktype, &out));
  return out;
}

/* setPaused(handle, paused): while paused the thread reads nothing; the kernel ring absorbs, then drops
 * (and counts) what does not fit. This is how a slow consumer pushes back without hiding loss. */
napi_value loopy_live_set_paused(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h) return NULL;
  bool paused = false;
  if (argc < 2 || napi_get_value_bool(env, argv[1], &paused) != napi_ok) {
    napi_throw_type_error(env, LOOPY_E_ARG, "setPaused(handle, paused): paused must be a boolean");
    return NULL;
  }
  pthread_mutex_lock(&h->mu);
  h->paused = paused;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mu);
  /* With TPACKET_V3 a dispatch in progress blocks until the next block is retired and would hand it
   * over; break it so the pause holds from now on. */
  if (paused && h->thread_started) pcap_breakloop(h->pcap);
  return NULL;
}

/*
 * setFilter(handle, expression): replaces the kernel filter of an open capture (pcap_compile +
 * pcap_setfilter on the socket; works after the privilege drop, since the socket is already open). The agent
 * uses it when the set of its own client sessions to exclude changes. A bad expression throws and leaves
 * the old filter in place.
 */
napi_value loopy_live_set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h) return NULL;
  if (h->closed) {
    napi_throw_error(env, LOOPY_E_OPEN, "setFilter: the capture is closed");
    return NULL;
  }
  char *expression = loopy_get_string(env, argc > 1 ? argv[1] : NULL, "expression");
  if (!expression) return NULL;
  struct bpf_program prog;
  if (pcap_compile(h->pcap, &prog, expression, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    char msg[PCAP_ERRBUF_SIZE + 256];
    snprintf(msg, sizeof msg, "bad capture filter \"%.150s\": %s", expression, pcap_geterr(h->pcap));
    free(expression);
    napi_throw_error(env, LOOPY_E_FILTER, msg);
    return NULL;
  }
  free(expression);
  int rc = pcap_setfilter(h->pcap, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    char msg[PCAP_ERRBUF_SIZE + 64];
    snprintf(msg, sizeof msg, "setting the kernel filter of %s: %s", h->device, pcap_geterr(h->pcap));
    napi_throw_error(env, LOOPY_E_FILTER, msg);
    return NULL;
  }
  return NULL;
}

/* The (handle, unsigned integer) arguments of releaseSlot and trimIdleSlots; NULL with an exception pending. */
static live_handle *handle_and_u32(napi_env env, napi_callback_info info, const char *name, uint32_t *value) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  live_handle *h = unwrap_handle(env, argc ? argv[0] : NULL);
  if (!h || !loopy_arg_u32(env, argc > 1 ? argv[1] : NULL, name, value)) return NULL;
  return h;
}

/* releaseSlot(handle, slot): JS is done with the batch in `slot`; the capture thread may fill it again.
 * A no-op once the capture is closed; a slot that is not lent throws (a double release is a bug). */
napi_value loopy_live_release_slot(napi_env env, napi_callback_info info) {
  uint32_t slot = 0;
  live_handle *h = handle_and_u32(env, info, "slot", &slot);
  if (!h || h->closed) return NULL;
  pthread_mutex_lock(&h->mu);
  bool ok = loopy_pool_give_back(&h->pool, slot);
  if (ok) pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mu);
  if (!ok) napi_throw_error(env, LOOPY_E_ARG, "releaseSlot: that slot is not lent (released twice, or no pool)");
  return NULL;
}

/* trimIdleSlots(handle, idleSeconds) -> bytes of batch pages given back to the kernel (0 once closed). */
napi_value loopy_live_trim_idle_slots(napi_env env, napi_callback_info info) {
  uint32_t idle = 0;
  live_handle *h = handle_and_u32(env, info, "idleSeconds", &idle);
  if (!h) return NULL;
  uint64_t released = 0;
  if (!h->closed) {
    pthread_mutex_lock(&h->mu);
    released = loopy_pool_trim_idle(&h->pool, idle);
    pthread_mutex_unlock(&h->mu);
  }
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, (double)released, &out));
  return out;
}
