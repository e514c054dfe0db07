/**
 * How every normalizer reports bad input: an InputError for the whole body (400), or a
 * Rejection per malformed entry, so that the valid entries are still processed (422
 * `rejected[]`).
 */

/** Input that cannot be processed; the message names the field and is safe to echo. */
export class InputError extends Error {}

/** One malformed entry of a body, by position. */
export interface Rejection {
  index: number;
  reason: string;
}

/** A body's valid entries and its rejected ones. */
export interface Normalized<T> {
  observations: T[];
  rejected: Rejection[];
}
