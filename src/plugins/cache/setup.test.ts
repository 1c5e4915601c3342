/**
 * @module plugins/cache/setup.test
 * cache's option parser: valid snippets and what they set, invalid ones and
 * their exact FILE:LINE errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile } from '../../corefile/parser.ts';
import type { CacheOptions } from './cache.ts';
import { parseCache } from './setup.ts';

function parse(body: string, zone = '.'): CacheOptions {
  const [b] = parseCorefile(`${zone} {\n${body}\n}\n`, 'Corefile');
  return parseCache(b!.directives[0]!, { zones: [b!.keys[0]!.zone] });
}

describe('cache setup: valid', () => {
  const cases: { body: string; want: Partial<CacheOptions> }[] = [
    {
      body: 'cache',
      want: {
        zones: ['.'], successCapacity: 9984, successMaxTtl: 3600, successMinTtl: 5, denialCapacity: 9984, denialMaxTtl: 1800,
        denialMinTtl: 5, prefetchAmount: 0, staleMs: 0, verifyStale: false, servfailTtl: 5, disableSuccess: null,
        disableDenial: null, keepTtl: false,
      },
    },
    { body: 'cache 30', want: { successMaxTtl: 30, denialMaxTtl: 30, zones: ['.'] } },
    { body: 'cache 30 Example.org 10.0.0.0/24', want: { successMaxTtl: 30, zones: ['example.org.', '0.0.10.in-addr.arpa.'] } },
    { body: 'cache example.org', want: { successMaxTtl: 3600, zones: ['example.org.'] } },
    {
      body: 'cache {\n success 9984 30\n denial 9984 5\n}',
      want: { successCapacity: 9984, successMaxTtl: 30, successMinTtl: 5, denialCapacity: 9984, denialMaxTtl: 5, denialMinTtl: 5 },
    },
    { body: 'cache {\n success 100 60 0\n denial 50\n}', want: { successCapacity: 100, successMaxTtl: 60, successMinTtl: 0, denialCapacity: 50, denialMaxTtl: 1800 } },
    { body: 'cache {\n prefetch 10\n}', want: { prefetchAmount: 10, prefetchWindowMs: 60_000, prefetchPercentage: 10 } },
    { body: 'cache {\n prefetch 2 30s 50%\n}', want: { prefetchAmount: 2, prefetchWindowMs: 30_000, prefetchPercentage: 50 } },
    { body: 'cache {\n prefetch 2 20%\n}', want: { prefetchAmount: 2, prefetchWindowMs: 60_000, prefetchPercentage: 20 } },
    { body: 'cache {\n serve_stale\n}', want: { staleMs: 3_600_000, verifyStale: false } },
    { body: 'cache {\n serve_stale 10m verify\n}', want: { staleMs: 600_000, verifyStale: true } },
    { body: 'cache {\n serve_stale 1h immediate\n}', want: { staleMs: 3_600_000, verifyStale: false } },
    { body: 'cache {\n servfail 0\n}', want: { servfailTtl: 0 } },
    { body: 'cache {\n servfail 5m\n}', want: { servfailTtl: 300 } },
    { body: 'cache {\n disable success\n}', want: { disableSuccess: ['.'], disableDenial: null } },
    { body: 'cache {\n disable denial cluster.local\n}', want: { disableDenial: ['cluster.local.'] } },
    { body: 'cache {\n keepttl\n}', want: { keepTtl: true } },
  ];
  for (const c of cases) {
    it(c.body.split('\n').join(' | '), () => {
      const got = parse(c.body);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof CacheOptions], v, k);
    });
  }
});

describe('cache setup: invalid', () => {
  const cases: [string, string][] = [
    ['cache 0', 'Corefile:2: plugin/cache: cache TTL can not be zero or negative: 0'],
    ['cache -5', 'Corefile:2: plugin/cache: cache TTL can not be zero or negative: -5'],
    ['cache {\n bogus\n}', "Corefile:3: plugin/cache: unknown property 'bogus'"],
    ['cache {\n success\n}', "Corefile:3: plugin/cache: 'success' takes 1 to 3 arguments, got 0"],
    ['cache {\n success many\n}', "Corefile:3: plugin/cache: capacity 'many' is not a whole number"],
    ['cache {\n success 0\n}', 'Corefile:3: plugin/cache: capacity 0 is out of range 1..100000000'],
    ['cache {\n denial 10 0\n}', 'Corefile:3: plugin/cache: TTL 0 is out of range 1..2147483647'],
    ['cache {\n denial 10 5 -1\n}', 'Corefile:3: plugin/cache: minimum TTL -1 is out of range 0..2147483647'],
    ['cache {\n prefetch 0\n}', 'Corefile:3: plugin/cache: prefetch amount 0 is out of range 1..1000000'],
    ['cache {\n prefetch 1 1m 120%\n}', 'Corefile:3: plugin/cache: prefetch percentage 120 is out of range 0..100'],
    ['cache {\n prefetch 1 soon\n}', "Corefile:3: plugin/cache: prefetch duration 'soon' is not a duration (like 5s, 1m, 250ms)"],
    ['cache {\n serve_stale 1h later\n}', 'Corefile:3: plugin/cache: invalid value for serve_stale refresh mode: later'],
    ['cache {\n serve_stale 0\n}', 'Corefile:3: plugin/cache: serve_stale duration must be positive'],
    ['cache {\n servfail 6m\n}', 'Corefile:3: plugin/cache: caching SERVFAIL responses over 5 minutes is not permitted'],
    ['cache {\n disable everything\n}', 'Corefile:3: plugin/cache: cache type for disable must be "success" or "denial", got \'everything\''],
    ['cache {\n keepttl 5\n}', "Corefile:3: plugin/cache: 'keepttl' takes 0 arguments, got 1"],
  ];
  for (const [body, err] of cases) {
    it(body.split('\n').join(' | '), () => {
      assert.throws(() => parse(body), (e: Error) => { assert.equal(e.message, err); return true; });
    });
  }
});
