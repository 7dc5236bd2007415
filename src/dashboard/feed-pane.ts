// The event feed: the model's feed (one line per event, worded by presenter/event-text.ts) with
// each event's clock time, in a scroll pane that stays at the end as events come.
import type blessed from 'blessed';
import { clockTime } from '../presenter/format.js';
import type { RunModel } from './model.js';
import { ScrollPane } from './scroll-pane.js';
import type { Line, Paint } from './theme.js';

/** The feed pane of one dashboard. */
export class FeedPane {
  readonly pane: ScrollPane;
  #key = '';
  /** Each feed line formatted once (the feed keeps its line objects until they fall off its end). */
  readonly #cache = new WeakMap<object, Line>();

  constructor(parent: blessed.Widgets.Screen, paint: Paint) {
    this.pane = new ScrollPane({ parent, paint, label: 'events', follow: true, wrap: false });
  }

  /** Hands the pane the model's feed when it changed since the last call. */
  update(model: RunModel): void {
    const feed = model.feed();
    const key = `${feed.length}:${feed.at(-1)?.seq}:${feed.at(-1)?.at}`;
    if (key === this.#key) return;
    this.#key = key;
    this.pane.setLines(
      feed.map((f) => {
        let line = this.#cache.get(f);
        if (!line) this.#cache.set(f, (line = { text: `${clockTime(f.at)} ${f.text}`, tone: f.tone }));
        return line;
      }),
    );
  }
}
