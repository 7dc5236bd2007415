// Unit tests of how the `claude-code` backend starts Claude Code (src/worker/backends/claude-code/invocation.ts):
// the argv, an environment built from nothing, and the files of its homes. The real CLI runs with them in
// claude-code-cli.test.ts.
import { describe, expect, it } from 'vitest';
import type { CliInvocationInput } from '../../src/worker/backends/cli/invocation.js';
import {
  CLAUDE_CODE_MAX_RETRIES,
  claudeCodeDirs,
  claudeCodeInvocation,
} from '../../src/worker/backends/claude-code/invocation.js';

const base: CliInvocationInput = {
  command: '/opt/claude/bin/claude',
  prompt: 'Fix the failing test in src/a.ts',
  instructions: 'Commit nothing.\nKeep changes small.',
  model: 'claude-sonnet-4-5',
  maxTurns: 40,
  maxCostUsd: 2.5,
  baseUrl: 'http://127.0.0.1:4000',
  apiKey: { variable: 'TEAM_ANTHROPIC_KEY', value: 'secret-value' },
  home: '/runs/r1/attempts/t1-1/home',
  sessionId: '00000000-0000-4000-8000-000000000000',
  extraArgs: ['--effort', 'high'],
  passEnv: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', TMPDIR: '/runs/r1/attempts/t1-1/home/tmp' },
};

describe('claudeCodeInvocation', () => {
  it('runs print mode with stream-json and partial messages, edits and commands allowed, its own settings only, caps, extra args last', () => {
    const inv = claudeCodeInvocation(base);
    expect(inv.file).toBe('/opt/claude/bin/claude');
    expect(inv.args).toEqual([
      '-p',
      'Fix the failing test in src/a.ts',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      '--session-id',
      '00000000-0000-4000-8000-000000000000',
      '--model',
      'claude-sonnet-4-5',
      '--permission-mode',
      'acceptEdits',
      '--tools',
      'Bash,Read,Edit,Write,Glob,Grep',
      '--allowedTools',
      'Bash,Read,Glob,Grep',
      '--setting-sources',
      'user',
      '--add-dir',
      '.',
      '--strict-mcp-config',
      '--max-turns',
      '40',
      '--max-budget-usd',
      '2.5',
      '--append-system-prompt=Commit nothing.\nKeep changes small.',
      '--effort',
      'high',
    ]);
    for (const flag of ['--bare', '--dangerously-skip-permissions', 'bypassPermissions']) {
      expect(inv.args).not.toContain(flag);
    }
  });

  it('leaves out the caps and instructions it does not have (a turn limit under 1 would mean none)', () => {
    const inv = claudeCodeInvocation({ ...base, maxTurns: 0, maxCostUsd: null, instructions: '  ' });
    expect(inv.args).not.toContain('--max-turns');
    expect(inv.args).not.toContain('--max-budget-usd');
    expect(inv.args.some((a) => a.startsWith('--append-system-prompt'))).toBe(false);
    expect(claudeCodeInvocation({ ...base, maxCostUsd: 0 }).args).not.toContain('--max-budget-usd');
  });

  it('puts a prompt beginning with a dash after --, at the very end (else it would be read as an option)', () => {
    const inv = claudeCodeInvocation({ ...base, prompt: '--help is not what I mean' });
    expect(inv.args[0]).toBe('-p');
    expect(inv.args[1]).toBe('--output-format');
    expect(inv.args.slice(-4)).toEqual(['--effort', 'high', '--', '--help is not what I mean']);
  });

  it('builds the environment from passEnv, its homes, the key and the base URL only', () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = 'http://leak.example';
    try {
      const dirs = claudeCodeDirs(base);
      expect(dirs).toEqual({ config: '/runs/r1/attempts/t1-1/home/claude', home: '/runs/r1/attempts/t1-1/home/home' });
      const inv = claudeCodeInvocation(base);
      expect(inv.env).toEqual({
        PATH: '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        TMPDIR: '/runs/r1/attempts/t1-1/home/tmp',
        CLAUDE_CONFIG_DIR: dirs.config,
        HOME: dirs.home,
        ANTHROPIC_API_KEY: 'secret-value',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD: '1',
        CLAUDE_CODE_MAX_RETRIES: String(CLAUDE_CODE_MAX_RETRIES),
      });
      // HOME exists before it starts (Claude Code does not create it), with an empty shell configuration.
      expect(Object.keys(inv.files)).toEqual([`${dirs.home}/.bashrc`]);
      expect(inv.files[`${dirs.home}/.bashrc`]).not.toMatch(/^[^#]/m);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  it('keeps the role key the only credential, lets passEnv set the retries, and has no base URL of its own when none is given', () => {
    const inv = claudeCodeInvocation({
      ...base,
      baseUrl: null,
      passEnv: {
        PATH: '/bin',
        ANTHROPIC_AUTH_TOKEN: 'other-token',
        CLAUDE_CODE_OAUTH_TOKEN: 'oauth',
        ANTHROPIC_API_KEY: 'another-key',
        HOME: '/root',
        CLAUDE_CONFIG_DIR: '/root/.claude',
        CLAUDE_CODE_MAX_RETRIES: '0',
      },
    });
    expect(inv.env).toEqual({
      PATH: '/bin',
      CLAUDE_CONFIG_DIR: '/runs/r1/attempts/t1-1/home/claude',
      HOME: '/runs/r1/attempts/t1-1/home/home',
      ANTHROPIC_API_KEY: 'secret-value',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD: '1',
      CLAUDE_CODE_MAX_RETRIES: '0',
    });
  });
});
