/* The LINKTYPE_* <-> DLT_* pairs that differ, after libpcap's own table in pcap-common.c. */
#include "linktype.h"

#include <pcap/pcap.h>

struct pair {
  int linktype;
  int dlt;
};

static const struct pair pairs[] = {
  {100, DLT_ATM_RFC1483}, /* LINKTYPE_ATM_RFC1483 */
  {101, DLT_RAW},         /* LINKTYPE_RAW: raw IPv4/IPv6, no link header (tun devices, some files) */
  {102, DLT_SLIP_BSDOS},  /* LINKTYPE_SLIP_BSDOS */
  {103, DLT_PPP_BSDOS},   /* LINKTYPE_PPP_BSDOS */
  {106, DLT_ATM_CLIP},    /* LINKTYPE_ATM_CLIP */
  {50, DLT_PPP_SERIAL},   /* LINKTYPE_PPP_HDLC */
  {51, DLT_PPP_ETHER},    /* LINKTYPE_PPP_ETHER */
#ifdef DLT_PFSYNC
  {246, DLT_PFSYNC}, /* LINKTYPE_PFSYNC */
#endif
};

#define PAIR_COUNT (sizeof pairs / sizeof pairs[0])

int loopy_linktype_to_dlt(int linktype) {
  for (unsigned i = 0; i < PAIR_COUNT; i++) {
    if (pairs[i].linktype == linktype) return pairs[i].dlt;
  }
  return linktype; /* libpcap does the same for values it has no entry for (e.g. files that say 12) */
}

int loopy_dlt_to_linktype(int dlt) {
  for (unsigned i = 0; i < PAIR_COUNT; i++) {
    if (pairs[i].dlt == dlt) return pairs[i].linktype;
  }
  return dlt;
}
