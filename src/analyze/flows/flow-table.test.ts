import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPPROTO_UDP, Packet } from '../../decode/packet.js';
import { releasePages, tryLoadCaptureAddon } from '../../capture/live-addon.js';
import { FlowTable, hitCreated, hitFlow, hitFromA } from './flow-table.js';

const NO_ADDON = tryLoadCaptureAddon()?.releasePages === undefined ? 'the capture addon is not built (npm run build:native): its madvise gives the pages back' : false;

/** The flow of a hit, -1 for none. */
const flowOf = (hit: number): number => (hit < 0 ? -1 : hitFlow(hit));

function packetFor(pkt: Packet, a: number, b: number, aport: number, bport: number, v6 = false): Packet {
  pkt.ipVersion = v6 ? 6 : 4;
  pkt.src.fill(0);
  pkt.dst.fill(0);
  pkt.src[v6 ? 3 : 0] = a;
  pkt.dst[v6 ? 3 : 0] = b;
  pkt.srcPort = aport;
  pkt.dstPort = bport;
  return pkt;
}

test('both directions of a flow find the same entry; IPv4 and IPv6 with equal words do not collide', () => {
  const table = new FlowTable(16, 4);
  const pkt = new Packet();
  const first = table.lookup(packetFor(pkt, 1, 2, 1000, 53), IPPROTO_UDP, 1000, 53, true);
  assert.equal(hitCreated(first), true);
  assert.equal(hitFromA(first), true);
  const f = hitFlow(first);
  const back = table.lookup(packetFor(pkt, 2, 1, 53, 1000), IPPROTO_UDP, 53, 1000, true);
  assert.equal(hitFlow(back), f);
  assert.equal(hitCreated(back), false);
  assert.equal(hitFromA(back), false);
  const g = flowOf(table.lookup(packetFor(pkt, 1, 2, 1000, 53, true), IPPROTO_UDP, 1000, 53, true));
  assert.notEqual(g, f);
});

test('QinQ: flows whose inner VLAN ids differ only above bit 11 (2 and 2050) stay apart', () => {
  const table = new FlowTable(16, 4);
  const pkt = packetFor(new Packet(), 1, 2, 1000, 53);
  pkt.vlan = 100;
  pkt.innerVlan = 2;
  const low = table.lookup(pkt, IPPROTO_UDP, 1000, 53, true);
  pkt.innerVlan = 2050;
  const high = table.lookup(pkt, IPPROTO_UDP, 1000, 53, true);
  assert.notEqual(hitFlow(high), hitFlow(low));
  assert.equal(hitCreated(high), true);
  assert.equal(table.innerVlanOf(hitFlow(high)), 2050);
});

test('random inserts and removals agree with a Map, through growth and backward-shift deletion', () => {
  const table = new FlowTable(5000, 8);
  const oracle = new Map<string, number>();
  const tuples = new Map<string, [number, number, number]>();
  const pkt = new Packet();
  let x = 12345;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let step = 0; step < 60_000; step++) {
    const a = rand(40);
    const b = rand(40);
    const port = rand(50);
    const key = a < b || (a === b && port <= 80) ? `${a}:${port}-${b}:80` : `${b}:80-${a}:${port}`;
    packetFor(pkt, a, b, port, 80);
    if (rand(3) === 0 && oracle.has(key)) {
      const flow = flowOf(table.lookup(pkt, IPPROTO_UDP, port, 80, false));
      assert.equal(flow, oracle.get(key));
      table.remove(flow);
      oracle.delete(key);
    } else {
      const flow = flowOf(table.lookup(pkt, IPPROTO_UDP, port, 80, true));
      if (oracle.has(key)) assert.equal(flow, oracle.get(key), `step ${step}`);
      else {
        oracle.set(key, flow);
        tuples.set(key, [a, b, port]);
      }
    }
    assert.equal(table.count, oracle.size);
  }
  // Every remaining key is still found, and ids of removed flows never point at a newer flow.
  for (const [key, flow] of oracle) {
    const [a, b, port] = tuples.get(key)!;
    assert.equal(table.lookup(packetFor(pkt, a, b, port, 80), IPPROTO_UDP, port, 80, false) >= 0, true, key);
    assert.equal(table.flowOf(table.flowId(flow)), flow);
  }
});

test('a full table refuses new flows instead of growing past its budget', () => {
  const table = new FlowTable(3, 2);
  const pkt = new Packet();
  for (let port = 1; port <= 3; port++) assert.ok(table.lookup(packetFor(pkt, 1, 2, port, 9), IPPROTO_UDP, port, 9, true) >= 0);
  assert.equal(table.lookup(packetFor(pkt, 1, 2, 4, 9), IPPROTO_UDP, 4, 9, true), -1);
});

test('the flow found last is found again without a probe, but never once it has been removed', () => {
  const table = new FlowTable(16, 4);
  const pkt = new Packet();
  const f = flowOf(table.lookup(packetFor(pkt, 1, 2, 1000, 53), IPPROTO_UDP, 1000, 53, true));
  assert.equal(flowOf(table.lookup(packetFor(pkt, 1, 2, 1000, 53), IPPROTO_UDP, 1000, 53, false)), f);
  const back = table.lookup(packetFor(pkt, 2, 1, 53, 1000), IPPROTO_UDP, 53, 1000, false);
  assert.equal(flowOf(back), f);
  assert.equal(hitFromA(back), false);
  // Its key stays in the key columns after removal: only the index may say whether the flow exists.
  table.remove(f);
  assert.equal(table.lookup(packetFor(pkt, 1, 2, 1000, 53), IPPROTO_UDP, 1000, 53, false), -1);
  // The slot reused by another flow is that flow's, not the old key's.
  const g = flowOf(table.lookup(packetFor(pkt, 3, 4, 1000, 53), IPPROTO_UDP, 1000, 53, true));
  assert.equal(g, f);
  assert.equal(table.lookup(packetFor(pkt, 1, 2, 1000, 53), IPPROTO_UDP, 1000, 53, false), -1);
  assert.equal(flowOf(table.lookup(packetFor(pkt, 3, 4, 1000, 53), IPPROTO_UDP, 1000, 53, false)), g);
});

test('releaseSparse asks for no run too short to hold a page of its column, and only for runs where a flow ended since', () => {
  const table = new FlowTable(40_000, 16);
  const pkt = new Packet();
  const flows: number[] = [];
  for (let i = 0; i < 20_000; i++) flows.push(hitFlow(table.lookup(packetFor(pkt, 0x0a000000 + i, 0x0a0000fe, 1024 + i, 53), IPPROTO_UDP, 1024 + i, 53, true)));
  // One flow in ten left below 2,000, runs of nine free slots between them (36 bytes of a 4-byte column, 396
  // of the key column), and one long-lived flow at the top, which keeps the table's extent.
  for (let i = 0; i < flows.length - 1; i++) if (i >= 2000 || i % 10 !== 0) table.remove(flows[i]);
  const calls: Array<[number, number, number]> = [];
  const fakeRelease = (view: ArrayBufferView, from: number, to: number): number => {
    calls.push([view.byteLength, from, to]);
    const start = Math.ceil(from / 4096) * 4096;
    const end = Math.floor(Math.min(to, view.byteLength) / 4096) * 4096;
    return Math.max(0, end - start);
  };
  // The run of 18,000 free slots below the top flow, of 44 + 4 + 1 + 1 bytes each, and the free stack's 4
  // bytes a slot; nothing above the highest slot ever used (its pages were never touched): not the rest of the 40,000.
  const released = table.releaseSparse(fakeRelease);
  assert.ok(released > 17_000 * 48 && released < 18_000 * 54, `${released} bytes released`);
  for (const [, from, to] of calls) assert.ok(to - from >= 4096, `a call for ${to - from} bytes`);
  // The 200 runs of nine slots are not asked for: per column the run below the top flow, and the free stack.
  assert.ok(calls.length < 40, `${calls.length} calls`);
  // Nothing ended since: nothing is asked for again, nor counted as released (the agent would collect its heap).
  calls.length = 0;
  assert.equal(table.releaseSparse(fakeRelease), 0);
  assert.equal(calls.length, 0);
  // Every other flow from 100 to 1,090 ends: the run they leave, 91 to 1,100, is asked for; no run given back before.
  for (let i = 100; i < 1100; i += 10) table.remove(flows[i]);
  assert.ok(table.releaseSparse(fakeRelease) > 0);
  assert.ok(calls.length > 0);
  for (const [length, from, to] of calls) {
    if (length === 40_000 * 4 && from === 0) continue; // the free stack
    const perSlot = length / 40_000;
    const inNewRun = from >= 91 * perSlot && to <= 1100 * perSlot;
    const inTail = from >= 20_000 * perSlot;
    assert.ok(inNewRun || inTail, `a call for bytes ${from}..${to} of a column of ${perSlot} bytes a slot`);
  }
});

test('releaseSparse: after a burst the free slots\' pages go back; the flows left keep slots, ids, keys and owners\' values', { skip: NO_ADDON }, () => {
  const table = new FlowTable(40_000, 16);
  const pkt = new Packet();
  let owned = new Float64Array(0);
  table.ownColumns((resize) => (owned = resize(owned, 2)));
  const flows: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const flow = hitFlow(table.lookup(packetFor(pkt, 0x0a000000 + i, 0x0a0000fe, 1024 + (i % 50_000), 53), IPPROTO_UDP, 1024 + (i % 50_000), 53, true));
    flows.push(flow);
    owned[flow * 2] = i;
    owned[flow * 2 + 1] = -i;
  }
  assert.equal(table.releaseSparse(releasePages), 0, 'not sparse: every flow is live');
  const kept = flows.filter((_, i) => i % 2000 === 7); // 10 flows left of 20,000, scattered
  const keptIds = kept.map((f) => table.flowId(f));
  for (const f of flows) if (!kept.includes(f)) table.remove(f);
  const released = table.releaseSparse(releasePages);
  // 20,000 slots of 44 + 4 + 1 + 1 + 16 bytes, less the pages the 10 flows left still hold, and the slots past
  // the burst (never touched: released all the same).
  assert.ok(released > 20_000 * 60, `${released} bytes released`);
  assert.equal(table.count, kept.length);
  assert.equal(table.extent, kept.at(-1)! + 1);
  kept.forEach((f, k) => {
    const i = flows.indexOf(f);
    assert.equal(table.flowOf(keptIds[k]), f, 'ids unchanged');
    assert.deepEqual([owned[f * 2], owned[f * 2 + 1]], [i, -i]);
    const hit = table.lookup(packetFor(pkt, 0x0a0000fe, 0x0a000000 + i, 53, 1024 + i), IPPROTO_UDP, 53, 1024 + i, true);
    assert.equal(hitCreated(hit), false, 'found again through the rebuilt index');
    assert.equal(hitFlow(hit), f);
  });
  assert.equal(owned[flows[1000] * 2 + 1], 0, 'an ended flow\'s values are gone with its page');
  // New flows take the lowest free slots, and no id of an ended flow names them.
  const ended = table.flowId(flows[1]);
  const next = [0, 1, 2].map((j) => hitFlow(table.lookup(packetFor(pkt, 0x0b000000 + j, 0x0a0000fe, 2000, 53), IPPROTO_UDP, 2000, 53, true)));
  const free = flows.filter((f) => !kept.includes(f)).sort((a, b) => a - b);
  assert.deepEqual(next, free.slice(0, 3));
  assert.equal(table.flowOf(ended), -1);
  // A slot freed behind the lowest-first scan is handed out first; one ahead of it is found by the scan, once.
  table.remove(next[1]);
  table.remove(kept[5]);
  const again = Array.from({ length: 19_995 }, (_, j) =>
    hitFlow(table.lookup(packetFor(pkt, 0x0c000000 + j, 0x0a0000fe, 3000, 53), IPPROTO_UDP, 3000, 53, true)));
  assert.equal(again[0], next[1]);
  assert.equal(new Set(again).size, again.length, 'no slot handed out twice');
  assert.ok(again.includes(kept[5]), 'the slot freed ahead of the scan is used');
  const stillLive = [next[0], next[2], ...kept.filter((_, k) => k !== 5)];
  assert.ok(stillLive.every((f) => !again.includes(f)), 'no live flow\'s slot is handed out');
  assert.equal(table.count, stillLive.length + again.length);
});

test('releaseSparse with canMove: movable flows go to the bottom with their columns, under new ids; the others stay; the top pages go back', () => {
  const table = new FlowTable(40_000, 16);
  const pkt = new Packet();
  let owned = new Float64Array(0);
  table.ownColumns((resize) => (owned = resize(owned, 2)));
  const heard: Array<{ from: number[]; to: number[]; oldIds: number[]; newIds: number[] }> = [];
  table.onMove((m) => heard.push({ from: [...m.from.subarray(0, m.count)], to: [...m.to.subarray(0, m.count)], oldIds: [...m.oldIds.subarray(0, m.count)], newIds: [...m.newIds.subarray(0, m.count)] }));
  const packet = (i: number) => packetFor(pkt, 0x0a000000 + i, 0x0a0000fe, 1024 + i, 53);
  const flows: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const hit = table.lookup(packet(i), IPPROTO_UDP, 1024 + i, 53, true);
    table.setOriginator(hit, false);
    const flow = hitFlow(hit);
    flows.push(flow);
    owned[flow * 2] = i;
    owned[flow * 2 + 1] = -i;
  }
  // Twenty flows left, spread over the table: every other one may not move (an analyzer's), the top one may.
  const kept = flows.map((_, i) => i).filter((i) => i % 1000 === 999);
  const pinned = new Set(kept.filter((_, k) => k % 2 === 0).map((i) => flows[i]));
  const idsBefore = new Map(kept.map((i) => [i, table.flowId(flows[i])]));
  for (let i = 0; i < flows.length; i++) if (!kept.includes(i)) table.remove(flows[i]);
  const release = (view: ArrayBufferView, from: number, to: number): number => {
    return Math.max(0, Math.floor(Math.min(to, view.byteLength) / 4096) * 4096 - Math.ceil(from / 4096) * 4096);
  };
  assert.ok(table.releaseSparse(release, (flow) => !pinned.has(flow)) > 0);
  assert.equal(heard.length, 1, 'one notice per compaction');
  const moved = heard[0];
  assert.equal(moved.from.length, 10, 'every movable flow moved down (each had a free slot below it)');
  assert.deepEqual([...moved.to].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'into the lowest free slots');
  assert.equal(table.count, 20);
  assert.equal(table.extent, Math.max(...pinned) + 1, 'the table ends at its highest pinned flow: the pages above it went back');
  for (const i of kept) {
    const hit = table.lookup(packetFor(pkt, 0x0a0000fe, 0x0a000000 + i, 53, 1024 + i), IPPROTO_UDP, 53, 1024 + i, false);
    assert.ok(hit >= 0, `flow ${i} is found through the rebuilt index`);
    const flow = hitFlow(hit);
    assert.deepEqual([table.origPort(flow), table.respPort(flow), table.origAddress(flow, new Uint32Array(4))[0]], [1024 + i, 53, 0x0a000000 + i], 'its key and originator moved with it');
    assert.deepEqual([owned[flow * 2], owned[flow * 2 + 1]], [i, -i], 'an owner\'s column moved with it');
    const oldId = idsBefore.get(i)!;
    if (pinned.has(flows[i])) {
      assert.equal(flow, flows[i]);
      assert.equal(table.flowOf(oldId), flow, 'a pinned flow keeps its slot and id');
    } else {
      const k = moved.from.indexOf(flows[i]);
      assert.ok(k >= 0 && moved.to[k] === flow && moved.oldIds[k] === oldId, 'the notice names its slots and ids');
      assert.equal(table.flowOf(oldId), -1, 'its old id names no flow');
      assert.deepEqual([owned[flows[i] * 2], owned[flows[i] * 2 + 1]], [0, 0], 'the slot it left reads as zeros, as an ended flow\'s');
      assert.equal(table.flowOf(moved.newIds[k]), flow, 'its new id names it');
      assert.equal(table.flowId(flow), moved.newIds[k]);
    }
  }
  // New flows never take a slot a moved flow holds, nor get an id it had.
  const next = Array.from({ length: 30 }, (_, j) => hitFlow(table.lookup(packetFor(pkt, 0x0b000000 + j, 0x0a0000fe, 2000, 53), IPPROTO_UDP, 2000, 53, true)));
  assert.ok(next.every((f) => !moved.to.includes(f)));
  assert.ok(next.every((f) => !moved.newIds.includes(table.flowId(f)) && !moved.oldIds.includes(table.flowId(f))));
  // Without canMove nothing moves: the flows a file's records come from keep their order.
  heard.length = 0;
  for (const f of next) table.remove(f);
  table.releaseSparse(release);
  assert.equal(heard.length, 0);
  // A flow moved later into a hole at the bottom leaves one ended slot in a long run given back before: the
  // run is given back again, but counted for that slot only (a burst's end is what the agent collects for).
  const unpinned = flows[10_999];
  pinned.delete(unpinned);
  table.remove(moved.to[3]);
  const recount = table.releaseSparse(release, (flow) => !pinned.has(flow));
  assert.deepEqual([heard.length, heard[0].from, heard[0].to], [1, [unpinned], [moved.to[3]]]);
  assert.ok(recount > 0 && recount <= 2 * 66, `${recount} bytes counted`);
});
