// fileswarm's invocation of Codex: argv, an environment built from nothing, config.toml in CODEX_HOME.
// That Codex 0.169.0 accepts and obeys it is checked with the real CLI in codex-cli.test.ts.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliInvocationInput } from '../../src/worker/backends/cli/invocation.js';
import { CODEX_KEY_VARIABLE, codexInvocation, tomlString } from '../../src/worker/backends/codex/invocation.js';

const HOME = '/runs/r1/attempts/a1/home';

function input(over: Partial<CliInvocationInput> = {}): CliInvocationInput {
  return {
    command: '/usr/bin/codex',
    prompt: 'Do the task.',
    instructions: 'Stay in the worktree.',
    model: 'gpt-5.5',
    maxTurns: 30,
    maxCostUsd: 2,
    baseUrl: 'https://gateway.example/v1',
    apiKey: { variable: 'MY_OPENAI_KEY', value: 'sk-secret' },
    home: HOME,
    sessionId: '00000000-0000-4000-8000-000000000000',
    extraArgs: ['-c', 'model_reasoning_effort="high"'],
    passEnv: { PATH: '/opt/bin:/usr/bin', SWARM_ATTEMPT_KEY: 'k1' },
    ...over,
  };
}

const config = (inv: ReturnType<typeof codexInvocation>) => inv.files[path.join(HOME, 'config.toml')]!;

afterEach(() => {
  delete process.env.OPENAI_BASE_URL;
});

describe('codexInvocation', () => {
  it('runs exec --json, sandboxed to the workspace, the role args after its own, the prompt last', () => {
    const inv = codexInvocation(input());
    expect(inv.file).toBe('/usr/bin/codex');
    expect(inv.args).toEqual([
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      '-m',
      'gpt-5.5',
      '-c',
      'model_reasoning_effort="high"',
      '--',
      'Do the task.',
    ]);
  });

  it('with a base URL: a custom provider reading the role key variable; nothing of the worker environment', () => {
    process.env.OPENAI_BASE_URL = 'http://leak.example';
    const inv = codexInvocation(input());
    expect(inv.env).toEqual({
      HOME,
      PATH: '/opt/bin:/usr/bin',
      SWARM_ATTEMPT_KEY: 'k1',
      CODEX_HOME: HOME,
      TMPDIR: path.join(HOME, 'tmp'),
      MY_OPENAI_KEY: 'sk-secret',
    });
    expect(config(inv)).toBe(
      [
        'approval_policy = "never"',
        'allow_login_shell = false',
        'check_for_update_on_startup = false',
        'developer_instructions = "Stay in the worktree."',
        'model_provider = "fileswarm"',
        '',
        '[analytics]',
        'enabled = false',
        '',
        '[feedback]',
        'enabled = false',
        '',
        '[shell_environment_policy]',
        'exclude = ["MY_OPENAI_KEY"]',
        '',
        '[model_providers.fileswarm]',
        'name = "fileswarm"',
        'base_url = "https://gateway.example/v1"',
        'env_key = "MY_OPENAI_KEY"',
        'wire_api = "responses"',
        '',
      ].join('\n'),
    );
    expect(Object.keys(inv.files).sort()).toEqual([path.join(HOME, 'config.toml'), path.join(HOME, 'tmp', '.keep')]);
    expect(JSON.stringify(inv)).not.toContain('leak.example');
  });

  it("without a base URL: Codex's built-in provider, the key in CODEX_API_KEY only", () => {
    const inv = codexInvocation(input({ baseUrl: null }));
    expect(inv.env[CODEX_KEY_VARIABLE]).toBe('sk-secret');
    expect(inv.env.MY_OPENAI_KEY).toBeUndefined();
    expect(config(inv)).not.toContain('model_provider');
    expect(config(inv)).toContain(`exclude = ["${CODEX_KEY_VARIABLE}"]`);
  });

  it('keeps a HOME the role passes, and the key wins over a passed variable of the same name', () => {
    const inv = codexInvocation(input({ passEnv: { PATH: '/bin', HOME: '/home/me', MY_OPENAI_KEY: 'other' } }));
    expect(inv.env.HOME).toBe('/home/me');
    expect(inv.env.MY_OPENAI_KEY).toBe('sk-secret');
    expect(inv.env.CODEX_HOME).toBe(HOME);
  });

  it('passes no instructions when there are none', () => {
    expect(config(codexInvocation(input({ instructions: null })))).not.toContain('developer_instructions');
  });

  it('has no turn or USD limit to pass: the caps change nothing', () => {
    expect(codexInvocation(input({ maxTurns: null, maxCostUsd: null }))).toEqual(codexInvocation(input()));
  });
});

describe('tomlString', () => {
  it("escapes what a TOML basic string may not hold raw (Codex reads it as TOML's)", () => {
    expect(tomlString('a "b" \\ c\n\td')).toBe('"a \\"b\\" \\\\ c\\n\\td"');
    expect(tomlString('\x00\x1f\x7f')).toBe('"\\u0000\\u001f\\u007f"');
    expect(tomlString('ünï ✓ 😀')).toBe('"ünï ✓ 😀"');
    expect(tomlString('lone \ud800 surrogate')).toBe('"lone \uFFFD surrogate"');
  });
});
