/**
 * @module plugins/forward/deadlines
 * The read deadlines of every upstream query in flight, in one structure with
 * one timer: a binary min-heap by deadline, the timer set for the earliest.
 * Thousands of queries to a black-holed upstream then expire through one
 * timer callback instead of thousands of timers firing in the same tick, and
 * expiry runs in slices of at most EXPIRE_SLICE callbacks with a setImmediate
 * between slices, so the listening sockets are read while a backlog expires.
 * The clock is monotonic (performance.now), not the wall clock: a clock step
 * must not make a deadline fire an hour late. Tests that mock setTimeout point
 * `deadlineClock.now` at the mocked Date.now meanwhile.
 */

/** The clock of every queue made without one: replaced only by tests that mock timers. */
export const deadlineClock = { now: (): number => performance.now() };

/** Most expiry callbacks run in one turn of the event loop. */
export const EXPIRE_SLICE = 128;

export interface DeadlineEntry {
  /** Clock time (ms) at which `expire` runs. */
  readonly at: number;
  /** Heap slot, -1 once expired or cancelled. */
  slot: number;
  readonly expire: () => void;
}

export class DeadlineQueue {
  readonly #heap: DeadlineEntry[] = [];
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  /** When the timer is set to fire (clock ms), or Infinity. */
  #timerAt = Infinity;
  #sliceQueued = false;
  /** Expiry callbacks run so far (tests, metrics). */
  expired = 0;

  constructor(now: () => number = () => deadlineClock.now()) {
    this.#now = now;
  }

  /** The queue's clock (ms): also what upstream RTTs are measured with, so they agree with the deadlines. */
  now(): number {
    return this.#now();
  }

  /** Pending deadlines. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `expire` once `ms` have passed, unless cancelled first. */
  add(ms: number, expire: () => void): DeadlineEntry {
    const e: DeadlineEntry = { at: this.#now() + ms, slot: this.#heap.length, expire };
    this.#heap.push(e);
    this.#up(e.slot);
    if (e.slot === 0) this.#arm();
    return e;
  }

  /** Removes `e` (a finished query); a no-op when it already expired. */
  cancel(e: DeadlineEntry): void {
    const i = e.slot;
    if (i < 0) return;
    e.slot = -1;
    const last = this.#heap.pop()!;
    if (i < this.#heap.length) {
      this.#heap[i] = last;
      last.slot = i;
      this.#down(i);
      this.#up(last.slot);
    }
    // The timer may now fire early for nothing; it re-arms for the new earliest then (cheaper than clearing here).
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Calls every pending deadline now (shutdown: in-flight upstream queries end instead of waiting). */
  expireAll(): void {
    const all = this.#heap.splice(0);
    this.#disarm();
    for (const e of all) {
      e.slot = -1;
      this.expired++;
      try { e.expire(); } catch { /* as in a slice */ }
    }
  }

  /** Cancels every deadline without calling it. */
  clear(): void {
    for (const e of this.#heap) e.slot = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined || this.#sliceQueued) return;
    if (this.#timer !== null && this.#timerAt <= first.at) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = first.at;
    this.#timer = setTimeout(() => { this.#timer = null; this.#timerAt = Infinity; this.#expireSlice(); }, Math.max(0, first.at - this.#now()));
    // Deadlines never keep the process alive on their own: the sockets they guard do while open.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  #expireSlice(): void {
    this.#sliceQueued = false;
    const now = this.#now();
    let n = 0;
    while (n < EXPIRE_SLICE) {
      const first = this.#heap[0];
      if (first === undefined || first.at > now) break;
      this.cancel(first);
      n++;
      this.expired++;
      try { first.expire(); } catch { /* an expiry callback only rejects its own query */ }
    }
    const next = this.#heap[0];
    if (next !== undefined && next.at <= now) {
      // More are due: let I/O (the listeners' reads) run first, then the next slice.
      this.#sliceQueued = true;
      setImmediate(() => { this.#expireSlice(); });
    } else this.#arm();
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.at <= e.at) break;
      h[i] = parent;
      parent.slot = i;
      i = p;
    }
    h[i] = e;
    e.slot = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      const child = h[c]!;
      if (child.at >= e.at) break;
      h[i] = child;
      child.slot = i;
      i = c;
    }
    h[i] = e;
    e.slot = i;
  }
}

/** A process-wide queue for one-off exchanges outside a forward (the doctor's probes). */
export const sharedDeadlines = new DeadlineQueue();
