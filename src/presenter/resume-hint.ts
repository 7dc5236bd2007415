// Text that readers of a run show: the resume command for a run whose budget is spent.

/**
 * The `swarm resume` options that double each cap a run has (`--max-cost-usd 10 --max-tokens
 * 2000000`; USD rounded up to a whole dollar), for the command that continues a run whose budget is
 * spent: either cap may be the one that stopped it. Empty without caps.
 */
export function raisedCapOptions(run: { max_cost_usd: number | null; max_tokens: number | null }): string {
  return [
    run.max_cost_usd !== null ? `--max-cost-usd ${Math.ceil(run.max_cost_usd * 2)}` : null,
    run.max_tokens !== null ? `--max-tokens ${run.max_tokens * 2}` : null,
  ]
    .filter(Boolean)
    .join(' ');
}
