/**
 * @module plugins/cache/setup
 * `cache [TTL] [ZONES...] { options }`: the option parser, CoreDNS's syntax,
 * limits and defaults (max TTL 3600 success / 1800 denial, min TTL 5,
 * capacity 9984 each, SERVFAIL cached 5s, prefetch window 1m at 10%,
 * serve_stale 1h immediate).
 */
import type { Directive } from '../../corefile/parser.ts';
import { argCount, children, duration, fail, int, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { Cache, type CacheOptions } from './cache.ts';
import { cacheMetrics } from './metrics.ts';

const P = 'cache';
export const DEFAULT_CAPACITY = 9984;
export const MAX_SUCCESS_TTL = 3600;
export const MAX_DENIAL_TTL = 1800;
export const MIN_TTL = 5;
const MAX_SERVFAIL_MS = 5 * 60_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parses one `cache` directive. Throws CorefileError ("FILE:LINE: plugin/cache: ..."). */
export function parseCache(d: Directive, ctx: Pick<BlockContext, 'zones'>): CacheOptions {
  const o: Mutable<CacheOptions> = {
    zones: ctx.zones,
    successCapacity: DEFAULT_CAPACITY, successMaxTtl: MAX_SUCCESS_TTL, successMinTtl: MIN_TTL,
    denialCapacity: DEFAULT_CAPACITY, denialMaxTtl: MAX_DENIAL_TTL, denialMinTtl: MIN_TTL,
    prefetchAmount: 0, prefetchWindowMs: 60_000, prefetchPercentage: 10,
    staleMs: 0, verifyStale: false, servfailTtl: 5,
    disableSuccess: null, disableDenial: null, keepTtl: false,
  };
  let args = d.args;
  if (args.length > 0 && /^-?\d+$/.test(args[0]!)) {
    const ttl = Number(args[0]);
    if (ttl <= 0) fail(d, P, `cache TTL can not be zero or negative: ${ttl}`);
    o.successMaxTtl = o.denialMaxTtl = ttl;
    args = args.slice(1);
  }
  o.zones = zonesArg(d, P, args, ctx.zones);
  for (const c of children(d)) {
    switch (c.name) {
      case 'success': case 'denial': {
        argCount(c, P, 1, 3);
        const cap = int(c, P, c.args[0]!, 1, 100_000_000, 'capacity');
        const ttl = c.args[1] === undefined ? undefined : int(c, P, c.args[1], 1, 2 ** 31 - 1, 'TTL');
        const min = c.args[2] === undefined ? undefined : int(c, P, c.args[2], 0, 2 ** 31 - 1, 'minimum TTL');
        if (c.name === 'success') {
          o.successCapacity = cap;
          if (ttl !== undefined) o.successMaxTtl = ttl;
          if (min !== undefined) o.successMinTtl = min;
        } else {
          o.denialCapacity = cap;
          if (ttl !== undefined) o.denialMaxTtl = ttl;
          if (min !== undefined) o.denialMinTtl = min;
        }
        break;
      }
      case 'prefetch': {
        argCount(c, P, 1, 3);
        o.prefetchAmount = int(c, P, c.args[0]!, 1, 1_000_000, 'prefetch amount');
        for (const a of c.args.slice(1)) {
          if (a.endsWith('%')) {
            o.prefetchPercentage = int(c, P, a.slice(0, -1), 0, 100, 'prefetch percentage');
          } else {
            o.prefetchWindowMs = duration(c, P, a, 'prefetch duration');
            if (o.prefetchWindowMs <= 0) fail(c, P, 'prefetch duration must be positive');
          }
        }
        break;
      }
      case 'serve_stale': {
        argCount(c, P, 0, 2);
        o.staleMs = 3_600_000;
        if (c.args[0] !== undefined) {
          o.staleMs = duration(c, P, c.args[0], 'serve_stale duration');
          if (o.staleMs <= 0) fail(c, P, 'serve_stale duration must be positive');
        }
        const mode = c.args[1];
        if (mode !== undefined && mode !== 'immediate' && mode !== 'verify') fail(c, P, `invalid value for serve_stale refresh mode: ${mode}`);
        o.verifyStale = mode === 'verify';
        break;
      }
      case 'servfail': {
        argCount(c, P, 1, 1);
        const ms = duration(c, P, c.args[0]!, 'servfail duration');
        if (ms > MAX_SERVFAIL_MS) fail(c, P, 'caching SERVFAIL responses over 5 minutes is not permitted');
        o.servfailTtl = Math.floor(ms / 1000);
        break;
      }
      case 'disable': {
        argCount(c, P, 1);
        const what = c.args[0]!;
        if (what !== 'success' && what !== 'denial') fail(c, P, `cache type for disable must be "success" or "denial", got '${what}'`);
        const zones = zonesArg(c, P, c.args.slice(1), o.zones);
        if (what === 'success') o.disableSuccess = zones; else o.disableDenial = zones;
        break;
      }
      case 'keepttl':
        argCount(c, P, 0, 0);
        o.keepTtl = true;
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  return o;
}

/**
 * The zones in which the plugin right behind the cache (the first later one
 * in the chain) keeps its answers; none when that is several instances or a
 * plugin that does not say (keptZones()). Asked once the chain is built.
 */
export function keptZonesAfter(ctx: Pick<BlockContext, 'plugins' | 'handlersNamed'>): readonly string[] {
  const names = ctx.plugins;
  for (let i = names.indexOf(P) + 1; i > 0 && i < names.length; i++) {
    const hs = ctx.handlersNamed(names[i]!);
    if (hs.length === 0) continue; // outside the chain (health, ready, ...)
    const only = hs.length === 1 ? hs[0]! : null;
    return only?.keptZones?.() ?? [];
  }
  return [];
}

export const cache: PluginDefinition = {
  name: 'cache',
  once: true,
  setup(d, ctx) {
    const handler = new Cache(parseCache(d, ctx), ctx.server);
    const metrics = cacheMetrics(ctx.services);
    ctx.onStartup(() => { metrics.add(handler); handler.skipKeptZones(keptZonesAfter(ctx)); });
    ctx.onShutdown(() => { metrics.remove(handler); handler.store.clear(); });
    return handler;
  },
};
