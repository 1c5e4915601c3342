/**
 * @module gateway/controller
 * `clusterdns gateway`'s loop: on every change of the DNSRecords (or of the
 * Services and endpoints they name) render the nginx configuration, check it
 * with `nginx -t`, and only then write it and reload nginx. When nginx
 * rejects a candidate, the error's line names the record that caused it:
 * that record falls back to its last version nginx accepted (or is left out
 * when it never had one), the error is logged with the record's name, and
 * the rest is checked again, so one bad record never holds back the others
 * nor takes down routes that worked. A rejected version is not retried until
 * it changes. Applies are serialised: a change during one runs one more.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { DnsRecordFeeds } from '../dnsrecord/feeds.ts';
import { describeDnsRecord, dnsRecordKey, sameDnsRecord, type DnsRecord } from '../dnsrecord/record.ts';
import type { NginxBinary } from './nginx.ts';
import { ownerOfLine, renderNginx, type RenderedConfig, type RenderOptions } from './render.ts';
import { SerialRounds } from '../util/serial-rounds.ts';
import { errorMessage } from '../errors/to-error.ts';

export interface GatewayControllerOptions {
  readonly feeds: DnsRecordFeeds;
  readonly nginx: NginxBinary;
  readonly render: RenderOptions;
  /** The servers file nginx includes. */
  readonly serversFile: string;
  /** Reload after a new file is written; false when there was nothing to reload (null: only write, as `--once`). */
  readonly reload: (() => Promise<boolean>) | null;
  readonly logger: Logger;
  /** Quiet time after a change before rendering (default 50 ms: a burst of events is one reload). */
  readonly debounceMs?: number;
}

/** A record version nginx refused, and why. */
interface Rejected {
  readonly record: DnsRecord;
  readonly message: string;
}

export type ApplyOutcome = 'unchanged' | 'applied' | 'rejected';

export class GatewayController {
  readonly #o: GatewayControllerOptions;
  readonly #log: Logger;
  /** Last version of each record nginx accepted. */
  readonly #lastGood = new Map<string, DnsRecord>();
  readonly #rejected = new Map<string, Rejected>();
  #current: string | null = null;
  #problems = new Set<string>();
  readonly #rounds = new SerialRounds(() => this.#syncOnce());
  #debounce: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Configurations written and reloaded (tests wait on it). */
  applied = 0;
  /** Candidates nginx refused. */
  rejections = 0;
  /** Changes of the records or Services the feeds reported. */
  changes = 0;
  /**
   * `changes` as it was when the last finished round began: equal to
   * `changes` once every reported change has been rendered (and applied, or
   * found to change nothing). Tests prove an absence with it, not a sleep.
   */
  renderedChanges = 0;
  /** The last error nginx gave for a record, by key (cleared when a version is accepted). */
  get rejected(): ReadonlyMap<string, string> {
    return new Map([...this.#rejected].map(([k, v]) => [k, v.message]));
  }

  constructor(o: GatewayControllerOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** The text nginx serves now (null before the first apply). */
  get current(): string | null {
    return this.#current;
  }

  /** Applies once now, then follows every change. */
  async start(): Promise<void> {
    await this.sync();
    this.#unsubscribe = this.#o.feeds.subscribe(() => this.#changed());
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    await this.#rounds.running;
  }

  #changed(): void {
    this.changes++;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => { this.#debounce = null; void this.sync(); }, this.#o.debounceMs ?? 50);
  }

  /** Render, check and apply now (serialised: a call during a run schedules one more). */
  sync(): Promise<void> {
    return this.#rounds.run();
  }

  async #syncOnce(): Promise<void> {
    const changes = this.changes;
    try {
      await this.applyOnce();
      this.renderedChanges = changes;
    } catch (e) {
      this.#log.error(`applying the nginx configuration failed: ${errorMessage(e)}; retrying on the next change`);
    }
  }

  /** One render-check-apply round. */
  async applyOnce(): Promise<ApplyOutcome> {
    const wanted = [...this.#o.feeds.records.winners().values()];
    // Versions nginx refused stay out until they change: their last good version stands in.
    const view = new Map<string, DnsRecord>();
    for (const r of wanted) {
      const key = dnsRecordKey(r);
      const bad = this.#rejected.get(key);
      if (bad !== undefined && !sameDnsRecord(bad.record, r)) this.#rejected.delete(key);
      if (this.#rejected.has(key)) {
        const good = this.#lastGood.get(key);
        if (good !== undefined) view.set(key, good);
      } else {
        view.set(key, r);
      }
    }
    let outcome: ApplyOutcome = 'unchanged';
    // Each failed check takes one record out, so this ends within records + 1 checks.
    for (let attempt = 0; attempt <= wanted.length; attempt++) {
      const rendered = renderNginx(view.values(), this.#o.feeds.cluster, this.#o.render);
      if (rendered.text === this.#current) break;
      const check = await this.#o.nginx.check(rendered.text);
      if (check.ok) {
        this.#install(rendered);
        const reloaded = this.#o.reload !== null && (await this.#o.reload());
        for (const [key, r] of view) this.#lastGood.set(key, r);
        for (const key of [...this.#lastGood.keys()]) if (!view.has(key)) this.#lastGood.delete(key);
        this.applied++;
        this.#log.info(`nginx configuration applied: ${view.size} hosts${reloaded ? ', nginx reloaded' : ''}`);
        return outcome === 'rejected' ? 'rejected' : 'applied';
      }
      this.rejections++;
      outcome = 'rejected';
      const key = check.file === this.#o.nginx.candidatePath && check.line !== null ? ownerOfLine(rendered, check.line) : null;
      const culprit = key !== null ? view.get(key) : undefined;
      if (key === null || culprit === undefined) {
        this.#log.error(`nginx rejected the configuration: ${check.message}; keeping the last good configuration`);
        return outcome;
      }
      const good = this.#lastGood.get(key);
      const fallback = good !== undefined && good !== culprit ? 'serving its last good version' : 'leaving it out';
      this.#log.error(`nginx rejected ${describeDnsRecord(culprit)} (${culprit.origin}): ${check.message}; ${fallback}, the other records are applied`);
      const latest = wanted.find((r) => dnsRecordKey(r) === key) ?? culprit;
      this.#rejected.set(key, { record: latest, message: check.message });
      if (good !== undefined && good !== culprit) view.set(key, good);
      else view.delete(key);
    }
    return outcome;
  }

  #install(rendered: RenderedConfig): void {
    const file = this.#o.serversFile;
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename: nginx (or a reload racing us) never reads half a file.
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, rendered.text);
    renameSync(tmp, file);
    this.#current = rendered.text;
    const problems = new Set(rendered.problems);
    for (const p of problems) if (!this.#problems.has(p)) this.#log.warn(p);
    this.#problems = problems;
  }
}
