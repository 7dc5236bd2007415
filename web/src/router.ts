// The page's two places, in the address bar: `/` (the runs and the start form) and
// `/runs/<id>` (a run; `?task=<id>` selects a task). The server answers index.html for both.
import { useEffect, useState } from 'react';

/** Where the page is. */
export type Route = { page: 'runs' } | { page: 'run'; id: string; task: string | null };

/** Reads the route from a location. */
export function parseRoute(loc: { pathname: string; search: string }): Route {
  const m = /^\/runs\/([^/]+)\/?$/.exec(loc.pathname);
  if (!m) return { page: 'runs' };
  return { page: 'run', id: decodeURIComponent(m[1]!), task: new URLSearchParams(loc.search).get('task') };
}

/** The path of a route. */
export function pathOf(route: Route): string {
  if (route.page === 'runs') return '/';
  const base = `/runs/${encodeURIComponent(route.id)}`;
  return route.task ? `${base}?task=${encodeURIComponent(route.task)}` : base;
}

const CHANGE = 'swarm:navigate';

/** Goes to `route` (a new history entry, or replacing the current one). */
export function navigate(route: Route, replace = false): void {
  const path = pathOf(route);
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current route, updated on navigation and on the browser's back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location));
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}
