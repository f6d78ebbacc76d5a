/*
 * Batch slots lent to JS. The capture thread takes a free slot, fills it and queues it; JS gives it back
 * (releaseSlot) once the engine is done with the batch, as a file reader reuses its buffer. Nothing is
 * allocated per batch: no fresh pages to fault in and zero, no external memory for V8 to count (which
 * otherwise drove a major collection every few hundred milliseconds at 300 kpps).
 *
 * Free slots are a stack, so a steady stream cycles through the same few warm slots; the pages of slots
 * left unused for a while are handed back to the kernel (MADV_DONTNEED, trimIdleSlots), so RSS returns to
 * its idle figure after a burst. So are the pages of a warm slot beyond what its batches have needed for a
 * while: after a burst, a trickle of packets keeps the top slot in use, and the burst's full batches had
 * written the whole of it (2 MiB of data), so each slot remembers how far it was written (its extent) and
 * the largest batch of the current window. Giving pages back on every release instead made the capture thread
 * fault and zero them again at the next burst: 5 % of the agent's CPU at 300 kpps.
 */
#define _GNU_SOURCE
#include "batch-pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "napi-util.h"

static double monotonic_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool throw_pool(napi_env env, const char *what) {
  napi_throw_type_error(env, LOOPY_E_ARG, what);
  return false;
}

/* The ArrayBuffer at options.pool[key], at least `need` bytes long. */
static bool read_buffer(napi_env env, napi_value pool, const char *key, size_t need, void **out, napi_ref *ref) {
  napi_value v;
  bool is_ab = false;
  if (napi_get_named_property(env, pool, key, &v) != napi_ok || napi_is_arraybuffer(env, v, &is_ab) != napi_ok ||
      !is_ab) {
    return throw_pool(env, "options.pool: data, rows and ts must be ArrayBuffers");
  }
  size_t len = 0;
  NAPI_CALL_BOOL(env, napi_get_arraybuffer_info(env, v, out, &len));
  if (len < need) return throw_pool(env, "options.pool: an ArrayBuffer is smaller than slots * its slot size");
  NAPI_CALL_BOOL(env, napi_create_reference(env, v, 1, ref));
  return true;
}

bool loopy_pool_read(napi_env env, napi_value options, uint32_t snaplen, batch_pool *pool) {
  memset(pool, 0, sizeof *pool);
  napi_valuetype type = napi_undefined;
  bool has = false;
  if (napi_typeof(env, options, &type) != napi_ok || type != napi_object) return true;
  if (napi_has_named_property(env, options, "pool", &has) != napi_ok || !has) return true;
  napi_value p;
  NAPI_CALL_BOOL(env, napi_get_named_property(env, options, "pool", &p));
  uint32_t slots = 0, bytes = 0, rows = 0, iface = 0;
  napi_value v;
  if (napi_get_named_property(env, p, "slots", &v) != napi_ok || !loopy_arg_u32(env, v, "pool.slots", &slots) ||
      napi_get_named_property(env, p, "slotBytes", &v) != napi_ok || !loopy_arg_u32(env, v, "pool.slotBytes", &bytes) ||
      napi_get_named_property(env, p, "slotRows", &v) != napi_ok || !loopy_arg_u32(env, v, "pool.slotRows", &rows) ||
      napi_get_named_property(env, p, "iface", &v) != napi_ok || !loopy_arg_u32(env, v, "pool.iface", &iface)) {
    return false;
  }
  if (slots == 0 || slots > 1024 || rows == 0 || bytes < snaplen) {
    return throw_pool(env, "options.pool: 1 to 1024 slots, each at least snaplen bytes and one row");
  }
  size_t n = slots;
  void *data, *row_words, *ts;
  if (!read_buffer(env, p, "data", n * bytes, &data, &pool->refs[0]) ||
      !read_buffer(env, p, "rows", n * rows * LOOPY_ROW_WORDS * sizeof(uint32_t), &row_words, &pool->refs[1]) ||
      !read_buffer(env, p, "ts", n * rows * sizeof(double), &ts, &pool->refs[2])) {
    loopy_pool_release(env, pool);
    return false;
  }
  pool->free_stack = malloc(n * sizeof(uint32_t));
  pool->lent = calloc(n, 1);
  pool->touched = calloc(n, 1);
  pool->freed_at = calloc(n, sizeof(double));
  pool->extent_bytes = calloc(n, sizeof(uint32_t));
  pool->extent_rows = calloc(n, sizeof(uint32_t));
  pool->window_bytes = calloc(n, sizeof(uint32_t));
  pool->window_rows = calloc(n, sizeof(uint32_t));
  pool->window_start = monotonic_seconds();
  if (!pool->free_stack || !pool->lent || !pool->touched || !pool->freed_at || !pool->extent_bytes ||
      !pool->extent_rows || !pool->window_bytes || !pool->window_rows) {
    loopy_pool_release(env, pool);
    napi_throw_error(env, LOOPY_E_INTERNAL, "out of memory");
    return false;
  }
  pool->data = data;
  pool->rows = row_words;
  pool->ts = ts;
  pool->slots = slots;
  pool->slot_bytes = bytes;
  pool->slot_rows = rows;
  pool->iface = iface;
  /* Slot 0 on top: the first batches use the lowest addresses. */
  for (uint32_t i = 0; i < slots; i++) pool->free_stack[i] = slots - 1 - i;
  pool->free_n = slots;
  return true;
}

uint32_t loopy_pool_take(batch_pool *pool) {
  if (pool->free_n == 0) return UINT32_MAX;
  uint32_t slot = pool->free_stack[--pool->free_n];
  pool->lent[slot] = 1;
  pool->touched[slot] = 1;
  return slot;
}

/*
 * Gives back to the kernel the pages holding bytes [from, to) of a slot's region [base, base + len): the page
 * holding `from` only if `from` starts it (its head is still in use), the page holding `to - 1` whole (the
 * rest of it was never written: only this slot writes there), but never a page that reaches past the slot.
 * They read as zeros when touched again. Returns their bytes.
 */
static size_t forget_range(void *base, size_t len, size_t from, size_t to) {
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)base + from + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)base + to + page - 1) & ~(page - 1);
  uintptr_t limit = ((uintptr_t)base + len) & ~(page - 1);
  if (end > limit) end = limit;
  if (end <= start || madvise((void *)start, end - start, MADV_DONTNEED) != 0) return 0;
  return end - start;
}

/* Forgets slot `slot` from `bytes` of its data and `rows` of its rows on, up to what was written. */
static size_t forget_beyond(batch_pool *pool, uint32_t slot, uint32_t bytes, uint32_t rows) {
  size_t released = 0;
  size_t slot_rows = pool->slot_rows;
  if (pool->extent_bytes[slot] > bytes) {
    released += forget_range(pool->data + (size_t)slot * pool->slot_bytes, pool->slot_bytes, bytes, pool->extent_bytes[slot]);
    pool->extent_bytes[slot] = bytes;
  }
  if (pool->extent_rows[slot] > rows) {
    size_t row_bytes = LOOPY_ROW_WORDS * sizeof(uint32_t);
    released += forget_range(pool->rows + slot * slot_rows * LOOPY_ROW_WORDS, slot_rows * row_bytes, rows * row_bytes,
                             pool->extent_rows[slot] * row_bytes);
    released += forget_range(pool->ts + slot * slot_rows, slot_rows * sizeof(double), rows * sizeof(double),
                             pool->extent_rows[slot] * sizeof(double));
    pool->extent_rows[slot] = rows;
  }
  return released;
}

static size_t forget_slot(batch_pool *pool, uint32_t slot) {
  pool->touched[slot] = 0;
  return forget_beyond(pool, slot, 0, 0);
}

void loopy_pool_note_batch(batch_pool *pool, uint32_t slot, uint32_t bytes, uint32_t rows) {
  if (slot >= pool->slots) return;
  if (bytes > pool->extent_bytes[slot]) pool->extent_bytes[slot] = bytes;
  if (rows > pool->extent_rows[slot]) pool->extent_rows[slot] = rows;
  if (bytes > pool->window_bytes[slot]) pool->window_bytes[slot] = bytes;
  if (rows > pool->window_rows[slot]) pool->window_rows[slot] = rows;
}

bool loopy_pool_give_back(batch_pool *pool, uint32_t slot) {
  if (slot >= pool->slots || !pool->lent[slot]) return false;
  pool->lent[slot] = 0;
  pool->freed_at[slot] = monotonic_seconds();
  pool->free_stack[pool->free_n++] = slot;
  return true;
}

uint64_t loopy_pool_trim_idle(batch_pool *pool, double idle_s) {
  double now = monotonic_seconds();
  bool window_over = now - pool->window_start >= idle_s;
  uint64_t released = 0;
  for (uint32_t i = 0; i < pool->free_n; i++) {
    uint32_t slot = pool->free_stack[i];
    if (!pool->touched[slot]) continue;
    if (now - pool->freed_at[slot] >= idle_s) released += forget_slot(pool, slot);
    else if (window_over) released += forget_beyond(pool, slot, pool->window_bytes[slot], pool->window_rows[slot]);
  }
  if (window_over) {
    memset(pool->window_bytes, 0, pool->slots * sizeof(uint32_t));
    memset(pool->window_rows, 0, pool->slots * sizeof(uint32_t));
    pool->window_start = now;
  }
  return released;
}

void loopy_pool_release(napi_env env, batch_pool *pool) {
  for (int i = 0; i < 3; i++) {
    if (pool->refs[i]) napi_delete_reference(env, pool->refs[i]);
    pool->refs[i] = NULL;
  }
  free(pool->free_stack);
  free(pool->lent);
  free(pool->touched);
  free(pool->freed_at);
  free(pool->extent_bytes);
  free(pool->extent_rows);
  free(pool->window_bytes);
  free(pool->window_rows);
  pool->freed_at = NULL;
  pool->extent_bytes = pool->extent_rows = pool->window_bytes = pool->window_rows = NULL;
  pool->free_stack = NULL;
  pool->lent = pool->touched = NULL;
  pool->data = NULL;
  pool->rows = NULL;
  pool->ts = NULL;
  pool->slots = 0;
}
