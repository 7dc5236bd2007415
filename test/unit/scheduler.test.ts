// The scheduling policy: ready-queue order, slots, retry backoff, wave barriers, backoff delays.
import { describe, expect, it } from 'vitest';
import { backoffMs, ReadyQueue, waveBarrier, type SchedTask } from '../../src/coordinator/scheduler.js';

/** A task with its plan position (the queue's tie-break). */
type Task = SchedTask & { index: number };
const task = (id: string, index: number, rank: number, wave = 0): Task => ({ id, index, rank, wave });
const newQueue = (): ReadyQueue<Task> => new ReadyQueue<Task>((t) => t.index);

/** A queue holding `tasks`, none in backoff. */
function queueOf(...tasks: Task[]): ReadyQueue<Task> {
  const q = newQueue();
  for (const t of tasks) q.add(t);
  return q;
}

const ids = (tasks: Task[]): string[] => tasks.map((t) => t.id);

describe('ReadyQueue', () => {
  it('hands out tasks by upward rank, highest first, whatever order they were added in', () => {
    const q = queueOf(task('low', 0, 1), task('high', 1, 9), task('mid', 2, 5));
    expect(ids(q.take(10, 0).tasks)).toEqual(['high', 'mid', 'low']);
  });

  it('breaks ties of rank by plan index, earlier first', () => {
    const q = queueOf(task('third', 2, 4), task('first', 0, 4), task('second', 1, 4), task('top', 3, 7));
    expect(ids(q.take(10, 0).tasks)).toEqual(['top', 'first', 'second', 'third']);
  });

  it('takes no more tasks than there are free slots and keeps the rest queued', () => {
    const q = queueOf(task('a', 0, 3), task('b', 1, 2), task('c', 2, 1));
    expect(ids(q.take(2, 0).tasks)).toEqual(['a', 'b']);
    expect(q.size).toBe(1);
    expect(q.has('c')).toBe(true);
    expect(q.has('a')).toBe(false);
    expect(ids(q.take(2, 0).tasks)).toEqual(['c']);
    expect(q.size).toBe(0);
  });

  it('takes nothing when no slot is free', () => {
    const q = queueOf(task('a', 0, 1));
    expect(q.take(0, 0).tasks).toEqual([]);
    expect(q.size).toBe(1);
  });

  it('ignores a second add of a task that is already queued', () => {
    const q = queueOf(task('a', 0, 1));
    q.add(task('a', 0, 100));
    expect(q.size).toBe(1);
    expect(q.take(10, 0).tasks).toEqual([task('a', 0, 1)]);
  });

  it('skips a task still in backoff, takes the next one, and reports when to wake up', () => {
    const q = newQueue();
    q.add(task('retry', 0, 9), 5_000);
    q.add(task('fresh', 1, 1));
    const { tasks, wakeAt } = q.take(2, 1_000);
    expect(ids(tasks)).toEqual(['fresh']);
    expect(wakeAt).toBe(5_000);
    expect(q.has('retry')).toBe(true);
  });

  it('hands out a task whose backoff has ended, at the moment it ends', () => {
    const q = newQueue();
    q.add(task('retry', 0, 1), 5_000);
    expect(q.take(1, 4_999).tasks).toEqual([]);
    const { tasks, wakeAt } = q.take(1, 5_000);
    expect(ids(tasks)).toEqual(['retry']);
    expect(wakeAt).toBeUndefined();
  });

  it('reports the earliest backoff among several waiting tasks', () => {
    const q = newQueue();
    q.add(task('late', 0, 3), 9_000);
    q.add(task('soon', 1, 2), 2_000);
    q.add(task('middle', 2, 1), 4_000);
    expect(q.take(4, 0)).toEqual({ tasks: [], wakeAt: 2_000 });
  });

  it('still reports the earliest backoff when the free slots fill up before the queue is scanned', () => {
    const q = newQueue();
    q.add(task('ready', 0, 9));
    q.add(task('waiting', 1, 1), 3_000);
    const { tasks, wakeAt } = q.take(1, 0);
    expect(ids(tasks)).toEqual(['ready']);
    expect(wakeAt).toBe(3_000);
  });

  it('reports no wake-up time when nothing is in backoff', () => {
    const q = queueOf(task('a', 0, 1), task('b', 1, 1));
    expect(q.take(1, 0).wakeAt).toBeUndefined();
  });

  it('removes a queued task so it is never handed out', () => {
    const q = queueOf(task('a', 0, 3), task('b', 1, 2), task('c', 2, 1));
    q.remove('b');
    expect(q.has('b')).toBe(false);
    expect(q.size).toBe(2);
    expect(ids(q.take(10, 0).tasks)).toEqual(['a', 'c']);
  });

  it('ignores the removal of a task that is not queued', () => {
    const q = queueOf(task('a', 0, 1));
    q.remove('ghost');
    expect(q.size).toBe(1);
  });

  it('lets a removed task be added again', () => {
    const q = queueOf(task('a', 0, 1));
    q.remove('a');
    q.add(task('a', 0, 1));
    expect(ids(q.take(1, 0).tasks)).toEqual(['a']);
  });

  it('keeps later-wave tasks queued when a wave limit is given', () => {
    const q = queueOf(task('deep', 0, 9, 2), task('w0', 1, 1, 0), task('w1', 2, 5, 1));
    expect(ids(q.take(10, 0, 0).tasks)).toEqual(['w0']);
    expect(ids(q.take(10, 0, 1).tasks)).toEqual(['w1']);
    expect(ids(q.take(10, 0).tasks)).toEqual(['deep']);
  });
});

describe('waveBarrier', () => {
  it('sets no barrier in eager mode', () => {
    expect(waveBarrier('eager', [3, 2, 1])).toBe(Infinity);
  });

  it('limits waves mode to the lowest wave that still has unfinished tasks', () => {
    expect(waveBarrier('waves', [2, 5, 1])).toBe(0);
    expect(waveBarrier('waves', [0, 5, 1])).toBe(1);
    expect(waveBarrier('waves', [0, 0, 1])).toBe(2);
  });

  it('lifts the barrier in waves mode once every wave is finished', () => {
    expect(waveBarrier('waves', [0, 0, 0])).toBe(Infinity);
    expect(waveBarrier('waves', [])).toBe(Infinity);
  });

  it('combines with the ready queue: waves mode holds back a ready task of the next wave', () => {
    const q = queueOf(task('long', 0, 10, 1), task('short', 1, 1, 0));
    // In wave 0 one task is still running, so the wave-1 task must wait in waves mode…
    expect(ids(q.take(2, 0, waveBarrier('waves', [1, 1])).tasks)).toEqual(['short']);
    // …but starts at once in eager mode.
    expect(ids(q.take(2, 0, waveBarrier('eager', [1, 1])).tasks)).toEqual(['long']);
  });
});

describe('backoffMs', () => {
  it('waits the initial delay before the first retry', () => {
    expect(backoffMs(1, 1_000, 30_000)).toBe(1_000);
  });

  it('doubles the delay for each further retry', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 1_000, 60_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('never waits longer than the cap', () => {
    expect(backoffMs(6, 1_000, 30_000)).toBe(30_000);
    expect(backoffMs(50, 1_000, 30_000)).toBe(30_000);
  });

  it('treats zero failures like the first retry', () => {
    expect(backoffMs(0, 500, 30_000)).toBe(500);
  });
});
