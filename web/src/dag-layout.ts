// Where the DAG's boxes go. A run of up to GROUP_THRESHOLD tasks is drawn task by task, laid out
// left to right by dagre; a larger one is drawn one box per wave (a wave is the tasks whose
// longest chain of dependencies has the same length), with its tasks counted by state.
import dagre from '@dagrejs/dagre';
import type { TaskState, TaskStatus } from './types';

/** Above this many tasks the DAG is drawn by wave. */
export const GROUP_THRESHOLD = 300;

/** Size of a task's box, px. */
export const TASK_BOX = { width: 184, height: 62 };

/** Size of a wave's box, px. */
export const WAVE_BOX = { width: 230, height: 118 };

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

/** One wave of a large run. */
export interface WaveGroup {
  wave: number;
  total: number;
  counts: Record<TaskState, number>;
  /** The wave's tasks on the critical path (in plan order). */
  critical: string[];
}

/** The waves of a run, in order (empty waves left out). */
export function groupByWave(tasks: readonly TaskStatus[]): WaveGroup[] {
  const byWave = new Map<number, WaveGroup>();
  for (const t of tasks) {
    let g = byWave.get(t.wave);
    if (!g) {
      g = {
        wave: t.wave,
        total: 0,
        counts: { pending: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
        critical: [],
      };
      byWave.set(t.wave, g);
    }
    g.total++;
    g.counts[t.state]++;
    if (t.critical) g.critical.push(t.id);
  }
  return [...byWave.values()].sort((a, b) => a.wave - b.wave);
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
  const gapX = 56;
  const gapY = 48;
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
