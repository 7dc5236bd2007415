// The one wording of events (src/presenter/event-text.ts) as its two audiences see it: the
// console's lines and the dashboard's feed.
import { describe, expect, it } from 'vitest';
import { ConsolePresenter } from '../../src/presenter/console.js';
import { describeEvent, eventLine } from '../../src/presenter/event-text.js';
import type { SwarmEvent } from '../../src/protocol/events.js';
import { initialState } from '../../src/protocol/state.js';

const at = '2030-01-01T00:00:00.000Z';

function consoleLines(e: SwarmEvent, color = false): string {
  const out: string[] = [];
  new ConsolePresenter({ write: (t) => void out.push(t), color }).onEvent(e, initialState());
  return out.join('');
}

describe('event text', () => {
  it('prints a notice event as ConsolePresenter.notice prints its text, and feeds it as one warning line', () => {
    const e: SwarmEvent = { seq: 7, at, type: 'notice', text: 'stopping:\twaiting' };
    for (const color of [false, true]) {
      const direct: string[] = [];
      new ConsolePresenter({ write: (t) => void direct.push(t), color }).notice(e.text);
      expect(consoleLines(e, color)).toBe(direct.join(''));
    }
    expect(consoleLines(e, true)).toBe('\u001b[2mstopping:\twaiting\u001b[0m\n');
    expect(describeEvent(e)).toEqual({ text: 'stopping: waiting', tone: 'warn' });
  });

  it('words budget events for both audiences', () => {
    const exhausted: SwarmEvent = {
      seq: 1,
      at,
      type: 'budget.exhausted',
      cost_usd: 1,
      tokens: 2,
      max_cost_usd: 1,
      max_tokens: null,
    };
    expect(describeEvent(exhausted)).toEqual({ text: 'budget exhausted: no new attempts start', tone: 'bad' });
    expect(consoleLines(exhausted)).toBe('budget exhausted: no more agents are started; running attempts finish\n');
    const changed: SwarmEvent = { seq: 2, at, type: 'budget.changed', max_cost_usd: 3, max_tokens: null };
    expect(describeEvent(changed)).toEqual({ text: 'budget.changed', tone: 'muted' });
    expect(consoleLines(changed)).toBe('');
  });

  it('gives the console the same words as the feed where they agree, led by the progress', () => {
    const e: SwarmEvent = { seq: 3, at, type: 'task.skipped', task: 'b', because: 'a' };
    expect(describeEvent(e).text).toBe('– b skipped: a did not succeed');
    expect(consoleLines(e)).toBe('[0/0] – b skipped: a did not succeed\n');
    expect(eventLine(e, { to: 'feed' })?.spans.map((s) => s.tone)).toEqual(['warn', 'normal']);
  });

  it('words the check of the verified tip again as what it is, not as a bisection of no merge', () => {
    const started = (merges: number): SwarmEvent => ({
      seq: 9,
      at,
      type: 'integration.check.started',
      check: 5,
      tip: 'abcdef0123456789',
      kind: 'bisect',
      merges,
      command: 'make test',
    });
    expect(consoleLines(started(0))).toContain('check 5 (the verified tip again, before blaming the first merge)');
    expect(consoleLines(started(0))).not.toContain('first 0 merge');
    expect(consoleLines(started(2))).toContain('check 5 (bisecting: the first 2 merge(s))');
  });
});
