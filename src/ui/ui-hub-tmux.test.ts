/**
 * `loopy ui nats://HUB` end to end: a real nats-server on loopback, two real agents (the CLI) replaying
 * generated captures and dialing out to it, the UI in tmux. Both agents appear as they announce themselves;
 * one killed without a word is marked down within 5 s (the issue's deadline), the other keeps going.
 * Skipped without tmux or nats-server (CI installs both: .ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand } from '../test-support/cli.js';
import { NatsServer, natsSkipReason } from '../client/testing/nats-server.js';
import { RealAgent, agentDir } from '../client/testing/real-agent.js';
import { synthCapture } from '../client/testing/hub-fixtures.js';
import { TmuxServer, haveTmux } from './testing/tmux.js';

const skip = !haveTmux() ? 'tmux is not installed (apt-get install tmux)' : natsSkipReason() ?? false;

test('loopy ui nats://HUB: agents appear as they announce themselves; a killed one is marked down within 5 s', { skip, timeout: 120_000 }, async () => {
  const dir = agentDir();
  const tmux = new TmuxServer(`loopy-ui-hub-test-${process.pid}`);
  const nats = await NatsServer.start();
  const agents: RealAgent[] = [];
  try {
    const start = (name: string, seed: number) =>
      agents.push(RealAgent.start(synthCapture(dir, seed), join(dir, name), [`unix:${join(dir, `${name}.sock`)}`], '--loop', ['--name', name, '--hub', nats.url]));
    // The UI first, on an empty hub: the agents come after it and must appear by themselves.
    const [cmd, ...pre] = cliCommand();
    tmux.start('fleet', 120, 30, [cmd!, ...pre, 'ui', nats.url]);
    await tmux.waitFor('fleet', /1 Overview/);
    start('alpha', 1);
    start('bravo', 2);
    // Agents are shown by the name their hello gave (the agents here are started with --name).
    const row = (agent: string, state: string) => new RegExp(`${state === 'connected' ? '●' : '○'} ${agent}\\s+${state}`);
    await tmux.waitFor('fleet', row('alpha', 'connected'), 60_000);
    await tmux.waitFor('fleet', row('bravo', 'connected'), 60_000);
    await tmux.waitFor('fleet', /2\/2 up/);
    // Their live statistics arrive over the hub (packets per second on the overview).
    await tmux.waitFor('fleet', /fleet 2\/2 up .* [1-9][0-9.]*[kM]? pkt\/s/, 30_000);

    const killedAt = performance.now();
    agents[1]!.child.kill('SIGKILL');
    await tmux.waitFor('fleet', row('bravo', 'down'), 10_000, 100);
    const downMs = performance.now() - killedAt;
    assert.ok(downMs < 5000, `bravo marked down ${downMs.toFixed(0)} ms after it was killed`);
    await tmux.waitFor('fleet', /1\/2 up/);
    assert.match(tmux.screen('fleet'), row('alpha', 'connected'));

    // Back when it returns (a new process, the same name).
    start('bravo', 2);
    await tmux.waitFor('fleet', row('bravo', 'connected'), 60_000);
    tmux.keys('fleet', 'q');
  } finally {
    tmux.kill();
    await Promise.all(agents.map((a) => a.stop()));
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
