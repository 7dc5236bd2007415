// `swarm serve`, first part, over real HTTP: a real run's status and its events as Server-Sent Events
// (byte for byte as events.jsonl, resumable with Last-Event-ID without a gap or a duplicate), ids
// checked before any path is built, and a bearer token off loopback.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linesOf, makeWorld, runCli, startCli, waitFor, type World } from '../helpers.js';
import { readSse, serve, servers, stopServers, type Message } from '../serve-client.js';

let w: World;
afterEach(async () => {
  await stopServers();
  w?.cleanup();
});

/** Starts `swarm run swarm.yaml` in `dir` and waits for its run directory's events.jsonl. */
async function startRun(dir: string) {
  const run = startCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: dir });
  const runsDir = path.join(dir, '.swarm/runs');
  // The run directory in place (while it is created, it is `.<id>.creating`).
  const id = await waitFor(
    () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).find((n) => !n.startsWith('.')) : undefined),
    20_000,
    'the run',
  );
  const events = path.join(runsDir, id, 'events.jsonl');
  await waitFor(() => fs.existsSync(events), 20_000, 'its events.jsonl');
  return { run, runsDir, id, events };
}

describe('swarm serve', () => {
  it('serves a run’s status and its events as SSE, byte for byte, resumable with Last-Event-ID', async () => {
    w = makeWorld();
    w.write('swarm.yaml', {
      version: 1,
      workers: 2,
      git: { isolation: 'none' },
      tasks: [
        { id: 'a', run: 'sleep 0.5' },
        { id: 'b', run: 'sleep 0.7' },
        { id: 'c', deps: ['a', 'b'], run: 'sleep 0.5' },
        { id: 'd', deps: ['c'], run: 'echo done' },
      ],
    });
    const { run, runsDir, id } = await startRun(w.dir);
    const base = await serve(w.dir);

    expect(await (await fetch(`${base}/api/health`)).json()).toEqual({ ok: true });
    // Follow the events live, and meanwhile reconnect a second client after 5 events.
    const live = readSse(`${base}/api/runs/${id}/events`);
    const first = await readSse(`${base}/api/runs/${id}/events`, {}, 5);
    const rest = await readSse(`${base}/api/runs/${id}/events`, { 'last-event-id': first.at(-1)!.id! });
    const all = await live;
    expect((await run.done).code).toBe(0);

    const log = linesOf(path.join(runsDir, id, 'events.jsonl'));
    const data = (ms: Message[]) => ms.filter((m) => m.event !== 'end').map((m) => m.data);
    // Every event, in order, byte for byte as the log has it; the stream ends with the run.
    expect(data(all)).toEqual(log);
    expect(all.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'finished' }) });
    expect(all.filter((m) => m.id).map((m) => Number(m.id))).toEqual(log.map((_, i) => i + 1));
    expect(all.filter((m) => m.id).map((m) => m.event)).toEqual(log.map((l) => JSON.parse(l).type));
    // The reconnected client: the first 5, then exactly the rest.
    expect([...data(first), ...data(rest)]).toEqual(log);

    // The run's status is `swarm status --json`'s; the list has it.
    const status = (await (await fetch(`${base}/api/runs/${id}`)).json()) as Record<string, unknown>;
    const cli = JSON.parse((await runCli(['status', path.join(runsDir, id), '--json'], { cwd: w.dir })).stdout);
    expect(status).toMatchObject({ phase: 'finished', outcome: 'succeeded', total: 4, counts: cli.counts });
    const list = (await (await fetch(`${base}/api/runs`)).json()) as { runs: { id: string; phase: string }[] };
    expect(list.runs).toEqual([expect.objectContaining({ id, phase: 'finished', total: 4 })]);
    // A task: its state and attempts, and an attempt's output.
    const task = (await (await fetch(`${base}/api/runs/${id}/tasks/d`)).json()) as {
      task: { id: string };
      state: { state: string };
      attempts: { attempt: number; result: { outcome: string }; log: string }[];
    };
    expect(task).toMatchObject({ task: { id: 'd' }, state: { state: 'succeeded' } });
    expect(task.attempts).toEqual([
      expect.objectContaining({ attempt: 1, result: expect.objectContaining({ outcome: 'succeeded' }) }),
    ]);
    expect(await (await fetch(`${base}${task.attempts[0]!.log}?file=stdout`)).text()).toBe('done\n');
    const events = await (await fetch(`${base}${task.attempts[0]!.log}`)).text();
    expect(events).toBe(fs.readFileSync(path.join(runsDir, id, 'tasks/d/1/events.jsonl'), 'utf8'));
    expect((await fetch(`${base}/api/runs/${id}/tasks/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/${id}/tasks/..%2F..`)).status).toBe(400);
    expect((await fetch(`${base}/api/runs/${id}/tasks/d/attempts/7/log`)).status).toBe(404);
  });

  it('takes control requests: 202 with the request id, and the coordinator’s answer in the event stream', async () => {
    w = makeWorld();
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      git: { isolation: 'none' },
      tasks: [
        { id: 'long', run: 'while [ ! -f never ]; do sleep 0.1; done' },
        { id: 'after', deps: ['long'], run: 'true' },
      ],
    });
    const { run, id, events } = await startRun(w.dir);
    await waitFor(() => fs.readFileSync(events, 'utf8').includes('"attempt.started"'), 20_000, 'long running');
    const base = await serve(w.dir);
    const post = (body: unknown) =>
      fetch(`${base}/api/runs/${id}/control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    expect((await post({ action: 'cancel-task' })).status).toBe(400); // no task
    expect((await post({ action: 'explode' })).status).toBe(400);
    expect((await post({ action: 'cancel-task', task: 'nope' })).status).toBe(404);
    const res = await post({ action: 'cancel-task', task: 'long' });
    expect(res.status).toBe(202);
    const { request } = (await res.json()) as { request: string };
    const stream = await readSse(`${base}/api/runs/${id}/events`);
    const applied = stream.map((m) => (m.id ? JSON.parse(m.data) : null)).find((e) => e?.type === 'control.applied');
    expect(applied).toMatchObject({ request, action: 'cancel-task', task: 'long', by: 'http', accepted: true });
    expect((await run.done).code).toBe(1);
  });

  it('starts a run over HTTP as its own process, which goes on when the server is killed; a restarted server streams it all', async () => {
    w = makeWorld();
    w.write('swarm.yaml', {
      version: 1,
      workers: 2,
      git: { isolation: 'none' },
      tasks: [
        { id: 'a', run: 'sleep 1' },
        { id: 'b', deps: ['a'], run: 'sleep 1' },
        { id: 'c', deps: ['b'], run: 'echo done > done.txt' },
      ],
    });
    w.write('bad.yaml', 'version: 1\ntasks:\n  - id: x\n    run: echo\n    colour: blue\n');
    const base = await serve(w.dir);
    const start = (body: unknown) =>
      fetch(`${base}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // A bad config: the located issues, and nothing started.
    const bad = await start({ config: 'bad.yaml' });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as {
      error: { code: string; issues: { file: string; line: number; field: string }[] };
    };
    expect(badBody.error.code).toBe('bad-config');
    expect(badBody.error.issues[0]).toMatchObject({ file: 'bad.yaml', line: 5, field: 'tasks[0].colour' });
    expect((await start({ config: '../outside.yaml' })).status).toBe(400);
    expect((await start({ nothing: true })).status).toBe(400);
    expect(fs.existsSync(w.path('.swarm/runs'))).toBe(false);

    const res = await start({ config: 'swarm.yaml', goal: 'over HTTP' });
    expect(res.status).toBe(201);
    const { id, events } = (await res.json()) as { id: string; events: string };
    // Two events in, the server dies; the run goes on.
    const first = await readSse(`${base}${events}`, {}, 2);
    servers.pop()!.child.kill('SIGKILL');
    const eventsFile = w.path(`.swarm/runs/${id}/events.jsonl`);
    await waitFor(() => fs.readFileSync(eventsFile, 'utf8').includes('"run.finished"'), 30_000, 'the run to finish');
    const again = await serve(w.dir);
    const rest = await readSse(`${again}${events}`, { 'last-event-id': first.at(-1)!.id! });
    const log = linesOf(eventsFile);
    expect([...first, ...rest].filter((m) => m.id).map((m) => m.data)).toEqual(log);
    expect(rest.at(-1)).toMatchObject({ event: 'end' });
    expect(fs.readFileSync(w.path('done.txt'), 'utf8')).toBe('done\n');
    const status = (await (await fetch(`${again}/api/runs/${id}`)).json()) as {
      run: { goal: string };
      outcome: string;
    };
    expect(status).toMatchObject({ run: { goal: 'over HTTP' }, outcome: 'succeeded' });
  });

  it('resumes a stopped run over HTTP (409 while it runs), and describes itself in OpenAPI', async () => {
    w = makeWorld();
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      git: { isolation: 'none' },
      tasks: [
        { id: 'wait', run: 'while [ ! -f go ]; do sleep 0.1; done' },
        { id: 'after', deps: ['wait'], run: 'echo after > after.txt' },
      ],
    });
    const { run, id, events } = await startRun(w.dir);
    await waitFor(() => fs.readFileSync(events, 'utf8').includes('"attempt.started"'), 20_000, 'wait running');
    const base = await serve(w.dir);
    const post = (url: string, body?: unknown) =>
      fetch(`${base}${url}`, {
        method: 'POST',
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
    expect((await post(`/api/runs/${id}/resume`)).status).toBe(409); // its coordinator is alive
    // stop-run lets the running attempt finish and starts nothing more.
    expect((await post(`/api/runs/${id}/control`, { action: 'stop-run' })).status).toBe(202);
    await waitFor(() => fs.readFileSync(events, 'utf8').includes('"control.applied"'), 20_000, 'stop-run applied');
    w.write('go', '');
    expect((await run.done).code).toBe(130);
    expect(fs.existsSync(w.path('after.txt'))).toBe(false);
    const res = await post(`/api/runs/${id}/resume`);
    expect(res.status).toBe(202);
    const stream = await readSse(`${base}/api/runs/${id}/events`);
    expect(stream.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'finished' }) });
    const status = (await (await fetch(`${base}/api/runs/${id}`)).json()) as { outcome: string };
    expect(status.outcome).toBe('succeeded');
    expect(fs.readFileSync(w.path('after.txt'), 'utf8')).toBe('after\n');
    expect((await post(`/api/runs/${id}/resume`)).status).toBe(409); // finished

    const api = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(api.openapi).toMatch(/^3\./);
    expect(Object.keys(api.paths)).toEqual(
      expect.arrayContaining(['/api/runs', '/api/runs/{id}', '/api/runs/{id}/events', '/api/runs/{id}/control']),
    );
  });

  it('refuses bad ids before building a path, unknown runs with 404, and JSON errors throughout', async () => {
    w = makeWorld();
    fs.mkdirSync(w.path('.swarm/runs'), { recursive: true });
    const base = await serve(w.dir);
    for (const bad of ['..%2F..%2Fetc', 'not-a-ulid', '%2Fetc%2Fpasswd']) {
      const res = await fetch(`${base}/api/runs/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad-request');
    }
    const res = await fetch(`${base}/api/runs/01M91G63ETB3EKNYZMSG32J4TY/events`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'unknown-run', message: 'no run 01M91G63ETB3EKNYZMSG32J4TY' } });
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404);
  });

  it('needs a bearer token off loopback, and checks it on every request', async () => {
    w = makeWorld();
    const off = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { cwd: w.dir });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('needs a bearer token: --token-env NAME');
    const unset = await runCli(['serve', '--port', '0', '--token-env', 'NO_SUCH_TOKEN'], { cwd: w.dir });
    expect(unset.code).toBe(2);
    const base = await serve(w.dir, ['--token-env', 'SERVE_TOKEN'], { SERVE_TOKEN: 's3cret-token' });
    expect((await fetch(`${base}/api/health`)).status).toBe(401);
    expect((await fetch(`${base}/api/health`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${base}/api/health`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
  });
});
