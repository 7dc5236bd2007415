// Where the DAG's boxes go. A run of up to GROUP_THRESHOLD tasks is drawn task by task, laid out
// left to right by dagre; a larger one is drawn one box per wave (a wave is the tasks whose
// longest chain of dependencies has the same length; consecutive waves share a box when there
// are many), with its tasks counted by state.
import dagre from '@dagrejs/dagre';
import type { TaskState, TaskStatus } from './types';

/** Above this many tasks the DAG is drawn by wave. */
export const GROUP_THRESHOLD = 300;

/** Size of a task's box, px. */
export const TASK_BOX = { width: 184, height: 62 };

/** Size of a wave's box, px. */
export const WAVE_BOX = { width: 210, height: 112 };

/** A point, px (top-left corner of a box). */
export interface Point {
  x: number;
  y: number;
}

/** Top-left corners of the tasks' boxes, left to right along the dependencies (dagre). */
export function layoutTasks(tasks: readonly Pick<TaskStatus, 'id' | 'deps'>[]): Map<string, Point> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(tasks.map((t) => t.id));
  for (const t of tasks) g.setNode(t.id, { width: TASK_BOX.width, height: TASK_BOX.height });
  for (const t of tasks) for (const d of t.deps) if (ids.has(d)) g.setEdge(d, t.id);
  dagre.layout(g);
  const out = new Map<string, Point>();
  for (const t of tasks) {
    const n = g.node(t.id);
    out.set(t.id, { x: n.x - TASK_BOX.width / 2, y: n.y - TASK_BOX.height / 2 });
  }
  return out;
}

/** At most this many boxes in the grouped view: consecutive waves share a box when there are more. */
export const MAX_GROUPS = 20;

/** A box of the grouped view: waves `from` to `to` (inclusive) of a large run. */
export interface WaveGroup {
  from: number;
  to: number;
  total: number;
  counts: Record<TaskState, number>;
  /** Its tasks on the critical path (in plan order). */
  critical: string[];
}

/**
 * The waves of a run in at most `maxGroups` boxes of consecutive waves, in order. A run of 10,000
 * tasks may have hundreds of waves of a dozen tasks each: a box per wave would be as unreadable
 * as a box per task.
 */
export function groupByWave(tasks: readonly TaskStatus[], maxGroups = MAX_GROUPS): WaveGroup[] {
  const maxWave = tasks.reduce((m, t) => Math.max(m, t.wave), 0);
  const size = Math.ceil((maxWave + 1) / maxGroups);
  const groups = new Map<number, WaveGroup>();
  for (const t of tasks) {
    const k = Math.floor(t.wave / size);
    let g = groups.get(k);
    if (!g) {
      g = {
        from: k * size,
        to: Math.min(maxWave, k * size + size - 1),
        total: 0,
        counts: { pending: 0, ready: 0, running: 0, verifying: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
        critical: [],
      };
      groups.set(k, g);
    }
    g.total++;
    g.counts[t.state]++;
    if (t.critical) g.critical.push(t.id);
  }
  return [...groups.values()].sort((a, b) => a.from - b.from);
}

/** Where a wave's box goes, and from which side the line from the wave before comes in. */
export interface WavePlace extends Point {
  /** The side of this box the line from the previous wave enters, and the previous box's side it leaves. */
  from: { source: 'right' | 'left' | 'bottom'; target: 'left' | 'right' | 'top' };
}

/**
 * Waves in rows of `perRow`, snaking (left to right, then right to left) so that each wave sits
 * next to the one before it.
 */
export function layoutWaves(count: number, perRow: number): WavePlace[] {
  const gapX = 40;
  const gapY = 36;
  return Array.from({ length: count }, (_, i) => {
    const row = Math.floor(i / perRow);
    const col = row % 2 === 0 ? i % perRow : perRow - 1 - (i % perRow);
    const from: WavePlace['from'] =
      i % perRow === 0
        ? { source: 'bottom', target: 'top' }
        : row % 2 === 0
          ? { source: 'right', target: 'left' }
          : { source: 'left', target: 'right' };
    return { x: col * (WAVE_BOX.width + gapX), y: row * (WAVE_BOX.height + gapY), from };
  });
}
