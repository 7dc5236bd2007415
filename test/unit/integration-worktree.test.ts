// The integration worktree is checked before every check: real repositories whose worktree lost
// its `.git`, or has one pointing at another worktree, or a stale index.lock. The checks' git
// commands must never reach the user's repository or another worktree.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCheck, type CheckEnd } from '../../src/coordinator/integration-check.js';
import { integrationWorktree } from '../../src/git/layout.js';
import { git, makeGitRepo, makeWorld, type World } from '../helpers.js';

let w: World;
afterEach(() => w?.cleanup());

/** Runs one check of `tip` in the run's integration worktree; its command writes a.txt's text to <world>/seen. */
function check(repo: string, tip: string, n: number): Promise<CheckEnd> {
  return new Promise((resolve) => {
    const running = startCheck(
      {
        repo,
        runId: 'r',
        runDir: w.dir,
        worktree: integrationWorktree(repo, 'r'),
        check: n,
        tip,
        command: `cat a.txt > ${w.path('seen')}`,
        logFile: w.path(`check-${n}.log`),
        groupFile: w.path(`check-${n}.group.json`),
        timeoutMs: 60_000,
        killGraceMs: 1000,
        sandbox: { mode: 'none', network: 'none', writable: [], hidden: [], allow_hosts: [] },
      },
      () => resolve(running.end!),
    );
  });
}

/** The user's repository: main at a second commit, a.txt edited and not committed. */
function userRepo(): { repo: string; first: string; second: string } {
  const repo = makeGitRepo(w, { 'a.txt': 'one\n' });
  const first = git(repo, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(repo, 'a.txt'), 'two\n');
  git(repo, 'commit', '-qam', 'second');
  const second = git(repo, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(repo, 'a.txt'), 'the user is editing this\n');
  return { repo, first, second };
}

/** Everything of the user's side a check must leave alone. */
function userSide(repo: string): string[] {
  return [
    git(repo, 'rev-parse', '--symbolic-full-name', 'HEAD'), // HEAD when detached
    git(repo, 'rev-parse', 'HEAD'),
    fs.readFileSync(path.join(repo, 'a.txt'), 'utf8'),
    git(repo, 'status', '--porcelain', '--untracked-files=no'),
  ];
}

describe('the integration worktree', () => {
  it('is added again when its .git is gone, and the user repository is left alone', async () => {
    w = makeWorld();
    const { repo, first, second } = userRepo();
    expect(await check(repo, second, 1)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    const before = userSide(repo);
    fs.rmSync(path.join(integrationWorktree(repo, 'r'), '.git'));
    // Without its .git, git in the worktree finds the user's repository (the worktree is inside it).
    const end = await check(repo, first, 2);
    expect(userSide(repo)).toEqual(before);
    expect(end).toMatchObject({ kind: 'ran', outcome: 'passed' });
    expect(w.read('seen')).toBe('one\n');
    expect(before).toEqual(['refs/heads/main', second, 'the user is editing this\n', 'M a.txt']);
    expect(w.read('check-2.log')).toContain('the integration worktree was added again');
  });

  it('is added again when its .git points at another worktree, whose HEAD and edits stay as they were', async () => {
    w = makeWorld();
    const { repo, first, second } = userRepo();
    expect(await check(repo, second, 1)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    const other = w.path('other');
    git(repo, 'worktree', 'add', '--quiet', '--detach', other, second);
    fs.writeFileSync(path.join(other, 'a.txt'), 'edit in the other worktree\n');
    const otherAdmin = git(other, 'rev-parse', '--absolute-git-dir');
    fs.writeFileSync(path.join(integrationWorktree(repo, 'r'), '.git'), `gitdir: ${otherAdmin}\n`);
    const before = userSide(repo);
    expect(await check(repo, first, 2)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    expect(w.read('seen')).toBe('one\n');
    expect(git(other, 'rev-parse', 'HEAD')).toBe(second);
    expect(git(other, 'status', '--porcelain')).toBe('M a.txt');
    expect(fs.readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('edit in the other worktree\n');
    expect(userSide(repo)).toEqual(before);
    // The worktree names its own administrative directory again.
    expect(git(integrationWorktree(repo, 'r'), 'rev-parse', '--absolute-git-dir')).not.toBe(otherAdmin);
  });

  it('is added again when it is a symbolic link to another worktree, which stays as it was', async () => {
    w = makeWorld();
    const { repo, first, second } = userRepo();
    const other = w.path('other');
    git(repo, 'worktree', 'add', '--quiet', '--detach', other, second);
    fs.writeFileSync(path.join(other, 'a.txt'), 'edit in the other worktree\n');
    const worktree = integrationWorktree(repo, 'r');
    fs.mkdirSync(path.dirname(worktree), { recursive: true });
    fs.symlinkSync(other, worktree);
    expect(await check(repo, first, 1)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    expect(w.read('seen')).toBe('one\n');
    expect(fs.lstatSync(worktree).isSymbolicLink()).toBe(false);
    expect(git(other, 'rev-parse', 'HEAD')).toBe(second);
    expect(fs.readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('edit in the other worktree\n');
  });

  it('removes a stale index.lock from its own administrative directory only', async () => {
    w = makeWorld();
    const { repo, first, second } = userRepo();
    expect(await check(repo, second, 1)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    const admin = git(integrationWorktree(repo, 'r'), 'rev-parse', '--absolute-git-dir');
    fs.writeFileSync(path.join(admin, 'index.lock'), ''); // a coordinator killed during a checkout
    fs.writeFileSync(path.join(repo, '.git', 'index.lock'), ''); // the user's, not ours to remove
    expect(await check(repo, first, 2)).toMatchObject({ kind: 'ran', outcome: 'passed' });
    expect(w.read('seen')).toBe('one\n');
    expect(fs.existsSync(path.join(admin, 'index.lock'))).toBe(false);
    expect(fs.existsSync(path.join(repo, '.git', 'index.lock'))).toBe(true);
  });
});
