/**
 * @module server/loop-delay
 * How late the event loop runs, measured while the server listens: a timer
 * due every INTERVAL_MS notes how late it fired (the time the loop was busy
 * with something else: a long synchronous step, a GC pause), into a
 * cumulative histogram that never resets. /metrics shows it as
 * clusterdns_event_loop_delay_seconds (prometheus plugin); a benchmark reads
 * it before and after a run and takes the difference of the buckets, so its
 * percentiles cover exactly the run, whoever else scrapes. One per process:
 * every server of the process shares the loop. Once no packet has arrived
 * for IDLE_AFTER_MS the timer is due every IDLE_INTERVAL_MS instead: an idle
 * server (a node-local cache on every node) should not wake its CPU 100
 * times a second to learn that nothing waited (measured: 2.3 % of a core on
 * this box, 0.1 % at the idle cadence; bench/README.md "Idle peers").
 */
import { packetCount } from './serve.ts';

/** Upper bounds in seconds: fine below a millisecond (the p99 target), coarse above. */
export const LOOP_DELAY_BUCKETS: readonly number[] = [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** How often the timer is due while packets arrive: often enough to catch short stalls. */
export const INTERVAL_MS = 10;
/**
 * How long without a packet (or since the start) before the timer slows
 * down: a lull shorter than this keeps the fine cadence (a server at 50 q/s
 * does not flap). Short, so a benchmark's peer just measured is idle within
 * the next peer's 1 s warm-up.
 */
export const IDLE_AFTER_MS = 1000;
/** How often it is due once idle; the first run that sees a packet goes back to INTERVAL_MS. */
export const IDLE_INTERVAL_MS = 1000;

export class LoopDelayHistogram {
  /** Per-bucket counts (not cumulative), one per bound plus +Inf. */
  readonly counts = new Float64Array(LOOP_DELAY_BUCKETS.length + 1);
  /** Sum of the delays, seconds. */
  sum = 0;
  /** Largest delay seen, seconds. */
  max = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #due = 0;
  #users = 0;
  #seen = 0;
  #lastActive = 0;
  readonly #now: () => number;
  readonly #activity: () => number;

  /** `activity`: a count that changes whenever there was work (packets served); unchanged for IDLE_AFTER_MS means idle. */
  constructor(now: () => number = () => performance.now(), activity: () => number = packetCount) {
    this.#now = now;
    this.#activity = activity;
  }

  /** Records one delay of `ms` milliseconds. */
  record(ms: number): void {
    const s = ms > 0 ? ms / 1000 : 0;
    let i = 0;
    while (i < LOOP_DELAY_BUCKETS.length && s > LOOP_DELAY_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += s;
    if (s > this.max) this.max = s;
  }

  /** Starts measuring (for the first user); the timer never keeps the process alive. */
  acquire(): void {
    if (this.#users++ > 0) return;
    this.#seen = this.#activity();
    this.#lastActive = this.#now();
    this.#arm(INTERVAL_MS);
  }

  /** Stops measuring when the last user is done. */
  release(): void {
    if (this.#users === 0 || --this.#users > 0) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#due = this.#now() + ms;
    this.#timer = setTimeout(this.#tick, ms);
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const now = this.#now();
    this.record(now - this.#due);
    const seen = this.#activity();
    if (seen !== this.#seen) { this.#seen = seen; this.#lastActive = now; }
    this.#arm(now - this.#lastActive < IDLE_AFTER_MS ? INTERVAL_MS : IDLE_INTERVAL_MS);
  };
}

let shared: LoopDelayHistogram | null = null;

/** The process's histogram. */
export function processLoopDelay(): LoopDelayHistogram {
  return (shared ??= new LoopDelayHistogram());
}
