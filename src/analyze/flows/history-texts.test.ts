import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryTexts } from './history-texts.js';
import { randomFractions } from '../../test-support/random.js';

const LETTERS = 'ShADadFfRrTtWwIiQqCcGg^';

function lettersOf(text: string, into: Uint8Array, at: number): void {
  for (let i = 0; i < text.length; i++) into[at + i] = text.charCodeAt(i);
}

test('history texts: each history reads back as its letters, whatever shares its slot', () => {
  const random = randomFractions(7);
  // Two slots: most histories collide, so a hit must be checked letter by letter.
  for (const slots of [2, 1024]) {
    const texts = new HistoryTexts(24, slots);
    const buf = new Uint8Array(64);
    for (let round = 0; round < 5000; round++) {
      const length = Math.floor(random() * 25);
      let text = '';
      for (let i = 0; i < length; i++) text += LETTERS[Math.floor(random() * LETTERS.length)];
      const at = Math.floor(random() * (buf.length - 24));
      lettersOf(text, buf, at);
      assert.equal(texts.textOf(buf, at, length), text);
    }
  }
});

test('history texts: a prefix of a history held is not taken for it, nor the history for its prefix', () => {
  const texts = new HistoryTexts(24, 1);
  const buf = new Uint8Array(24);
  lettersOf('ShADadFf', buf, 0);
  assert.equal(texts.textOf(buf, 0, 8), 'ShADadFf');
  assert.equal(texts.textOf(buf, 0, 4), 'ShAD');
  assert.equal(texts.textOf(buf, 0, 8), 'ShADadFf');
  assert.equal(texts.textOf(buf, 0, 0), '');
});

test('history texts: a size that is not a power of two is refused', () => {
  assert.throws(() => new HistoryTexts(24, 1000), /1000 slots/);
});
