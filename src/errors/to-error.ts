/**
 * @module errors/to-error
 * The one way to turn a caught value into an Error or a message. `catch (e)`
 * gives `unknown`: a library may throw a string or an object, and
 * `(e as Error).message` would then log "undefined".
 */

/** `e` when it is an Error, else an Error whose message is `String(e)`. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The message of a caught value, for log lines and `FILE:LINE: what` errors. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
