import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOCAL_NETS, LocalNets, LocalNetsError } from './local-nets.js';

function v4(text: string): Uint32Array {
  const w = new Uint32Array(4);
  w[0] = text.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  return w;
}

/** Four big-endian words, written out by hand for each case. */
function words(...w: number[]): Uint32Array {
  return Uint32Array.from(w);
}

test('IPv4 prefixes match on the network bits only', () => {
  const nets = new LocalNets(['192.168.10.0/24', '10.1.2.3', '172.16.0.0/12']);
  assert.equal(nets.contains(4, v4('192.168.10.0'), 0), true);
  assert.equal(nets.contains(4, v4('192.168.10.255'), 0), true);
  assert.equal(nets.contains(4, v4('192.168.11.1'), 0), false);
  assert.equal(nets.contains(4, v4('10.1.2.3'), 0), true, 'a bare address is a /32');
  assert.equal(nets.contains(4, v4('10.1.2.4'), 0), false);
  assert.equal(nets.contains(4, v4('172.31.255.255'), 0), true);
  assert.equal(nets.contains(4, v4('172.32.0.0'), 0), false);
  // An IPv4 network never matches an IPv6 address with the same first word.
  assert.equal(nets.contains(6, v4('192.168.10.1'), 0), false);
});

test('IPv6 prefixes cross word boundaries, :: and dotted tails are understood', () => {
  const nets = new LocalNets(['2001:db8:10::/64', 'fe80::/10', '::ffff:192.0.2.0/120']);
  // 2001:db8:10:0:1::5 = 20010db8 00100000 00000001 00000005
  assert.equal(nets.contains(6, words(0x20010db8, 0x00100000, 0x00000001, 0x00000005), 0), true);
  // 2001:db8:10:1::5 differs in the 64th bit's word
  assert.equal(nets.contains(6, words(0x20010db8, 0x00100001, 0, 5), 0), false);
  // fe80::1 and febf::1 are inside /10; fec0::1 is not
  assert.equal(nets.contains(6, words(0xfe800000, 0, 0, 1), 0), true);
  assert.equal(nets.contains(6, words(0xfebf0000, 0, 0, 1), 0), true);
  assert.equal(nets.contains(6, words(0xfec00000, 0, 0, 1), 0), false);
  // ::ffff:192.0.2.77 = 0 0 0000ffff c000024d
  assert.equal(nets.contains(6, words(0, 0, 0x0000ffff, 0xc000024d), 0), true);
  assert.equal(nets.contains(6, words(0, 0, 0x0000ffff, 0xc000034d), 0), false);
});

test('addresses are read at an offset (the flow key holds two)', () => {
  const nets = new LocalNets(['192.168.0.0/16']);
  const key = new Uint32Array(8);
  key[0] = v4('8.8.8.8')[0];
  key[4] = v4('192.168.1.1')[0];
  assert.equal(nets.contains(4, key, 0), false);
  assert.equal(nets.contains(4, key, 4), true);
});

test('/0 matches everything of its version; the defaults are the private ranges', () => {
  const all = new LocalNets(['0.0.0.0/0']);
  assert.equal(all.contains(4, v4('203.0.113.1'), 0), true);
  assert.equal(all.contains(6, words(0x20010db8, 0, 0, 1), 0), false);
  const defaults = new LocalNets(DEFAULT_LOCAL_NETS);
  assert.equal(defaults.contains(4, v4('100.64.0.1'), 0), true);
  assert.equal(defaults.contains(4, v4('8.8.8.8'), 0), false);
  assert.equal(defaults.contains(6, words(0xfd000000, 0, 0, 1), 0), true);
  assert.equal(defaults.contains(6, words(0, 0, 0, 1), 0), true);
});

test('a bad entry fails with a code and names itself', () => {
  for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0/8', '::/129', '10.0.0.0/x']) {
    assert.throws(() => new LocalNets([bad]), (err: unknown) => err instanceof LocalNetsError && err.code === 'LOOPY_BAD_LOCAL_NET' && err.message.includes(bad));
  }
});

test('grouped by prefix length, the answers are those of comparing with every network in turn (seeded, v4 and v6)', () => {
  let x = 4242;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const cidrs: string[] = [];
  for (let i = 0; i < 300; i++) cidrs.push(`10.${rand(4)}.${rand(256)}.${rand(256)}/${8 + rand(25)}`);
  for (let i = 0; i < 100; i++) cidrs.push(`2001:db8:${rand(4).toString(16)}::${rand(65536).toString(16)}/${32 + rand(97)}`);
  const nets = new LocalNets(cidrs);
  const slow = cidrs.map((c) => new LocalNets([c]));
  const words = new Uint32Array(4);
  for (let i = 0; i < 3000; i++) {
    const v6 = i % 3 === 0;
    words.fill(0);
    if (v6) {
      words[0] = 0x20010db8;
      words[1] = rand(4) << 16;
      words[3] = rand(65536);
    } else {
      words[0] = ((10 << 24) | (rand(4) << 16) | (rand(256) << 8) | rand(256)) >>> 0;
    }
    const want = slow.some((s) => s.contains(v6 ? 6 : 4, words, 0));
    assert.equal(nets.contains(v6 ? 6 : 4, words, 0), want, `address ${i}`);
  }
});

test('IPv4 answers stay right when remembered: thousands of addresses in and out of the networks, asked twice', () => {
  const nets = new LocalNets(['10.0.0.0/8', '192.168.0.0/16']);
  const words = new Uint32Array(4);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 5000; i++) {
      // Alternately 10.x, 11.x (outside) and 192.168.x, with addresses that share their low bits.
      const a = [0x0a000000, 0x0b000000, 0xc0a80000][i % 3] + ((i * 7919) & 0xffff);
      words[0] = a >>> 0;
      assert.equal(nets.contains(4, words, 0), i % 3 !== 1, `${i}: ${a >>> 24}.x`);
    }
  }
});
