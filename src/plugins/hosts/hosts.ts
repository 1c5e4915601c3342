/**
 * @module plugins/hosts/hosts
 * The hosts handler and its file watcher. Answers A and AAAA for names in
 * the hosts data, PTR for their addresses (unless no_reverse), NODATA for
 * other types of a known name, NXDOMAIN for unknown names in its zones
 * (or the next plugin, with fallthrough). The file is checked every
 * `reload` period and re-read when its mtime, size, inode or ctime moved;
 * a deleted file leaves the inline entries.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import type { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Logger } from '../../log/logger.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import { emptyHosts, entryCount, HostsIndex, mergeHosts, nxdomain, parseHosts, type HostsData } from './hostsfile.ts';
import { errorMessage } from '../../errors/to-error.ts';

export interface HostsOptions {
  /** Absolute path of the hosts file. */
  readonly path: string;
  readonly zones: readonly string[];
  readonly inline: HostsData;
  readonly ttl: number;
  /** Check period; 0: read once. */
  readonly reloadMs: number;
  readonly reverse: boolean;
  readonly fallthrough: Fallthrough;
}

/** What identifies one version of the file on disk. */
function fingerprint(s: Stats): string {
  return `${s.mtimeMs}/${s.size}/${s.ino}/${s.ctimeMs}`;
}

export class Hosts implements ChainHandler {
  readonly name = 'hosts';
  next!: Handler;
  readonly #opts: HostsOptions;
  readonly #log: Logger;
  readonly #allZones: boolean;
  readonly #nxdomain: Reply;
  #index: HostsIndex;
  #fileData: HostsData = emptyHosts();
  #seen = '';
  #missing = false;
  #timer: NodeJS.Timeout | null = null;
  #checking = false;
  /** coredns_hosts_reload_timestamp_seconds: mtime of the file version loaded (0 before any). */
  reloadTimestamp = 0;
  /** Successful reads of the file (tests wait on it). */
  reads = 0;

  constructor(opts: HostsOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    this.#allZones = opts.zones.includes('.');
    this.#nxdomain = nxdomain();
    this.#index = new HostsIndex(opts.inline, opts.ttl, opts.reverse);
  }

  get entries(): number {
    return entryCount(this.#index.data);
  }

  serveDNS(req: DnsRequest): Answer {
    const qname = req.qname;
    const inZone = this.#allZones || this.#inZones(qname);
    const idx = this.#index;
    if (req.qtype === Type.PTR) {
      // PTR names need not be in our zones; an unknown address always goes on.
      return idx.ptr(qname) ?? this.next.serveDNS(req);
    }
    if (!inZone) return this.next.serveDNS(req);
    if (idx.has(qname)) return idx.answer(qname, req.qtype);
    if (this.#opts.fallthrough.through(qname)) return this.next.serveDNS(req);
    return this.#nxdomain;
  }

  #inZones(qname: string): boolean {
    const z = this.#opts.zones;
    for (let i = 0; i < z.length; i++) if (isSubdomain(qname, z[i]!)) return true;
    return false;
  }

  /** First read, at setup: synchronous so the data is there before the first query. Returns false when the file is missing. */
  loadNow(): boolean {
    let s: Stats;
    try {
      s = statSync(this.#opts.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') { this.#missing = true; return false; }
      throw e;
    }
    this.#apply(readFileSync(this.#opts.path, 'utf8'), s);
    return true;
  }

  start(): void {
    if (this.#opts.reloadMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => { void this.check(); }, this.#opts.reloadMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Looks at the file and re-reads it when it changed. */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const s = await stat(this.#opts.path);
      if (fingerprint(s) === this.#seen && !this.#missing) return;
      const text = await readFile(this.#opts.path, 'utf8');
      this.#apply(text, s);
      this.#log.info(`reloaded ${this.#opts.path}: ${this.entries} entries`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (!this.#missing) {
          this.#missing = true;
          this.#seen = '';
          this.#fileData = emptyHosts();
          this.#index = new HostsIndex(this.#opts.inline, this.#opts.ttl, this.#opts.reverse);
          this.#log.warn(`${this.#opts.path} was removed: serving the inline entries only`);
        }
      } else {
        this.#log.error(`reading ${this.#opts.path}: ${errorMessage(e)}`);
      }
    } finally {
      this.#checking = false;
    }
  }

  #apply(text: string, s: Stats): void {
    this.#fileData = parseHosts(text, this.#opts.zones);
    this.#index = new HostsIndex(mergeHosts(this.#fileData, this.#opts.inline), this.#opts.ttl, this.#opts.reverse);
    this.#seen = fingerprint(s);
    this.#missing = false;
    this.reloadTimestamp = s.mtimeMs / 1000;
    this.reads++;
  }
}
