// One run on every agent backend at once: the planner (on the fake Anthropic server) plans a goal
// into tasks for a Claude Code role, a Codex role, a Gemini CLI role and a built-in agent role; the
// four run at the same time, each in its own worktree, with the real CLIs against their fakes, and
// the integration branch ends with all four edits.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at as agentAt, finish, isPlanner } from '../fixtures/agent-script.js';
import { ccAt, ccCwdOf, ccSay, ccTool } from '../fixtures/claude-code-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { CODEX_NO_RETRIES, cxAt, cxRun, cxSay } from '../fixtures/codex-script.js';
import { FakeGemini } from '../fixtures/fake-gemini.js';
import { FakeOpenAI } from '../fixtures/fake-openai.js';
import { gmAt } from '../fixtures/gemini-script.js';
import { git, makeGitRepo, makeWorld, readJson, readJsonlFile, runCli, type World } from '../helpers.js';

const KEY = 'sk-ant-mixed';
const GEMINI_KEY = 'gemini-mixed';
const OPENAI_KEY = 'sk-openai-mixed';

describe('a run on every agent backend', () => {
  let w: World;
  let anthropic: FakeAnthropic | undefined;
  let gemini: FakeGemini | undefined;
  let openai: FakeOpenAI | undefined;
  afterEach(async () => {
    await openai?.close();
    await anthropic?.close();
    await gemini?.close();
    w?.cleanup();
  });

  it('plans a goal onto Claude Code, Codex, Gemini CLI and the built-in agent, runs the four at once, and merges all four', async () => {
    anthropic = await FakeAnthropic.start({ apiKey: KEY });
    gemini = await FakeGemini.start({ apiKey: GEMINI_KEY });
    openai = await FakeOpenAI.start({ apiKey: OPENAI_KEY });
    w = makeWorld();
    const repo = makeGitRepo(w, { 'README.md': '# Greetings\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 4,
      roles: {
        coder: { backend: 'claude-code', base_url: anthropic.url },
        fixer: { backend: 'codex', base_url: openai.url, args: CODEX_NO_RETRIES },
        docs: { backend: 'gemini', model: 'gemini-2.5-flash', base_url: gemini.url },
        helper: { backend: 'anthropic', model: 'claude-haiku-4-5' },
      },
    });
    const task = (id: string, role: string) => ({
      id,
      title: `Write ${id}.txt`,
      description: `Create ${id}.txt saying hello.`,
      deps: [],
      role,
      estimate: 1,
    });
    // Each answer waits 1.5 s, so the four attempts overlap at the fakes.
    const slow = <T extends object>(r: T): T & { delay_ms: number } => ({ ...r, delay_ms: 1500 });
    const started: string[] = [];
    anthropic.addRules(
      {
        name: 'planner',
        match: isPlanner,
        reply: {
          content: [
            {
              type: 'tool_use',
              name: 'submit_plan',
              input: { tasks: [task('fr', 'coder'), task('de', 'docs'), task('es', 'helper'), task('it', 'fixer')] },
            },
          ],
        },
      },
      ccAt('fr', 0, (req) => {
        started.push('fr');
        return slow(ccTool('Write', { file_path: path.join(ccCwdOf(req), 'fr.txt'), content: 'bonjour\n' }));
      }),
      ccAt('fr', 1, ccSay('Wrote fr.txt.')),
      agentAt('es', 0, () => {
        started.push('es');
        return slow({
          content: [{ type: 'tool_use', name: 'write_file', input: { path: 'es.txt', content: 'hola\n' } }],
        });
      }),
      agentAt('es', 1, finish('wrote es.txt')),
    );
    gemini.addRules(
      gmAt('de', 0, () => {
        started.push('de');
        return slow({
          parts: [{ functionCall: { name: 'write_file', args: { file_path: 'de.txt', content: 'hallo\n' } } }],
        });
      }),
      gmAt('de', 1, { parts: [{ text: 'Wrote de.txt.' }] }),
    );

    openai.addRules(
      cxAt('it', 0, () => {
        started.push('it');
        return slow(cxRun("printf 'ciao\\n' > it.txt"));
      }),
      cxAt('it', 1, cxSay('Wrote it.txt.')),
    );

    const r = await runCli(
      ['run', 'swarm.yaml', 'Say hello in three languages', '--run-dir', 'run', '--no-dashboard'],
      {
        cwd: repo,
        env: {
          ANTHROPIC_API_KEY: KEY,
          ANTHROPIC_BASE_URL: anthropic.url,
          GEMINI_API_KEY: GEMINI_KEY,
          OPENAI_API_KEY: OPENAI_KEY,
        },
      },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(started.sort()).toEqual(['de', 'es', 'fr', 'it']);
    // The planner was offered every agent role, whatever its backend.
    const plannerPrompt = JSON.stringify(anthropic.requests.find(isPlanner)!.body.messages[0]);
    expect(plannerPrompt).toContain('coder: model claude-sonnet-5-5 (backend claude-code)');
    expect(plannerPrompt).toContain('docs: model gemini-2.5-flash (backend gemini)');
    expect(plannerPrompt).toContain('fixer: model gpt-5.5 (backend codex)');
    // The four attempts ran at the same time.
    const runDir = path.join(repo, 'run');
    const events = readJsonlFile<{ type: string; task?: string; at: string }>(path.join(runDir, 'events.jsonl'));
    const starts = events.filter((e) => e.type === 'attempt.started').map((e) => Date.parse(e.at));
    const ends = events.filter((e) => e.type === 'attempt.finished').map((e) => Date.parse(e.at));
    expect(starts).toHaveLength(4);
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
    // The branch has all four edits.
    const branch = readJson<{ integration_branch: string }>(path.join(runDir, 'run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:fr.txt`)).toBe('bonjour');
    expect(git(repo, 'show', `${branch}:de.txt`)).toBe('hallo');
    expect(git(repo, 'show', `${branch}:es.txt`)).toBe('hola');
    expect(git(repo, 'show', `${branch}:it.txt`)).toBe('ciao');
    const state = readJson<{ tasks: Record<string, { state: string; usage: { cost_usd: number } | null }> }>(
      path.join(runDir, 'state.json'),
    );
    for (const id of ['fr', 'de', 'es', 'it']) {
      expect(state.tasks[id]!.state).toBe('succeeded');
      expect(state.tasks[id]!.usage!.cost_usd).toBeGreaterThan(0);
    }
  });
});
