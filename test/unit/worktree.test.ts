// Worktrees created at the same time in one repository, as workers starting attempts together do.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorktree, removeWorktree } from '../../src/git/worktree.js';
import { git, makeGitRepo, makeWorld, type World } from '../helpers.js';

describe('createWorktree', () => {
  let w: World;
  afterEach(() => w?.cleanup());

  it('creates 30 worktrees at once while others are removed (git worktree add is not safe concurrently by itself)', async () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'a.txt': 'a\n' });
    const head = git(repo, 'rev-parse', 'HEAD');
    const old = Array.from({ length: 4 }, (_, i) => w.path(`wt/old-${i}`));
    for (const p of old) await createWorktree(repo, p, head);
    const fresh = Array.from({ length: 30 }, (_, i) => w.path(`wt/new-${i}`));
    await Promise.all([...fresh.map((p) => createWorktree(repo, p, head)), ...old.map((p) => removeWorktree(repo, p))]);
    for (const p of fresh) expect(fs.readFileSync(`${p}/a.txt`, 'utf8')).toBe('a\n');
    const listed = git(repo, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('worktree ')).length;
    expect(listed).toBe(1 + fresh.length);
  }, 60_000);
});
