// The rewind's git on a real repository: remade merges are the same commits whenever they are
// made, and the branch moves only from the tip the caller expects.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeCommit } from '../../src/git/merge.js';
import { moveBranch, remakeMerges } from '../../src/git/rewind.js';
import { git, makeGitRepo, makeWorld, type World } from '../helpers.js';

let w: World;
afterEach(() => {
  for (const v of ['DATE', 'NAME', 'EMAIL']) {
    delete process.env[`GIT_AUTHOR_${v}`];
    delete process.env[`GIT_COMMITTER_${v}`];
  }
  w?.cleanup();
});

/** A commit on `base` that adds `file`. */
function commitOn(repo: string, base: string, file: string): string {
  git(repo, 'read-tree', base);
  fs.writeFileSync(path.join(repo, file), `${file}\n`);
  const blob = git(repo, 'hash-object', '-w', file);
  git(repo, 'update-index', '--add', '--cacheinfo', `100644,${blob},${file}`);
  const tree = git(repo, 'write-tree');
  fs.rmSync(path.join(repo, file));
  git(repo, 'read-tree', base);
  return git(repo, 'commit-tree', tree, '-p', base, '-m', file);
}

describe('mergeCommit', () => {
  it('tells a contained commit, a fast-forward and a real merge apart, from full, short or symbolic names', () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'a.txt': 'a\n' });
    const base = git(repo, 'rev-parse', 'HEAD');
    const x = commitOn(repo, base, 'x.txt');
    const y = commitOn(repo, base, 'y.txt');
    for (const name of [x, x.slice(0, 10)]) {
      // Already contained: nothing to make.
      expect(mergeCommit(repo, name, base, 'm')).toEqual({ kind: 'merged', commit: x, files: [] });
      // A fast-forward: the commit itself.
      expect(mergeCommit(repo, base, name, 'm')).toEqual({ kind: 'merged', commit: x, files: ['x.txt'] });
    }
    expect(mergeCommit(repo, 'HEAD', x, 'm')).toEqual({ kind: 'merged', commit: x, files: ['x.txt'] });
    // Diverged: a merge commit with both parents.
    const merged = mergeCommit(repo, x, y, 'merge y') as { kind: string; commit: string; files: string[] };
    expect(merged).toMatchObject({ kind: 'merged', files: ['y.txt'] });
    expect(git(repo, 'show', '-s', '--format=%P', merged.commit)).toBe(`${x} ${y}`);
  });
});

describe('rewind', () => {
  it('remakes merges as the same commits at any time and by anyone (identity and dates of the merges they remake)', () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'a.txt': 'a\n' });
    const base = git(repo, 'rev-parse', 'HEAD');
    const [x, y, z] = ['x.txt', 'y.txt', 'z.txt'].map((f) => commitOn(repo, base, f));
    // The branch as the queue made it: x (fast-forward), then y and z merged on it.
    process.env.GIT_AUTHOR_DATE = process.env.GIT_COMMITTER_DATE = '1700000000 +0000';
    const t1 = x!;
    const t2 = (mergeCommit(repo, t1, y!, 'merge y') as { commit: string }).commit;
    const t3 = (mergeCommit(repo, t2, z!, 'merge z') as { commit: string }).commit;
    // x is the culprit: y and z are made again on the base, once, and again "later" (a resume).
    const others = [
      { task: 'y', attempt: 1, commit: y!, message: 'merge y', remakes: t2 },
      { task: 'z', attempt: 1, commit: z!, message: 'merge z', remakes: t3 },
    ];
    process.env.GIT_AUTHOR_DATE = process.env.GIT_COMMITTER_DATE = '1800000000 +0000';
    const once = remakeMerges(repo, base, others);
    // Later, by someone else (another user resumes the run), with signatures shown by git log.
    process.env.GIT_AUTHOR_DATE = process.env.GIT_COMMITTER_DATE = '1900000000 +0000';
    process.env.GIT_AUTHOR_NAME = process.env.GIT_COMMITTER_NAME = 'Someone Else';
    process.env.GIT_AUTHOR_EMAIL = process.env.GIT_COMMITTER_EMAIL = 'else@example.com';
    git(repo, 'config', 'log.showSignature', 'true');
    const again = remakeMerges(repo, base, others);
    expect(again).toEqual(once);
    expect(once.kept.map((m) => m.task)).toEqual(['y', 'z']);
    expect(git(repo, 'show', '-s', '--format=%at %ct', once.tip)).toBe('1700000000 1700000000');
  });

  it('moves the branch only from the expected tip; a branch moved by someone else is left alone', () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'a.txt': 'a\n' });
    const base = git(repo, 'rev-parse', 'HEAD');
    const [known, rewound, foreign] = ['k.txt', 'r.txt', 'f.txt'].map((f) => commitOn(repo, base, f));
    git(repo, 'update-ref', 'refs/heads/swarm/r', known!);
    expect(moveBranch(repo, 'swarm/r', rewound!, known!)).toEqual({ kind: 'moved' });
    // Done again (a resume): already there.
    expect(moveBranch(repo, 'swarm/r', rewound!, known!)).toEqual({ kind: 'moved' });
    git(repo, 'update-ref', 'refs/heads/swarm/r', foreign!);
    expect(moveBranch(repo, 'swarm/r', rewound!, known!)).toEqual({ kind: 'elsewhere', actual: foreign });
    expect(git(repo, 'rev-parse', 'swarm/r')).toBe(foreign);
    git(repo, 'update-ref', '-d', 'refs/heads/swarm/r');
    expect(moveBranch(repo, 'swarm/r', rewound!, known!)).toEqual({ kind: 'elsewhere', actual: null });
  });
});
