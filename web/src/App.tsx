// The page: a bar with the way home, then the runs or one run, as the address says.
import { navigate, useRoute } from './router';
import { RunsPage } from './RunsPage';
import { RunView } from './RunView';

/** The whole page. */
export function App() {
  const route = useRoute();
  return (
    <div className="app">
      <header className="topbar">
        <a
          href="/"
          className="brand"
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: 'runs' });
          }}
        >
          fileswarm
        </a>
        <span className="topbar-note">runs of this repository</span>
      </header>
      <main className="content">
        {route.page === 'runs' ? <RunsPage /> : <RunView key={route.id} id={route.id} task={route.task} />}
      </main>
    </div>
  );
}
