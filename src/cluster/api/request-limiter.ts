/**
 * @module cluster/api/request-limiter
 * Client-side limits on requests to the API server (`apiserver_qps`,
 * `apiserver_burst`, `apiserver_max_inflight`): a token bucket (QPS tokens
 * per second, up to BURST saved) that every request start takes one token
 * from (list pages, watch starts and restarts), and a cap on requests in
 * flight. As the API server's own max-inflight filter does, an open watch
 * stream is long-running and stops counting once its response headers
 * arrived; a list counts until its body has been read.
 */

export interface RequestLimits {
  /** Requests per second; 0 = no rate limit. */
  readonly qps: number;
  /** Tokens saved up for bursts; 0 = client-go's default (10). Ignored without qps. */
  readonly burst: number;
  /** Requests in flight at once; 0 = no limit. */
  readonly maxInflight: number;
}

/** client-go's rest.DefaultBurst, used when only a QPS is given. */
export const DEFAULT_BURST = 10;

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export class RequestLimiter {
  readonly qps: number;
  readonly burst: number;
  readonly maxInflight: number;
  readonly #now: () => number;
  /** Tokens available at #updated; negative while requests wait for reserved tokens. */
  #tokens: number;
  #updated: number;
  #inflight = 0;
  #peakInflight = 0;
  /** Requests waiting for an in-flight slot, oldest first. */
  readonly #slotWaiters: (() => void)[] = [];

  constructor(limits: RequestLimits, now: () => number = () => Date.now()) {
    if (!(limits.qps >= 0) || !(limits.burst >= 0) || !(limits.maxInflight >= 0)) throw new RangeError('request limits must be >= 0');
    this.qps = limits.qps;
    this.burst = limits.qps > 0 ? Math.max(1, limits.burst || DEFAULT_BURST) : 0;
    this.maxInflight = Math.floor(limits.maxInflight);
    this.#now = now;
    this.#tokens = this.burst;
    this.#updated = now();
  }

  /** A limiter for these limits, or null when none of them limits anything. */
  static from(limits: RequestLimits): RequestLimiter | null {
    return limits.qps > 0 || limits.maxInflight > 0 ? new RequestLimiter(limits) : null;
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Requests waiting for an in-flight slot now. */
  get waiting(): number {
    return this.#slotWaiters.length;
  }

  /** Most requests in flight at once so far. */
  get peakInflight(): number {
    return this.#peakInflight;
  }

  /**
   * Waits for a rate token and then an in-flight slot; resolves with the
   * milliseconds waited. The caller must call release() exactly once after a
   * successful acquire. Rejects (holding nothing) when `signal` aborts.
   */
  async acquire(signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const start = this.#now();
    await this.#takeToken(signal);
    // Aborted while waiting for the token, or between the two steps (no abort event comes any more).
    signal.throwIfAborted();
    await this.#takeSlot(signal);
    return this.#now() - start;
  }

  /** Frees the in-flight slot of one acquire(). */
  release(): void {
    if (this.maxInflight === 0) return;
    const next = this.#slotWaiters.shift();
    // The slot passes straight to the next waiter: the count stays the same.
    if (next !== undefined) next();
    else if (this.#inflight > 0) this.#inflight--;
  }

  #refill(): void {
    const now = this.#now();
    // A wall clock stepped back adds no tokens (and takes none away).
    this.#tokens = Math.min(this.burst, this.#tokens + (Math.max(0, now - this.#updated) / 1000) * this.qps);
    this.#updated = now;
  }

  /** Reserves a token now (the balance may go negative) and sleeps until it is covered, like golang.org/x/time/rate. */
  #takeToken(signal: AbortSignal): Promise<void> {
    if (this.qps === 0) return Promise.resolve();
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return Promise.resolve();
    const waitMs = Math.ceil((-this.#tokens / this.qps) * 1000);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#tokens += 1; // hand the reservation back
        reject(abortError(signal));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #takeSlot(signal: AbortSignal): Promise<void> {
    if (this.maxInflight === 0) return Promise.resolve();
    if (this.#inflight < this.maxInflight) {
      this.#inflight++;
      this.#peakInflight = Math.max(this.#peakInflight, this.#inflight);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.#slotWaiters.indexOf(grant);
        if (i >= 0) this.#slotWaiters.splice(i, 1);
        reject(abortError(signal));
      };
      this.#slotWaiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
