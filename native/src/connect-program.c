/*
 * The eBPF program behind process attribution's connect trace, assembled by hand (no clang, no libbpf at
 * build or run time): attached to the tracepoint sock:inet_sock_set_state, it keeps three TCP state
 * changes and writes each to a ring buffer (BPF_MAP_TYPE_RINGBUF) as a ConnectEvent:
 *   CLOSE -> SYN_SENT        connect(), in the connecting process: its tgid, uid, cgroup and comm are right
 *                            (the source port may still be 0: tcp_v4_connect picks it just after);
 *   SYN_SENT -> ESTABLISHED  the whole tuple (in softirq: whoever was running is not the owner);
 *   SYN_SENT -> CLOSE        the same for a refused or failed connect.
 * User space joins them by the socket's address (connect-trace.c). Everything else returns at once, so
 * the cost is a few loads per TCP state change and one ring record per connect and per outcome.
 * The fields' offsets come from the tracepoint's format file, so a kernel that moves them still works;
 * one that renames or resizes them is refused (connect_program_layout), and attribution uses /proc.
 * Encoding: include/uapi/linux/bpf.h (struct bpf_insn; the macros below are those of the kernel's
 * include/linux/filter.h, which is not exported to user space).
 */
#include <stdio.h>
#include <string.h>

#include "connect-program.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define PROTO_TCP 6

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define CTX BPF_REG_6  /* the tracepoint's record */
#define OLD BPF_REG_7  /* oldstate */
#define NEW BPF_REG_8  /* newstate */
#define EVT BPF_REG_9  /* the reserved ring record */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return i;
}

#define MOV_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define ADD_IMM(dst, imm) insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm)
#define LOAD(size, dst, src, off) insn(BPF_LDX | BPF_MEM | (size), dst, src, off, 0)
#define STORE(size, dst, src, off) insn(BPF_STX | BPF_MEM | (size), dst, src, off, 0)
#define STORE_IMM(size, dst, off, imm) insn(BPF_ST | BPF_MEM | (size), dst, 0, off, imm)
#define JUMP_IMM(op, dst, imm, off) insn(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define CALL(helper) insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Where the jumps to "return 0" are, patched once the end is known. */
typedef struct {
  struct bpf_insn *code;
  size_t count, max;
  size_t to_exit[8];
  size_t exits;
} Assembler;

static void emit(Assembler *a, struct bpf_insn i) {
  if (a->count < a->max) a->code[a->count] = i;
  a->count++;
}

static void jump_to_exit(Assembler *a, uint8_t op, uint8_t reg, int32_t imm) {
  if (a->exits < sizeof a->to_exit / sizeof a->to_exit[0]) a->to_exit[a->exits++] = a->count;
  emit(a, op == BPF_JA ? insn(BPF_JMP | BPF_JA, 0, 0, 0, 0) : JUMP_IMM(op, reg, imm, 0));
}

/* Copies `size` bytes of the tracepoint's record at `from` to the event at `to`, in the widest aligned loads. */
static void copy_field(Assembler *a, int from, int to, int size) {
  static const struct { int bytes; uint8_t code; } widths[] = {{8, BPF_DW}, {4, BPF_W}, {2, BPF_H}, {1, BPF_B}};
  for (int done = 0; done < size;) {
    for (size_t w = 0; w < 4; w++) {
      int n = widths[w].bytes;
      if (size - done < n || (from + done) % n != 0 || (to + done) % n != 0) continue;
      emit(a, LOAD(widths[w].code, R1, CTX, (int16_t)(from + done)));
      emit(a, STORE(widths[w].code, EVT, R1, (int16_t)(to + done)));
      done += n;
      break;
    }
  }
}

/* The helper's result (R0, 64 bits) into the event at `to`. */
static void call_into(Assembler *a, int helper, int to) {
  emit(a, CALL(helper));
  emit(a, STORE(BPF_DW, EVT, R0, (int16_t)to));
}

size_t connect_program_build(const TracepointLayout *l, int ring_fd, struct bpf_insn *out, size_t max) {
  Assembler a = {.code = out, .max = max};
  emit(&a, MOV_REG(CTX, R1));
  emit(&a, LOAD(BPF_H, R2, CTX, (int16_t)l->protocol));
  jump_to_exit(&a, BPF_JNE, R2, PROTO_TCP);
  emit(&a, LOAD(BPF_W, OLD, CTX, (int16_t)l->oldstate));
  emit(&a, LOAD(BPF_W, NEW, CTX, (int16_t)l->newstate));
  /* CLOSE -> SYN_SENT, or SYN_SENT -> ESTABLISHED | CLOSE; nothing else. */
  emit(&a, JUMP_IMM(BPF_JEQ, OLD, TCP_CLOSE, 4));
  jump_to_exit(&a, BPF_JNE, OLD, TCP_SYN_SENT);
  emit(&a, JUMP_IMM(BPF_JEQ, NEW, TCP_ESTABLISHED, 3));
  emit(&a, JUMP_IMM(BPF_JEQ, NEW, TCP_CLOSE, 2));
  jump_to_exit(&a, BPF_JA, 0, 0);
  jump_to_exit(&a, BPF_JNE, NEW, TCP_SYN_SENT);
  /* r0 = bpf_ringbuf_reserve(&ring, sizeof(ConnectEvent), 0); a full ring drops the event. */
  emit(&a, insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, ring_fd));
  emit(&a, insn(0, 0, 0, 0, 0));
  emit(&a, MOV_IMM(R2, sizeof(ConnectEvent)));
  emit(&a, MOV_IMM(R3, 0));
  emit(&a, CALL(BPF_FUNC_ringbuf_reserve));
  jump_to_exit(&a, BPF_JEQ, R0, 0);
  emit(&a, MOV_REG(EVT, R0));
  copy_field(&a, l->skaddr, offsetof(ConnectEvent, skaddr), 8);
  emit(&a, STORE(BPF_W, EVT, OLD, offsetof(ConnectEvent, oldstate)));
  emit(&a, STORE(BPF_W, EVT, NEW, offsetof(ConnectEvent, newstate)));
  copy_field(&a, l->sport, offsetof(ConnectEvent, sport), 2);
  copy_field(&a, l->dport, offsetof(ConnectEvent, dport), 2);
  copy_field(&a, l->family, offsetof(ConnectEvent, family), 2);
  emit(&a, STORE_IMM(BPF_H, EVT, offsetof(ConnectEvent, pad), 0));
  copy_field(&a, l->saddr_v6, offsetof(ConnectEvent, saddr_v6), 16);
  copy_field(&a, l->daddr_v6, offsetof(ConnectEvent, daddr_v6), 16);
  call_into(&a, BPF_FUNC_get_current_pid_tgid, offsetof(ConnectEvent, pid_tgid));
  call_into(&a, BPF_FUNC_get_current_uid_gid, offsetof(ConnectEvent, uid_gid));
  call_into(&a, BPF_FUNC_get_current_cgroup_id, offsetof(ConnectEvent, cgroup_id));
  emit(&a, MOV_REG(R1, EVT));
  emit(&a, ADD_IMM(R1, offsetof(ConnectEvent, comm)));
  emit(&a, MOV_IMM(R2, sizeof(((ConnectEvent *)0)->comm)));
  emit(&a, CALL(BPF_FUNC_get_current_comm));
  emit(&a, MOV_REG(R1, EVT));
  emit(&a, MOV_IMM(R2, 0));
  emit(&a, CALL(BPF_FUNC_ringbuf_submit));
  size_t exit_at = a.count;
  emit(&a, MOV_IMM(R0, 0));
  emit(&a, EXIT());
  for (size_t j = 0; j < a.exits && a.count <= max; j++) out[a.to_exit[j]].off = (int16_t)(exit_at - a.to_exit[j] - 1);
  return a.count;
}

/* The offset of `field` ("const void * skaddr") if its size is `size`; -1 when missing or resized. */
static int field_offset(const char *format, const char *field, int size) {
  char needle[64];
  snprintf(needle, sizeof needle, "field:%s;", field);
  const char *at = strstr(format, needle);
  int offset = -1, found_size = -1;
  if (at == NULL || sscanf(at + strlen(needle), " offset:%d; size:%d;", &offset, &found_size) != 2) return -1;
  return found_size == size ? offset : -1;
}

int connect_program_layout(const char *format, TracepointLayout *l, char *problem, size_t problem_size) {
  const struct { const char *field; int size; int *out; } fields[] = {
    {"const void * skaddr", 8, &l->skaddr}, {"int oldstate", 4, &l->oldstate}, {"int newstate", 4, &l->newstate},
    {"__u16 sport", 2, &l->sport}, {"__u16 dport", 2, &l->dport}, {"__u16 family", 2, &l->family},
    {"__u16 protocol", 2, &l->protocol}, {"__u8 saddr_v6[16]", 16, &l->saddr_v6}, {"__u8 daddr_v6[16]", 16, &l->daddr_v6},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    *fields[i].out = field_offset(format, fields[i].field, fields[i].size);
    /* A tracepoint program may read its record past the common fields, each load aligned to its width. */
    if (*fields[i].out < 8 || *fields[i].out > 4096 || *fields[i].out % (fields[i].size > 8 ? 1 : fields[i].size) != 0) {
      snprintf(problem, problem_size, "the tracepoint has no field '%s' of %d bytes, aligned", fields[i].field, fields[i].size);
      return -1;
    }
  }
  return 0;
}
