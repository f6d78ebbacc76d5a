/*
 * LINKTYPE_* (the numbers in pcap/pcapng files and in PacketBatch.linkTypes) versus DLT_* (what libpcap's
 * API takes and returns). They are equal except for a few historical values, e.g. LINKTYPE_RAW is 101 while
 * DLT_RAW is 12 on Linux; libpcap maps them when it reads a file, so the addon must map them the same way.
 */
#ifndef LOOPY_LINKTYPE_H
#define LOOPY_LINKTYPE_H

int loopy_linktype_to_dlt(int linktype);
int loopy_dlt_to_linktype(int dlt);

#endif
