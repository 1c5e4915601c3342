/**
 * @module cluster/api/error-log-gate
 * At most one error line per period: during an API server outage every
 * reflector of a source retries on its own backoff, and the log should say
 * "the API server is unreachable" once per backoff period, not once per
 * retry of every kind. Failures held back are counted and reported with the
 * next line that goes out.
 */

export class ErrorLogGate {
  readonly intervalMs: number;
  #last: number | null = null;
  #suppressed = 0;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /**
   * Whether a failure at `now` may be logged. Returns the number of failures
   * held back since the previous line (0 or more) when it may, else null
   * (and counts this one as held back).
   */
  admit(now: number): number | null {
    if (this.#last !== null && now - this.#last < this.intervalMs) {
      this.#suppressed++;
      return null;
    }
    const held = this.#suppressed;
    this.#last = now;
    this.#suppressed = 0;
    return held;
  }
}
