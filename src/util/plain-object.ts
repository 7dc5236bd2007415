// Whether a parsed JSON value is a plain object (not null, not an array): the one check made
// before reading the fields of a file or record read without its schema.

/** True when `value` is an object that is neither null nor an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a record of fields when it is a plain object (see {@link isPlainObject}), else null. */
export function asPlainObject(value: unknown): Record<string, unknown> | null {
  return isPlainObject(value) ? value : null;
}
