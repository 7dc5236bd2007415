// One file of an attempt (stdout, stderr, its events, its verify output) as text, kept current
// while the attempt runs. All the page's log fetching is here, so that a live tail from the
// server can replace the polling in one place.
import { useEffect, useState } from 'react';
import { getLog } from './api';
import type { LogFile } from './types';

/** How often a running attempt's file is read again, ms. */
const POLL_MS = 1500;

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

/**
 * Reads `file` of attempt `attempt` of `task` in run `runId`; again every {@link POLL_MS} while
 * `live` (the attempt runs), once more when `live` turns false.
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Another file: start blank. The same file (the attempt just ended): keep the text until read again.
    setLog((l) => (l.key === key ? l : { key, text: '', truncated: false, error: null, loading: true }));
    const read = async (): Promise<void> => {
      try {
        const text = await getLog(runId, task, attempt, file);
        if (stopped) return;
        const truncated = text.length > MAX_CHARS;
        setLog({ key, text: truncated ? text.slice(-MAX_CHARS) : text, truncated, error: null, loading: false });
      } catch (e) {
        if (!stopped) setLog((l) => ({ ...l, error: (e as Error).message, loading: false }));
      }
      if (live && !stopped) timer = setTimeout(() => void read(), POLL_MS);
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [runId, task, attempt, file, live, key]);

  return log.key === key ? log : { text: '', truncated: false, error: null, loading: true };
}
