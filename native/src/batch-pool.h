/*
 * A live capture's batch slots, lent to JS and given back (see batch-pool.c). The memory is three JS
 * ArrayBuffers the wrapper allocates once: packet bytes, per-packet rows in PacketBatch's layout (offset,
 * caplen, wirelen, interface), and timestamps as float seconds, so a batch reaches JS with no allocation,
 * no copy and no conversion.
 */
#ifndef LOOPY_BATCH_POOL_H
#define LOOPY_BATCH_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <node_api.h>

/* Words per packet row, the layout of PacketBatch.meta (src/capture/batch.ts). */
#define LOOPY_ROW_WORDS 4

typedef struct batch_pool {
  uint8_t *data;      /* slots * slot_bytes */
  uint32_t *rows;     /* slots * slot_rows * LOOPY_ROW_WORDS */
  double *ts;         /* slots * slot_rows */
  uint32_t slots;
  uint32_t slot_bytes;
  uint32_t slot_rows;
  uint32_t iface;     /* the interface index written in every row */
  uint32_t *free_stack; /* free slots, the most recently given back on top */
  uint32_t free_n;
  uint8_t *lent;      /* per slot: 1 while the capture thread or JS holds it */
  uint8_t *touched;   /* per slot: written since its pages were last given back */
  double *freed_at;   /* per slot: when it was last given back (monotonic seconds) */
  uint32_t *extent_bytes; /* per slot: data bytes written since its pages were last given back... */
  uint32_t *extent_rows;  /* ...and rows */
  uint32_t *window_bytes; /* per slot: the largest batch's data bytes since window_start... */
  uint32_t *window_rows;  /* ...and rows */
  double window_start;    /* when the current window of batch sizes began (monotonic seconds) */
  napi_ref refs[3];   /* keep the ArrayBuffers alive until the capture thread is joined */
} batch_pool;

/* Reads options.pool ({ data, rows, ts, slots, slotBytes, slotRows, iface }); false with an exception
 * pending when it is malformed, true with pool->slots == 0 when there is none. */
bool loopy_pool_read(napi_env env, napi_value options, uint32_t snaplen, batch_pool *pool);

/* Caller holds the handle's mutex. A free slot (marked lent and touched), or UINT32_MAX when none. */
uint32_t loopy_pool_take(batch_pool *pool);

/* Caller holds the handle's mutex. False when `slot` is not lent (a bad or repeated release). */
bool loopy_pool_give_back(batch_pool *pool, uint32_t slot);

/* Caller holds the handle's mutex. Notes the size of the batch the capture thread hands over in `slot`. */
void loopy_pool_note_batch(batch_pool *pool, uint32_t slot, uint32_t bytes, uint32_t rows);

/* Caller holds the handle's mutex. Gives back to the kernel the pages no batch has needed for `idle_s`
 * seconds (after a burst, RSS returns to its steady figure): every page of a free slot not used that long,
 * and, in a free slot still in use, the pages beyond the largest batch it carried over that time. Returns
 * the bytes given back (of pages written since they were last given back). */
uint64_t loopy_pool_trim_idle(batch_pool *pool, double idle_s);

/* Main thread, after the capture thread is joined: lets go of the ArrayBuffers. */
void loopy_pool_release(napi_env env, batch_pool *pool);

#endif
