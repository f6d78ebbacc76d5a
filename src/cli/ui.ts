/**
 * `loopy ui [TARGET...]`: the terminal UI over any number of agents at once. TARGETs are unix:PATH,
 * tls://HOST:PORT, ssh://[USER@]HOST[:PORT], nats://HOST:PORT/AGENT, nats://HOST:PORT (every agent on the hub,
 * shown as it announces itself, marked down when it vanishes) or names from the client config; none means
 * every agent the config names. `--local` (what `npm start` runs) starts an agent here first and stops it on quit.
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { defaultConfigDir, loadClientConfig } from '../client/client-config.js';
import { connectAgent, hubOf } from '../client/connect-agent.js';
import type { Fleet } from '../client/hub/fleet.js';
import type { AgentClient } from '../client/agent-client.js';
import type { LocalAgent } from '../ui/launch/local-agent.js';
import type { AgentSource } from '../ui/run-ui.js';
import { nodeScript } from '../ui/launch/node-script.js';
import { type AgentTargetOptions, addAgentTargetOptions, asUsage, connectOptionsFrom } from './agent-target-options.js';
import { UsageError } from './errors.js';

interface UiOptions extends AgentTargetOptions {
  local?: boolean;
  replay?: boolean;
  sample?: string;
}

export function registerUi(program: Command): void {
  addAgentTargetOptions(
    program
      .command('ui')
      .description('full-screen terminal UI over one or more agents (? for keys, q to quit)')
      .argument('[targets...]', 'unix:PATH, tls://HOST:PORT, ssh://[USER@]HOST[:PORT], nats://HOST:PORT[/AGENT] (every agent on a hub, as they come, or one) or names from ~/.config/loopy/config.json (default: every agent there)')
      .option('--local', 'start an agent here first (live if this user can capture, else replaying --sample in a loop) and stop it on quit')
      .option('--sample <file>', 'the capture --local replays when it cannot capture (default: the demo capture, made on first use)')
      .option('--replay', 'with --local: replay the sample even when live capture is possible'),
  ).action(async (targets: string[], options: UiOptions) => {
    process.exitCode = await runUiCommand(targets, options);
  });
}

async function runUiCommand(targets: string[], options: UiOptions): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError('loopy ui needs a terminal; for scripts use loopy watch or loopy query');
  const names = [...targets];
  if (names.length === 0 && !options.local) {
    const configPath = join(defaultConfigDir(), 'config.json');
    names.push(...Object.keys(asUsage(() => loadClientConfig(configPath)).agents));
    if (names.length === 0) throw new UsageError(`no agents to watch: give TARGETs (e.g. loopy ui unix:/run/loopy/agent.sock) or name them in ${configPath}`);
  }
  let local: LocalAgent | undefined;
  const say = (line: string) => process.stderr.write(`loopy: ${line}\n`);
  if (options.local) {
    say('starting a local agent…');
    const { startLocalAgent } = await import('../ui/launch/local-agent.js');
    const sample = options.sample === undefined ? undefined : resolve(options.sample);
    local = await startLocalAgent({ cli: nodeScript(new URL('./main.js', import.meta.url)), sample, forceReplay: options.replay === true, say }).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    say(`local agent ${local.plan.reason}; evidence pcaps go to ${local.evidenceDir}`);
    names.unshift(local.target);
  }
  const connectOptions = connectOptionsFrom(options, 'loopy-ui');
  let clients: AgentClient[] = [];
  const fleets: Fleet[] = [];
  try {
    const hubs = names.map((t) => ({ target: t, hub: asUsage(() => hubOf(t, connectOptions)) }));
    clients = hubs.filter((h) => h.hub?.agent !== undefined || !h.hub).map((h) => asUsage(() => connectAgent(h.target, connectOptions)));
    for (const { target, hub } of hubs) {
      if (!hub || hub.agent !== undefined) continue;
      const fleet = await hub.open().catch((err: Error) => void say(`${err.message}; is nats-server running at ${target} (and the --hub-* login right)?`));
      if (!fleet) return 1;
      fleets.push(fleet);
    }
    const sources: AgentSource[] = fleets.map((fleet) => (add) => fleet.clients(add));
    // Ink draws only the last frame when it thinks it runs in CI; a full-screen UI on a terminal is
    // interactive whatever the environment says. Loaded here, so other commands never load React and Ink.
    if (process.stdout.isTTY) delete process.env.CI;
    // React's development build records every render as a performance measure with the changed props
    // (React 19's performance tracks) and keeps them: with busy agents that grew the UI's memory by ~50 MB/s
    // and tripled its CPU. The UI runs React's production build unless the user asks otherwise.
    process.env.NODE_ENV ??= 'production';
    const { runUi } = await import('../ui/run-ui.js');
    await runUi({ clients, sources, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  } finally {
    for (const c of clients) c.close();
    await Promise.all(fleets.map((f) => f.close().catch(() => undefined)));
    await local?.stop();
    // After the UI has left the alternate screen, so the line stays on the terminal.
    if (local) say(`local agent stopped; its evidence pcaps are kept in ${local.evidenceDir}`);
  }
  return 0;
}
