/**
 * `loopy ui [TARGET...]`: the terminal UI over any number of agents at once. TARGETs are unix:PATH,
 * tls://HOST:PORT, ssh://[USER@]HOST[:PORT], nats://HOST:PORT/AGENT, nats://HOST:PORT (every agent on the hub,
 * shown as it announces itself, marked down when it vanishes) or names from the client config; none means
 * every agent the config names. `--local` (what `npm start` runs) starts agents here first (this machine live
 * when it can capture, and the demo capture replayed) and stops them on quit.
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
      .option('--local', 'start agents here first (live if this user can capture, and one replaying --sample in a loop) and stop them on quit')
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
  let locals: LocalAgent[] = [];
  const say = (line: string) => process.stderr.write(`loopy: ${line}\n`);
  if (options.local) {
    say('starting the local agents…');
    const { startLocalAgents } = await import('../ui/launch/local-agent.js');
    const sample = options.sample === undefined ? undefined : resolve(options.sample);
    locals = await startLocalAgents({ cli: nodeScript(new URL('./main.js', import.meta.url)), sample, forceReplay: options.replay === true, say }).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    // A terminal that goes away (ssh hung up, tmux killed) ends the UI without its finally: the agents it
    // started must not stay behind capturing.
    for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const local of locals) local.stopNow();
        process.exit(signal === 'SIGHUP' ? 129 : 143);
      });
    }
    for (const local of locals) say(`local agent ${local.plan.reason}`);
    say(`evidence pcaps go to ${locals[0].evidenceDir}`);
    names.unshift(...locals.map((l) => l.target));
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
    await Promise.all(locals.map((l) => l.stop()));
    // After the UI has left the alternate screen, so the line stays on the terminal.
    if (locals.length > 0) say(`local ${locals.length === 1 ? 'agent' : 'agents'} stopped; evidence pcaps are kept in ${locals[0].evidenceDir}`);
  }
  return 0;
}
