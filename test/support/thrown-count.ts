/**
 * @module test/support/thrown-count
 * Counts the exceptions thrown while a synchronous function runs, caught or
 * not, through the in-process inspector pausing on every exception. Lets a
 * test prove that a path reports bad input by return values and never by
 * an exception caught somewhere inside.
 */
import { Session } from 'node:inspector';

/** Runs `fn` and returns how many exceptions were thrown inside it. */
export function thrownDuring(fn: () => void): number {
  const session = new Session();
  session.connect();
  let thrown = 0;
  session.on('Debugger.paused', () => { thrown++; session.post('Debugger.resume'); });
  session.post('Debugger.enable');
  session.post('Debugger.setPauseOnExceptions', { state: 'all' });
  try {
    fn();
  } finally {
    session.post('Debugger.setPauseOnExceptions', { state: 'none' });
    session.disconnect();
  }
  return thrown;
}
