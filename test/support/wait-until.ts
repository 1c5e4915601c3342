/**
 * @module test/support/wait-until
 * Bounded polling for tests: wait until a condition holds, failing after a
 * deadline instead of hanging the test run.
 */

export interface WaitOptions {
  /** Give up after this long (default 3000 ms). */
  readonly timeoutMs?: number;
  /** Poll interval (default 5 ms). */
  readonly intervalMs?: number;
  /** Included in the timeout error. */
  readonly message?: string;
}

/** Resolves once `cond()` is true; rejects after the timeout. */
export async function waitUntil(cond: () => boolean, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  const maxPolls = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let i = 0; i < maxPolls; i++) {
    if (cond()) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (cond()) return;
  throw new Error(`waitUntil: timed out after ${timeoutMs} ms${options.message ? `: ${options.message}` : ''}`);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * `waitUntil` for tests that mock setTimeout and Date (node:test's mock.timers):
 * polls between setImmediate turns, which mock.timers leaves alone unless asked,
 * so real I/O keeps running, for at most `ms` of real time (performance.now is
 * not mocked either). Resolves true when `cond()` held, false at the bound.
 */
export async function ioUntil(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => { setImmediate(r); });
  }
  return true;
}
