// The run's DAG with React Flow: each task a box coloured by its state, its dependencies as
// edges, the critical path drawn thicker. Above GROUP_THRESHOLD tasks, a box per wave (or per run
// of consecutive waves) with its tasks counted by state instead: thousands of boxes would make the
// page crawl and say nothing. A click on such a box shows its tasks in the list.
import { useCallback, useMemo, useRef } from 'react';
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
} from '@xyflow/react';
import { GROUP_THRESHOLD, groupByWave, layoutTasks, layoutWaves, type WaveGroup } from './dag-layout';
import { TASK_STATES, waveLabel, type TaskState, type TaskStatus, type WaveRange } from './types';

type TaskNode = Node<{ task: TaskStatus; selected: boolean }, 'task'>;
type WaveNode = Node<{ group: WaveGroup }, 'wave'>;

/** A task's box. */
function TaskBox({ data }: NodeProps<TaskNode>) {
  const { task, selected } = data;
  return (
    <div
      className={`dag-node state-${task.state}${task.critical ? ' critical' : ''}${selected ? ' selected' : ''}`}
      data-testid={`dag-node-${task.id}`}
      data-state={task.state}
      data-critical={task.critical}
      title={`${task.id}: ${task.title}\n${task.state}${task.note ? `\n${task.note}` : ''}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="dag-node-id">{task.id}</div>
      <div className="dag-node-title">{task.title}</div>
      <div className="dag-node-state">
        {task.state}
        {task.attempts > 1 ? ` · ${task.attempts} attempts` : ''}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const SIDES = { left: Position.Left, right: Position.Right, top: Position.Top, bottom: Position.Bottom };

/** A box of waves: its tasks by state, as a bar and as numbers. */
function WaveBox({ data }: NodeProps<WaveNode>) {
  const { group } = data;
  const states = TASK_STATES.filter((s) => group.counts[s] > 0);
  return (
    <div
      className={`dag-wave${group.critical.length ? ' critical' : ''}`}
      data-testid={`dag-wave-${group.from}`}
      data-from={group.from}
      data-to={group.to}
      title={group.critical.length ? `critical path: ${group.critical.join(', ')}` : undefined}
    >
      {Object.entries(SIDES).map(([id, position]) => (
        <Handle key={`s-${id}`} id={`s-${id}`} type="source" position={position} isConnectable={false} />
      ))}
      {Object.entries(SIDES).map(([id, position]) => (
        <Handle key={`t-${id}`} id={`t-${id}`} type="target" position={position} isConnectable={false} />
      ))}
      <div className="dag-wave-title">
        {waveLabel(group)} · {group.total} {group.total === 1 ? 'task' : 'tasks'}
      </div>
      <div className="progress-bar">
        {states.map((s) => (
          <span key={s} className={`seg state-${s}`} style={{ width: `${(group.counts[s] / group.total) * 100}%` }} />
        ))}
      </div>
      <ul className="dag-wave-counts">
        {states.map((s) => (
          <li key={s}>
            <span className={`swatch state-${s}`} aria-hidden /> {group.counts[s]} {s}
          </li>
        ))}
      </ul>
      {group.critical.length > 0 && (
        <div className="dag-wave-critical">
          critical path: {group.critical.length <= 3 ? group.critical.join(', ') : `${group.critical.length} tasks`}
        </div>
      )}
    </div>
  );
}

const NODE_TYPES = { task: TaskBox, wave: WaveBox };

/**
 * The boxes' measured sizes, kept across renders. The nodes are made afresh from each status
 * report; a node without its size is hidden by React Flow until measured again, so every refresh
 * of a live run would make the boxes blink. Returns the sizes and the `onNodesChange` that keeps them.
 */
function useMeasured(): [Map<string, { width: number; height: number }>, (changes: NodeChange[]) => void] {
  const sizes = useRef(new Map<string, { width: number; height: number }>());
  const onNodesChange = useCallback((changes: NodeChange[]) => {
    for (const c of changes) if (c.type === 'dimensions' && c.dimensions) sizes.current.set(c.id, c.dimensions);
  }, []);
  return [sizes.current, onNodesChange];
}

/** Props of the DAG view. */
export interface DagViewProps {
  tasks: TaskStatus[];
  selected: string | null;
  /** A task clicked. */
  onSelect: (task: string) => void;
  /** A box of waves clicked (the grouped view). */
  onWaves?: (waves: WaveRange) => void;
}

/** The DAG: task by task up to {@link GROUP_THRESHOLD} tasks, else by wave. */
export function DagView({ tasks, selected, onSelect, onWaves }: DagViewProps) {
  const grouped = tasks.length > GROUP_THRESHOLD;
  return (
    <div className="dag" data-testid="dag" data-mode={grouped ? 'waves' : 'tasks'}>
      <div className="dag-legend">
        {grouped && (
          <span className="muted">
            {tasks.length} tasks, drawn by wave (more than {GROUP_THRESHOLD}); the list has each task.
          </span>
        )}
        {TASK_STATES.map((s: TaskState) => (
          <span key={s} className="legend-item">
            <span className={`swatch state-${s}`} aria-hidden /> {s}
          </span>
        ))}
        <span className="legend-item">
          <span className="swatch critical-swatch" aria-hidden /> critical path
        </span>
      </div>
      <div className="dag-canvas">
        {tasks.length === 0 ? (
          <p className="muted">No plan yet.</p>
        ) : grouped ? (
          <WaveGraph tasks={tasks} onWaves={onWaves} />
        ) : (
          <TaskGraph tasks={tasks} selected={selected} onSelect={onSelect} />
        )}
      </div>
    </div>
  );
}

/** Task by task. The layout changes only when the tasks or their dependencies do, not their states. */
function TaskGraph({ tasks, selected, onSelect }: Omit<DagViewProps, 'onWaves'>) {
  // The layout depends on the tasks' ids and dependencies only: `shape` says them.
  const shape = tasks.map((t) => `${t.id}<${t.deps.join(',')}`).join(' ');
  const positions = useMemo(() => layoutTasks(tasks), [shape]);
  const [sizes, onNodesChange] = useMeasured();
  const nodes: TaskNode[] = tasks.map((t) => ({
    id: t.id,
    type: 'task',
    position: positions.get(t.id) ?? { x: 0, y: 0 },
    measured: sizes.get(t.id),
    data: { task: t, selected: t.id === selected },
    draggable: false,
    connectable: false,
  }));
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const edges: Edge[] = tasks.flatMap((t) =>
    t.deps
      .filter((d) => byId.has(d))
      .map((d) => {
        const critical = t.critical && byId.get(d)!.critical;
        return {
          id: `${d}->${t.id}`,
          source: d,
          target: t.id,
          animated: t.state === 'running',
          className: critical ? 'critical' : undefined,
          style: critical ? { strokeWidth: 3.5 } : { strokeWidth: 1.5 },
        };
      }),
  );
  return (
    <ReactFlow
      key={shape.length}
      nodes={nodes}
      edges={edges}
      nodeTypes={NODE_TYPES}
      onNodesChange={onNodesChange}
      onNodeClick={(_, node) => onSelect(node.id)}
      nodesDraggable={false}
      nodesConnectable={false}
      fitView
      fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
      minZoom={0.05}
    >
      <Background gap={24} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

/**
 * By wave: a box per run of waves, each joined to the one before (every task of a wave but the
 * first depends on a task of the wave before).
 */
function WaveGraph({ tasks, onWaves }: { tasks: TaskStatus[]; onWaves: ((waves: WaveRange) => void) | undefined }) {
  const groups = groupByWave(tasks);
  const places = layoutWaves(groups.length, Math.max(1, Math.min(5, Math.ceil(Math.sqrt(groups.length * 1.5)))));
  const [sizes, onNodesChange] = useMeasured();
  const nodes: WaveNode[] = groups.map((g, i) => ({
    id: `wave-${g.from}`,
    type: 'wave',
    position: places[i]!,
    measured: sizes.get(`wave-${g.from}`),
    data: { group: g },
    draggable: false,
    connectable: false,
  }));
  const edges: Edge[] = groups.slice(1).map((g, i) => {
    const prev = groups[i]!;
    const critical = g.critical.length > 0 && prev.critical.length > 0;
    const from = places[i + 1]!.from;
    return {
      id: `wave-${prev.from}->wave-${g.from}`,
      source: `wave-${prev.from}`,
      target: `wave-${g.from}`,
      sourceHandle: `s-${from.source}`,
      targetHandle: `t-${from.target}`,
      className: critical ? 'critical' : undefined,
      style: critical ? { strokeWidth: 3.5 } : { strokeWidth: 1.5 },
    };
  });
  return (
    <ReactFlow
      key={groups.length}
      nodes={nodes}
      edges={edges}
      nodeTypes={NODE_TYPES}
      onNodesChange={onNodesChange}
      onNodeClick={(_, node) => {
        const { from, to } = (node as WaveNode).data.group;
        onWaves?.({ from, to });
      }}
      nodesDraggable={false}
      nodesConnectable={false}
      fitView
      fitViewOptions={{ padding: 0.1, maxZoom: 1 }}
      minZoom={0.05}
    >
      <Background gap={24} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
