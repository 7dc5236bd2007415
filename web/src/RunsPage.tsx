// The home page: the form that starts a run, and the runs.
import { RunsList } from './RunsList';
import { StartForm } from './StartForm';

/** The start form beside the list of runs (stacked on a narrow window). */
export function RunsPage() {
  return (
    <div className="runs-page">
      <StartForm />
      <RunsList />
    </div>
  );
}
