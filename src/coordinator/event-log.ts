// The coordinator's side of events.jsonl and state.json: appends gap-free events, keeps the state
// they derive, snapshots it (throttled), and tells presenters about each event.
import type { NewEvent, SwarmEvent } from '../protocol/events.js';
import { writeTextAtomic, writeTextAtomicSync } from '../protocol/files.js';
import { JsonlWriter } from '../protocol/jsonl.js';
import type { RunPaths } from '../protocol/paths.js';
import { applyEvent, type RunState } from '../protocol/state.js';

/** Something that wants every event as it is recorded (the terminal presenter, tests). */
export type EventListener = (event: SwarmEvent, state: RunState) => void;

/** Appends events with the next seq; the only writer of events.jsonl and state.json. */
export class EventLog {
  readonly #paths: RunPaths;
  readonly #writer: JsonlWriter;
  readonly #listeners: EventListener[] = [];
  readonly #snapshotEveryMs: number;
  #snapshotTimer: NodeJS.Timeout | undefined;
  #snapshotWriting: Promise<void> | undefined;
  #dirty = false;
  /** The state after the last appended event. Read-only for everyone but this class. */
  readonly state: RunState;

  /**
   * @param state the state after the events already in the file (from a replay); the next event
   *   gets `state.last_seq + 1`.
   * @param snapshotEveryMs state.json is rewritten at most this often.
   */
  constructor(paths: RunPaths, state: RunState, snapshotEveryMs = 200) {
    this.#paths = paths;
    this.state = state;
    this.#writer = new JsonlWriter(paths.eventsJsonl);
    this.#snapshotEveryMs = snapshotEveryMs;
  }

  /** Adds a listener called after each event is written and applied. */
  listen(listener: EventListener): void {
    this.#listeners.push(listener);
  }

  /** Records one event: assigns seq and time, writes the line, applies it, notifies listeners. */
  append(event: NewEvent): SwarmEvent {
    const full = { seq: this.state.last_seq + 1, at: new Date().toISOString(), ...event } as SwarmEvent;
    this.#writer.append(full);
    applyEvent(this.state, full);
    for (const l of this.#listeners) l(full, this.state);
    this.#scheduleSnapshot();
    return full;
  }

  #scheduleSnapshot(): void {
    this.#dirty = true;
    if (this.#snapshotTimer || this.#snapshotWriting) return;
    // Large runs snapshot less often: serializing 10,000 tasks costs tens of ms.
    const every = Math.max(this.#snapshotEveryMs, Object.keys(this.state.tasks).length / 10);
    this.#snapshotTimer = setTimeout(() => {
      this.#snapshotTimer = undefined;
      void this.#writeSnapshot();
    }, every);
  }

  async #writeSnapshot(): Promise<void> {
    this.#dirty = false;
    // Serialize now: the state keeps changing while the write is in flight.
    this.#snapshotWriting = writeTextAtomic(this.#paths.stateJson, JSON.stringify(this.state) + '\n');
    try {
      await this.#snapshotWriting;
    } finally {
      this.#snapshotWriting = undefined;
    }
    if (this.#dirty) this.#scheduleSnapshot();
  }

  /** Writes state.json now and closes the log (fsynced). */
  async close(): Promise<void> {
    if (this.#snapshotTimer) clearTimeout(this.#snapshotTimer);
    this.#snapshotTimer = undefined;
    await this.#snapshotWriting;
    writeTextAtomicSync(this.#paths.stateJson, JSON.stringify(this.state) + '\n');
    this.#writer.close();
  }
}
