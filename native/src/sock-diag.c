/*
 * socketDump(family, protocol, states) -> Buffer: the sockets of this network namespace, from the kernel's
 * sock_diag netlink interface (INET_DIAG, what `ss` uses), one 48-byte record each:
 *   u8 family (2 or 10), u8 state (TCP_* numbers), u16 local port, u16 remote port, u16 padding,
 *   16 bytes local address, 16 bytes remote address (network order, IPv4 in the first four),
 *   u32 uid, u32 inode  (numbers in host order).
 * Why not /proc/net/tcp: its text lists every TIME_WAIT socket (tens of thousands at 1,000 connections a
 * second) and costs milliseconds to make and parse; here the kernel leaves out the states not asked for
 * (`states`, a mask of 1 << TCP_*) and hands binary records. No privilege is needed for a dump.
 * A dump of connected TCP sockets walks the kernel's whole established hash table (262,144 buckets here:
 * about 1.1 ms whatever the number of sockets), so connected sockets are also looked up one by one:
 * socketLookup(family, protocol, requests) -> Buffer takes 36-byte requests (16 bytes local address, 16
 * remote, u16 local port, u16 remote port, ports in host order) and answers the records of those found, in
 * the same 48-byte layout: a hash lookup each, 64 to a datagram, about a microsecond each.
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

typedef struct {
  struct nlmsghdr nlh;
  struct inet_diag_req_v2 req;
} DiagRequest;

static void prepare_request(DiagRequest *request, uint16_t flags, uint8_t family, uint8_t protocol, uint32_t states) {
  memset(request, 0, sizeof *request);
  request->nlh.nlmsg_len = sizeof *request;
  request->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request->nlh.nlmsg_flags = flags;
  request->nlh.nlmsg_seq = 1;
  request->req.sdiag_family = family;
  request->req.sdiag_protocol = protocol;
  request->req.idiag_states = states;
}

/* Sends the dump request and collects every answer; 0, or an errno. */
static int dump(int fd, uint8_t family, uint8_t protocol, uint32_t states, Records *out) {
  DiagRequest request;
  prepare_request(&request, NLM_F_REQUEST | NLM_F_DUMP, family, protocol, states);
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

#define REQUEST_BYTES 36

/* Requests sent in one datagram: the kernel answers each in turn (one reply or one error each). */
#define LOOKUPS_PER_SEND 64

static void prepare_lookup(DiagRequest *request, uint8_t family, uint8_t protocol, const unsigned char *q, uint32_t seq) {
  prepare_request(request, NLM_F_REQUEST, family, protocol, ~0u);
  request->nlh.nlmsg_seq = seq;
  memcpy(request->req.id.idiag_src, q, 16);
  memcpy(request->req.id.idiag_dst, q + 16, 16);
  uint16_t sport, dport;
  memcpy(&sport, q + 32, 2);
  memcpy(&dport, q + 34, 2);
  request->req.id.idiag_sport = htons(sport);
  request->req.id.idiag_dport = htons(dport);
  request->req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request->req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

/*
 * Up to LOOKUPS_PER_SEND exact lookups in one sendto (a syscall pair per socket cost more than the
 * lookup itself); the records of the sockets found are appended. 0, or an errno (ENOENT answers are
 * the sockets not there, not errors).
 */
static int lookup_some(int fd, uint8_t family, uint8_t protocol, const unsigned char *requests, size_t count, Records *out) {
  DiagRequest batch[LOOKUPS_PER_SEND];
  for (size_t i = 0; i < count; i++) prepare_lookup(&batch[i], family, protocol, requests + i * REQUEST_BYTES, (uint32_t)i + 1);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, batch, count * sizeof batch[0], 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  char buffer[16384];
  size_t answered = 0;
  while (answered < count) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EPROTO;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      answered++;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error != 0 && e->error != -ENOENT) return -e->error;
      } else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && append_record(out, NLMSG_DATA(h)) != 0) {
        return ENOMEM;
      }
    }
  }
  return 0;
}

static void free_records(napi_env env, void *data, void *hint) {
  free(data);
}

static napi_value records_buffer(napi_env env, Records *records);

/* The records as a Buffer, or (error != 0) a thrown LOOPY_SOCK_DIAG naming what failed. */
static napi_value finish_records(napi_env env, Records *records, int error, const char *what) {
  if (error == 0) return records_buffer(env, records);
  free(records->data);
  char message[128];
  snprintf(message, sizeof message, "sock_diag %s failed: %s", what, strerror(error));
  napi_throw_error(env, "LOOPY_SOCK_DIAG", message);
  return NULL;
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
  return finish_records(env, &records, error, "dump");
}

/* The records as a Buffer that owns them (an empty one when there are none). */
static napi_value records_buffer(napi_env env, Records *records) {
  napi_value result;
  if (records->length == 0) {
    void *unused;
    free(records->data);
    NAPI_CALL(env, napi_create_buffer(env, 0, &unused, &result));
    return result;
  }
  NAPI_CALL(env, napi_create_external_buffer(env, records->length, records->data, free_records, NULL, &result));
  return result;
}

napi_value loopy_socket_lookup(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t family = 0, protocol = 0;
  unsigned char *requests = NULL;
  size_t length = 0;
  bool is_buffer = false;
  if (argc < 3 || !loopy_arg_u32(env, argv[0], "family", &family) || !loopy_arg_u32(env, argv[1], "protocol", &protocol)) return NULL;
  if (napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[2], (void **)&requests, &length) != napi_ok || length % REQUEST_BYTES != 0 ||
      (family != AF_INET && family != AF_INET6) || (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)) {
    napi_throw_type_error(env, LOOPY_E_ARG, "socketLookup(family, protocol, requests): family 2 or 10, protocol 6 or 17, 36-byte requests");
    return NULL;
  }
  Records records = {0};
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  int error = fd < 0 ? errno : 0;
  for (size_t at = 0; error == 0 && at < length; at += LOOKUPS_PER_SEND * REQUEST_BYTES) {
    size_t count = (length - at) / REQUEST_BYTES;
    error = lookup_some(fd, (uint8_t)family, (uint8_t)protocol, requests + at, count < LOOKUPS_PER_SEND ? count : LOOKUPS_PER_SEND, &records);
  }
  if (fd >= 0) close(fd);
  return finish_records(env, &records, error, "lookup");
}
