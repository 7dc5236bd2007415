// The run id pattern, shared by `swarm run --run-id` and `swarm serve`'s routes.

/**
 * A run id is a ULID as `ulid()` makes it (the ULID spec, github.com/ulid/spec): 26 characters of
 * Crockford's base 32 in upper case, the first at most 7 (a larger one is a timestamp past 2^48 ms,
 * which ulid's `decodeTime` refuses). It becomes a directory name and part of a branch name, so it
 * is checked before any path is built from it.
 */
export const RUN_ID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
