/*
 * The connect trace: who opened each TCP connection of this host, told by the kernel at connect() time,
 * so a process that connects and exits within milliseconds is still named (/proc would have to find its
 * descriptor while it lives). The eBPF program (connect-program.c) writes to a ring buffer; user space
 * reads it without a syscall (two mmaps: the consumer page read-write, the producer page and the data,
 * mapped twice, read-only) and joins each connect to its outcome by the socket's kernel address.
 *
 *   connectTraceOpen(ringBytes) -> handle    throws LOOPY_CONNECT_TRACE saying which step the kernel refused
 *   connectTraceRead(handle, out, counts)    joined records into `out` (72 bytes each); returns their count
 *   connectTraceClose(handle)
 *
 * Record: u8 family (2 or 10; an IPv4-mapped IPv6 connection is 2), u8 outcome (1 established, 7 refused
 * or failed), u16 local port, u16 remote port, u16 0, u32 tgid, u32 uid, u64 cgroup id, 16 bytes local
 * address, 16 bytes remote (network order, IPv4 in the first four), 16 bytes comm (NUL-padded).
 * counts += [events read, connections joined, outcomes whose connect was not seen, connects evicted].
 * Needs CAP_BPF and CAP_PERFMON (or root) to open; nothing to read once open (an agent opens it, then
 * drops its privileges). Runs on the calling thread, between capture batches, never per packet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/mount.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "connect-program.h"
#include "connect-trace.h"
#include "napi-util.h"

#define LOOPY_E_TRACE "LOOPY_CONNECT_TRACE"
#define RECORD_BYTES 72
#define MAX_INSNS 128
/* Connects waiting for their outcome, by socket address (direct-mapped: a collision evicts the older). */
#define PENDING_SLOTS 4096
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

typedef struct {
  uint64_t skaddr;
  uint32_t tgid, uid;
  uint64_t cgroup_id;
  char comm[16];
} Pending;

typedef struct {
  int ring_fd, prog_fd, event_fd;
  size_t ring_bytes, page;
  unsigned long *consumer;      /* consumer page: our read position */
  const unsigned long *producer; /* producer page: the kernel's write position */
  const uint8_t *data;          /* the data, mapped twice so a record never wraps */
  Pending *pending;
} Trace;

static long bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static void trace_close(Trace *t) {
  if (t->consumer) munmap(t->consumer, t->page);
  if (t->producer) munmap((void *)t->producer, t->page + 2 * t->ring_bytes);
  if (t->event_fd >= 0) close(t->event_fd);
  if (t->prog_fd >= 0) close(t->prog_fd);
  if (t->ring_fd >= 0) close(t->ring_fd);
  free(t->pending);
  t->consumer = NULL;
  t->producer = NULL;
  t->pending = NULL;
  t->event_fd = t->prog_fd = t->ring_fd = -1;
}

/* The text of `relative` below the directory `dir` (a descriptor, or AT_FDCWD); NULL with errno. */
static char *read_text_at(int dir, const char *relative) {
  int fd = openat(dir, relative, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *text = calloc(1, 16384);
  ssize_t n = text ? read(fd, text, 16383) : -1;
  int saved = errno;
  close(fd);
  if (n > 0) return text;
  free(text);
  errno = n == 0 ? ENODATA : saved;
  return NULL;
}

/*
 * The text of a tracefs file; NULL with errno. Tracefs where it is mounted (or debugfs's copy); else a
 * tracefs of our own, detached (fsopen + fsmount: never attached to a path, gone when closed), for a mount
 * namespace without one (`ip netns exec` gives its command a sysfs of its own, where tracefs is not).
 */
static char *read_tracefs(const char *relative) {
  static const char *roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
  char path[256];
  for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
    snprintf(path, sizeof path, "%s/%s", roots[r], relative);
    char *text = read_text_at(AT_FDCWD, path);
    if (text != NULL || errno != ENOENT) return text;
  }
  int fs = (int)syscall(SYS_fsopen, "tracefs", FSOPEN_CLOEXEC);
  if (fs < 0) return errno = ENOENT, NULL;
  int mount = syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0 ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) : -1;
  int saved = errno;
  close(fs);
  if (mount < 0) return errno = saved, NULL;
  char *text = read_text_at(mount, relative);
  saved = errno;
  close(mount);
  errno = saved;
  return text;
}

/* The program loaded; -1 with the kernel's reason (the verifier's last line when it refused) in `problem`. */
static int load_program(int ring_fd, const TracepointLayout *layout, char *problem, size_t size) {
  struct bpf_insn code[MAX_INSNS];
  size_t count = connect_program_build(layout, ring_fd, code, MAX_INSNS);
  size_t log_size = 65536;
  char *log = calloc(1, log_size);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  attr.insns = (uint64_t)(uintptr_t)code;
  attr.insn_cnt = (uint32_t)count;
  /* Not GPL-only helpers; the kernel takes this licence string as GPL-compatible. */
  attr.license = (uint64_t)(uintptr_t) "Dual BSD/GPL";
  /* The verifier's log only when it refused: asked for, it costs the load a pass. */
  int fd = count > MAX_INSNS ? (errno = E2BIG, -1) : (int)bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0 && log != NULL && count <= MAX_INSNS) {
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)log_size;
    attr.log_level = 1;
    fd = (int)bpf(BPF_PROG_LOAD, &attr);
  }
  if (fd < 0) {
    int saved = errno;
    size_t len = log ? strlen(log) : 0;
    while (len > 0 && log[len - 1] == '\n') log[--len] = 0;
    const char *last = len ? strrchr(log, '\n') : NULL;
    snprintf(problem, size, "bpf(BPF_PROG_LOAD): %s%s%s", strerror(saved), len ? ": " : "", len ? (last ? last + 1 : log) : "");
  }
  free(log);
  return fd;
}

/* The ring buffer map and its mappings; -1 with the reason in `problem`. */
static int open_ring(Trace *t, char *problem, size_t size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_RINGBUF;
  attr.max_entries = (uint32_t)t->ring_bytes;
  t->ring_fd = (int)bpf(BPF_MAP_CREATE, &attr);
  if (t->ring_fd < 0) return snprintf(problem, size, "bpf(BPF_MAP_CREATE, ringbuf): %s", strerror(errno)), -1;
  void *consumer = mmap(NULL, t->page, PROT_READ | PROT_WRITE, MAP_SHARED, t->ring_fd, 0);
  if (consumer == MAP_FAILED) return snprintf(problem, size, "mmap of the ring's consumer page: %s", strerror(errno)), -1;
  t->consumer = consumer;
  void *producer = mmap(NULL, t->page + 2 * t->ring_bytes, PROT_READ, MAP_SHARED, t->ring_fd, (off_t)t->page);
  if (producer == MAP_FAILED) return snprintf(problem, size, "mmap of the ring's data: %s", strerror(errno)), -1;
  t->producer = producer;
  t->data = (const uint8_t *)producer + t->page;
  return 0;
}

/* The tracepoint's perf event with the program on it, enabled; -1 with the reason in `problem`. */
static int attach(Trace *t, const char *id_text, char *problem, size_t size) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof attr;
  attr.config = strtoull(id_text, NULL, 10);
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  /* Any CPU: a program on a tracepoint runs wherever the tracepoint fires; cpu 0 only names the event's home. */
  t->event_fd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (t->event_fd < 0) return snprintf(problem, size, "perf_event_open(tracepoint %llu): %s", (unsigned long long)attr.config, strerror(errno)), -1;
  if (ioctl(t->event_fd, PERF_EVENT_IOC_SET_BPF, t->prog_fd) != 0) return snprintf(problem, size, "PERF_EVENT_IOC_SET_BPF: %s", strerror(errno)), -1;
  if (ioctl(t->event_fd, PERF_EVENT_IOC_ENABLE, 0) != 0) return snprintf(problem, size, "PERF_EVENT_IOC_ENABLE: %s", strerror(errno)), -1;
  return 0;
}

/* Every step of opening; 0, or -1 with a sentence in `problem`. */
static int trace_open(Trace *t, char *problem, size_t size) {
  char *format = read_tracefs("events/sock/inet_sock_set_state/format");
  char *id = format ? read_tracefs("events/sock/inet_sock_set_state/id") : NULL;
  int result = -1;
  TracepointLayout layout;
  if (format == NULL || id == NULL) {
    snprintf(problem, size, "tracefs events/sock/inet_sock_set_state: %s", strerror(errno));
  } else if (connect_program_layout(format, &layout, problem, size) == 0 && open_ring(t, problem, size) == 0) {
    t->prog_fd = load_program(t->ring_fd, &layout, problem, size);
    t->pending = calloc(PENDING_SLOTS, sizeof(Pending));
    if (t->prog_fd >= 0 && t->pending == NULL) snprintf(problem, size, "out of memory");
    else if (t->prog_fd >= 0) result = attach(t, id, problem, size);
  }
  free(format);
  free(id);
  return result;
}

static Pending *slot_of(Trace *t, uint64_t skaddr) {
  return &t->pending[(skaddr * 0x9E3779B97F4A7C15ull) >> 52 & (PENDING_SLOTS - 1)];
}

static int is_v4_mapped(const uint8_t *a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(a, prefix, 12) == 0;
}

/* The joined record of a connect (`p`) and its outcome (`e`). */
static void write_record(uint8_t *r, const Pending *p, const ConnectEvent *e) {
  memset(r, 0, RECORD_BYTES);
  int v4 = e->family == 2 || (is_v4_mapped(e->saddr_v6) && is_v4_mapped(e->daddr_v6));
  r[0] = v4 ? 2 : 10;
  r[1] = (uint8_t)e->newstate;
  memcpy(r + 2, &e->sport, 2);
  memcpy(r + 4, &e->dport, 2);
  memcpy(r + 8, &p->tgid, 4);
  memcpy(r + 12, &p->uid, 4);
  memcpy(r + 16, &p->cgroup_id, 8);
  memcpy(r + 24, e->saddr_v6 + (v4 ? 12 : 0), v4 ? 4 : 16);
  memcpy(r + 40, e->daddr_v6 + (v4 ? 12 : 0), v4 ? 4 : 16);
  memcpy(r + 56, p->comm, 16);
}

/* One event: a connect waits in its slot; an outcome takes it and makes a record (1), else 0. */
static int take_event(Trace *t, const ConnectEvent *e, uint8_t *record, double *counts) {
  Pending *slot = slot_of(t, e->skaddr);
  counts[0]++;
  if (e->oldstate == TCP_CLOSE && e->newstate == TCP_SYN_SENT) {
    if (slot->skaddr != 0) counts[3]++;
    slot->skaddr = e->skaddr;
    slot->tgid = (uint32_t)(e->pid_tgid >> 32);
    slot->uid = (uint32_t)e->uid_gid;
    slot->cgroup_id = e->cgroup_id;
    memcpy(slot->comm, e->comm, 16);
    return 0;
  }
  if (slot->skaddr != e->skaddr) {
    counts[2]++;
    return 0;
  }
  slot->skaddr = 0;
  /* A connect that failed before it had a port (no route, no port free) has no flow to name. */
  if (e->sport == 0) return 0;
  counts[1]++;
  write_record(record, slot, e);
  return 1;
}

/* Reads the ring until it is empty or `out` is full: the number of records written. */
static size_t trace_read(Trace *t, uint8_t *out, size_t capacity, double *counts) {
  size_t written = 0;
  unsigned long consumer = __atomic_load_n(t->consumer, __ATOMIC_ACQUIRE);
  unsigned long producer = __atomic_load_n(t->producer, __ATOMIC_ACQUIRE);
  while (consumer < producer && written < capacity) {
    const uint8_t *header = t->data + (consumer & (t->ring_bytes - 1));
    uint32_t len = __atomic_load_n((const uint32_t *)header, __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT) break;
    uint32_t bytes = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT) && bytes >= sizeof(ConnectEvent)) {
      ConnectEvent e;
      memcpy(&e, header + BPF_RINGBUF_HDR_SZ, sizeof e);
      written += (size_t)take_event(t, &e, out + written * RECORD_BYTES, counts);
    }
    consumer += (bytes + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
    __atomic_store_n(t->consumer, consumer, __ATOMIC_RELEASE);
  }
  return written;
}

static void finalize_trace(napi_env env, void *data, void *hint) {
  trace_close(data);
  free(data);
}

napi_value loopy_connect_trace_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t ring_bytes = 1u << 20;
  if (argc >= 1 && !loopy_arg_u32(env, argv[0], "ringBytes", &ring_bytes)) return NULL;
  long page = sysconf(_SC_PAGESIZE);
  if (ring_bytes < (uint32_t)page || (ring_bytes & (ring_bytes - 1)) != 0) {
    napi_throw_type_error(env, LOOPY_E_ARG, "connectTraceOpen(ringBytes): a power of two of at least a page");
    return NULL;
  }
  Trace *t = calloc(1, sizeof *t);
  if (t == NULL) return loopy_throw_napi_failure(env, "calloc"), NULL;
  *t = (Trace){.ring_fd = -1, .prog_fd = -1, .event_fd = -1, .ring_bytes = ring_bytes, .page = (size_t)page};
  char problem[256];
  if (trace_open(t, problem, sizeof problem) != 0) {
    trace_close(t);
    free(t);
    napi_throw_error(env, LOOPY_E_TRACE, problem);
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, t, finalize_trace, NULL, &handle) != napi_ok) {
    finalize_trace(env, t, NULL);
    return loopy_throw_napi_failure(env, "napi_create_external"), NULL;
  }
  return handle;
}

static Trace *trace_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, LOOPY_E_ARG, "not a connect trace handle");
    return NULL;
  }
  return data;
}

napi_value loopy_connect_trace_read(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Trace *t = argc == 3 ? trace_of(env, argv[0]) : NULL;
  if (t == NULL) return NULL;
  uint8_t *out = NULL;
  size_t out_bytes = 0;
  napi_typedarray_type type;
  size_t count_length = 0;
  void *counts = NULL;
  if (napi_get_buffer_info(env, argv[1], (void **)&out, &out_bytes) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &count_length, &counts, NULL, NULL) != napi_ok || type != napi_float64_array || count_length < 4) {
    napi_throw_type_error(env, LOOPY_E_ARG, "connectTraceRead(handle, out: Buffer, counts: Float64Array(4))");
    return NULL;
  }
  size_t written = t->consumer ? trace_read(t, out, out_bytes / RECORD_BYTES, counts) : 0;
  napi_value result;
  NAPI_CALL(env, napi_create_uint32(env, (uint32_t)written, &result));
  return result;
}

napi_value loopy_connect_trace_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Trace *t = argc == 1 ? trace_of(env, argv[0]) : NULL;
  if (t != NULL) trace_close(t);
  return NULL;
}
