/** A client's copy of an agent's passive DNS: asked in batches, one request at a time, again after a while, bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressNames } from './address-names.js';
import { MAX_NAMES_ASKED } from '../serve/protocol/messages.js';

/** An agent's names method over a fixed table, recording what it was asked. */
function agent(table: Record<string, string>) {
  const asked: string[][] = [];
  const ask = (addresses: string[]) => {
    asked.push(addresses);
    return Promise.resolve(Object.fromEntries(addresses.filter((a) => Object.hasOwn(table, a)).map((a) => [a, table[a]])));
  };
  return { asked, ask };
}

test('address names: noted addresses asked once in a batch, again only after reaskSeconds; a changed name is news', async () => {
  const table: Record<string, string> = { '203.0.113.10': 'www.example.com' };
  const { asked, ask } = agent(table);
  const names = new AddressNames(ask, { reaskSeconds: 60 });
  for (const a of ['203.0.113.10', '192.0.2.1', '203.0.113.10']) names.note(a, 100);
  assert.equal(await names.poll(100), true);
  assert.deepEqual(asked, [['203.0.113.10', '192.0.2.1']]);
  assert.equal(names.nameOf('203.0.113.10'), 'www.example.com');
  assert.equal(names.nameOf('192.0.2.1'), undefined);
  names.note('192.0.2.1', 159);
  assert.equal(await names.poll(159), false, 'nothing pending: asked 59 s ago');
  table['192.0.2.1'] = 'late.example.com';
  table['203.0.113.10'] = 'moved.example.com';
  names.note('192.0.2.1', 160);
  names.note('203.0.113.10', 160);
  assert.equal(await names.poll(160), true);
  assert.deepEqual(asked.at(-1), ['192.0.2.1', '203.0.113.10']);
  assert.equal(names.nameOf('192.0.2.1'), 'late.example.com');
  assert.equal(names.nameOf('203.0.113.10'), 'moved.example.com');
  assert.equal(await names.poll(161), false);
});

test('address names: at most MAX_NAMES_ASKED a request, one request in flight, a failed request forgotten', async () => {
  let release: (v: Record<string, string>) => void = () => {};
  const asked: number[] = [];
  let fail = false;
  const names = new AddressNames((addresses) => {
    asked.push(addresses.length);
    if (fail) return Promise.reject(new Error('agent away'));
    return new Promise((r) => (release = r));
  });
  for (let i = 0; i < MAX_NAMES_ASKED + 5; i++) names.note(`10.0.${i >> 8}.${i & 255}`, 0);
  const first = names.poll(0);
  assert.equal(await names.poll(0), false, 'a request is in flight');
  release({ '10.0.0.1': 'one.example' });
  assert.equal(await first, true);
  fail = true;
  assert.equal(await names.poll(1), false, 'the rest, asked of an agent that is away');
  assert.deepEqual(asked, [MAX_NAMES_ASKED, 5]);
  assert.equal(names.nameOf('10.0.0.1'), 'one.example');
});

test('address names: bounded by two generations of capacity entries', async () => {
  const table: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) table[`10.1.${i >> 8}.${i & 255}`] = `h${i}.example`;
  const names = new AddressNames(agent(table).ask, { capacity: 100 });
  for (let round = 0; round < 10; round++) {
    for (let i = round * 100; i < round * 100 + 100; i++) names.note(`10.1.${i >> 8}.${i & 255}`, round);
    await names.poll(round);
  }
  // The last two hundred answered are kept, the older ones dropped with their generation.
  assert.equal(names.nameOf('10.1.3.231'), 'h999.example');
  assert.equal(names.nameOf('10.1.3.32'), 'h800.example');
  assert.equal(names.nameOf('10.1.2.243'), undefined, 'h755: two generations back');
  assert.equal(names.nameOf('10.1.0.0'), undefined);
});
