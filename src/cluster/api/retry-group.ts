/**
 * @module cluster/api/retry-group
 * The reflectors of one API server retry together: when one of them gets an
 * answer after failing, the others that are waiting out a backoff retry at
 * once, with their backoff reset. Without it each kind waited its own
 * backoff (up to its cap) after the API server came back, so names created
 * during an outage appeared up to 30 s late (the soak, bench/soak.ts).
 * client-go resets a reflector's backoff after a success; this shares that
 * success across the kinds of one server.
 */

export class RetryGroup {
  readonly #members = new Set<() => void>();

  /** `retryNow` is called when another member reached the server; returns a function that leaves the group. */
  join(retryNow: () => void): () => void {
    this.#members.add(retryNow);
    return () => { this.#members.delete(retryNow); };
  }

  /** `from` got an answer after failing: every other member retries now. */
  reconnected(from: () => void): void {
    for (const m of this.#members) {
      if (m === from) continue;
      try { m(); } catch { /* one member must not stop the others */ }
    }
  }
}
