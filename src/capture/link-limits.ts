/**
 * How big a captured packet may sanely be, per link type. Same table as libpcap's max_snaplen_for_dlt() and
 * wiretap's wtap_max_snaplen_for_encap(): 256 KiB except for a few link types that carry whole messages.
 * A record past this bound is taken as damage (a fuzzed or corrupt length), as tcpdump and tshark do.
 */

export const MAX_SNAPLEN_DEFAULT = 262144;

const LINKTYPE_DBUS = 231;
const LINKTYPE_USBPCAP = 249;
const LINKTYPE_EBHSCR = 279;

export function maxSnaplenForLinkType(linkType: number): number {
  switch (linkType) {
    case LINKTYPE_DBUS:
      return 128 * 1024 * 1024; // D-Bus messages can be 128 MiB
    case LINKTYPE_EBHSCR:
      return 8 * 1024 * 1024;
    case LINKTYPE_USBPCAP:
      return 1024 * 1024;
    default:
      return MAX_SNAPLEN_DEFAULT;
  }
}

/**
 * The largest pcapng block accepted: 16 MiB, or more when an interface's link type allows bigger packets
 * (an EPB with a maximal packet plus 128 KiB of options), as libpcap's MAX_BLOCKSIZE_FOR_SNAPLEN.
 */
export const PCAPNG_MAX_BLOCK_DEFAULT = 16 * 1024 * 1024;

export function maxBlockForLinkType(linkType: number): number {
  return Math.max(PCAPNG_MAX_BLOCK_DEFAULT, 8 + 20 + maxSnaplenForLinkType(linkType) + 131072 + 4);
}
