// Re-fetching on demand without piling up requests: a run emits thousands of events, and each
// only says "something changed". One fetch at a time; requests made meanwhile become one more
// fetch, no sooner than `minIntervalMs` after the last one began, nor sooner than twice as long
// as it took (a 10,000-task status report is megabytes; the page should not spend its time on it).
import { useCallback, useEffect, useRef } from 'react';

/**
 * Returns `refresh()`, which runs `load` now or, if a load is in flight or ran recently, once
 * later. `load` is read afresh at each call (it may change every render).
 */
export function useRefresher(load: () => Promise<void>, minIntervalMs = 250): () => void {
  const loadRef = useRef(load);
  loadRef.current = load;
  const state = useRef({ running: false, pending: false, nextAt: 0, timer: 0 as ReturnType<typeof setTimeout> | 0 });

  const run = useCallback(
    async function go(): Promise<void> {
      const s = state.current;
      s.timer = 0;
      s.running = true;
      s.pending = false;
      const began = Date.now();
      try {
        await loadRef.current();
      } finally {
        const took = Date.now() - began;
        s.running = false;
        s.nextAt = began + Math.max(minIntervalMs, 2 * took);
        if (s.pending) s.timer = setTimeout(() => void go(), Math.max(0, s.nextAt - Date.now()));
      }
    },
    [minIntervalMs],
  );

  useEffect(
    () => () => {
      const s = state.current;
      if (s.timer) clearTimeout(s.timer);
      s.pending = false;
    },
    [],
  );

  return useCallback(() => {
    const s = state.current;
    if (s.running || s.timer) {
      s.pending = true;
      return;
    }
    const wait = s.nextAt - Date.now();
    if (wait <= 0) void run();
    else {
      s.pending = true;
      s.timer = setTimeout(() => void run(), wait);
    }
  }, [run]);
}
