/**
 * @module util/serial-rounds
 * Work that must not overlap and must not miss a request: a call while a
 * round runs returns that round's promise and asks for one more round after
 * it, so any number of calls during a round cost exactly one more round.
 * The manifest source's re-reads and the gateway's render-check-apply use it.
 */
export class SerialRounds {
  readonly #round: () => Promise<void>;
  readonly #stopped: () => boolean;
  #running: Promise<void> | null = null;
  #again = false;

  /** `round` is one pass of the work; no further round starts once `stopped()` is true. */
  constructor(round: () => Promise<void>, stopped: () => boolean = () => false) {
    this.#round = round;
    this.#stopped = stopped;
  }

  /** The round running now, or null. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  /** Ask for one more round once the running one ends (from inside a round: "do it again"). */
  again(): void {
    this.#again = true;
  }

  /** Run a round now, or one more after the running one. */
  run(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#round();
        } while (this.#again && !this.#stopped());
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }
}
