// Following a run's events.jsonl (src/protocol/follow.ts): from a byte offset or a seq, a torn last
// line left for later, and the three ways a follow ends.
import fs from 'node:fs';
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventTail, followRun, type FollowEnd } from '../../src/protocol/follow.js';
import type { SwarmEvent } from '../../src/protocol/events.js';
import { RunPaths } from '../../src/protocol/paths.js';
import { makeWorld, type World } from '../helpers.js';

let world: World;
let paths: RunPaths;

beforeEach(() => {
  world = makeWorld('swarm-follow-');
  paths = new RunPaths(world.path('run'));
  fs.mkdirSync(paths.root, { recursive: true });
});
afterEach(() => world.cleanup());

const notice = (seq: number): SwarmEvent => ({ seq, at: new Date().toISOString(), type: 'notice', text: `n${seq}` });
const append = (...lines: string[]): void => fs.appendFileSync(paths.eventsJsonl, lines.join(''));
const line = (e: SwarmEvent): string => JSON.stringify(e) + '\n';
const coordinator = (extra: Record<string, unknown>): void =>
  fs.writeFileSync(
    paths.coordinatorJson,
    JSON.stringify({
      session: 's',
      pid: process.pid,
      host: os.hostname(),
      command: 'run',
      started_at: new Date().toISOString(),
      heartbeat_at: new Date().toISOString(),
      ...extra,
    }),
  );

/** Runs a follow to its end; returns the seqs it yielded and how it ended. */
async function drain(it: AsyncGenerator<SwarmEvent, FollowEnd>): Promise<{ seqs: number[]; end: FollowEnd }> {
  const seqs: number[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { seqs, end: r.value };
    seqs.push(r.value.seq);
  }
}

describe('EventTail', () => {
  it('reads new events from a byte offset and leaves a torn last line for the next read', () => {
    const tail = new EventTail(paths.eventsJsonl, { offset: 0 });
    expect(tail.read()).toEqual([]); // no file yet
    const torn = line(notice(2));
    append(line(notice(1)), torn.slice(0, 10));
    expect(tail.read().map((e) => e.seq)).toEqual([1]);
    expect(tail.read()).toEqual([]);
    append(torn.slice(10));
    expect(tail.read().map((e) => e.seq)).toEqual([2]);
    expect(tail.offset).toBe(fs.statSync(paths.eventsJsonl).size);
  });

  it('starts after a seq, read backwards from the end', () => {
    append(...Array.from({ length: 50 }, (_, i) => line(notice(i + 1))));
    expect(new EventTail(paths.eventsJsonl, { seq: 47 }).read().map((e) => e.seq)).toEqual([48, 49, 50]);
    expect(new EventTail(paths.eventsJsonl, { seq: 0 }).read()).toHaveLength(50);
    expect(new EventTail(paths.eventsJsonl, { seq: 50 }).read()).toEqual([]);
  });

  it('refuses a record that is not an event, and meets it again on the next read', () => {
    append(line(notice(1)), '{"seq":2,"type":"nonsense"}\n');
    const tail = new EventTail(paths.eventsJsonl, { offset: 0 });
    expect(() => tail.read()).toThrow(/bad event/);
    expect(() => tail.read()).toThrow(/bad event/);
  });
});

describe('followRun', () => {
  it('ends after run.finished, the log’s last word', async () => {
    coordinator({});
    append(line(notice(1)));
    const it = followRun({ paths, from: { seq: 0 }, staleAfterMs: 15_000, rescanMs: 50 });
    const done = drain(it);
    setTimeout(
      () =>
        append(
          line(notice(2)),
          line({ seq: 3, at: new Date().toISOString(), type: 'run.finished', outcome: 'succeeded' }),
        ),
      100,
    );
    expect(await done).toEqual({ seqs: [1, 2, 3], end: { reason: 'finished' } });
  });

  it('ends when the coordinator is gone, after reading what it wrote last', async () => {
    coordinator({ stopped_at: new Date().toISOString() });
    append(line(notice(1)), line(notice(2)));
    const r = await drain(followRun({ paths, from: { seq: 1 }, staleAfterMs: 15_000, rescanMs: 50 }));
    expect(r).toEqual({ seqs: [2], end: { reason: 'coordinator-gone', liveness: 'stopped' } });
    // A run finished before `from`: the caller says so, and the follow ends at once.
    expect(await drain(followRun({ paths, from: { offset: 0 }, staleAfterMs: 15_000, finished: true }))).toMatchObject({
      end: { reason: 'finished' },
    });
  });

  it('ends when the caller aborts', async () => {
    coordinator({});
    const abort = new AbortController();
    const done = drain(followRun({ paths, from: { offset: 0 }, staleAfterMs: 15_000, signal: abort.signal }));
    setTimeout(() => abort.abort(), 50);
    expect(await done).toEqual({ seqs: [], end: { reason: 'aborted' } });
  });
});
