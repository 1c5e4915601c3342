/**
 * @module plugins/etcd/setup
 * `etcd [ZONES...] { path PATH; endpoint URL...; credentials USER PASS;
 * tls [CERT KEY CACERT]; fallthrough [ZONES...]; min-lease-ttl D;
 * max-lease-ttl D }` with CoreDNS's defaults (/skydns,
 * http://localhost:2379, 30s, 24h). `stubzones`, `debug` and `upstream`,
 * which CoreDNS accepts and ignores, are accepted with a warning. TLS files
 * are read here, so a missing one is a FILE:LINE error; etcd itself is only
 * contacted at startup, and its absence is retried, never fatal.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PrefixWatcher } from '../../cluster/etcd/prefix-watcher.ts';
import type { EtcdConnection, EtcdTls } from '../../cluster/etcd/connection.ts';
import type { Directive } from '../../corefile/parser.ts';
import { argCount, children, fail, Fallthrough, parseDurationMs, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { EtcdHandler } from './handler.ts';
import { EtcdIndex } from './index.ts';
import { etcdBadValueCounter, etcdMetrics } from './metrics.ts';
import { normalizePath } from './service.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'etcd';
export const DEFAULT_PATH = '/skydns';
export const DEFAULT_ENDPOINT = 'http://localhost:2379';
export const DEFAULT_MIN_LEASE_TTL = 30;
export const DEFAULT_MAX_LEASE_TTL = 86_400;

export interface EtcdOptions {
  readonly zones: readonly string[];
  /** Normalised: "/skydns". */
  readonly path: string;
  readonly connection: EtcdConnection;
  readonly fallthrough: Fallthrough;
  readonly minLeaseTtl: number;
  readonly maxLeaseTtl: number;
  /** Ignored CoreDNS properties that were given (warned about at setup). */
  readonly ignored: readonly string[];
}

/** A TTL as CoreDNS's parseTTL: whole seconds ("30") or a Go duration ("5m", "1h30m"). */
function ttlSeconds(d: Directive, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDurationMs(text);
  if (ms === null) fail(d, P, `${d.name} '${text}' is not a number of seconds or a duration (like 30, 30s, 5m, 1h)`);
  const s = Math.floor(ms / 1000);
  if (s > 0xffffffff) fail(d, P, `${d.name} ${text} is too large`);
  return s;
}

function endpointUrl(d: Directive, text: string): string {
  let u: URL;
  try { u = new URL(text); } catch { fail(d, P, `endpoint '${text}' is not a URL (like http://127.0.0.1:2379)`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(d, P, `endpoint '${text}': the scheme must be http or https`);
  if (u.hostname === '') fail(d, P, `endpoint '${text}' has no host`);
  return text;
}

function readPem(d: Directive, configDir: string, file: string): Buffer {
  const path = isAbsolute(file) ? file : join(configDir, file);
  try { return readFileSync(path); } catch (e) { fail(d, P, `tls: cannot read '${path}': ${errorMessage(e)}`); }
}

/** Parses one `etcd` directive. Throws CorefileError ("FILE:LINE: plugin/etcd: ..."). */
export function parseEtcdDirective(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir'>): EtcdOptions {
  const zones = zonesArg(d, P, d.args, ctx.zones);
  let path = DEFAULT_PATH;
  let endpoints: string[] = [DEFAULT_ENDPOINT];
  let username: string | undefined;
  let password: string | undefined;
  let tls: EtcdTls | null = null;
  let fallthrough = Fallthrough.none();
  let minLeaseTtl = DEFAULT_MIN_LEASE_TTL;
  let maxLeaseTtl = DEFAULT_MAX_LEASE_TTL;
  const ignored: string[] = [];
  for (const c of children(d)) {
    switch (c.name) {
      case 'path':
        argCount(c, P, 1, 1);
        path = normalizePath(c.args[0]!);
        break;
      case 'endpoint':
        argCount(c, P, 1);
        endpoints = c.args.map((a) => endpointUrl(c, a));
        break;
      case 'credentials':
        if (c.args.length !== 2) fail(c, P, `credentials takes 2 arguments, username and password, got ${c.args.length}`);
        [username, password] = [c.args[0]!, c.args[1]!];
        break;
      case 'tls': {
        argCount(c, P, 0, 3);
        // CoreDNS: none = system CAs; 1 = CA; 2 = client cert and key (system CAs); 3 = cert, key, CA.
        const a = c.args.map((f) => readPem(c, ctx.configDir, f));
        tls = a.length === 0 ? {} : a.length === 1 ? { ca: a[0] } : a.length === 2 ? { cert: a[0], key: a[1] } : { cert: a[0], key: a[1], ca: a[2] };
        break;
      }
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      case 'min-lease-ttl':
        argCount(c, P, 1, 1);
        minLeaseTtl = ttlSeconds(c, c.args[0]!);
        break;
      case 'max-lease-ttl':
        argCount(c, P, 1, 1);
        maxLeaseTtl = ttlSeconds(c, c.args[0]!);
        break;
      case 'stubzones': case 'debug': case 'upstream':
        ignored.push(c.name);
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  if (minLeaseTtl > maxLeaseTtl) fail(d, P, `min-lease-ttl ${minLeaseTtl}s is above max-lease-ttl ${maxLeaseTtl}s`);
  return {
    zones, path, fallthrough, minLeaseTtl, maxLeaseTtl, ignored,
    connection: { endpoints, username, password, tls },
  };
}

export const etcd: PluginDefinition = {
  name: P,
  inClassOnly: true,
  setup(d, ctx) {
    const o = parseEtcdDirective(d, ctx);
    const log = ctx.logger.plugin(P);
    for (const name of o.ignored) log.warn(`${d.file}:${d.line}: '${name}' is ignored (as in CoreDNS)`);
    const index = new EtcdIndex(o.path, log, Date.now, etcdBadValueCounter(ctx.services, ctx.server, o.path));
    const watcher = new PrefixWatcher({ connection: o.connection, prefix: `${o.path}/`, log }, index);
    const metrics = etcdMetrics(ctx.services);
    const live = { path: o.path, server: ctx.server, index, watcher };
    ctx.readyCheck(P, () => watcher.synced);
    ctx.onStartup(async () => {
      metrics.add(live);
      watcher.start();
      // A short wait so a reachable etcd is served from the first query on; an unreachable one is retried in the background.
      const deadline = Date.now() + 1000;
      while (!watcher.everSynced && watcher.failedAttempts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    });
    ctx.onShutdown(async () => {
      metrics.delete(live);
      await watcher.stop();
    });
    return new EtcdHandler(index, {
      zones: o.zones, fallthrough: o.fallthrough, minLeaseTtl: o.minLeaseTtl, maxLeaseTtl: o.maxLeaseTtl,
      leaseEnd: (key) => watcher.leaseEndOf(key), hasLease: (key) => watcher.hasLease(key), hasData: () => watcher.everSynced,
      upstream: () => ctx.chainHead(), blockZones: ctx.zones,
    });
  },
};
