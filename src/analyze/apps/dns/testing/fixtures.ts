/**
 * Real DNS messages shared by the tests, pasted from `tshark -x` of corpus frames.
 */
import { fromTsharkDump } from './hex.js';

/** Ethernet (14) + IPv4 (20) + UDP (8) in front of the DNS bytes. */
export const ETH_IPV4_UDP = 42;

// tshark -r dns/tcpdump__dns_udp.pcap -x, frame 1: A query for www.tcpdump.org with an EDNS cookie.
export const TCPDUMP_QUERY = fromTsharkDump(`
0000  00 11 22 33 44 66 00 11 22 33 44 55 08 00 45 00   .."3Df.."3DU..E.
0010  00 54 59 cd 00 00 40 11 94 ae c0 a8 01 0b d1 57   .TY...@........W
0020  f9 12 ab be 00 35 00 40 78 24 59 34 01 20 00 01   .....5.@x$Y4. ..
0030  00 00 00 00 00 01 03 77 77 77 07 74 63 70 64 75   .......www.tcpdu
0040  6d 70 03 6f 72 67 00 00 01 00 01 00 00 29 10 00   mp.org.......)..
0050  00 00 00 00 00 0c 00 0a 00 08 42 f5 d0 09 96 f9   ..........B.....
0060  0b 13                                             ..
`, ETH_IPV4_UDP);

// Frame 2: the response; A and NS records, glue A/AAAA in the additional section, OPT.
export const TCPDUMP_RESPONSE = fromTsharkDump(`
0000  00 11 22 33 44 55 00 11 22 33 44 66 08 00 45 00   .."3DU.."3Df..E.
0010  00 fc 00 2d 00 00 80 11 ad a6 d1 57 f9 12 c0 a8   ...-.......W....
0020  01 0b 00 35 ab be 00 e8 c4 54 59 34 85 00 00 01   ...5.....TY4....
0030  00 02 00 02 00 05 03 77 77 77 07 74 63 70 64 75   .......www.tcpdu
0040  6d 70 03 6f 72 67 00 00 01 00 01 c0 0c 00 01 00   mp.org..........
0050  01 00 00 00 3c 00 04 c0 8b 2e 42 c0 0c 00 01 00   ....<.....B.....
0060  01 00 00 00 3c 00 04 c6 c7 58 68 c0 10 00 02 00   ....<....Xh.....
0070  01 00 01 51 80 00 12 03 73 6e 73 08 63 6f 6f 70   ...Q....sns.coop
0080  65 72 69 78 03 6e 65 74 00 c0 10 00 02 00 01 00   erix.net........
0090  01 51 80 00 12 03 6e 69 63 09 73 61 6e 64 65 6c   .Q....nic.sandel
00a0  6d 61 6e 02 63 61 00 c0 6b 00 01 00 01 00 00 01   man.ca..k.......
00b0  2c 00 04 d1 57 f9 12 c0 6b 00 1c 00 01 00 00 01   ,...W...k.......
00c0  2c 00 10 26 07 f0 b0 00 0f 00 00 00 00 00 00 ba   ,..&............
00d0  be f0 0d c0 4d 00 01 00 01 00 00 1c 20 00 04 61   ....M....... ..a
00e0  6b 85 0f c0 4d 00 1c 00 01 00 00 1c 20 00 10 26   k...M....... ..&
00f0  00 3c 03 00 00 00 00 f0 3c 91 ff fe 96 e8 ef 00   .<......<.......
0100  00 29 10 00 00 00 00 00 00 00                     .)........
`, ETH_IPV4_UDP);

