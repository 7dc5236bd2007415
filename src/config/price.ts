// A model's prices as swarm.yaml gives them (`price:` of an agent role or of the planner), for a
// model the price table (src/llm/prices.ts) does not know.
import { z } from 'zod';

/** Prices of a model the price table does not know, USD per million tokens. */
export const PriceSpec = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
  cache_read: z.number().min(0).optional().meta({ description: 'Default: input / 10.' }),
  cache_write: z.number().min(0).optional().meta({ description: 'Default: input × 1.25.' }),
});
