/*
 * Opening a live pcap handle: options from JS, pcap_create .. pcap_activate, the link type and the kernel
 * filter. Failures throw one line with libpcap's own text and a stable code.
 */
#define _GNU_SOURCE
#include "live-open.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "linktype.h"
#include "napi-util.h"

#define DEFAULT_SNAPLEN 262144u
#define DEFAULT_BUFFER_BYTES (32u << 20)
#define DEFAULT_TIMEOUT_MS 200u
#define DEFAULT_BATCH_BYTES (2u << 20)
#define DEFAULT_MAX_IN_FLIGHT 4u

/* Throws libpcap's text for a failed pcap_activate (or later setup step) and closes the pcap handle. */
static void throw_pcap_failure(napi_env env, pcap_t *p, const char *device, int status, const char *step) {
  const char *detail = pcap_geterr(p);
  const char *status_text = status == PCAP_ERROR ? NULL : pcap_statustostr(status);
  char msg[PCAP_ERRBUF_SIZE * 2 + 128];
  if (status_text && detail && detail[0] && strcmp(detail, status_text) != 0) {
    snprintf(msg, sizeof msg, "cannot capture on %s: %s (%s)", device, status_text, detail);
  } else {
    snprintf(msg, sizeof msg, "cannot capture on %s: %s%s%s", device, step ? step : "",
             step ? ": " : "", status_text ? status_text : detail);
  }
  const char *code = status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_PROMISC_PERM_DENIED ? LOOPY_E_PERM
                     : status == PCAP_ERROR_NO_SUCH_DEVICE                                         ? LOOPY_E_NODEV
                                                                                                   : LOOPY_E_OPEN;
  pcap_close(p);
  napi_throw_error(env, code, msg);
}

bool loopy_read_open_options(napi_env env, napi_value obj, open_options *o) {
  o->snaplen = DEFAULT_SNAPLEN;
  o->buffer_bytes = DEFAULT_BUFFER_BYTES;
  o->timeout_ms = DEFAULT_TIMEOUT_MS;
  o->batch_bytes = DEFAULT_BATCH_BYTES;
  o->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  o->link_type = 0;
  o->promisc = false;
  o->immediate = false;
  o->packets_per_call = 0;
  o->filter = NULL;
  o->fanout_group = LOOPY_FANOUT_NEW_GROUP;
  o->fanout_shards = 0;
  if (!loopy_opt_u32(env, obj, "snaplen", &o->snaplen) || !loopy_opt_u32(env, obj, "bufferBytes", &o->buffer_bytes) ||
      !loopy_opt_u32(env, obj, "timeoutMs", &o->timeout_ms) || !loopy_opt_u32(env, obj, "batchBytes", &o->batch_bytes) ||
      !loopy_opt_u32(env, obj, "maxInFlight", &o->max_in_flight) ||
      !loopy_opt_u32(env, obj, "linkType", &o->link_type) || !loopy_opt_bool(env, obj, "promisc", &o->promisc) ||
      !loopy_opt_bool(env, obj, "immediate", &o->immediate) ||
      !loopy_opt_u32(env, obj, "packetsPerCall", &o->packets_per_call) ||
      !loopy_opt_string(env, obj, "filter", &o->filter) || !loopy_opt_u32(env, obj, "fanoutGroup", &o->fanout_group) ||
      !loopy_opt_u32(env, obj, "fanoutShards", &o->fanout_shards)) {
    return false;
  }
  if (o->snaplen == 0 || o->snaplen > DEFAULT_SNAPLEN) o->snaplen = DEFAULT_SNAPLEN;
  if (o->timeout_ms == 0) o->timeout_ms = 1; /* 0 would mean "block forever" and close() could not rely on it */
  if (o->batch_bytes < 2 * o->snaplen) o->batch_bytes = 2 * o->snaplen;
  if (o->max_in_flight == 0) o->max_in_flight = 1;
  return true;
}

/*
 * The program the kernel runs per packet to choose the group member (PACKET_FANOUT_CBPF): a hash of the
 * unordered pair of IP addresses, read from the network header wherever the link layer put it (SKF_NET_OFF),
 * modulo the members. Both directions of a pair, and every fragment, go to the same member; anything that is
 * not IPv4 or IPv6 goes to member 0. A sum of the address words is symmetric; the multiply and xor-shift
 * spread neighbouring addresses over the members.
 */
#define NET(k) ((uint32_t)(SKF_NET_OFF + (k)))
#define PAIR_HASH_MAX 64

typedef struct program {
  struct sock_filter code[PAIR_HASH_MAX];
  unsigned short len;
} program;

static unsigned short emit(program *p, struct sock_filter insn) {
  p->code[p->len] = insn;
  return p->len++;
}

/* Points the false branch of the conditional jump at `at` to the next instruction to be emitted. */
static void false_branch_here(program *p, unsigned short at) { p->code[at].jf = (uint8_t)(p->len - at - 1); }

static void build_pair_hash(program *p, uint32_t members) {
  p->len = 0;
  emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(0)));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4));
  unsigned short if_v4 = emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(12)));
  emit(p, (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(16)));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0));
  unsigned short to_mix = emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0));
  false_branch_here(p, if_v4);
  unsigned short if_v6 = emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(8)));
  for (uint32_t k = 12; k < 40; k += 4) {
    emit(p, (struct sock_filter)BPF_STMT(BPF_ST, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(k)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LDX | BPF_W | BPF_MEM, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0));
  }
  p->code[to_mix].k = (uint32_t)(p->len - to_mix - 1);
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1u));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ST, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16));
  emit(p, (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_MEM, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0));
  emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, members));
  emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0));
  false_branch_here(p, if_v6);
  emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0));
}
#undef NET

/*
 * Joins the handle's socket to fanout group `group`, or with LOOPY_FANOUT_NEW_GROUP to a new group whose id
 * the kernel makes unique (PACKET_FANOUT_FLAG_UNIQUEID: a fixed id could join another process's group and take
 * its packets; the kernel hands out 0 first after boot, so 0 is a group like any other); the pair hash chooses
 * the member. False with errno set.
 */
static bool join_fanout(pcap_t *pc, uint32_t group, uint32_t members) {
  int fd = pcap_fileno(pc);
  bool fresh = group == LOOPY_FANOUT_NEW_GROUP;
  uint32_t flags = fresh ? PACKET_FANOUT_FLAG_UNIQUEID : 0;
  int arg = (int)((fresh ? 0 : group & 0xffffu) | ((uint32_t)(PACKET_FANOUT_CBPF | flags) << 16));
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) return false;
  program prog;
  build_pair_hash(&prog, members);
  struct sock_fprog fprog = {.len = prog.len, .filter = prog.code};
  return setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof fprog) == 0;
}

int32_t loopy_fanout_group(pcap_t *p) {
  int arg = 0;
  socklen_t len = sizeof arg;
  // A member's value carries the group's type above its id (never 0); a socket in no group reads 0.
  if (getsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0 || arg == 0) return -1;
  return (int32_t)((uint32_t)arg & 0xffffu);
}

/* pcap_create .. pcap_activate .. datalink .. kernel filter. Returns NULL with an exception pending. */
pcap_t *loopy_open_pcap(napi_env env, const char *device, const open_options *o, char **warning) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p = pcap_create(device, errbuf);
  if (!p) {
    char msg[PCAP_ERRBUF_SIZE + 64];
    snprintf(msg, sizeof msg, "cannot capture on %s: %s", device, errbuf);
    napi_throw_error(env, LOOPY_E_OPEN, msg);
    return NULL;
  }
  pcap_set_snaplen(p, (int)o->snaplen);
  pcap_set_promisc(p, o->promisc ? 1 : 0);
  pcap_set_timeout(p, (int)o->timeout_ms);
  pcap_set_buffer_size(p, (int)o->buffer_bytes);
  /* Off by default: immediate mode switches to TPACKET_V2 with tiny rings (measured: loss from ~100 kpps).
   * Settable only so the tap-modes benchmark can measure exactly that. */
  pcap_set_immediate_mode(p, o->immediate ? 1 : 0);
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
  int status = pcap_activate(p);
  if (status < 0) {
    throw_pcap_failure(env, p, device, status, NULL);
    return NULL;
  }
  if (status > 0) {
    const char *detail = pcap_geterr(p);
    char text[PCAP_ERRBUF_SIZE * 2 + 16];
    snprintf(text, sizeof text, "%s%s%s", pcap_statustostr(status), detail && detail[0] ? ": " : "",
             detail ? detail : "");
    *warning = strdup(text);
  }
  if (o->link_type != 0 && pcap_set_datalink(p, loopy_linktype_to_dlt((int)o->link_type)) != 0) {
    throw_pcap_failure(env, p, device, PCAP_ERROR, "setting the link type");
    return NULL;
  }
  if (o->filter && o->filter[0]) {
    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    if (pcap_lookupnet(device, &net, &mask, errbuf) != 0) mask = PCAP_NETMASK_UNKNOWN;
    struct bpf_program prog;
    if (pcap_compile(p, &prog, o->filter, 1, mask) != 0) {
      char msg[PCAP_ERRBUF_SIZE + 256];
      snprintf(msg, sizeof msg, "bad capture filter \"%.150s\": %s", o->filter, pcap_geterr(p));
      pcap_close(p);
      napi_throw_error(env, LOOPY_E_FILTER, msg);
      return NULL;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      throw_pcap_failure(env, p, device, PCAP_ERROR, "setting the kernel filter");
      return NULL;
    }
  }
  if (o->fanout_shards > 1 && !join_fanout(p, o->fanout_group, o->fanout_shards)) {
    char msg[256];
    snprintf(msg, sizeof msg, "cannot capture on %s with --workers: joining fanout group %u failed: %s", device,
             o->fanout_group, strerror(errno));
    pcap_close(p);
    napi_throw_error(env, LOOPY_E_OPEN, msg);
    return NULL;
  }
  return p;
}
