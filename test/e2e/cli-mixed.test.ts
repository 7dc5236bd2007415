// One run on every agent backend at once: the planner (on the fake Anthropic server) plans a goal
// into tasks for a Claude Code role, a Gemini CLI role and a built-in agent role; the three run at
// the same time, each in its own worktree, with the real CLIs against their fakes, and the
// integration branch ends with all three edits.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at as agentAt, finish, isPlanner } from '../fixtures/agent-script.js';
import { ccAt, ccCwdOf, ccSay, ccTool } from '../fixtures/claude-code-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { FakeGemini } from '../fixtures/fake-gemini.js';
import { gmAt } from '../fixtures/gemini-script.js';
import { git, makeGitRepo, makeWorld, readJson, readJsonlFile, runCli, type World } from '../helpers.js';

const KEY = 'sk-ant-mixed';
const GEMINI_KEY = 'gemini-mixed';

describe('a run on every agent backend', () => {
  let w: World;
  let anthropic: FakeAnthropic | undefined;
  let gemini: FakeGemini | undefined;
  afterEach(async () => {
    await anthropic?.close();
    await gemini?.close();
    w?.cleanup();
  });

  it('plans a goal onto Claude Code, Gemini CLI and the built-in agent, runs the three at once, and merges all three', async () => {
    anthropic = await FakeAnthropic.start({ apiKey: KEY });
    gemini = await FakeGemini.start({ apiKey: GEMINI_KEY });
    w = makeWorld();
    const repo = makeGitRepo(w, { 'README.md': '# Greetings\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 3,
      roles: {
        coder: { backend: 'claude-code', base_url: anthropic.url },
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
    // Each answer waits 1.5 s, so the three attempts overlap at the fakes.
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
              input: { tasks: [task('fr', 'coder'), task('de', 'docs'), task('es', 'helper')] },
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

    const r = await runCli(
      ['run', 'swarm.yaml', 'Say hello in three languages', '--run-dir', 'run', '--no-dashboard'],
      {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: anthropic.url, GEMINI_API_KEY: GEMINI_KEY },
      },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(started.sort()).toEqual(['de', 'es', 'fr']);
    // The planner was offered every agent role, whatever its backend.
    const plannerPrompt = JSON.stringify(anthropic.requests.find(isPlanner)!.body.messages[0]);
    expect(plannerPrompt).toContain('coder: model claude-sonnet-5-5 (backend claude-code)');
    expect(plannerPrompt).toContain('docs: model gemini-2.5-flash (backend gemini)');
    // The three attempts ran at the same time.
    const runDir = path.join(repo, 'run');
    const events = readJsonlFile<{ type: string; task?: string; at: string }>(path.join(runDir, 'events.jsonl'));
    const starts = events.filter((e) => e.type === 'attempt.started').map((e) => Date.parse(e.at));
    const ends = events.filter((e) => e.type === 'attempt.finished').map((e) => Date.parse(e.at));
    expect(starts).toHaveLength(3);
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
    // The branch has all three edits.
    const branch = readJson<{ integration_branch: string }>(path.join(runDir, 'run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:fr.txt`)).toBe('bonjour');
    expect(git(repo, 'show', `${branch}:de.txt`)).toBe('hallo');
    expect(git(repo, 'show', `${branch}:es.txt`)).toBe('hola');
    const state = readJson<{ tasks: Record<string, { state: string; usage: { cost_usd: number } | null }> }>(
      path.join(runDir, 'state.json'),
    );
    for (const id of ['fr', 'de', 'es']) {
      expect(state.tasks[id]!.state).toBe('succeeded');
      expect(state.tasks[id]!.usage!.cost_usd).toBeGreaterThan(0);
    }
  });
});
