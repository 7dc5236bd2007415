/** Marks the end of an exhaustive `switch`: compiling fails if a case is missing, and running throws. */
export function unreachable(value: never, what = 'value'): never {
  throw new Error(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}
