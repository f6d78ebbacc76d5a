import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKS_PER_SECOND, FIRST_DELAY_MS, TokenGate } from './token-gate.js';

/** Virtual time: sleeps resolve when the test moves the clock past them. */
function virtualTime() {
  let now = 1_000_000;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  const flush = () => new Promise<void>((r) => setImmediate(r));
  return {
    nowMs: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    /** Moves the clock to `t`, waking each sleeper in time order and letting it run before the next. */
    async advanceTo(t: number) {
      await flush();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > t) break;
        timers.shift();
        now = next.at;
        next.resolve();
        await flush();
      }
      now = t;
      await flush();
    },
    get now() {
      return now;
    },
  };
}

test('a right token with no failures about is answered at once', async () => {
  const time = virtualTime();
  const gate = new TokenGate('s3cret', time.nowMs, time.sleep);
  let answer: string | undefined;
  void gate.check('10.0.0.1', 's3cret').then((role) => (answer = role));
  await time.advanceTo(time.now);
  assert.equal(answer, 'operator');
});

test('each token gives its role; a token that is none of them gives none', async () => {
  const time = virtualTime();
  const gate = new TokenGate([{ token: 'operator-token-0123', role: 'operator' }, { token: 'viewer-token-456789', role: 'viewer' }], time.nowMs, time.sleep);
  const answers: Array<string | undefined> = [];
  for (const t of ['viewer-token-456789', 'operator-token-0123', 'nope']) void gate.check(`10.0.0.${answers.length}`, t).then((r) => answers.push(r));
  await time.advanceTo(time.now + 1000);
  assert.deepEqual(answers, ['viewer', 'operator', undefined]);
});

test('parallel tries from one address are checked one after another, each later than the last', async () => {
  const time = virtualTime();
  const start = time.now;
  const gate = new TokenGate('s3cret', time.nowMs, time.sleep);
  const answeredAt: number[] = [];
  for (let i = 0; i < 100; i++) void gate.check('198.51.100.7', `guess-${i}`).then(() => answeredAt.push(time.now - start));
  await time.advanceTo(start + 10_000);
  // 0, 250, 500, 1000, 2000, 4000 ms of delay after each failure: six answers in ten seconds, not a hundred.
  assert.equal(answeredAt.length, 6, `answered at ${answeredAt}`);
  assert.ok(answeredAt[1] - answeredAt[0] >= FIRST_DELAY_MS);
});

test('tries from a thousand addresses at once are checked at the global pace', async () => {
  const time = virtualTime();
  const start = time.now;
  const gate = new TokenGate('s3cret', time.nowMs, time.sleep);
  let answered = 0;
  for (let i = 0; i < 1000; i++) void gate.check(`203.0.113.${i % 250}.${i}`, 'wrong').then(() => answered++);
  await time.advanceTo(start + 5000);
  assert.ok(answered <= 5 * CHECKS_PER_SECOND + 1, `${answered} checked in 5 s`);
  assert.ok(answered >= 5 * CHECKS_PER_SECOND - 1, `${answered} checked in 5 s`);
});
