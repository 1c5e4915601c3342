/**
 * @module plugins/file/file
 * The file handler: serves each of its zones from an RFC 1035 zone file,
 * read at setup (a bad file is a FILE:LINE error then) and checked every
 * `reload` period afterwards. A changed file whose SOA serial moved replaces
 * the zone; a file that no longer parses is logged and the old zone keeps
 * serving. Names outside its zones go on; NXDOMAIN goes on with `fallthrough`.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { RR } from '../../dns/rr.ts';
import { parseZone } from '../../dns/zonefile.ts';
import type { Logger } from '../../log/logger.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import type { TransferSource } from '../../plugin/transfer-source.ts';
import { Zone } from './zone.ts';
import { errorMessage } from '../../errors/to-error.ts';

export interface FileOptions {
  /** Absolute path of the zone file. */
  readonly path: string;
  /** Canonical zone origins, each read from the same file. */
  readonly zones: readonly string[];
  /** Check period in ms; 0: read once. */
  readonly reloadMs: number;
  readonly fallthrough: Fallthrough;
}

/** Reads and checks one zone (throws ZoneFileError with FILE:LINE, or ZoneError). `$INCLUDE` paths are relative to the file's folder. */
export function loadZone(path: string, origin: string): Zone {
  const dir = dirname(path);
  const records: RR[] = parseZone(readFileSync(path, 'utf8'), {
    origin, file: path,
    include: (p) => { const file = isAbsolute(p) ? p : join(dir, p); return { text: readFileSync(file, 'utf8'), file }; },
  });
  return new Zone(origin, records);
}

export class FileHandler implements ChainHandler, TransferSource {
  readonly name = 'file';
  next!: Handler;
  readonly #opts: FileOptions;
  readonly #log: Logger;
  /** Longest origin first, so the most specific zone answers. */
  readonly #origins: readonly string[];
  readonly #zones = new Map<string, Zone>();
  readonly #listeners: ((zone: string) => void)[] = [];
  #seen = '';
  #timer: NodeJS.Timeout | null = null;
  /** Checks of the file that found it changed and read it (tests wait on it). */
  reloads = 0;

  constructor(opts: FileOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    this.#origins = [...opts.zones].sort((a, b) => b.length - a.length);
  }

  /** First read, at setup: every zone must load. */
  loadNow(): void {
    this.#seen = this.#fingerprint();
    for (const origin of this.#origins) this.#zones.set(origin, loadZone(this.#opts.path, origin));
  }

  serveDNS(req: DnsRequest): Answer {
    const qname = req.qname;
    let zone: Zone | undefined;
    for (const o of this.#origins) if (isSubdomain(qname, o)) { zone = this.#zones.get(o); break; }
    if (zone === undefined) return this.next.serveDNS(req);
    if (req.qtype === Type.AXFR || req.qtype === Type.IXFR) return Reply.error(5, 'file');
    const found = zone.lookup(qname, req.qtype);
    if (found.kind === 'nxdomain' && this.#opts.fallthrough.through(qname)) return this.next.serveDNS(req);
    return found.reply;
  }

  transferZones(): readonly string[] {
    return this.#origins;
  }

  transferRecords(zone: string): readonly RR[] | null {
    return this.#zones.get(zone)?.records ?? null;
  }

  onZoneChange(fn: (zone: string) => void): () => void {
    this.#listeners.push(fn);
    return () => { const i = this.#listeners.indexOf(fn); if (i >= 0) this.#listeners.splice(i, 1); };
  }

  /** The zone now served for `origin` (tests, transfer). */
  zone(origin: string): Zone | undefined {
    return this.#zones.get(origin);
  }

  start(): void {
    if (this.#opts.reloadMs <= 0 || this.#timer !== null) return;
    this.#timer = setInterval(() => this.check(), this.#opts.reloadMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Re-reads the file when it changed; keeps the old zones when it does not load. */
  check(): void {
    const seen = this.#fingerprint();
    if (seen === this.#seen) return;
    this.#seen = seen;
    for (const origin of this.#origins) {
      let next: Zone;
      try {
        next = loadZone(this.#opts.path, origin);
      } catch (e) {
        this.#log.error(`${origin}: keeping serial ${this.#zones.get(origin)?.serial ?? 0}: ${errorMessage(e)}`);
        continue;
      }
      const old = this.#zones.get(origin);
      if (old !== undefined && old.serial === next.serial) continue;
      this.#zones.set(origin, next);
      this.reloads++;
      this.#log.info(`Successfully reloaded zone "${origin}" in "${this.#opts.path}" with serial ${next.serial}`);
      for (const fn of this.#listeners) fn(origin);
    }
  }

  #fingerprint(): string {
    try {
      const s = statSync(this.#opts.path);
      return `${s.mtimeMs}/${s.size}/${s.ino}/${s.ctimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
