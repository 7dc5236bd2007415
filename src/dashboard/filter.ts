// The task list's filter: what was typed after `/` (state names and/or text), read into a
// filter, and the filter said back in a few words for the list's label.
import { TaskStateName } from '../protocol/state.js';

/** Which tasks the list shows. */
export interface TaskFilter {
  /** Only tasks in these states (null: any). */
  states: ReadonlySet<TaskStateName> | null;
  /** Only tasks whose id or title contains this (case-insensitive; null: any). */
  text: string | null;
}

/** Reads what was typed after `/`: state names (`failed running`) and/or text. Empty → null (no filter). */
export function parseFilter(input: string): TaskFilter | null {
  const words = input
    .trim()
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (words.length === 0) return null;
  const states = new Set<TaskStateName>();
  const text: string[] = [];
  for (const w of words) {
    const state = TaskStateName.options.find((s) => s === w || (w.length >= 3 && s.startsWith(w)));
    if (state) states.add(state);
    else text.push(w);
  }
  return { states: states.size ? states : null, text: text.length ? text.join(' ') : null };
}

/** The filter as a short phrase: `failed, running · "lint"`. */
export function describeFilter(f: TaskFilter): string {
  return [f.states ? [...f.states].join(', ') : '', f.text ? `"${f.text}"` : ''].filter(Boolean).join(' · ');
}
