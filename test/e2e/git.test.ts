// End-to-end: git isolation on real repositories made by the tests. Every attempt runs in its own
// worktree, its commit is merged into swarm/<run-id> without a checkout, and the user's branch,
// index, working tree, untracked files and stashes stay byte-for-byte as they were.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linesOf, makeWorld, readJson, readJsonlFile, runCli, startCli, waitFor, type World } from '../helpers.js';

let world: World;
afterEach(() => world?.cleanup());

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

/**
 * A repository in <world>/repo on branch main with two commits, then a user's work in progress:
 * a stash, a staged change, an unstaged change and an untracked file.
 */
function makeRepo(w: World): string {
  const repo = w.path('repo');
  fs.mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  w.write('repo/shared.txt', 'one\ntwo\nthree\n');
  w.write('repo/README.md', '# demo\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'first');
  w.write('repo/src/app.txt', 'app v1\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'second');
  w.write('repo/README.md', '# demo\nstashed line\n');
  git(repo, 'stash', 'push', '-q', '-m', 'my stash');
  w.write('repo/README.md', '# demo\nstaged line\n');
  git(repo, 'add', 'README.md');
  w.write('repo/src/app.txt', 'app v1\nunstaged edit\n');
  w.write('repo/notes.txt', 'untracked notes\n');
  return repo;
}

/** Everything of the user's that fileswarm must not touch, as bytes and hashes. */
function userSnapshot(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(repo, rel), { withFileTypes: true })) {
      const name = path.join(rel, e.name);
      if (name === '.git' || name === '.swarm') continue;
      if (e.isDirectory()) walk(name);
      else
        out[name] = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(repo, name)))
          .digest('hex');
    }
  };
  walk('');
  out['.git/index'] = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(repo, '.git/index')))
    .digest('hex');
  out['.git/HEAD'] = fs.readFileSync(path.join(repo, '.git/HEAD'), 'utf8');
  out['refs/heads/main'] = git(repo, 'rev-parse', 'main');
  out['stash'] = git(repo, 'stash', 'list', '--format=%H %s');
  out['status'] = git(repo, 'status', '--porcelain');
  return out;
}

function swarmConfig(w: World, config: Record<string, unknown>): string {
  return w.write('swarm.yaml', { version: 1, run: { repo: 'repo' }, ...config });
}

/** Shell that waits until task `first` has finished (and, a moment later, merged), whatever the machine's load. */
const afterFirst = 'until [ -f "$SWARM_RUN_DIR/tasks/first/1/result.json" ]; do sleep 0.05; done; sleep 0.3';

type Ev = { type: string; task?: string; attempt?: number; files?: string[]; reason?: string };
const eventsOf = (runDir: string): Ev[] => readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
const runDirOf = (stdout: string): string => /run directory: (.*)/.exec(stdout)![1]!;
const branchOf = (runDir: string): string =>
  readJson<{ integration_branch: string }>(path.join(runDir, 'run.json')).integration_branch;

describe('git isolation', () => {
  it("merges parallel edits of different files into swarm/<run-id> and leaves the user's tree untouched", async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const before = userSnapshot(repo);
    swarmConfig(world, {
      workers: 3,
      tasks: [
        { id: 'add-a', run: 'echo A > a.txt' },
        { id: 'add-b', run: 'echo B > b.txt' },
        { id: 'edit-app', run: 'echo "app v2" > src/app.txt' },
        { id: 'uses-a', deps: ['add-a'], run: 'cp a.txt a-copy.txt' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('has uncommitted changes: workers start from');
    const runDir = runDirOf(res.stdout);
    const branch = branchOf(runDir);
    expect(branch).toMatch(/^swarm\/[0-9A-Z]{26}$/);
    expect(res.stdout).toContain(`take it with:  git merge ${branch}`);
    expect(res.stdout).toMatch(/4 files changed/);

    expect(git(repo, 'show', `${branch}:a.txt`)).toBe('A');
    expect(git(repo, 'show', `${branch}:b.txt`)).toBe('B');
    expect(git(repo, 'show', `${branch}:src/app.txt`)).toBe('app v2');
    // The dependent saw its dependency's file: it ran on the merged tip.
    expect(git(repo, 'show', `${branch}:a-copy.txt`)).toBe('A');
    // The branch starts at the user's HEAD (committed work only).
    expect(git(repo, 'merge-base', '--is-ancestor', 'main', branch)).toBe('');
    expect(git(repo, 'show', `${branch}:README.md`)).toBe('# demo');

    expect(userSnapshot(repo)).toEqual(before);
    // Merged attempts' worktrees are gone; their commits stay reachable by refs.
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    const runId = branch.slice('swarm/'.length);
    const refs = git(repo, 'for-each-ref', '--format=%(refname)', `refs/swarm/${runId}/`).split('\n').sort();
    expect(refs).toEqual(['add-a', 'add-b', 'edit-app', 'uses-a'].map((t) => `refs/swarm/${runId}/${t}/1`));
    expect(
      readJson<{ commit: string; files_changed: string[] }>(path.join(runDir, 'tasks/add-a/1/result.json')),
    ).toMatchObject({ files_changed: ['a.txt'] });
    expect(fs.readFileSync(path.join(repo, '.git/info/exclude'), 'utf8')).toContain('/.swarm/');
    const status = await runCli(['status', runDir], { cwd: world.dir });
    expect(status.stdout).toContain(`integration branch ${branch}`);
  });

  it('retries a task whose merge conflicts on the new tip, with the conflict in its assignment', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    swarmConfig(world, {
      workers: 2,
      tasks: [
        // Both rewrite line "two" from the base; the slower one conflicts and rebuilds its change on the new tip.
        { id: 'first', run: `sed -i 's/^two$/two-first/' shared.txt` },
        { id: 'second', run: `${afterFirst}; sed -i 's/^two\\(.*\\)$/two\\1-second/' shared.txt` },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(0);
    const runDir = runDirOf(res.stdout);
    expect(git(repo, 'show', `${branchOf(runDir)}:shared.txt`)).toBe('one\ntwo-first-second\nthree');
    const conflict = eventsOf(runDir).find((e) => e.type === 'merge.conflicted')!;
    expect(conflict).toMatchObject({ task: 'second', attempt: 1, files: ['shared.txt'] });
    const assignment = readJson<{ conflict: { attempt: number; files: string[]; diff: string } }>(
      path.join(runDir, 'tasks/second/2/assignment.json'),
    );
    expect(assignment.conflict).toMatchObject({ attempt: 1, files: ['shared.txt'] });
    expect(assignment.conflict.diff).toContain('+two-second');
  });

  it('fails the task on a conflict with merge.on_conflict: fail, and says which files', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const before = userSnapshot(repo);
    swarmConfig(world, {
      workers: 2,
      merge: { on_conflict: 'fail' },
      tasks: [
        { id: 'first', run: `sed -i 's/^two$/two-first/' shared.txt` },
        { id: 'second', run: `${afterFirst}; sed -i 's/^two$/two-second/' shared.txt` },
        { id: 'after-second', deps: ['second'], run: 'true' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(1);
    const runDir = runDirOf(res.stdout);
    expect(eventsOf(runDir).find((e) => e.type === 'task.failed')).toMatchObject({
      task: 'second',
      reason: 'merge-conflict',
    });
    expect(eventsOf(runDir).find((e) => e.type === 'merge.conflicted')).toMatchObject({ files: ['shared.txt'] });
    expect(git(repo, 'show', `${branchOf(runDir)}:shared.txt`)).toBe('one\ntwo-first\nthree');
    // The conflicting attempt's work is kept: its worktree for inspection, its commit by its ref.
    const runId = branchOf(runDir).slice('swarm/'.length);
    expect(git(repo, 'show', `refs/swarm/${runId}/second/1:shared.txt`)).toBe('one\ntwo-second\nthree');
    expect(fs.existsSync(path.join(repo, `.swarm/worktrees/${runId}/second-1/shared.txt`))).toBe(true);
    expect(userSnapshot(repo)).toEqual(before);

    // swarm clean keeps a kept worktree someone has edited since (exit 1, saying why)...
    const kept = path.join(repo, `.swarm/worktrees/${runId}/second-1`);
    fs.appendFileSync(path.join(kept, 'shared.txt'), 'an edit of mine\n');
    const refused = await runCli(['clean', runDir], { cwd: world.dir });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`kept ${kept}: it has uncommitted changes (use --force to delete them)`);
    expect(fs.readFileSync(path.join(kept, 'shared.txt'), 'utf8')).toContain('an edit of mine');
    // ... and removes it with --force: kept worktrees go (not the refs of a run that still exists), tree untouched.
    const clean = await runCli(['clean', runDir, '--force'], { cwd: world.dir });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain(`removed ${kept} (with its uncommitted changes)`);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repo, 'rev-parse', `refs/swarm/${runId}/second/1`)).toMatch(/^[0-9a-f]{40}$/);
    expect(userSnapshot(repo)).toEqual(before);
  });

  it("keeps every attempt's commit, including failed ones, and verify decides success", async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    swarmConfig(world, {
      scheduling: { retries: 1, backoff: 0.05 },
      tasks: [
        // Attempt 1 writes a file and fails its verify; attempt 2 passes it.
        { id: 'check', run: 'echo "attempt $SWARM_ATTEMPT" > out.txt', verify: 'grep -q "attempt 2" out.txt' },
        { id: 'broken', run: 'echo partial > partial.txt; exit 1' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(1);
    const runDir = runDirOf(res.stdout);
    const runId = branchOf(runDir).slice('swarm/'.length);
    expect(readJson(path.join(runDir, 'tasks/check/1/result.json'))).toMatchObject({
      outcome: 'failed',
      reason: 'verify-failed',
      verify: { command: 'grep -q "attempt 2" out.txt', exit_code: 1 },
    });
    expect(git(repo, 'show', `refs/swarm/${runId}/check/1:out.txt`)).toBe('attempt 1');
    expect(git(repo, 'show', `${branchOf(runDir)}:out.txt`)).toBe('attempt 2');
    expect(git(repo, 'show', `refs/swarm/${runId}/broken/1:partial.txt`)).toBe('partial');
    expect(git(repo, 'show', `refs/swarm/${runId}/broken/2:partial.txt`)).toBe('partial');
    expect(() => git(repo, 'show', `${branchOf(runDir)}:partial.txt`)).toThrow();
  });

  it('merges, without running it again, an attempt whose coordinator was killed between its commit and its merge', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const before = userSnapshot(repo);
    swarmConfig(world, {
      tasks: [
        { id: 'write', run: `echo "ran" >> ${world.dir}/effects.log; echo new > new.txt` },
        { id: 'after', deps: ['write'], run: 'cat new.txt > copy.txt' },
      ],
    });
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: 'before-merge' },
    });
    expect(first.signal).toBe('SIGKILL');
    expect(userSnapshot(repo)).toEqual(before);
    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(0);
    expect(linesOf(world.path('effects.log'))).toEqual(['ran']);
    expect(fs.existsSync(world.path('run/tasks/write/2'))).toBe(false);
    expect(git(repo, 'show', `${branchOf(world.path('run'))}:copy.txt`)).toBe('new');
    expect(
      eventsOf(world.path('run'))
        .filter((e) => e.type === 'merge.succeeded')
        .map((e) => e.task),
    ).toEqual(['write', 'after']);
    expect(userSnapshot(repo)).toEqual(before);
  });

  it("leaves the user's tree untouched through kill -9 of a run with attempts in flight and its resume", async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const before = userSnapshot(repo);
    swarmConfig(world, {
      workers: 2,
      tasks: ['a', 'b', 'c', 'd'].map((id, i) => ({
        id,
        deps: i >= 2 ? ['a'] : [],
        run: `sleep 0.5; echo ${id} > ${id}.txt`,
      })),
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(
      () =>
        fs.existsSync(world.path('run/events.jsonl')) &&
        eventsOf(world.path('run')).some((e) => e.type === 'attempt.started'),
      20_000,
      'an attempt to start',
    );
    run.child.kill('SIGKILL');
    await run.done;
    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(0);
    const branch = branchOf(world.path('run'));
    for (const id of ['a', 'b', 'c', 'd']) expect(git(repo, 'show', `${branch}:${id}.txt`)).toBe(id);
    expect(userSnapshot(repo)).toEqual(before);
  });

  it('keeps a commit someone else puts on the integration branch during the run, and later tasks build on it', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const go = world.path('go');
    swarmConfig(world, {
      tasks: [
        // Waits until the test has committed on the branch.
        { id: 'a', run: `until [ -e ${go} ]; do sleep 0.05; done; echo A > a.txt` },
        { id: 'b', deps: ['a'], run: 'cat foreign.txt > b-saw.txt' },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(
      () =>
        fs.existsSync(world.path('run/events.jsonl')) &&
        eventsOf(world.path('run')).some((e) => e.type === 'attempt.started' && e.task === 'a'),
      20_000,
      'a to start',
    );
    // A person (or another tool) commits on the integration branch, from a worktree of their own.
    const branch = branchOf(world.path('run'));
    const other = world.path('other');
    git(repo, 'worktree', 'add', '-q', other, branch);
    fs.writeFileSync(path.join(other, 'foreign.txt'), 'foreign\n');
    git(other, 'add', 'foreign.txt');
    git(other, 'commit', '-qm', 'a commit from outside the run');
    const foreign = git(other, 'rev-parse', 'HEAD');
    git(repo, 'worktree', 'remove', other);
    fs.writeFileSync(go, '');
    const res = await run.done;
    expect(res.code).toBe(0);
    // Merged on top of it, not over it: the commit is in the branch's history, its file in the tree.
    expect(git(repo, 'merge-base', '--is-ancestor', foreign, branch)).toBe('');
    expect(git(repo, 'show', `${branch}:foreign.txt`)).toBe('foreign');
    expect(git(repo, 'show', `${branch}:a.txt`)).toBe('A');
    // b started from the tip after a's merge, which holds the foreign commit.
    expect(git(repo, 'show', `${branch}:b-saw.txt`)).toBe('foreign');
  });

  it('does not run tasks that declare the same files at the same time', async () => {
    world = makeWorld();
    makeRepo(world);
    const trace = world.path('trace.log');
    // x and y wait (up to 20 s) for z to start, so z starts beside the first of them however slow
    // the machine; if it could not (serialized with them), the order check below fails.
    const waitZ = `for i in $(seq 400); do grep -q "start z" ${trace} && break; sleep 0.05; done`;
    const run = (id: string): string =>
      `echo "start ${id}" >> ${trace}; ${waitZ}; sleep 0.3; echo "end ${id}" >> ${trace}; echo ${id} >> shared.txt`;
    swarmConfig(world, {
      workers: 3,
      tasks: [
        { id: 'x', files: ['shared.txt'], run: run('x') },
        { id: 'y', files: ['shared.txt'], run: run('y') },
        { id: 'z', files: ['other.txt'], run: `echo "start z" >> ${trace}; sleep 1.5; echo "end z" >> ${trace}` },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(0);
    const lines = linesOf(trace);
    // x and y never overlap; z ran beside one of them.
    const xs = lines.indexOf('start x');
    const ys = lines.indexOf('start y');
    const [firstId, secondStart] = xs < ys ? ['x', ys] : ['y', xs];
    expect(lines.indexOf(`end ${firstId}`)).toBeLessThan(secondStart);
    expect(lines.indexOf('start z')).toBeLessThan(lines.indexOf(`end ${firstId}`));
    expect(eventsOf(runDirOf(res.stdout)).some((e) => e.type === 'merge.conflicted')).toBe(false);
  });

  it('starts from a snapshot of uncommitted changes with git.include_uncommitted, without touching them', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    const before = userSnapshot(repo);
    swarmConfig(world, {
      git: { include_uncommitted: true },
      tasks: [{ id: 'read', run: 'cat src/app.txt README.md > seen.txt' }],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(0);
    expect(res.stderr).not.toContain('uncommitted');
    expect(git(repo, 'show', `${branchOf(runDirOf(res.stdout))}:seen.txt`)).toBe(
      'app v1\nunstaged edit\n# demo\nstaged line',
    );
    expect(userSnapshot(repo)).toEqual(before);
  });

  it.each([
    [
      'the target is not a git repository and git.required is true',
      (w: World) => {
        fs.mkdirSync(w.path('repo'));
        swarmConfig(w, { git: { required: true }, tasks: [{ id: 'a', run: 'true' }] });
      },
      /is not a git repository, and git.required is true/,
    ],
    [
      'HEAD is detached',
      (w: World) => {
        const repo = makeRepo(w);
        git(repo, 'checkout', '-q', '--detach', 'HEAD');
        swarmConfig(w, { tasks: [{ id: 'a', run: 'true' }] });
      },
      /HEAD is detached .*set git.base/,
    ],
    [
      'git.base names no commit',
      (w: World) => {
        makeRepo(w);
        swarmConfig(w, { git: { base: 'no-such-branch' }, tasks: [{ id: 'a', run: 'true' }] });
      },
      /git.base "no-such-branch" is not a commit/,
    ],
    [
      'the repository has no commits',
      (w: World) => {
        fs.mkdirSync(w.path('repo'));
        git(w.path('repo'), 'init', '-q');
        swarmConfig(w, { tasks: [{ id: 'a', run: 'true' }] });
      },
      /has no commits yet/,
    ],
  ])('refuses to start, with exit 2 and nothing written, when %s', async (_name, setup, message) => {
    world = makeWorld();
    setup(world);
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(fs.existsSync(world.path('repo/.swarm/runs')) ? fs.readdirSync(world.path('repo/.swarm/runs')) : []).toEqual(
      [],
    );
  });

  it('runs in place with a warning when the target is not a git repository', async () => {
    world = makeWorld();
    fs.mkdirSync(world.path('repo'));
    swarmConfig(world, { tasks: [{ id: 'a', run: 'echo here > here.txt' }] });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('is not a git repository: tasks run in place');
    expect(world.read('repo/here.txt')).toBe('here\n');
  });

  it('prunes the refs of a deleted run with swarm clean, keeping its branch', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    swarmConfig(world, { tasks: [{ id: 'a', run: 'echo a > a.txt' }] });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.dir });
    const runDir = runDirOf(res.stdout);
    const branch = branchOf(runDir);
    const runId = branch.slice('swarm/'.length);
    fs.rmSync(runDir, { recursive: true });
    const clean = await runCli(['clean'], { cwd: repo });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain(`pruned 1 ref(s) of deleted run ${runId}`);
    expect(git(repo, 'for-each-ref', `refs/swarm/${runId}/`)).toBe('');
    expect(git(repo, 'show', `${branch}:a.txt`)).toBe('a');
  });

  it('runs snake_case task ids through worktrees, refs and the merge', async () => {
    world = makeWorld();
    const repo = makeRepo(world);
    world.write('swarm.yaml', {
      version: 1,
      run: { repo: 'repo' },
      tasks: [
        { id: 'auth_api', run: 'echo auth > auth.txt' },
        { id: 'db_2_migrate', deps: ['auth_api'], run: 'test -f auth.txt && echo db > db.txt' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code, res.stderr).toBe(0);
    const id = readJson<{ id: string }>(world.path('run/run.json')).id;
    expect(git(repo, 'for-each-ref', '--format=%(refname)', `refs/swarm/${id}/`).split('\n')).toEqual([
      `refs/swarm/${id}/auth_api/1`,
      `refs/swarm/${id}/db_2_migrate/1`,
    ]);
    expect(git(repo, 'show', `swarm/${id}:db.txt`)).toBe('db');
    expect(fs.existsSync(world.path('run/tasks/auth_api/1/result.json'))).toBe(true);
  });

  it('refuses to clean a run whose repository is gone, with exit 2 and one line', async () => {
    world = makeWorld();
    makeRepo(world);
    world.write('swarm.yaml', { version: 1, run: { repo: 'repo' }, tasks: [{ id: 'a', run: 'true' }] });
    expect((await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir })).code).toBe(0);
    fs.renameSync(world.path('repo'), world.path('moved'));
    const res = await runCli(['clean', 'run'], { cwd: world.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `swarm: ${world.path('run')}: the run's repository ${world.path('repo')} no longer exists: nothing to clean there\n`,
    );
  });
});
