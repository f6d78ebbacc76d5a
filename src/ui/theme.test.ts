import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectTheme, tone } from './theme.js';

test('NO_COLOR, FORCE_COLOR=0 and TERM=dumb turn colour off; without colour only "bad" keeps an emphasis', () => {
  const tty = { isTTY: true, hasColors: () => true };
  assert.deepEqual(detectTheme({}, tty), { color: true });
  assert.deepEqual(detectTheme({ NO_COLOR: '1' }, tty), { color: false });
  assert.deepEqual(detectTheme({ NO_COLOR: '' }, tty), { color: true }, 'an empty NO_COLOR does not count (no-color.org)');
  assert.deepEqual(detectTheme({ TERM: 'dumb' }, tty), { color: false });
  assert.deepEqual(detectTheme({ FORCE_COLOR: '0' }, tty), { color: false });
  assert.deepEqual(detectTheme({}, { isTTY: true, hasColors: () => false }), { color: false });
  assert.deepEqual(tone({ color: false }, 'good'), {});
  assert.deepEqual(tone({ color: false }, 'bad'), { bold: true });
  assert.deepEqual(tone({ color: true }, 'bad'), { color: 'red' });
});
