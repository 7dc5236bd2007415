// The dashboard on a run of the three agent CLIs, in a real terminal (tmux): each CLI's row shows
// what it is doing, as the built-in agent's does, and its detail shows its messages and tool calls.
// The real Claude Code, Codex and Gemini CLI run against their fake servers; each one's second
// answer takes 15 s (long enough for all three to be waiting at once on a loaded machine), so the
// screen is read while all three wait on their model.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxTerminal } from '../../bench/tmux.js';
import { ccAt, ccSay, ccTool } from '../fixtures/claude-code-script.js';
import { CODEX_NO_RETRIES, cxAt, cxRun, cxSay } from '../fixtures/codex-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { FakeGemini } from '../fixtures/fake-gemini.js';
import { FakeOpenAI } from '../fixtures/fake-openai.js';
import { gmAt } from '../fixtures/gemini-script.js';
import { CLI, makeGitRepo, makeWorld, type World } from '../helpers.js';
import { screenWith } from '../tmux-screen.js';

const WAIT_MS = 15_000;

describe('the dashboard on agent CLIs', () => {
  let w: World;
  let term: TmuxTerminal | undefined;
  const fakes: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    term?.kill();
    term = undefined;
    for (const f of fakes.splice(0)) await f.close();
    w?.cleanup();
  });

  it('shows each CLI’s current tool call in its row, and its messages and tool calls in its detail', async () => {
    const anthropic = await FakeAnthropic.start({ apiKey: 'k-a' });
    const openai = await FakeOpenAI.start({ apiKey: 'k-o' });
    const gemini = await FakeGemini.start({ apiKey: 'k-g' });
    fakes.push(anthropic, openai, gemini);
    anthropic.addRules(
      ccAt('fr', 0, ccTool('Bash', { command: 'echo bonjour > fr.txt', description: 'write fr' }, 'Writing fr.txt.')),
      ccAt('fr', 1, { ...ccSay('Wrote fr.txt.'), delay_ms: WAIT_MS }),
    );
    openai.addRules(
      cxAt('it', 0, cxRun('echo ciao > it.txt')),
      cxAt('it', 1, { ...cxSay('Wrote it.txt.'), delay_ms: WAIT_MS }),
    );
    gemini.addRules(
      gmAt('de', 0, {
        parts: [
          { text: 'Writing de.txt.' },
          { functionCall: { name: 'run_shell_command', args: { command: 'echo hallo > de.txt' } } },
        ],
      }),
      gmAt('de', 1, { parts: [{ text: 'Wrote de.txt.' }], delay_ms: WAIT_MS }),
    );
    w = makeWorld();
    const repo = makeGitRepo(w, { 'README.md': '# Greetings\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 3,
      goal: 'Say hello in three languages',
      roles: {
        coder: { backend: 'claude-code', base_url: anthropic.url },
        fixer: { backend: 'codex', base_url: openai.url, args: CODEX_NO_RETRIES },
        docs: { backend: 'gemini', model: 'gemini-2.5-flash', base_url: gemini.url },
      },
      tasks: [
        { id: 'fr', title: 'French', role: 'coder', description: 'Write fr.txt saying hello.' },
        { id: 'it', title: 'Italian', role: 'fixer', description: 'Write it.txt saying hello.' },
        { id: 'de', title: 'German', role: 'docs', description: 'Write de.txt saying hello.' },
      ],
    });
    term = new TmuxTerminal({
      cwd: repo,
      cols: 110,
      rows: 30,
      env: { ANTHROPIC_API_KEY: 'k-a', OPENAI_API_KEY: 'k-o', GEMINI_API_KEY: 'k-g' },
    });
    term.type(`node ${CLI} run swarm.yaml --run-dir run; echo "exit=$?"`);
    // Each row shows its CLI's tool call while it waits on its model (each is waited for on its own:
    // on a loaded machine the three CLIs start seconds apart).
    const rows = [
      /^│▶[ *]fr .*Bash echo bonjour > fr\.txt/,
      /^│▶[ *]it .*Bash echo ciao > it\.txt/,
      /^│▶[ *]de .*run_shell_command echo hallo/,
    ];
    for (const row of rows) await screenWith(term, row, `the row ${row.source}`);
    if (process.env.SWARM_CAPTURE) {
      const all = await screenWith(term, rows, 'the three rows at once', 20_000);
      fs.writeFileSync(process.env.SWARM_CAPTURE, all.join('\n') + '\n');
    }
    // The detail of the Claude Code task: its message and its tool call and result.
    term.keys('Down');
    const detail = await screenWith(term, /detail · (fr|it|de)/, 'a task’s detail');
    expect(detail.join('\n')).toMatch(/Bash|run_shell_command/);
    await screenWith(term, /^finished: succeeded · /, 'the run finished', 60_000);
    term.keys('q');
    await screenWith(term, /^exit=0$/, 'the terminal given back');
    expect(fs.existsSync(path.join(repo, 'run/tasks/fr/1/result.json'))).toBe(true);
  });
});
