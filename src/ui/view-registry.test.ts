import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkViews, defineView } from './view-registry.js';
import { VIEWS } from './views/index.js';

const component = () => null;

test('the shipped views: unique names, the first issue\'s seven in order then Processes (issue 15), and together they need every live topic', () => {
  const { topics } = checkViews(VIEWS);
  assert.deepEqual(VIEWS.map((v) => v.title), ['Overview', 'Traffic', 'Hosts', 'Connections', 'DNS', 'Alerts', 'History', 'Processes']);
  assert.deepEqual([...topics].sort(), ['alerts', 'dns', 'flows', 'stats']);
});

test('defineView rejects bad names and titles; checkViews rejects a name used twice', () => {
  assert.throws(() => defineView({ name: 'Bad Name', title: 'x', topics: [], keys: [], description: '', component }), /lower case/);
  assert.throws(() => defineView({ name: 'long', title: 'A very long title', topics: [], keys: [], description: '', component }), /1\.\.14/);
  const v = defineView({ name: 'dup', title: 'Dup', topics: ['dns'], keys: [], description: '', component });
  assert.throws(() => checkViews([v, v]), /two views are named "dup"/);
  assert.throws(() => (v.topics as string[]).push('stats'), TypeError, 'definitions are frozen');
});
