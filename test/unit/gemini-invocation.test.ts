// Unit tests of how the `gemini` backend starts Gemini CLI (src/worker/backends/gemini/invocation.ts): the
// argv, an environment built from nothing, and the files of its configuration home. The real CLI runs with
// them in gemini-cli.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliInvocationInput } from '../../src/worker/backends/cli/invocation.js';
import {
  GEMINI_MAX_ATTEMPTS,
  geminiChatFiles,
  geminiHome,
  geminiInvocation,
  geminiSettings,
} from '../../src/worker/backends/gemini/invocation.js';

const base: CliInvocationInput = {
  command: '/opt/gemini/bin/gemini',
  prompt: 'Fix the failing test in src/a.ts',
  instructions: 'Commit nothing.\nKeep changes small.',
  model: 'gemini-2.5-pro',
  maxTurns: 40,
  maxCostUsd: 2.5,
  baseUrl: 'http://127.0.0.1:4000',
  apiKey: { variable: 'TEAM_GEMINI_KEY', value: 'secret-value' },
  home: '/runs/r1/attempts/t1-1/cli',
  sessionId: '00000000-0000-4000-8000-000000000000',
  extraArgs: ['--include-directories', '../shared'],
  passEnv: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
};

const tmpDirs: string[] = [];
afterEach(() => {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('geminiInvocation', () => {
  it('runs headless with stream-json, every tool approved, the workspace trusted, the model, extra args last', () => {
    const inv = geminiInvocation(base);
    expect(inv.file).toBe('/opt/gemini/bin/gemini');
    expect(inv.args).toEqual([
      '-p',
      'Fix the failing test in src/a.ts',
      '-o',
      'stream-json',
      '--approval-mode',
      'yolo',
      '--skip-trust',
      '--session-id',
      '00000000-0000-4000-8000-000000000000',
      '-m',
      'gemini-2.5-pro',
      '--include-directories',
      '../shared',
    ]);
    expect(inv.args).not.toContain('--sandbox');
  });

  it('builds the environment from passEnv, its home, the key and the base URL only', () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1';
    try {
      const inv = geminiInvocation({
        ...base,
        passEnv: { ...base.passEnv, HOME: '/home/someone', GEMINI_CLI_HOME: '/home/someone/.config' },
      });
      const home = '/runs/r1/attempts/t1-1/cli/home';
      expect(inv.env).toEqual({
        PATH: '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        HOME: home,
        GEMINI_CLI_HOME: home,
        GEMINI_API_KEY: 'secret-value',
        GEMINI_CLI_NO_RELAUNCH: 'true',
        GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:4000',
      });
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
    expect(geminiInvocation({ ...base, baseUrl: null }).env).not.toHaveProperty('GOOGLE_GEMINI_BASE_URL');
  });

  it('writes the settings (auth, turn limit, quiet) and the instructions as the global GEMINI.md, inside home', () => {
    const inv = geminiInvocation(base);
    const dir = path.join(geminiHome(base), '.gemini');
    expect(Object.keys(inv.files).sort()).toEqual([path.join(dir, 'GEMINI.md'), path.join(dir, 'settings.json')]);
    for (const file of Object.keys(inv.files)) expect(file.startsWith(`${base.home}/`)).toBe(true);
    const settings = JSON.parse(inv.files[path.join(dir, 'settings.json')]!);
    expect(settings).toEqual(geminiSettings({ maxTurns: 40 }));
    expect(settings).toMatchObject({
      security: { auth: { selectedType: 'gemini-api-key' } },
      model: { maxSessionTurns: 40 },
      general: { maxAttempts: GEMINI_MAX_ATTEMPTS, enableAutoUpdate: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
    expect(inv.files[path.join(dir, 'GEMINI.md')]).toBe('Commit nothing.\nKeep changes small.\n');
  });

  it('has no turn limit without maxTurns, and no GEMINI.md without instructions', () => {
    for (const instructions of [null, '  \n']) {
      const inv = geminiInvocation({ ...base, maxTurns: null, instructions });
      expect(Object.keys(inv.files)).toEqual([path.join(geminiHome(base), '.gemini', 'settings.json')]);
      expect(JSON.parse(Object.values(inv.files)[0]!).model.maxSessionTurns).toBe(-1);
    }
  });
});

describe('geminiChatFiles', () => {
  it("lists the session files of the home's projects and of the agents they delegate to, none before the CLI wrote any", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-gemini-home-'));
    tmpDirs.push(home);
    expect(geminiChatFiles({ home })).toEqual([]);
    const chats = path.join(geminiHome({ home }), '.gemini', 'tmp', 'repo', 'chats');
    fs.mkdirSync(chats, { recursive: true });
    fs.writeFileSync(path.join(chats, 'session-2026-12-04T20-34-f0823f1b.jsonl'), '{}\n');
    fs.writeFileSync(path.join(chats, 'notes.txt'), '');
    fs.mkdirSync(path.join(chats, 'f0823f1b-f2ea-4e5e-90d2-3ee2af8dd38b'));
    fs.writeFileSync(path.join(chats, 'f0823f1b-f2ea-4e5e-90d2-3ee2af8dd38b', 'sub-1.jsonl'), '{}\n');
    expect(geminiChatFiles({ home })).toEqual([
      path.join(chats, 'f0823f1b-f2ea-4e5e-90d2-3ee2af8dd38b', 'sub-1.jsonl'),
      path.join(chats, 'session-2026-12-04T20-34-f0823f1b.jsonl'),
    ]);
  });
});
