import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { MAX_POINTERS, NameResult, readName } from './names.js';
import { hex } from './testing/hex.js';

const HEADER = '0000 0000 0000 0000 0000 0000'; // 12 zero bytes: names start at offset 12

function read(buf: Buffer, pos: number): NameResult {
  const out = new NameResult();
  readName(buf, 0, buf.length, pos, out);
  return out;
}

function failure(buf: Buffer, pos: number): string {
  const out = new NameResult();
  assert.equal(readName(buf, 0, buf.length, pos, out), false, 'expected the read to fail');
  return weirdName(out.weird);
}

test('labels, then a compression pointer back to an earlier name', () => {
  const msg = hex(`${HEADER}
    03 777777 07 6578616d706c65 03 636f6d 00   # offset 12: www.example.com
    04 6d61696c c0 10                         # offset 29: mail + pointer to 16 (example.com)
  `);
  const first = read(msg, 12);
  assert.equal(first.weird, -1);
  assert.equal(first.name, 'www.example.com');
  assert.equal(first.end, 29);
  const second = read(msg, 29);
  assert.equal(second.name, 'mail.example.com');
  assert.equal(second.end, 36, 'end is just past the first pointer, not past the name it points to');
});

test('the root name is the empty string', () => {
  const msg = hex(`${HEADER} 00`);
  const out = read(msg, 12);
  assert.equal(out.name, '');
  assert.equal(out.end, 13);
});

test('a pointer to itself is a loop (tcpdump dns-zlip-1.pcap)', () => {
  // DNS bytes of dns-zlip-1.pcap (tshark -x from offset 0x2a): header ed69 0000 0001 0000 0000 0000,
  // then the question name at 12 is c0 0c, a pointer to offset 12 itself.
  const msg = hex('ed69 0000 0001 0000 0000 0000 c00c c007 c010 c017 c020 c027 c030 c0ff cf00 0000 0100 01');
  assert.equal(failure(msg, 12), 'dns_name_loop');
});

test('a forward pointer is a bad pointer (tcpdump dns-zlip-2.pcap)', () => {
  // dns-zlip-2.pcap: the name at 12 is c0 0e, pointing forward to 14 (which points back to 12).
  const msg = hex('4a30 0000 0001 0000 0000 0000 c00e c00c c010 c017 c020 c027 c030 c0ff cf00 0000 0100 01');
  assert.equal(failure(msg, 12), 'DNS_label_forward_compress_offset');
});

test('a pointer back to the start of its own name loops through the label (tcpdump dns-zlip-3.pcap)', () => {
  // dns-zlip-3.pcap: a 62-byte label at 12, then c0 0c at 75 pointing back to 12: each pass reads the
  // label and meets the same pointer again. Backwards, so allowed, but the walk may not read past it.
  const label = Buffer.from('thisleetostringwillcrashyourlittlenameserverforsurehahahahahah');
  assert.equal(label.length, 62);
  const msg = Buffer.concat([hex(`ffcb 0000 0001 0000 0000 0000 3e`), label, hex('c00c c00c c00c')]);
  assert.equal(failure(msg, 12), 'dns_name_loop');
});

test('a two-byte loop: label, then a pointer back to that label', () => {
  const msg = hex(`${HEADER} 01 61 c0 0c`); // "a" at 12, pointer at 14 back to 12
  assert.equal(failure(msg, 12), 'dns_name_loop');
});

test('label types 0x40 and 0x80 are weirds', () => {
  assert.equal(failure(hex(`${HEADER} 41 02 00`), 12), 'DNS_label_too_long'); // 0x41: the old EDNS bit-string label
  assert.equal(failure(hex(`${HEADER} 81 00`), 12), 'DNS_label_too_long');
});

test('a name longer than 255 bytes on the wire is a weird; exactly 255 is fine', () => {
  const label = (n: number) => Buffer.concat([Buffer.from([n]), Buffer.alloc(n, 0x61)]);
  // 3 x (1 + 63) + (1 + 61) + root = 255
  const ok = Buffer.concat([hex(HEADER), label(63), label(63), label(63), label(61), hex('00')]);
  const out = read(ok, 12);
  assert.equal(out.weird, -1);
  assert.equal(out.name.length, 63 * 3 + 61 + 3);
  // one byte more: 256
  const long = Buffer.concat([hex(HEADER), label(63), label(63), label(63), label(62), hex('00')]);
  assert.equal(failure(long, 12), 'DNS_NAME_too_long');
});

test('a name running off the message is truncated', () => {
  assert.equal(failure(hex(`${HEADER} 05 616263`), 12), 'DNS_label_len_gt_pkt');
  assert.equal(failure(hex(`${HEADER} 03 616263`), 12), 'DNS_label_len_gt_pkt', 'no root label');
  assert.equal(failure(hex(`${HEADER} c0`), 12), 'DNS_label_len_gt_pkt', 'half a pointer');
});

test(`a chain of more than ${MAX_POINTERS} pointers is cut off`, () => {
  // Root at 12, then pointers each pointing at the previous one: 13 -> 12, 15 -> 13, 17 -> 15, ...
  const chain = (n: number) => {
    const parts = [hex(HEADER), hex('00')];
    let target = 12;
    for (let i = 0; i < n; i++) {
      parts.push(Buffer.from([0xc0 | (target >> 8), target & 0xff]));
      target = i === 0 ? 13 : target + 2;
    }
    return Buffer.concat(parts);
  };
  const fine = chain(MAX_POINTERS);
  const out = read(fine, fine.length - 2);
  assert.equal(out.weird, -1);
  assert.equal(out.name, '');
  const tooMany = chain(MAX_POINTERS + 1);
  assert.equal(failure(tooMany, tooMany.length - 2), 'DNS_max_compression_chain_depth_exceeded');
});

test('bytes outside printable ASCII are written \\xNN', () => {
  const out = read(hex(`${HEADER} 04 61 00 ff 20 03 636f6d 00`), 12);
  assert.equal(out.name, 'a\\x00\\xff .com');
});
