/* Options and the opening sequence of a live capture (see live-open.c). */
#ifndef LOOPY_LIVE_OPEN_H
#define LOOPY_LIVE_OPEN_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <node_api.h>

typedef struct open_options {
  uint32_t snaplen;       /* default 262144 */
  uint32_t buffer_bytes;  /* kernel ring, default 64 MiB */
  uint32_t timeout_ms;    /* block retire timeout, default 200 */
  uint32_t batch_bytes;   /* bytes of packet data per batch before it is handed over early, default 2 MiB */
  uint32_t max_in_flight; /* batches waiting for JS before the capture thread waits, default 4 */
  uint32_t link_type;     /* LINKTYPE_* to request (e.g. 276 for SLL2 on "any"), 0 = the device's default */
  bool promisc;           /* default false: a monitor on a server wants its own traffic only */
  bool immediate;         /* pcap_set_immediate_mode: default false (TPACKET_V3 blocks); the tap-modes bench compares */
  uint32_t packets_per_call; /* hand the batch over after this many packets; 0 = no limit (bytes/timeout/block) */
  char *filter;           /* kernel filter, tcpdump syntax; malloc'd or NULL */
  uint32_t fanout_group;  /* PACKET_FANOUT group id to join (0 is one); LOOPY_FANOUT_NEW_GROUP = a new group with a unique id */
  uint32_t fanout_shards; /* members of the group (the pair hash's modulus); 0 or 1 = no fanout */
} open_options;

/* open_options.fanout_group when none is given: group ids are 16 bits, so this is none of them. */
#define LOOPY_FANOUT_NEW_GROUP UINT32_MAX

/* Reads the options object (undefined = all defaults). False with an exception pending. */
bool loopy_read_open_options(napi_env env, napi_value obj, open_options *o);

/* Opens and activates the device. NULL with an exception pending. *warning gets a malloc'd activation
 * warning (e.g. promiscuous mode not supported), or stays NULL. */
pcap_t *loopy_open_pcap(napi_env env, const char *device, const open_options *o, char **warning);

/* The PACKET_FANOUT group the handle's socket is in (0 is one: the kernel's first unique id after boot), -1 for none. */
int32_t loopy_fanout_group(pcap_t *p);

#endif
