/**
 * @module plugins/reload/reload-watcher
 * The process's one Corefile poller. Each configuration that uses `reload`
 * arms it at startup and disarms it at shutdown; a reload arms the new one
 * before the old one is disarmed, so there is only ever one timer, re-armed
 * (with fresh jitter) by every generation. A check parses the Corefile
 * (imports expanded) and compares the SHA-512 of the result with the running
 * one, so any change of content counts, also one that arrives as a swapped
 * symlink (Kubernetes ConfigMap volumes), and a touch without change does not.
 */
import { Counter } from 'prom-client';
import type { Logger } from '../../log/logger.ts';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices, ServerControl } from '../../plugin/process-services.ts';
import { registerScraped } from '../../metrics/scraped-metric.ts';
import { errorMessage } from '../../errors/to-error.ts';

export interface ReloadSchedule {
  readonly intervalMs: number;
  /** Jitter span: each arming picks a delay of intervalMs +/- jitterMs/2. */
  readonly jitterMs: number;
  /** SHA-512 of the configuration that armed it, for the startup log line. */
  readonly hash: string;
}

export type CheckOutcome = 'unchanged' | 'reloaded' | 'failed' | 'busy';

export interface ReloadMetrics {
  readonly failed: Counter;
}

/** coredns_reload_failed_total and coredns_reload_version_info{hash="sha512",value}, once per process. */
export function reloadMetrics(services: ProcessServices): ReloadMetrics {
  return processMetric(services, 'reload', (registry) => {
    const failed = new Counter({ name: 'coredns_reload_failed_total', help: 'Counter of the number of failed reload attempts.', registers: [registry] });
    registerScraped(registry, 'coredns_reload_version_info', "A metric with a constant '1' value labeled by hash, and value which type of hash generated.", 'gauge', () => {
      const hash = services.control?.configHash ?? '';
      return hash === '' ? [] : [{ value: 1, labels: { hash: 'sha512', value: hash } }];
    });
    return { failed };
  });
}

export class ReloadWatcher {
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
      let hash: string;
      try {
        hash = control.load().hash;
      } catch (e) {
        const msg = errorMessage(e);
        if (msg === this.#failedParse) return 'unchanged';
        this.#failedParse = msg;
        this.#fail(msg);
        return 'failed';
      }
      this.#failedParse = '';
      if (hash === control.configHash || hash === this.#failedHash) return 'unchanged';
      return await this.#reload(control, hash, false);
    } finally {
      this.#checking = false;
    }
  }

  /** Reload now whatever the hash says (SIGUSR1). Failures are logged and counted like a poll's. */
  async reloadNow(reason: string): Promise<CheckOutcome> {
    const control = this.#services.control;
    if (!control) return 'busy';
    this.#log.info(`${reason}: reloading`);
    let hash = '';
    try { hash = control.load().hash; } catch { /* reported by reload() below */ }
    return this.#reload(control, hash, true, reason);
  }

  async #reload(control: ServerControl, hash: string, force: boolean, reason?: string): Promise<CheckOutcome> {
    try {
      await control.reload(force);
      this.#failedHash = '';
      if (reason) this.#log.info(`${reason}: running configuration SHA512 = ${control.configHash}`);
      return 'reloaded';
    } catch (e) {
      this.#failedHash = hash;
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

/** The process's watcher (created on first use; idle until a configuration with `reload` arms it). */
export function reloadWatcher(services: ProcessServices): ReloadWatcher {
  return services.singleton('reload:watcher', () => new ReloadWatcher(services));
}

/** Reload on a signal (SIGUSR1), counting and logging a failure as `reload` does. */
export function reloadOnSignal(services: ProcessServices, signal: string): Promise<CheckOutcome> {
  return reloadWatcher(services).reloadNow(signal);
}
