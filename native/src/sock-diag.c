/*
 * socketDump(family, protocol, states) -> Buffer: the sockets of this network namespace, from the kernel's
 * sock_diag netlink interface (INET_DIAG, what `ss` uses), one 48-byte record each:
 *   u8 family (2 or 10), u8 state (TCP_* numbers), u16 local port, u16 remote port, u16 padding,
 *   16 bytes local address, 16 bytes remote address (network order, IPv4 in the first four),
 *   u32 uid, u32 inode  (numbers in host order).
 * Why not /proc/net/tcp: its text lists every TIME_WAIT socket (tens of thousands at 1,000 connections a
 * second) and costs milliseconds to make and parse; here the kernel leaves out the states not asked for
 * (`states`, a mask of 1 << TCP_*) and hands binary records. No privilege is needed for a dump.
 * Throws (code LOOPY_SOCK_DIAG) when netlink refuses; never keeps a socket open between calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "napi-util.h"
#include "sock-diag.h"

#define RECORD_BYTES 48
#define RECEIVE_BYTES 65536

typedef struct {
  unsigned char *data;
  size_t length;
  size_t capacity;
} Records;

static int append_record(Records *out, const struct inet_diag_msg *msg) {
  if (out->length + RECORD_BYTES > out->capacity) {
    size_t capacity = out->capacity ? out->capacity * 2 : 64 * RECORD_BYTES;
    unsigned char *grown = realloc(out->data, capacity);
    if (!grown) return -1;
    out->data = grown;
    out->capacity = capacity;
  }
  unsigned char *r = out->data + out->length;
  memset(r, 0, RECORD_BYTES);
  r[0] = msg->idiag_family;
  r[1] = msg->idiag_state;
  uint16_t sport = ntohs(msg->id.idiag_sport), dport = ntohs(msg->id.idiag_dport);
  memcpy(r + 2, &sport, 2);
  memcpy(r + 4, &dport, 2);
  memcpy(r + 8, msg->id.idiag_src, 16);
  memcpy(r + 24, msg->id.idiag_dst, 16);
  memcpy(r + 40, &msg->idiag_uid, 4);
  memcpy(r + 44, &msg->idiag_inode, 4);
  out->length += RECORD_BYTES;
  return 0;
}

/* Sends the dump request and collects every answer; 0, or an errno. */
static int dump(int fd, uint8_t family, uint8_t protocol, uint32_t states, Records *out) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } request;
  memset(&request, 0, sizeof request);
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.nlh.nlmsg_seq = 1;
  request.req.sdiag_family = family;
  request.req.sdiag_protocol = protocol;
  request.req.idiag_states = states;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &request, sizeof request, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  char *buffer = malloc(RECEIVE_BYTES);
  if (!buffer) return ENOMEM;
  int result = 0;
  for (;;) {
    ssize_t n = recv(fd, buffer, RECEIVE_BYTES, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = errno;
      break;
    }
    if (n == 0) break;
    int done = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        result = e->error ? -e->error : EPROTO;
        done = 1;
        break;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
      if (append_record(out, NLMSG_DATA(h)) != 0) {
        result = ENOMEM;
        done = 1;
        break;
      }
    }
    if (done) break;
  }
  free(buffer);
  return result;
}

static void free_records(napi_env env, void *data, void *hint) {
  free(data);
}

napi_value loopy_socket_dump(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t family = 0, protocol = 0, states = 0;
  if (argc < 3 || !loopy_arg_u32(env, argv[0], "family", &family) || !loopy_arg_u32(env, argv[1], "protocol", &protocol) ||
      !loopy_arg_u32(env, argv[2], "states", &states)) {
    return NULL;
  }
  if ((family != AF_INET && family != AF_INET6) || (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)) {
    napi_throw_type_error(env, LOOPY_E_ARG, "socketDump(family, protocol, states): family 2 or 10, protocol 6 or 17");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  Records records = {0};
  int error = fd < 0 ? errno : dump(fd, (uint8_t)family, (uint8_t)protocol, states, &records);
  if (fd >= 0) close(fd);
  if (error != 0) {
    free(records.data);
    char message[128];
    snprintf(message, sizeof message, "sock_diag dump failed: %s", strerror(error));
    napi_throw_error(env, "LOOPY_SOCK_DIAG", message);
    return NULL;
  }
  napi_value result;
  if (records.length == 0) {
    void *unused;
    NAPI_CALL(env, napi_create_buffer(env, 0, &unused, &result));
    return result;
  }
  NAPI_CALL(env, napi_create_external_buffer(env, records.length, records.data, free_records, NULL, &result));
  return result;
}
