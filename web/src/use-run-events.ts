// A run's event stream (`GET /api/runs/:id/events`, Server-Sent Events) as a React hook. The page
// does not rebuild the run's state from the events: each event only says "refresh" (the caller
// throttles), and the few that carry words for the user (a control request's answer, a notice)
// are kept to show.
import { useEffect, useRef, useState } from 'react';
import { eventsUrl } from './api';

/** Every event type of events.jsonl (src/protocol/events.ts). */
const EVENT_TYPES = [
  'run.started',
  'plan.created',
  'run.resumed',
  'task.ready',
  'attempt.assigned',
  'attempt.started',
  'attempt.finished',
  'merge.succeeded',
  'merge.conflicted',
  'task.succeeded',
  'task.failed',
  'task.skipped',
  'task.cancelled',
  'task.reset',
  'control.applied',
  'run.paused',
  'run.unpaused',
  'budget.warning',
  'budget.exhausted',
  'budget.changed',
  'run.finished',
  'notice',
] as const;

/** How many of the coordinator's words are kept to show. */
const MAX_MESSAGES = 5;

/** Something the coordinator said, to show the user. */
export interface RunMessage {
  seq: number;
  text: string;
  /** `bad` for a refused control request. */
  tone: 'info' | 'bad';
}

/** The stream as the page shows it. */
export interface RunStream {
  /** Connected and receiving. */
  live: boolean;
  /** Why the stream ended (`finished`, or the coordinator is gone), once it did. */
  ended: string | null;
  /** The server refused or dropped the stream for good (e.g. 401). */
  failed: boolean;
  /** The latest control answers and notices (up to {@link MAX_MESSAGES}), oldest first. */
  messages: RunMessage[];
}

interface EventData {
  seq: number;
  type: string;
  action?: string;
  task?: string | null;
  accepted?: boolean;
  message?: string;
  text?: string;
}

/** The words of an event worth showing, or null. */
function messageOf(e: EventData): RunMessage | null {
  if (e.type === 'control.applied')
    return {
      seq: e.seq,
      text: `${e.action}${e.task ? ` ${e.task}` : ''}: ${e.message ?? (e.accepted ? 'applied' : 'refused')}`,
      tone: e.accepted ? 'info' : 'bad',
    };
  if (e.type === 'notice' && e.text) return { seq: e.seq, text: e.text, tone: 'info' };
  return null;
}

/**
 * Follows the events of run `id` while mounted; calls `onEvent` (read afresh each time) after
 * each event and when the stream ends. `generation` reopens the stream when it changes (after a
 * resume). The browser reconnects a dropped stream itself, from the last event id; a stream that
 * ended is closed and stays closed.
 */
export function useRunEvents(id: string, onEvent: () => void, generation = 0): RunStream {
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const [stream, setStream] = useState<RunStream>({ live: false, ended: null, failed: false, messages: [] });

  useEffect(() => {
    setStream((s) => ({ ...s, live: false, ended: null, failed: false }));
    const source = new EventSource(eventsUrl(id));
    const onMessage = (m: MessageEvent<string>): void => {
      try {
        const said = messageOf(JSON.parse(m.data) as EventData);
        if (said)
          setStream((s) =>
            s.messages.some((m) => m.seq === said.seq)
              ? s
              : { ...s, messages: [...s.messages, said].slice(-MAX_MESSAGES) },
          );
      } catch {
        // not JSON: nothing to say
      }
      onEventRef.current();
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, onMessage);
    source.addEventListener('open', () => setStream((s) => ({ ...s, live: true, failed: false })));
    source.addEventListener('end', (m: MessageEvent<string>) => {
      source.close();
      let reason = 'ended';
      try {
        reason = (JSON.parse(m.data) as { reason?: string }).reason ?? reason;
      } catch {
        // keep 'ended'
      }
      setStream((s) => ({ ...s, live: false, ended: reason }));
      onEventRef.current();
    });
    source.addEventListener('error', () => {
      // The browser retries unless the server refused the stream (not 200, e.g. 401 or 404).
      setStream((s) => ({ ...s, live: false, failed: source.readyState === EventSource.CLOSED }));
    });
    return () => source.close();
  }, [id, generation]);

  return stream;
}
