/**
 * StreamDirections (one direction of it): in-order delivery, holes that fill, and holes given up on (content gaps) by ACK, by
 * budget and at the end of the stream. Segments are built by hand: bytes "abcdefghij" at sequence numbers
 * 1000-1009 (as after a SYN with ISN 999), cut into pieces; each piece sits at an offset in a bigger buffer,
 * as packet payloads do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grownTo } from '../flows/flow-table.js';
import { StreamDirections, type StreamSink } from './stream.js';

const ISN = 999;
const TEXT = 'abcdefghij';

/** One direction of a StreamDirections, as the tests drive it. */
interface Direction {
  push(seq: number, data: Buffer, offset: number, length: number, ts?: number): void;
  acked(ack: number): void;
  flush(): void;
  setInitialSequence(isn: number): void;
  readonly hasPending: boolean;
  readonly startedAtSyn: boolean;
  readonly nextSequence: number;
}

interface Seen {
  out: string[];
  stream: Direction;
}

/** A sink writing deliveries as their text with the segment time ("abc@1"), gaps as "<gap N>". */
function recorder(out: string[]): StreamSink {
  return {
    streamData: (_dir, data, offset, length, ts) => out.push(`${data.toString('latin1', offset, offset + length)}@${ts}`),
    streamGap: (_dir, bytes) => out.push(`<gap ${bytes}>`),
  };
}

/** Direction `dir` of `dirs`, started afresh. */
function direction(dirs: StreamDirections, dir: number, maxPending?: number): Direction {
  dirs.columns((column, perFlow = 1) => grownTo(column, (Math.floor(dir / 2) + 1) * perFlow));
  dirs.start(dir, maxPending);
  return {
    push: (seq, data, offset, length, ts) => dirs.push(dir, seq, data, offset, length, ts),
    acked: (ack) => dirs.acked(dir, ack),
    flush: () => dirs.flush(dir),
    setInitialSequence: (isn) => dirs.setInitialSequence(dir, isn),
    get hasPending() {
      return dirs.hasPending(dir);
    },
    get startedAtSyn() {
      return dirs.startedAtSyn(dir);
    },
    get nextSequence() {
      return dirs.nextSequence(dir);
    },
  };
}

function reassembler(maxPending?: number): Seen {
  const out: string[] = [];
  const stream = direction(new StreamDirections(recorder(out)), 0, maxPending);
  stream.setInitialSequence(ISN);
  return { out, stream };
}

/** The gaps reported so far and the bytes they held. */
function gaps(out: string[]): [number, number] {
  const sizes = out.filter((o) => o.startsWith('<gap ')).map((o) => Number(o.slice(5, -1)));
  return [sizes.length, sizes.reduce((a, b) => a + b, 0)];
}

/** Pushes TEXT[from, to) at its sequence number, at capture time `ts`. */
function push(stream: Direction, from: number, to: number, ts: number): void {
  const payload = Buffer.from(`..${TEXT.slice(from, to)}..`, 'latin1');
  stream.push(ISN + 1 + from, payload, 2, to - from, ts);
}

test('in order, overlapping and duplicate segments: each byte once, in order', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 3, 1);
  push(stream, 2, 6, 2); // "c" again, then "def"
  push(stream, 0, 6, 3); // a retransmission of all of it
  push(stream, 6, 10, 4);
  assert.deepEqual(out, ['abc@1', 'def@2', 'ghij@4']);
  assert.deepEqual(gaps(out), [0, 0]);
});

test('a hole that fills: the kept segment comes out after the filler, with its own time', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 3, 1);
  push(stream, 6, 10, 2); // "ghij" is kept: "def" is missing
  assert.deepEqual(out, ['abc@1']);
  assert.equal(stream.hasPending, true);
  push(stream, 3, 6, 3);
  assert.deepEqual(out, ['abc@1', 'def@3', 'ghij@2']);
  assert.equal(stream.hasPending, false);
});

test('an ACK past the hole gives it up: the gap is reported before the bytes after it', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 3, 1);
  push(stream, 6, 10, 2);
  stream.acked(ISN + 1 + 3); // acknowledges only what was delivered: nothing to give up
  assert.deepEqual(out, ['abc@1']);
  stream.acked(ISN + 1 + 10);
  assert.deepEqual(out, ['abc@1', '<gap 3>', 'ghij@2']);
  assert.deepEqual(gaps(out), [1, 3]);
  push(stream, 3, 6, 3); // "def" turns up after all: too late, already skipped
  assert.equal(out.length, 3);
});

test('an ACK inside the hole skips only up to the ACK: the rest may still come', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 2, 1);
  push(stream, 7, 10, 2); // "cdefg" missing
  stream.acked(ISN + 1 + 4); // the receiver had "cd": lost to the capture
  assert.deepEqual(out, ['ab@1', '<gap 2>']);
  push(stream, 4, 7, 3); // "efg" arrives
  assert.deepEqual(out, ['ab@1', '<gap 2>', 'efg@3', 'hij@2']);
});

test('an ACK with nothing kept changes nothing (it may have overtaken its data in the capture)', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 3, 1);
  stream.acked(ISN + 1 + 10);
  push(stream, 3, 10, 2);
  assert.deepEqual(out, ['abc@1', 'defghij@2']);
});

test('past the budget of kept bytes the oldest hole is given up', () => {
  const { out, stream } = reassembler(4);
  push(stream, 0, 2, 1);
  push(stream, 4, 7, 2); // 3 bytes kept: within the budget of 4
  assert.deepEqual(out, ['ab@1']);
  push(stream, 8, 10, 3); // 5 bytes kept: "cd" is given up, "efg" delivered, then the next hole waits
  assert.deepEqual(out, ['ab@1', '<gap 2>', 'efg@2']);
  assert.equal(stream.hasPending, true);
});

test('flush at the end of the stream delivers every kept segment, each hole reported', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 1, 1);
  push(stream, 8, 10, 3);
  push(stream, 3, 5, 2); // out of order among the kept ones too
  stream.flush();
  assert.deepEqual(out, ['a@1', '<gap 2>', 'de@2', '<gap 3>', 'ij@3']);
  assert.deepEqual(gaps(out), [2, 5]);
  assert.equal(stream.hasPending, false);
});

test('sequence numbers wrap past 2^32', () => {
  const out: string[] = [];
  const stream = direction(new StreamDirections(recorder(out)), 0);
  stream.setInitialSequence(0xfffffffd); // data starts at 0xfffffffe
  stream.push(0xfffffffe, Buffer.from('ab'), 0, 2, 1);
  stream.push(1, Buffer.from('de'), 0, 2, 2); // "c" at 0 is missing
  stream.acked(3);
  assert.deepEqual(out, ['ab@1', '<gap 1>', 'de@2']);
});

test('an ACK seen before the bytes after the hole still gives the hole up when they arrive', () => {
  const { out, stream } = reassembler();
  push(stream, 0, 3, 1);
  stream.acked(ISN + 1 + 10); // nothing kept yet: no gap
  assert.deepEqual(out, ['abc@1']);
  push(stream, 6, 10, 2); // past a hole the receiver has acknowledged
  assert.deepEqual(out, ['abc@1', '<gap 3>', 'ghij@2']);
});

test('a stream knows whether it started at its SYN or was joined mid-way', () => {
  const { stream } = reassembler();
  assert.equal(stream.startedAtSyn, true);
  const joined = direction(new StreamDirections(recorder([])), 1);
  assert.equal(joined.startedAtSyn, false, 'nothing started it yet');
  joined.push(5000, Buffer.from('xy'), 0, 2);
  joined.setInitialSequence(4000); // a SYN after data (a late retransmission) changes nothing
  assert.equal(joined.startedAtSyn, false);
  assert.equal(joined.nextSequence, 5002);
});

test('the sink hears which direction delivers', () => {
  const heard: string[] = [];
  const sink: StreamSink = {
    streamData: (dir, data, offset, length) => heard.push(`${dir} ${data.toString('latin1', offset, offset + length)}`),
    streamGap: (dir, bytes) => heard.push(`${dir} <gap ${bytes}>`),
  };
  const dirs = new StreamDirections(sink);
  const orig = direction(dirs, 6);
  const resp = direction(dirs, 7);
  orig.push(100, Buffer.from('ab'), 0, 2);
  resp.push(900, Buffer.from('xy'), 0, 2);
  resp.push(905, Buffer.from('z'), 0, 1);
  resp.flush();
  assert.deepEqual(heard, ['6 ab', '7 xy', '7 <gap 3>', '7 z']);
});

test('a direction started afresh keeps nothing of the stream before: position, SYN, kept bytes, the peer\'s ACK', () => {
  const out: string[] = [];
  const dirs = new StreamDirections(recorder(out));
  const old = direction(dirs, 0);
  old.setInitialSequence(ISN);
  push(old, 0, 3, 1);
  push(old, 6, 10, 2); // kept behind a hole
  old.acked(ISN + 1 + 2); // nothing to give up, but the ACK is remembered
  const fresh = direction(dirs, 0); // the same direction, started again
  assert.equal(fresh.hasPending, false);
  assert.equal(fresh.startedAtSyn, false);
  const from = out.length;
  fresh.push(5000, Buffer.from('xy'), 0, 2, 3);
  fresh.push(5004, Buffer.from('z'), 0, 1, 4); // kept: no ACK of the old stream gives its hole up
  assert.equal(fresh.nextSequence, 5002);
  fresh.flush();
  assert.deepEqual(out.slice(from), ['xy@3', '<gap 2>', 'z@4']);
});
