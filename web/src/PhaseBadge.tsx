// A run's phase, and its outcome once it finished, as a coloured badge.
import type { RunPhase } from './types';

/** The badge; `finished` shows the outcome beside it. */
export function PhaseBadge({ phase, outcome }: { phase: RunPhase; outcome: string | null }) {
  const tone = phase === 'finished' ? (outcome === 'succeeded' ? 'good' : 'bad') : phase;
  return (
    <span className={`badge phase-${tone}`}>
      <span data-testid="run-phase">{phase}</span>
      {outcome && <span data-testid="run-outcome">: {outcome}</span>}
    </span>
  );
}
