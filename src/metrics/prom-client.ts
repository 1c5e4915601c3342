/**
 * @module metrics/prom-client
 * The parts of prom-client the server uses, each loaded from its own file.
 *
 * Why: prom-client's index also loads its Pushgateway, which pulls in
 * node:https, node:tls (with most of node:crypto's JS) and node:zlib. The
 * server never pushes metrics, and a Corefile without TLS needs none of
 * them: ~4 MiB of RSS at start (a process that already has node:http and
 * pino: require('prom-client') 66.8 MiB, these files 62.6 MiB). The classes are prom-client's own, so metric names, types and
 * the exposition format are unchanged. Import prom-client's types from
 * 'prom-client' with `import type` (erased), values from here.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry: typeof Prom.Registry = require('prom-client/lib/registry');
export type Registry = Prom.Registry;
export const Counter: typeof Prom.Counter = require('prom-client/lib/counter');
export type Counter<T extends string = string> = Prom.Counter<T>;
export declare namespace Counter { type Internal = Prom.Counter.Internal; }
export const Gauge: typeof Prom.Gauge = require('prom-client/lib/gauge');
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram: typeof Prom.Histogram = require('prom-client/lib/histogram');
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export declare namespace Histogram { type Internal<T extends string> = Prom.Histogram.Internal<T>; }
export const exponentialBuckets: typeof Prom.exponentialBuckets = (require('prom-client/lib/bucketGenerators') as typeof Prom).exponentialBuckets;
export const collectDefaultMetrics: typeof Prom.collectDefaultMetrics = require('prom-client/lib/defaultMetrics');
/** node:cluster's metric aggregation (the primary of -workers N sums its workers' registries). */
export const AggregatorRegistry: typeof Prom.AggregatorRegistry = require('prom-client/lib/cluster');
export type AggregatorRegistry<T extends Prom.RegistryContentType> = Prom.AggregatorRegistry<T>;
