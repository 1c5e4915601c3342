/**
 * @module bench/micro-chain
 * The bench's real chain in process: the clusterdns peer's Corefile
 * (errors, prometheus, loadbalance, cache 30, kubernetes over a generated
 * manifest folder) served through serveQuery with a responder that only
 * counts, over the query files of the generated cluster. Gives the JS cost of
 * a cache hit and of a cache miss (the cache emptied before each query, so
 * the kubernetes index answers and the cache stores) without sockets, so
 * other load on the machine disturbs it less than dnsperf runs.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from '../src/app/app.ts';
import type { Route } from '../src/config/build.ts';
import { typeFromName } from '../src/dns/constants.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { memoryLogger } from '../src/log/logger.ts';
import { ReplyScratch } from '../src/dns/response.ts';
import type { Cache } from '../src/plugins/cache/cache.ts';
import { serveQuery, ServeStats, type Responder } from '../src/server/serve.ts';
import { generate, type Mix } from './cluster-gen.ts';
import { corefile } from './peers/clusterdns.ts';

export interface ChainFixture {
  readonly app: App;
  readonly routes: readonly Route[];
  readonly cache: Cache;
  /** Encoded queries of each mix, in file order. */
  readonly queries: Readonly<Record<Mix, readonly Buffer[]>>;
  readonly responder: CountingResponder;
  readonly stats: ServeStats;
}

/** Counts replies; writes them into reused memory, as both UDP listeners do (its send keeps nothing). */
export class CountingResponder implements Responder {
  readonly scratch = new ReplyScratch();
  replies = 0;
  bytes = 0;
  send(buf: Buffer): void {
    this.replies++;
    this.bytes += buf.length;
  }
}

/**
 * Generates (or reuses) a cluster of `services` under the temp dir and starts the bench chain over it in process.
 * `queryLines`: lines per query file; 10,000 fit every cache, the bench's 100,000 have its distinct-name counts.
 */
export async function startChain(services: number, metrics = true, queryLines = 10_000): Promise<ChainFixture> {
  const dir = path.join(tmpdir(), `clusterdns-micro-${services}-${queryLines}`);
  mkdirSync(dir, { recursive: true });
  const data = generate({ services, outDir: dir, queryLines });
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile(0, data.manifestDir, metrics).replace('.:0 {', '.:0 {\n    bind 127.0.0.1'), logger: memoryLogger() });
  await app.start();
  // At 10k services the manifests take longer to read than the plugin's startup_timeout: wait for the sync.
  for (let i = 0; i < 1200 && app.services.readiness.notReady().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  if (app.services.readiness.notReady().length > 0) throw new Error('the kubernetes plugin did not sync within 120 s');
  const routes = app.server.generation!.listeners[0]!.routes;
  const cache = routes[0]!.block.handlers.find((h) => h.name === 'cache') as Cache;
  const queries = {} as Record<Mix, Buffer[]>;
  for (const [mix, file] of Object.entries(data.mixes) as [Mix, { path: string }][]) {
    queries[mix] = readFileSync(file.path, 'utf8').split('\n').filter(Boolean).map((line, i) => {
      const [name, type] = line.split(' ') as [string, string];
      return encodeQuery(`${name}.`, typeFromName(type)!, { id: i & 0xffff });
    });
  }
  return { app, routes, cache, queries, responder: new CountingResponder(), stats: new ServeStats() };
}

/** A benchmark body serving the mix's queries in turn (cache hits once warm). */
export function servingMix(f: ChainFixture, mix: Mix): () => unknown {
  const qs = f.queries[mix];
  let i = 0;
  return () => {
    const q = qs[i]!;
    i = i + 1 === qs.length ? 0 : i + 1;
    return serveQuery(q, 'udp', '127.0.0.1', 40000, '127.0.0.1', 53, f.routes, f.responder, f.stats);
  };
}

/** Like servingMix, but the cache is emptied first: every query is a cache miss (the kubernetes index answers). */
export function missingMix(f: ChainFixture, mix: Mix): () => unknown {
  const serve = servingMix(f, mix);
  const store = f.cache.store;
  return () => {
    store.clear();
    return serve();
  };
}
