// Loose readers of the fields of protocol objects read without their schema (an attempt's
// assignment.json, status.json and result.json, its events): a field of the wrong type reads as
// absent, so the dashboard shows a blank rather than breaking on a file another backend shaped.

/** A string field; null when absent or not a string. */
export function stringField(o: Record<string, unknown> | null, key: string): string | null {
  return o && typeof o[key] === 'string' ? (o[key] as string) : null;
}

/** A finite number field; null when absent or not a finite number. */
export function numberField(o: Record<string, unknown> | null, key: string): number | null {
  return o && typeof o[key] === 'number' && Number.isFinite(o[key]) ? (o[key] as number) : null;
}

/** The strings of an array field; [] when absent or not an array (elements that are not strings are left out). */
export function stringsField(o: Record<string, unknown> | null, key: string): string[] {
  return o && Array.isArray(o[key]) ? (o[key] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
}
