// The dashboard's keys, in one table: the help line at the bottom, the `?` overlay and the README
// all come from it.

/** One binding: the keys as shown, what it does, and its word in the help line (if any). */
export interface KeyHelp {
  keys: string;
  what: string;
  short?: string;
}

/** Every key of the dashboard. */
export const KEYS: readonly KeyHelp[] = [
  { keys: '↑ ↓  j k', what: 'move in the focused pane', short: '↑↓ move' },
  { keys: 'PgUp PgDn  g G', what: 'a page up or down; first, last' },
  { keys: 'enter', what: "the selected task's detail pane (enter or esc: back to the tasks)", short: '⏎ detail' },
  { keys: 'tab', what: 'next pane: tasks, detail, events', short: 'tab pane' },
  {
    keys: '/',
    what: 'filter tasks: state names (failed, running, ...) and/or text in id or title; empty: all',
    short: '/ filter',
  },
  { keys: 'f', what: 'only failed tasks (again: all)', short: 'f failed' },
  { keys: 'esc', what: 'clear the filter; close a pager or this help' },
  { keys: 'l', what: "the selected task's full log, every attempt, in a pager", short: 'l log' },
  { keys: 'd', what: "the diff of the selected task's commit, in a pager", short: 'd diff' },
  { keys: 'p', what: 'pause dispatch (running attempts go on); again: resume', short: 'p pause' },
  { keys: 'c', what: 'cancel the selected task (asks y/n)', short: 'c cancel' },
  { keys: 'r', what: 'retry the selected task (failed or cancelled) with its skipped dependents', short: 'r retry' },
  { keys: '?', what: 'this help', short: '? help' },
  { keys: 'q', what: 'quit (under `swarm run`: the run goes on in the terminal, one line per event)', short: 'q quit' },
  {
    keys: 'ctrl-c',
    what: "under `swarm run`: the run's Ctrl-C (stop dispatching; twice: cancel attempts); otherwise quit",
  },
];

/** The help line: the short forms that fit in `width` columns, always ending with `? help  q quit`. */
export function helpLine(width: number): string {
  const last = KEYS.filter((k) => k.keys === '?' || k.keys === 'q').map((k) => k.short!);
  const tail = last.join('  ');
  let out = '';
  for (const k of KEYS) {
    if (!k.short || last.includes(k.short)) continue;
    const next = out ? `${out}  ${k.short}` : k.short;
    if (next.length + 2 + tail.length > width) break;
    out = next;
  }
  return out ? `${out}  ${tail}` : tail;
}

/** The `?` overlay's text: every key and what it does. */
export function helpText(): string[] {
  const width = Math.max(...KEYS.map((k) => k.keys.length));
  return [
    ...KEYS.map((k) => `${k.keys.padEnd(width)}  ${k.what}`),
    '',
    'Actions are control requests (control/<id>.json), applied by the coordinator;',
    'the line at the bottom says when one was applied. Any key closes this help.',
  ];
}
