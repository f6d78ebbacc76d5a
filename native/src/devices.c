/* listDevices() and libVersion(): what `loopy -D` and `loopy --version` show. */
#define _GNU_SOURCE
#include "devices.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include "napi-util.h"

/* Sets obj[key] to the text form of an IPv4/IPv6 address; other families (AF_PACKET...) are left out. */
static bool set_address(napi_env env, napi_value obj, const char *key, const struct sockaddr *sa) {
  if (!sa) return true;
  char text[INET6_ADDRSTRLEN] = "";
  const char *ok = NULL;
  if (sa->sa_family == AF_INET) {
    ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof text);
  } else if (sa->sa_family == AF_INET6) {
    ok = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof text);
  }
  return ok ? loopy_set_string(env, obj, key, text) : true;
}

static napi_value make_addresses(napi_env env, const pcap_if_t *d) {
  napi_value arr;
  NAPI_CALL(env, napi_create_array(env, &arr));
  uint32_t n = 0;
  for (const pcap_addr_t *a = d->addresses; a; a = a->next) {
    if (!a->addr || (a->addr->sa_family != AF_INET && a->addr->sa_family != AF_INET6)) continue;
    napi_value o;
    NAPI_CALL(env, napi_create_object(env, &o));
    if (!loopy_set_string(env, o, "family", a->addr->sa_family == AF_INET ? "IPv4" : "IPv6") ||
        !set_address(env, o, "addr", a->addr) || !set_address(env, o, "netmask", a->netmask) ||
        !set_address(env, o, "broadaddr", a->broadaddr) || !set_address(env, o, "dstaddr", a->dstaddr)) {
      return NULL;
    }
    NAPI_CALL(env, napi_set_element(env, arr, n++, o));
  }
  return arr;
}

/* listDevices() -> [{ name, description, flags, loopback, up, running, addresses: [{ family, addr, ... }] }] */
napi_value loopy_list_devices(napi_env env, napi_callback_info info) {
  (void)info;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all = NULL;
  if (pcap_findalldevs(&all, errbuf) != 0) {
    char msg[PCAP_ERRBUF_SIZE + 64];
    snprintf(msg, sizeof msg, "cannot list capture devices: %s", errbuf);
    napi_throw_error(env, LOOPY_E_OPEN, msg);
    return NULL;
  }
  napi_value arr;
  if (napi_create_array(env, &arr) != napi_ok) {
    pcap_freealldevs(all);
    loopy_throw_napi_failure(env, "napi_create_array");
    return NULL;
  }
  uint32_t n = 0;
  bool ok = true;
  for (const pcap_if_t *d = all; d && ok; d = d->next) {
    napi_value o, addrs = NULL;
    ok = napi_create_object(env, &o) == napi_ok && loopy_set_string(env, o, "name", d->name) &&
         loopy_set_string(env, o, "description", d->description) && loopy_set_u32(env, o, "flags", d->flags) &&
         loopy_set_bool(env, o, "loopback", (d->flags & PCAP_IF_LOOPBACK) != 0) &&
         loopy_set_bool(env, o, "up", (d->flags & PCAP_IF_UP) != 0) &&
         loopy_set_bool(env, o, "running", (d->flags & PCAP_IF_RUNNING) != 0) &&
         (addrs = make_addresses(env, d)) != NULL && napi_set_named_property(env, o, "addresses", addrs) == napi_ok &&
         napi_set_element(env, arr, n++, o) == napi_ok;
  }
  pcap_freealldevs(all);
  if (!ok) {
    loopy_throw_napi_failure(env, "listDevices");
    return NULL;
  }
  return arr;
}

/* libVersion() -> e.g. "libpcap version 1.10.3 (with TPACKET_V3)" */
napi_value loopy_lib_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  NAPI_CALL(env, napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &s));
  return s;
}
