/*
 * socketOwners(pids, inodes, owners, budgetUs, counts) -> number: which of `pids` (Int32Array, in the order to
 * try) hold the socket `inodes` (Uint32Array), read from the links of /proc/PID/fd ("socket:[INODE]"), the
 * only place Linux tells it. owners[i] (Int32Array, as long as inodes) gets the first pid found holding
 * inodes[i]; entries already non-zero are not looked for. Stops when every inode has an owner, or when
 * this thread has spent `budgetUs` microseconds of CPU in it (0: no limit), and returns how many pids it
 * went through;
 * counts (Float64Array of 2) accumulates processes and links read.
 * Why in C: the same walk in JS (readdirSync + readlinkSync, a string and a try per link) cost ~12 µs a
 * link; here a link is one readlinkat into a stack buffer. A process that is gone or refused is skipped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "napi-util.h"
#include "socket-owners.h"

typedef struct {
  uint32_t inode;
  uint32_t index;
} Wanted;

static int by_inode(const void *a, const void *b) {
  uint32_t x = ((const Wanted *)a)->inode, y = ((const Wanted *)b)->inode;
  return x < y ? -1 : x > y;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

typedef struct {
  Wanted *wanted;
  size_t count;
  int32_t *owners;
  size_t missing;
  double links;
} Search;

/* "socket:[12345]" -> 12345; 0 for any other link. */
static uint32_t socket_inode(const char *link, ssize_t n) {
  if (n < 10 || memcmp(link, "socket:[", 8) != 0) return 0;
  uint32_t inode = 0;
  for (ssize_t i = 8; i < n && link[i] != ']'; i++) inode = inode * 10 + (uint32_t)(link[i] - '0');
  return inode;
}

/* Reads one process's descriptors; records it as owner of the wanted inodes it holds. */
static void read_process(Search *s, int32_t pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *dir = opendir(path);
  if (!dir) return;
  int dfd = dirfd(dir);
  struct dirent *e;
  while (s->missing > 0 && (e = readdir(dir)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char link[64];
    ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link);
    s->links++;
    uint32_t inode = n > 0 ? socket_inode(link, n) : 0;
    if (inode == 0) continue;
    Wanted key = {inode, 0};
    Wanted *hit = bsearch(&key, s->wanted, s->count, sizeof key, by_inode);
    if (hit && s->owners[hit->index] == 0) {
      s->owners[hit->index] = pid;
      s->missing--;
    }
  }
  closedir(dir);
}

static bool typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *length) {
  bool is_ta = false;
  napi_typedarray_type actual;
  napi_value ab;
  size_t offset;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  if (napi_get_typedarray_info(env, v, &actual, length, data, &ab, &offset) != napi_ok) return false;
  return actual == type;
}

napi_value loopy_socket_owners(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t *pids = NULL, *owners = NULL;
  uint32_t *inodes = NULL, budget_us = 0;
  double *counts = NULL;
  size_t npids = 0, ninodes = 0, nowners = 0, ncounts = 0;
  if (argc < 5 || !typed_array(env, argv[0], napi_int32_array, (void **)&pids, &npids) ||
      !typed_array(env, argv[1], napi_uint32_array, (void **)&inodes, &ninodes) ||
      !typed_array(env, argv[2], napi_int32_array, (void **)&owners, &nowners) || nowners < ninodes ||
      !typed_array(env, argv[4], napi_float64_array, (void **)&counts, &ncounts) || ncounts < 2) {
    napi_throw_type_error(env, LOOPY_E_ARG, "socketOwners(pids: Int32Array, inodes: Uint32Array, owners: Int32Array, budgetUs, counts: Float64Array(2))");
    return NULL;
  }
  if (!loopy_arg_u32(env, argv[3], "budgetUs", &budget_us)) return NULL;
  Search s = {.wanted = malloc((ninodes ? ninodes : 1) * sizeof(Wanted)), .owners = owners};
  if (!s.wanted) {
    napi_throw_error(env, LOOPY_E_INTERNAL, "socketOwners: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < ninodes; i++) {
    if (owners[i] != 0) continue;
    s.wanted[s.count++] = (Wanted){inodes[i], (uint32_t)i};
  }
  qsort(s.wanted, s.count, sizeof(Wanted), by_inode);
  s.missing = s.count;
  double deadline = budget_us ? now_us() + budget_us : 0;
  size_t done = 0;
  for (; done < npids && s.missing > 0 && (deadline == 0 || now_us() < deadline); done++) read_process(&s, pids[done]);
  free(s.wanted);
  counts[0] += (double)done;
  counts[1] += s.links;
  napi_value result;
  NAPI_CALL(env, napi_create_uint32(env, (uint32_t)done, &result));
  return result;
}
