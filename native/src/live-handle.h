/*
 * One live capture: a libpcap handle, the thread that reads it, and the thread-safe function that carries
 * batches to JS. Split between live-capture.c (the JS-facing calls, main thread) and capture-thread.c.
 *
 * Threads and ownership:
 *  - the capture thread owns the batch being filled and is the only user of the thread-safe function
 *    (initial thread count 1); it releases it once, when it exits;
 *  - the main thread owns everything else; it never blocks on JS, and close() only sets `closing`,
 *    wakes the capture thread (pcap_breakloop, condition variable) and joins it;
 *  - `in_flight` bounds how many batches wait for JS: when JS falls behind, the capture thread waits,
 *    the kernel ring fills and the kernel counts the drops (stats().dropped) instead of memory growing.
 */
#ifndef LOOPY_LIVE_HANDLE_H
#define LOOPY_LIVE_HANDLE_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

#include "batch-pool.h"

/* Words of per-packet metadata handed to JS: offset, caplen, len, ts_sec, ts_usec. */
#define LOOPY_META_WORDS 5

enum live_message_kind { LIVE_MSG_BATCH = 1, LIVE_MSG_ERROR = 2 };

/* What the capture thread queues for the main thread. The main thread takes ownership. */
typedef struct live_message {
  enum live_message_kind kind;
  uint8_t *data;
  size_t data_len;
  uint32_t *meta;
  uint32_t count;
  uint32_t slot; /* pooled: the slot holding the batch */
  char *error;
} live_message;

typedef struct live_handle {
  /* ---- set before the thread starts, then read-only */
  pcap_t *pcap;
  char *device;
  int linktype; /* LINKTYPE_* value */
  size_t batch_bytes;
  uint32_t max_in_flight;
  uint32_t packets_per_call; /* flush once a batch holds this many packets (UINT32_MAX: no limit) */
  napi_threadsafe_function tsfn;

  /* ---- guarded by mu */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool closing;
  bool paused;
  uint32_t in_flight;
  uint64_t addon_dropped; /* packets lost because a batch buffer could not be allocated */
  batch_pool pool;        /* slots lent to JS (pool.slots 0: each batch is fresh memory JS owns) */

  /* ---- capture thread only */
  uint8_t *data;
  size_t data_len;
  uint32_t *meta;
  uint32_t meta_cap;
  uint32_t count;
  uint32_t slot; /* pooled: the slot being filled, UINT32_MAX when none */
  bool stop;        /* leave the loop: closing, or the thread-safe function is closing */
  bool tsfn_closed; /* napi_call_threadsafe_function said napi_closing: never touch tsfn again */

  /* ---- main thread only */
  napi_env env;
  napi_ref on_error;
  pthread_t thread;
  bool thread_started;
  bool closed;
  bool cleanup_hook_added;
  bool tsfn_finalized;
  bool js_finalized;
  bool have_final_stats;
  struct pcap_stat final_stats;
} live_handle;

/* capture-thread.c */
void *loopy_capture_thread_main(void *arg);
/* Runs on the main thread for each queued message (env NULL at teardown: just free). */
void loopy_capture_call_js(napi_env env, napi_value js_cb, void *context, void *data);
void loopy_free_message(live_message *m);

#endif
