/**
 * The bash and zsh completion scripts: the shipped files are what `loopy completion` generates, and each
 * shell, run as a user's would be, completes commands, every option `--help` lists, interfaces and files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';

const COMPLETION = new URL('../../contrib/completion/', import.meta.url).pathname;
const BASH_SCRIPT = join(COMPLETION, 'loopy.bash');
const COMMANDS = ['read', 'agent', 'bridge', 'query', 'watch', 'ui', 'hub-sites', 'list-interfaces', 'config-schema', 'completion'];

/** What bash offers for the command line `words` (the last one being completed), through the script's function. */
function bashCompletes(words: string[], cwd?: string): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const script = `source '${BASH_SCRIPT}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _loopy; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8', cwd });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** The option spellings `loopy CMD --help` lists. */
function helpOptions(command: string): string[] {
  const help = runCli([command, '--help']).stdout;
  return [...help.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) => (m[1] ? [m[1], m[2]] : [m[2]]));
}

for (const shell of ['bash', 'zsh']) {
  test(`contrib/completion holds what loopy completion ${shell} prints`, () => {
    const r = runCli(['completion', shell]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(COMPLETION, shell === 'bash' ? 'loopy.bash' : '_loopy'), 'utf8'), r.stdout);
  });
}

test('loopy completion fish is wrong usage: one line, exit 2', () => {
  const r = runCli(['completion', 'fish']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^loopy: completion fish: expected bash or zsh; see loopy completion --help\n$/);
});

test('bash: commands, every option --help lists for each command, interfaces after -i, files after -r', () => {
  const top = bashCompletes(['loopy', '']);
  for (const c of COMMANDS) assert.ok(top.includes(c), c);
  assert.deepEqual(bashCompletes(['loopy', '--list']), ['--list-interfaces']);
  for (const command of COMMANDS) {
    const offered = bashCompletes(['loopy', command, '-']).sort();
    assert.deepEqual(offered, [...new Set(helpOptions(command))].sort(), `loopy ${command} -<TAB>`);
  }
  assert.deepEqual(bashCompletes(['loopy', 'agent', '--hub-c']).sort(), ['--hub-ca', '--hub-cert', '--hub-creds']);
  assert.ok(bashCompletes(['loopy', 'agent', '-i', '']).includes('lo'), 'the interfaces, lo among them');
  assert.deepEqual(bashCompletes(['loopy', 'agent', '-i', 'an']), ['any']);
  const dir = mkdtempSync(join(tmpdir(), 'loopy-completion-'));
  try {
    writeFileSync(join(dir, 'capture.pcap'), '');
    assert.deepEqual(bashCompletes(['loopy', 'read', '-r', 'capt'], dir), ['capture.pcap']);
    assert.deepEqual(bashCompletes(['loopy', 'read', '--json', 'capt'], dir), ['capture.pcap'], 'a flag takes no value: the file comes next');
    assert.deepEqual(bashCompletes(['loopy', 'read', '-c', 'capt'], dir), [], '-c takes a number');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(bashCompletes(['loopy', 'help', 'ag']), ['agent']);
});

/** What zsh lists for `line` + TAB, in an interactive zsh (zpty) with the script in its fpath and compinit run. */
function zshCompletes(line: string): string {
  const script = `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; fpath=('${COMPLETION}' \\$fpath); autoload -Uz compinit; compinit -u -D; loopy() { :; }"
zpty -w z "zstyle ':completion:*' list-prompt ''; LISTMAX=1000"
zpty -w z '${line}'$'\\t'
out=''
for i in {1..50}; do
  while zpty -rt z chunk; do out+=$chunk; done
  [[ $out == *'${line}'*$'\\n'* || $out == *'${line}'?* ]] && sleep 0.2 && break
  sleep 0.1
done
while zpty -rt z chunk; do out+=$chunk; done
print -r -- "$out"
zpty -d z`;
  const r = spawnSync('zsh', ['-f', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  // Without the terminal's escape sequences and carriage returns.
  return r.stdout.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r/g, '\n');
}

test('zsh: options with their descriptions, and commands', () => {
  const hub = zshCompletes('loopy agent --hub-c');
  for (const [option, description] of [['--hub-ca', "PEM CA of the hub's TLS certificate"], ['--hub-cert', 'PEM client certificate for the hub'], ['--hub-creds', 'NATS credentials file']]) {
    assert.match(hub, new RegExp(`${option} +-- ${description}`), hub);
  }
  const commands = zshCompletes('loopy co');
  assert.match(commands, /completion +-- print the bash or zsh completion script/, commands);
  assert.match(commands, /config-schema +-- print the JSON Schema/, commands);
});
