// One file of an attempt (stdout, stderr, its events, its verify output) as text, kept current
// while the attempt runs by the server's live tail. All the page's log fetching is here.
import { useEffect, useState } from 'react';
import { getLog, logFollowUrl } from './api';
import type { LogFile } from './types';

/** At most this much of the end of a file is shown, characters. */
const MAX_CHARS = 200_000;

/** The file's text (its end, when long) and the last error reading it. */
export interface AttemptLog {
  text: string;
  /** The text is the end of a longer file. */
  truncated: boolean;
  error: string | null;
  loading: boolean;
}

/** `text` cut to its last {@link MAX_CHARS} characters. */
function clipped(text: string): { text: string; truncated: boolean } {
  return text.length > MAX_CHARS ? { text: text.slice(-MAX_CHARS), truncated: true } : { text, truncated: false };
}

/**
 * Reads `file` of attempt `attempt` of `task` in run `runId`: while `live` (the attempt runs), as a
 * live tail from the server (the text appended as it is written; EventSource reconnects from the
 * last byte offset by itself); otherwise once.
 */
export function useAttemptLog(runId: string, task: string, attempt: number, file: LogFile, live: boolean): AttemptLog {
  const key = `${runId}/${task}/${attempt}/${file}`;
  const [log, setLog] = useState<AttemptLog & { key: string }>({
    key,
    text: '',
    truncated: false,
    error: null,
    loading: true,
  });

  useEffect(() => {
    let stopped = false;
    if (live) {
      // The tail starts at byte 0: it sends the whole file, then what is appended.
      setLog({ key, text: '', truncated: false, error: null, loading: true });
      const source = new EventSource(logFollowUrl(runId, task, attempt, file));
      source.addEventListener('output', (m) => {
        const chunk = JSON.parse((m as MessageEvent<string>).data) as string;
        setLog((l) => {
          const next = clipped(l.text + chunk);
          return { key, text: next.text, truncated: l.truncated || next.truncated, error: null, loading: false };
        });
      });
      source.addEventListener('end', () => {
        source.close();
        setLog((l) => ({ ...l, loading: false }));
      });
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED)
          setLog((l) => ({ ...l, error: 'the live output stream closed', loading: false }));
      };
      return () => source.close();
    }
    // Another file: start blank. The same file (the attempt just ended): keep the text until read again.
    setLog((l) => (l.key === key ? l : { key, text: '', truncated: false, error: null, loading: true }));
    void (async () => {
      try {
        const text = await getLog(runId, task, attempt, file);
        if (!stopped) setLog({ key, ...clipped(text), error: null, loading: false });
      } catch (e) {
        if (!stopped) setLog((l) => ({ ...l, error: (e as Error).message, loading: false }));
      }
    })();
    return () => {
      stopped = true;
    };
  }, [runId, task, attempt, file, live, key]);

  return log.key === key ? log : { text: '', truncated: false, error: null, loading: true };
}
