#ifndef LOOPY_CONNECT_PROGRAM_H
#define LOOPY_CONNECT_PROGRAM_H
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What the program writes to the ring buffer for each TCP state change it keeps (host order):
 * the kernel's socket address (joins a connect to its outcome), who was running, and the tuple.
 */
typedef struct {
  uint64_t skaddr;
  uint64_t pid_tgid;  /* tgid << 32 | tid */
  uint64_t uid_gid;   /* gid << 32 | uid */
  uint64_t cgroup_id; /* cgroup v2 id: the inode of the cgroup's directory */
  uint32_t oldstate;
  uint32_t newstate;
  uint16_t sport;
  uint16_t dport;
  uint16_t family;
  uint16_t pad;
  uint8_t saddr_v6[16]; /* IPv4 as ::ffff:a.b.c.d (the tracepoint maps it) */
  uint8_t daddr_v6[16];
  char comm[16];
} ConnectEvent;

/* The byte offsets of the tracepoint's fields, read from its tracefs format file. */
typedef struct {
  int skaddr, oldstate, newstate, sport, dport, family, protocol, saddr_v6, daddr_v6;
} TracepointLayout;

/*
 * Reads `format` (the text of events/sock/inet_sock_set_state/format) into `layout`: 0, or -1 with a
 * sentence in `problem` naming the field missing or of an unexpected size.
 */
int connect_program_layout(const char *format, TracepointLayout *layout, char *problem, size_t problem_size);

/* The program's instructions for `layout` and the ring buffer map `ring_fd` into `out` (capacity `max`): their count. */
size_t connect_program_build(const TracepointLayout *layout, int ring_fd, struct bpf_insn *out, size_t max);

#endif
