/*
 * The capture thread: loops on pcap_dispatch (blocking up to the timeout; TPACKET_V3 hands over whole
 * blocks), copies each dispatch's packets into one batch and queues the batch for JS. Also the main-thread
 * side of the queue (call_js), which turns a batch into (Buffer, Uint32Array, count) without copying.
 */
#define _GNU_SOURCE
#include "live-handle.h"

#include <stdlib.h>
#include <string.h>

void loopy_free_message(live_message *m) {
  if (!m) return;
  free(m->data);
  free(m->meta);
  free(m->error);
  free(m);
}

/* Waits while paused; false when the capture is closing. */
static bool wait_until_runnable(live_handle *h) {
  pthread_mutex_lock(&h->mu);
  while (h->paused && !h->closing) pthread_cond_wait(&h->cond, &h->mu);
  bool run = !h->closing;
  pthread_mutex_unlock(&h->mu);
  return run;
}

/* Queues a message; waits while max_in_flight batches are already waiting for JS. False = stop. */
static bool enqueue(live_handle *h, live_message *m) {
  pthread_mutex_lock(&h->mu);
  while (h->in_flight >= h->max_in_flight && !h->closing) pthread_cond_wait(&h->cond, &h->mu);
  bool closing = h->closing;
  if (!closing) h->in_flight++;
  pthread_mutex_unlock(&h->mu);
  if (closing) {
    loopy_free_message(m);
    return false;
  }
  /* The queue itself is unbounded (in_flight bounds it), so this never blocks. */
  napi_status s = napi_call_threadsafe_function(h->tsfn, m, napi_tsfn_nonblocking);
  if (s != napi_ok) {
    if (s == napi_closing) h->tsfn_closed = true;
    pthread_mutex_lock(&h->mu);
    h->in_flight--;
    pthread_mutex_unlock(&h->mu);
    loopy_free_message(m);
    return false;
  }
  return true;
}

/* A batch message for the packets gathered so far, or NULL when out of memory. */
static live_message *batch_message(live_handle *h) {
  live_message *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->kind = LIVE_MSG_BATCH;
  m->count = h->count;
  m->data_len = h->data_len;
  return m;
}

/* Hands the filled batch to JS. A small batch is copied into right-sized memory so that a quiet link does
 * not pin a few MiB per batch; a large one gives its buffers away and the next packet allocates new ones. */
static bool flush(live_handle *h) {
  if (h->count == 0) return true;
  live_message *m = batch_message(h);
  if (!m) return false;
  size_t meta_bytes = (size_t)h->count * LOOPY_META_WORDS * sizeof(uint32_t);
  bool small = h->data_len * 4 < h->batch_bytes;
  if (small) {
    m->data = malloc(h->data_len ? h->data_len : 1);
    m->meta = malloc(meta_bytes);
  }
  if (small && m->data && m->meta) {
    memcpy(m->data, h->data, h->data_len);
    memcpy(m->meta, h->meta, meta_bytes);
  } else {
    free(m->data);
    free(m->meta);
    m->data = h->data;
    m->meta = h->meta;
    h->data = NULL;
    h->meta = NULL;
  }
  h->count = 0;
  h->data_len = 0;
  return enqueue(h, m);
}

static void stop_dispatch(live_handle *h) {
  h->stop = true;
  pcap_breakloop(h->pcap);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
  live_handle *h = (live_handle *)user;
  if (h->stop) return;
  size_t caplen = hdr->caplen;
  if (h->count > 0 && (h->data_len + caplen > h->batch_bytes || h->count >= h->meta_cap)) {
    if (!flush(h)) {
      stop_dispatch(h);
      return;
    }
  }
  if (!h->data) {
    h->data = malloc(h->batch_bytes);
    h->meta = malloc((size_t)h->meta_cap * LOOPY_META_WORDS * sizeof(uint32_t));
    if (!h->data || !h->meta) {
      free(h->data);
      free(h->meta);
      h->data = NULL;
      h->meta = NULL;
      pthread_mutex_lock(&h->mu);
      h->addon_dropped++;
      pthread_mutex_unlock(&h->mu);
      return;
    }
  }
  if (caplen > h->batch_bytes) caplen = h->batch_bytes; /* cannot happen: batch_bytes >= 2 * snaplen */
  uint32_t *w = h->meta + (size_t)h->count * LOOPY_META_WORDS;
  w[0] = (uint32_t)h->data_len;
  w[1] = (uint32_t)caplen;
  w[2] = hdr->len;
  w[3] = (uint32_t)hdr->ts.tv_sec;
  w[4] = (uint32_t)hdr->ts.tv_usec;
  memcpy(h->data + h->data_len, bytes, caplen);
  h->data_len += caplen;
  h->count++;
  /* packetsPerCall: hand over now rather than at the next packet, so a per-packet tap is not a packet late. */
  if (h->count >= h->packets_per_call && !flush(h)) stop_dispatch(h);
}

/* Pooled: queues the filled slot. Its rows and timestamps are already in PacketBatch's layout. */
static bool flush_slot(live_handle *h) {
  if (h->count == 0) return true;
  live_message *m = batch_message(h);
  if (!m) return false;
  pthread_mutex_lock(&h->mu);
  loopy_pool_note_batch(&h->pool, h->slot, (uint32_t)h->data_len, h->count);
  pthread_mutex_unlock(&h->mu);
  m->slot = h->slot;
  h->slot = UINT32_MAX;
  h->count = 0;
  h->data_len = 0;
  return enqueue(h, m);
}

/* Pooled: a free slot to fill, waiting while JS holds them all (the kernel ring absorbs meanwhile). */
static bool take_slot(live_handle *h) {
  pthread_mutex_lock(&h->mu);
  uint32_t slot;
  while ((slot = loopy_pool_take(&h->pool)) == UINT32_MAX && !h->closing) pthread_cond_wait(&h->cond, &h->mu);
  pthread_mutex_unlock(&h->mu);
  if (slot == UINT32_MAX) return false;
  h->slot = slot;
  return true;
}

static void on_packet_pooled(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
  live_handle *h = (live_handle *)user;
  if (h->stop) return;
  batch_pool *pool = &h->pool;
  size_t caplen = hdr->caplen;
  if (caplen > pool->slot_bytes) caplen = pool->slot_bytes; /* cannot happen: slot_bytes >= snaplen */
  if (h->count > 0 && (h->data_len + caplen > pool->slot_bytes || h->count >= pool->slot_rows)) {
    if (!flush_slot(h)) {
      stop_dispatch(h);
      return;
    }
  }
  if (h->slot == UINT32_MAX && !take_slot(h)) {
    stop_dispatch(h);
    return;
  }
  size_t row = (size_t)h->slot * pool->slot_rows + h->count;
  uint32_t *w = pool->rows + row * LOOPY_ROW_WORDS;
  w[0] = (uint32_t)h->data_len;
  w[1] = (uint32_t)caplen;
  w[2] = hdr->len;
  w[3] = pool->iface;
  /* The same double JS computed from (sec, usec) before: sec + usec / 1e6. */
  pool->ts[row] = (double)hdr->ts.tv_sec + (double)hdr->ts.tv_usec / 1e6;
  memcpy(pool->data + (size_t)h->slot * pool->slot_bytes + h->data_len, bytes, caplen);
  h->data_len += caplen;
  h->count++;
  if (h->count >= h->packets_per_call && !flush_slot(h)) stop_dispatch(h);
}

static void send_error(live_handle *h, const char *text) {
  live_message *m = calloc(1, sizeof *m);
  if (!m) return;
  m->kind = LIVE_MSG_ERROR;
  m->error = strdup(text);
  enqueue(h, m);
}

void *loopy_capture_thread_main(void *arg) {
  live_handle *h = arg;
  bool pooled = h->pool.slots > 0;
  pcap_handler handler = pooled ? on_packet_pooled : on_packet;
  bool (*hand_over)(live_handle *) = pooled ? flush_slot : flush;
  while (!h->stop && wait_until_runnable(h)) {
    int n = pcap_dispatch(h->pcap, -1, handler, (u_char *)h);
    if (h->stop) break;
    /* PCAP_ERROR_BREAK: close() or a pause woke us. Packets read before that are still handed over
     * (unless closing); the loop condition then sees `closing` or `paused`. */
    if (n < 0 && n != PCAP_ERROR_BREAK) {
      char text[PCAP_ERRBUF_SIZE + 64];
      snprintf(text, sizeof text, "capture on %s stopped: %s", h->device, pcap_geterr(h->pcap));
      if (hand_over(h)) send_error(h, text);
      break;
    }
    if (!hand_over(h)) break;
  }
  /* Pooled: a slot half filled when closing is simply not handed over (nobody reads it any more). */
  free(h->data);
  free(h->meta);
  h->data = NULL;
  h->meta = NULL;
  if (!h->tsfn_closed) napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
  return NULL;
}

static void free_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* Wraps (and owns) memory as a Buffer without copying; copies where external memory is not allowed. */
static napi_status make_buffer(napi_env env, uint8_t *data, size_t len, napi_value *out) {
  napi_status s = napi_create_external_buffer(env, len, data, free_external, NULL, out);
  if (s == napi_ok) return s;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  s = napi_create_buffer_copy(env, len, data, NULL, out);
  free(data);
  return s;
}

static napi_status make_meta(napi_env env, uint32_t *meta, uint32_t count, napi_value *out) {
  size_t words = (size_t)count * LOOPY_META_WORDS;
  napi_value ab;
  napi_status s = napi_create_external_arraybuffer(env, meta, words * sizeof(uint32_t), free_external, NULL, &ab);
  if (s != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    void *copy = NULL;
    s = napi_create_arraybuffer(env, words * sizeof(uint32_t), &copy, &ab);
    if (s == napi_ok) memcpy(copy, meta, words * sizeof(uint32_t));
    free(meta);
    if (s != napi_ok) return s;
  }
  return napi_create_typedarray(env, napi_uint32_array, words, ab, 0, out);
}

/* An exception thrown by a JS callback must not stay pending inside Node's queue dispatch: report it as
 * uncaught, exactly as if the callback had been called from an event. */
static void rethrow_if_pending(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
  napi_value exc;
  if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
}

void loopy_capture_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  live_handle *h = context;
  live_message *m = data;
  if (env == NULL) {
    /* Teardown: Node empties the queue after the finalizer, which may have freed `h` already; the
     * capture thread was joined by the cleanup hook, so nobody waits on in_flight. */
    loopy_free_message(m);
    return;
  }
  pthread_mutex_lock(&h->mu);
  if (h->in_flight > 0) h->in_flight--;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mu);
  if (h->closed) {
    loopy_free_message(m);
    return;
  }
  napi_value global, fn, argv[3];
  size_t argc = 0;
  if (napi_get_global(env, &global) != napi_ok) goto done;
  if (m->kind == LIVE_MSG_BATCH && h->pool.slots > 0) {
    fn = js_cb;
    if (napi_create_uint32(env, m->slot, &argv[0]) != napi_ok || napi_create_uint32(env, m->count, &argv[1]) != napi_ok) {
      goto done;
    }
    argc = 2;
  } else if (m->kind == LIVE_MSG_BATCH) {
    fn = js_cb;
    napi_status s1 = make_buffer(env, m->data, m->data_len, &argv[0]);
    m->data = NULL; /* owned by the Buffer now (or freed) */
    napi_status s2 = make_meta(env, m->meta, m->count, &argv[1]);
    m->meta = NULL;
    if (s1 != napi_ok || s2 != napi_ok || napi_create_uint32(env, m->count, &argv[2]) != napi_ok) goto done;
    argc = 3;
  } else {
    if (napi_get_reference_value(env, h->on_error, &fn) != napi_ok) goto done;
    if (napi_create_string_utf8(env, m->error, NAPI_AUTO_LENGTH, &argv[0]) != napi_ok) goto done;
    argc = 1;
  }
  /* A real receiver: calling with an undefined receiver is what left a pending TypeError in the probe. */
  napi_call_function(env, global, fn, argc, argv, NULL);
done:
  rethrow_if_pending(env);
  loopy_free_message(m);
}
