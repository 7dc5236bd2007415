// Numbers and times as the page shows them.

/** A duration in ms as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`; `–` for null. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** USD with cents (more digits below a cent); `–` for null. */
export function formatCost(usd: number | null): string {
  if (usd === null) return '–';
  return usd !== 0 && Math.abs(usd) < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** A token count as `950`, `12.4k`, `3.1M`. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** How long ago an ISO-8601 time was, from `now` (ms since the epoch): `just now`, `5 min ago`, `3 h ago`, else the date. */
export function formatAgo(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleString();
}

/** Tasks that reached a terminal state, of a run's counts. */
export function doneCount(counts: Record<string, number>): number {
  return (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.skipped ?? 0) + (counts.cancelled ?? 0);
}
