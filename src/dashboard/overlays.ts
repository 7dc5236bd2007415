// What opens over the dashboard for a moment: the `?` help box, and the `/` prompt that reads a
// task filter on the bottom line.
import blessed from 'blessed';
import { helpText } from './keys.js';
import type { TaskFilter } from './filter.js';
import type { Paint } from './theme.js';

/** Opens the `?` help box (every key and what it does) in the middle of the screen; any key closes it (the caller destroys it). */
export function openHelp(screen: blessed.Widgets.Screen, paint: Paint): blessed.Widgets.BoxElement {
  const lines = helpText();
  const width = Math.min(Number(screen.width) || 80, Math.max(...lines.map((l) => l.length)) + 4);
  const height = Math.min(Number(screen.height) || 24, lines.length + 2);
  return blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width,
    height,
    border: { type: 'line' },
    label: ' keys ',
    tags: true,
    content: lines.map((l) => paint('normal', l)).join('\n'),
  });
}

/**
 * Reads a filter on the bottom line (`filter: `, prefilled with the current one); the textbox has
 * the keys until enter or esc. Renders the screen at once.
 * @param done called once with what was typed (enter), or undefined (esc); the prompt is gone by then
 */
export function readFilter(
  screen: blessed.Widgets.Screen,
  current: TaskFilter | null,
  done: (value: string | undefined) => void,
): void {
  const prompt = blessed.textbox({
    parent: screen,
    bottom: 0,
    left: 0,
    height: 1,
    width: '100%',
    inputOnFocus: false,
    style: { fg: 'white' },
  });
  const label = blessed.text({ parent: screen, bottom: 0, left: 0, height: 1, content: 'filter: ' });
  prompt.left = 8;
  prompt.width = (Number(screen.width) || 80) - 8;
  prompt.setValue(current ? `${[...(current.states ?? [])].join(' ')} ${current.text ?? ''}`.trim() : '');
  screen.render();
  prompt.readInput((_err, value) => {
    prompt.destroy();
    label.destroy();
    done(typeof value === 'string' ? value : undefined);
  });
}
