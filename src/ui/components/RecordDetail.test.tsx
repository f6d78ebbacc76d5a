import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { RecordDetail } from './RecordDetail.js';

test('record detail: a time with its UTC date', () => {
  const { lastFrame, unmount } = render(<RecordDetail title="flow" record={{ ts: 1718000000.5, uid: 'C1' }} width={80} height={10} />);
  assert.match(lastFrame() ?? '', /ts\s+1718000000\.5 {2}\(2024-06-10 06:13:20\.500 UTC\)/);
  unmount();
});

test('record detail: a time no date holds (a damaged capture replayed) is shown as its number', () => {
  const { lastFrame, unmount } = render(<RecordDetail title="flow" record={{ ts: 18374686479671.625, uid: 'C1' }} width={80} height={10} />);
  const frame = lastFrame() ?? '';
  assert.match(frame, /ts\s+18374686479671\.625\s*$/m);
  assert.match(frame, /uid\s+C1/);
  unmount();
});
