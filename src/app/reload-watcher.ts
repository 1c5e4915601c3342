/**
 * @module app/reload-watcher
 * The process's one Corefile poller, and the SIGUSR1 reload. Each
 * configuration that uses `reload` arms it at startup and disarms it at
 * shutdown (ReloadPoller, through ProcessServices); a reload arms the new one
 * before the old one is disarmed, so there is only ever one timer, re-armed
 * (with fresh jitter) by every generation. A check parses the Corefile
 * (imports expanded) and compares the SHA-512 of the result with the running
 * one, so any change of content counts, also one that arrives as a swapped
 * symlink (Kubernetes ConfigMap volumes), and a touch without change does not.
 * What the check parsed is what the reload builds: one parse per reload.
 */
import type { LoadedCorefile } from '../corefile/load.ts';
import { errorMessage } from '../errors/to-error.ts';
import type { Logger } from '../log/logger.ts';
import type { ProcessServices, ReloadPoller, ReloadSchedule, ServerControl } from '../plugin/process-services.ts';
import { reloadMetrics } from '../plugins/reload/metrics.ts';

export type CheckOutcome = 'unchanged' | 'reloaded' | 'failed' | 'busy';

export class ReloadWatcher implements ReloadPoller {
  readonly #services: ProcessServices;
  readonly #log: Logger;
  /** Schedules of the live configurations; the last armed one runs. */
  readonly #armed: ReloadSchedule[] = [];
  #active: ReloadSchedule | null = null;
  #delayMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #checking = false;
  /** Content that already failed: not retried (nor counted again) until the Corefile changes once more. */
  #failedHash = '';
  #failedParse = '';
  #loggedHash = '';

  constructor(services: ProcessServices) {
    this.#services = services;
    this.#log = services.logger.plugin('reload');
  }

  /** The delay of the running schedule (interval with this arming's jitter), or null when not polling. */
  get delayMs(): number | null {
    return this.#active ? this.#delayMs : null;
  }

  arm(s: ReloadSchedule): void {
    this.#armed.push(s);
    if (s.hash !== '' && s.hash !== this.#loggedHash) {
      this.#loggedHash = s.hash;
      this.#log.info(`Running configuration SHA512 = ${s.hash}`);
    }
    this.#activate(s);
  }

  disarm(s: ReloadSchedule): void {
    const i = this.#armed.lastIndexOf(s);
    if (i >= 0) this.#armed.splice(i, 1);
    if (this.#active !== s) return;
    this.#activate(this.#armed[this.#armed.length - 1] ?? null);
  }

  #activate(s: ReloadSchedule | null): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#active = s;
    if (!s) return;
    this.#delayMs = Math.max(1, s.intervalMs + Math.random() * s.jitterMs - s.jitterMs / 2);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => { void this.#tick(); }, this.#delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    const s = this.#active;
    await this.check();
    // A reload during the check re-armed (and scheduled) its own schedule.
    if (this.#active === s && s !== null && this.#timer === null) this.#schedule();
  }

  /** One poll: reload when the parsed Corefile differs from the running one. */
  async check(): Promise<CheckOutcome> {
    const control = this.#services.control;
    if (!control || this.#checking) return 'busy';
    this.#checking = true;
    try {
      let loaded: LoadedCorefile | null;
      try {
        loaded = control.load();
      } catch (e) {
        const msg = errorMessage(e);
        if (msg === this.#failedParse) return 'unchanged';
        this.#failedParse = msg;
        this.#fail(msg);
        return 'failed';
      }
      this.#failedParse = '';
      // A pool worker does not read the Corefile: its primary tells it when to reload.
      if (loaded === null || loaded.hash === control.configHash || loaded.hash === this.#failedHash) return 'unchanged';
      return await this.#reload(control, loaded, false);
    } finally {
      this.#checking = false;
    }
  }

  /** Reload now whatever the hash says (SIGUSR1). Failures are logged and counted like a poll's. */
  async reloadNow(reason: string): Promise<CheckOutcome> {
    const control = this.#services.control;
    if (!control) return 'busy';
    this.#log.info(`${reason}: reloading`);
    let loaded: LoadedCorefile | null;
    try {
      loaded = control.load();
    } catch (e) {
      this.#failWith(`${reason}: reload failed, keeping the running configuration: ${errorMessage(e)}`);
      return 'failed';
    }
    return this.#reload(control, loaded, true, reason);
  }

  async #reload(control: ServerControl, loaded: LoadedCorefile | null, force: boolean, reason?: string): Promise<CheckOutcome> {
    try {
      await control.reload(force, loaded ?? undefined);
      this.#failedHash = '';
      if (reason) this.#log.info(`${reason}: running configuration SHA512 = ${control.configHash}`);
      return 'reloaded';
    } catch (e) {
      this.#failedHash = loaded?.hash ?? '';
      const msg = errorMessage(e);
      if (reason) this.#failWith(`${reason}: reload failed, keeping the running configuration: ${msg}`);
      else this.#fail(msg);
      return 'failed';
    }
  }

  #fail(msg: string): void {
    this.#failWith(`Corefile changed but reload failed: ${msg}`);
  }

  #failWith(line: string): void {
    reloadMetrics(this.#services).failed.inc();
    this.#log.error(line);
  }
}
