// `swarm serve`: what runs start from (a config or plan inline or as a path), what is refused and
// with which status (400 with located issues, 413, 429, CORS), and what a task shows (a live tail
// of an attempt's log, its commit's diffstat), over real HTTP on real runs.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { makeGitRepo, makeWorld, waitFor, type World } from '../helpers.js';
import { postJson, readSse, serve, stopServers } from '../serve-client.js';

let w: World;
afterEach(async () => {
  await stopServers();
  w?.cleanup();
});

/** An error answer's body. */
interface ErrorBody {
  error: { code: string; message: string; issues?: { file: string; line?: number; field: string; message: string }[] };
}

/** Waits for the run `id` under `runsDir` to finish; returns its events.jsonl lines. */
async function finished(runsDir: string, id: string): Promise<string[]> {
  const events = path.join(runsDir, id, 'events.jsonl');
  await waitFor(
    () => fs.existsSync(events) && fs.readFileSync(events, 'utf8').includes('"run.finished"'),
    30_000,
    'the run to finish',
  );
  return fs.readFileSync(events, 'utf8').trim().split('\n');
}

describe('swarm serve: input', () => {
  it('starts runs from YAML inline or a path, with a plan; refuses bad input with located issues and leaves nothing', async () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'README.md': '# r\n' });
    fs.writeFileSync(path.join(repo, 'base.yaml'), stringify({ version: 1, workers: 2 }));
    const base = await serve(repo, ['--config', 'base.yaml']);
    const runsDir = path.join(repo, '.swarm/runs');
    const start = (body: unknown) => postJson(`${base}/api/runs`, body);

    // Inline YAML with a mistake on line 4: the issue names the inline config and its line.
    const bad = await start({ config: 'version: 1\ntasks:\n  - id: a\n    run: 7\n' });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as ErrorBody;
    expect(badBody.error.code).toBe('bad-config');
    expect(badBody.error.issues?.[0]).toMatchObject({ file: 'config (inline)', line: 4, field: 'tasks[0].run' });
    // A schema error names its field; a config outside the repository is refused; an inline config
    // may not point the run elsewhere.
    const zero = (await (await start({ config: 'base.yaml', workers: 0 })).json()) as ErrorBody;
    expect(zero.error).toMatchObject({
      code: 'bad-request',
      issues: [expect.objectContaining({ field: 'body.workers' })],
    });
    expect((await start({ config: '/etc/passwd' })).status).toBe(400);
    expect((await start({ config: 'sub/../../x.yaml' })).status).toBe(400);
    const other = makeGitRepo(w, { 'x.txt': 'x\n' }, 'other');
    const elsewhere = await start({ config: `version: 1\nrun: {repo: ${other}}\ntasks: [{id: a, run: 'true'}]\n` });
    expect(((await elsewhere.json()) as ErrorBody).error.message).toContain('leave out run.repo');
    // The server's --config without tasks, and a plan with a bad dependency: located in the plan.
    const badPlan = await start({ plan: 'tasks:\n  - id: a\n    run: "true"\n    deps: [zz]\n' });
    expect(badPlan.status).toBe(400);
    expect(((await badPlan.json()) as ErrorBody).error.issues?.[0]).toMatchObject({ file: 'plan (inline)', line: 4 });
    // Nothing started, nothing kept.
    expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((n) => !n.startsWith('.')) : []).toEqual([]);
    expect(fs.existsSync(path.join(runsDir, '.inline')) ? fs.readdirSync(path.join(runsDir, '.inline')) : []).toEqual(
      [],
    );

    // The server's config with an inline plan.
    const planned = await start({
      plan: stringify({
        tasks: [
          { id: 'one', run: 'echo one > one.txt' },
          { id: 'two', deps: ['one'], run: 'true' },
        ],
      }),
      goal: 'from a plan',
    });
    expect(planned.status).toBe(201);
    const p = (await planned.json()) as { id: string };
    await finished(runsDir, p.id);
    const ps = (await (await fetch(`${base}/api/runs/${p.id}`)).json()) as {
      outcome: string;
      tasks: { id: string; deps: string[] }[];
    };
    expect(ps.outcome).toBe('succeeded');
    expect(ps.tasks.map((t) => [t.id, t.deps])).toEqual([
      ['one', []],
      ['two', ['one']],
    ]);

    // An inline config of its own.
    const inline = await start({
      config: stringify({ version: 1, tasks: [{ id: 'solo', run: 'echo solo' }] }),
      goal: '--publish: a goal that starts with a dash stays a goal',
    });
    expect(inline.status).toBe(201);
    const i = (await inline.json()) as { id: string };
    await finished(runsDir, i.id);
    const is = (await (await fetch(`${base}/api/runs/${i.id}`)).json()) as { outcome: string; run: { goal: string } };
    expect(is).toMatchObject({
      outcome: 'succeeded',
      run: { goal: '--publish: a goal that starts with a dash stays a goal' },
    });

    // Control of a finished run is refused: nothing would apply it.
    const late = await postJson(`${base}/api/runs/${i.id}/control`, { action: 'pause' });
    expect(late.status).toBe(409);
    expect(((await late.json()) as ErrorBody).error.code).toBe('finished');
  });

  it('answers 413 for a body over 1 MiB, 429 past the start rate, and CORS only for listed origins', async () => {
    w = makeWorld();
    const base = await serve(w.dir, ['--starts-per-minute', '2']);
    const huge = await postJson(`${base}/api/runs`, { config: `version: 1\n# ${'x'.repeat(1100 * 1024)}\n` });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as ErrorBody).error.code).toBe('too-large');
    // Every request counts, whatever comes of it (the 413 above was the first of two a minute): the
    // third is refused before its body is even read.
    const statuses: number[] = [];
    for (let n = 0; n < 2; n++) statuses.push((await postJson(`${base}/api/runs`, { config: 'none.yaml' })).status);
    expect(statuses).toEqual([400, 429]);
    const limited = await postJson(`${base}/api/runs`, { config: 'none.yaml' });
    expect(((await limited.json()) as ErrorBody).error.code).toBe('too-many-requests');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Reads are not limited.
    for (let n = 0; n < 5; n++) expect((await fetch(`${base}/api/runs`)).status).toBe(200);

    const preflight = (url: string, origin: string) =>
      fetch(`${url}/api/runs`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    expect((await preflight(base, 'http://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();
    const cors = await serve(w.dir, ['--cors-origin', 'http://app.example']);
    const allowed = await preflight(cors, 'http://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect((await preflight(cors, 'http://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('shows a run being created as starting, an attempt’s log as a live tail, and its commit’s diffstat', async () => {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'README.md': '# r\n' });
    fs.writeFileSync(
      path.join(repo, 'swarm.yaml'),
      stringify({
        version: 1,
        tasks: [
          {
            id: 'talk',
            run: 'for i in 1 2 3 4 5; do echo "line $i"; sleep 0.3; done; printf "two\\nlines\\n" > f.txt; printf tail',
          },
        ],
      }),
    );
    const base = await serve(repo);
    // A run directory without run.json yet: its `swarm run` is creating it.
    const creating = '01M91G63ETB3EKNYZMSG32J4TY';
    fs.mkdirSync(path.join(repo, '.swarm/runs', creating), { recursive: true });
    expect(await (await fetch(`${base}/api/runs/${creating}`)).json()).toMatchObject({ phase: 'starting', total: 0 });
    fs.rmSync(path.join(repo, '.swarm/runs', creating), { recursive: true });
    // One still under its temporary name (`swarm run` renames it into place once complete).
    fs.mkdirSync(path.join(repo, '.swarm/runs', `.${creating}.creating`));
    expect(await (await fetch(`${base}/api/runs/${creating}`)).json()).toMatchObject({ phase: 'starting', total: 0 });
    const listed = (await (await fetch(`${base}/api/runs`)).json()) as { runs: { id: string; phase: string }[] };
    expect(listed.runs).toEqual([expect.objectContaining({ id: creating, phase: 'starting' })]);
    fs.rmSync(path.join(repo, '.swarm/runs', `.${creating}.creating`), { recursive: true });

    const res = await postJson(`${base}/api/runs`, { config: 'swarm.yaml' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const runDir = path.join(repo, '.swarm/runs', id);
    const stdout = path.join(runDir, 'tasks/talk/1/stdout.log');
    await waitFor(() => fs.existsSync(stdout) && fs.readFileSync(stdout, 'utf8').includes('line 1'), 20_000, 'line 1');
    const log = `${base}/api/runs/${id}/tasks/talk/attempts/1/log?file=stdout&follow=1`;
    // One client from the start, one that takes a message and reconnects from its offset.
    const whole = readSse(log);
    const first = await readSse(log, {}, 1);
    const rest = await readSse(log, { 'last-event-id': first[0]!.id! });
    const all = await whole;
    const text = (ms: { event?: string; data: string }[]) =>
      ms
        .filter((m) => m.event === 'output')
        .map((m) => JSON.parse(m.data) as string)
        .join('');
    const file = fs.readFileSync(stdout, 'utf8');
    expect(file).toBe('line 1\nline 2\nline 3\nline 4\nline 5\ntail');
    expect(text(all)).toBe(file);
    expect(all.filter((m) => m.event === 'output').length).toBeGreaterThan(1); // it arrived as it was written
    expect(text(first) + text(rest)).toBe(file);
    expect(all.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ offset: Buffer.byteLength(file) }) });

    await finished(path.join(repo, '.swarm/runs'), id);
    const task = (await (await fetch(`${base}/api/runs/${id}/tasks/talk`)).json()) as {
      attempts: { result: { commit: string }; diffstat: unknown }[];
    };
    expect(task.attempts[0]!.result.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(task.attempts[0]!.diffstat).toEqual([{ path: 'f.txt', added: 2, deleted: 0 }]);
  });
});
