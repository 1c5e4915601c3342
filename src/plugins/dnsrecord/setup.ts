/**
 * @module plugins/dnsrecord/setup
 * `dnsrecord [ZONES...] { manifests PATH... | kubeconfig FILE [CONTEXT] |
 * endpoint URL | etcd ENDPOINT... [path PREFIX]; gateway ADDRESS...; ttl
 * SECONDS; startup_timeout DURATION; fallthrough [ZONES...] }`: where the
 * DNSRecords come from (one source: manifests, the API, or etcd), the default gateway
 * address(es) for records without their own, and the answer TTL. It waits
 * for the first read before serving (startup_timeout, 5 s) and is ready once
 * synced; answers are rebuilt on every change.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CorefileError } from '../../corefile/errors.ts';
import type { Directive } from '../../corefile/parser.ts';
import { canonicalIp } from '../../dns/ip.ts';
import { manifestErrorCounter } from '../../cluster/manifests/manifest-metrics.ts';
import { DnsRecordFeeds, type DnsRecordSourceConfig } from '../../dnsrecord/feeds.ts';
import { argCount, children, duration, fail, Fallthrough, ttlOption, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { DnsRecordAnswers, PLUGIN as P } from './answers.ts';
import { invalidRecordCounter } from './metrics.ts';
import { DnsRecordHandler } from './handler.ts';
import { errorMessage } from '../../errors/to-error.ts';

export interface DnsRecordOptions {
  readonly zones: readonly string[];
  readonly source: DnsRecordSourceConfig;
  readonly gateways: readonly string[];
  readonly ttl: number;
  readonly startupTimeoutMs: number;
  readonly fallthrough: Fallthrough;
}

/** Parses one `dnsrecord` directive. Throws CorefileError ("FILE:LINE: plugin/dnsrecord: ..."). */
export function parseDnsRecordDirective(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir'>): DnsRecordOptions {
  const zones = zonesArg(d, P, d.args, ctx.zones);
  const path = (p: string): string => (isAbsolute(p) ? p : join(ctx.configDir, p));
  let source: DnsRecordSourceConfig | null = null;
  let sourceAt: Directive | null = null;
  const gateways: string[] = [];
  let ttl = 5, startupTimeoutMs = 5000;
  let fallthrough = Fallthrough.none();
  const setSource = (c: Directive, s: DnsRecordSourceConfig): void => {
    if (sourceAt !== null) fail(c, P, `'${c.name}' cannot be combined with '${sourceAt.name}' (one source per dnsrecord)`);
    source = s;
    sourceAt = c;
  };
  for (const c of children(d)) {
    switch (c.name) {
      case 'manifests': {
        argCount(c, P, 1);
        const paths = c.args.map(path);
        for (const m of paths) if (!existsSync(m)) fail(c, P, `manifests: ${m}: no such file or directory`);
        setSource(c, { manifests: paths });
        break;
      }
      case 'kubeconfig':
        argCount(c, P, 1, 2);
        setSource(c, { api: { kubeconfig: path(c.args[0]!), ...(c.args[1] !== undefined ? { context: c.args[1] } : {}) } });
        break;
      case 'etcd': {
        argCount(c, P, 1);
        const at = c.args.indexOf('path');
        const endpoints = at >= 0 ? c.args.slice(0, at) : [...c.args];
        const prefix = at >= 0 ? c.args[at + 1] : undefined;
        if (at >= 0 && (prefix === undefined || at + 2 !== c.args.length || !prefix.startsWith('/'))) fail(c, P, `etcd: 'path' takes one key prefix starting with /`);
        if (endpoints.length === 0) fail(c, P, 'etcd needs at least one endpoint URL');
        for (const e of endpoints) if (!/^https?:\/\/[^\s/]+/.test(e)) fail(c, P, `etcd endpoint '${e}' is not an http:// or https:// URL`);
        setSource(c, { etcd: { endpoints, ...(prefix !== undefined ? { prefix: prefix.endsWith('/') ? prefix : `${prefix}/` } : {}) } });
        break;
      }
      case 'endpoint': {
        argCount(c, P, 1, 1);
        const url = c.args[0]!;
        if (!/^https?:\/\/[^\s/]+/.test(url)) fail(c, P, `endpoint '${url}' is not an http:// or https:// URL`);
        setSource(c, { api: { endpoint: url } });
        break;
      }
      case 'gateway':
        argCount(c, P, 1);
        for (const a of c.args) {
          const ip = canonicalIp(a);
          if (ip === null) fail(c, P, `gateway '${a}' is not an IP address`);
          gateways.push(ip);
        }
        break;
      case 'ttl':
        ttl = ttlOption(c, P);
        break;
      case 'startup_timeout':
        argCount(c, P, 1, 1);
        startupTimeoutMs = duration(c, P, c.args[0]!, 'startup_timeout');
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  // Like the kubernetes plugin: no source given means the API, in-cluster.
  return { zones, source: source ?? { api: {} }, gateways, ttl, startupTimeoutMs, fallthrough };
}

export const dnsrecord: PluginDefinition = {
  name: P,
  inClassOnly: true,
  setup(d, ctx) {
    const o = parseDnsRecordDirective(d, ctx);
    const log = ctx.logger.plugin(P);
    const feeds = new DnsRecordFeeds({
      source: o.source, logger: log, onFileError: manifestErrorCounter(ctx.services, P), onBadRecord: invalidRecordCounter(ctx.services),
    });
    const build = (): DnsRecordAnswers => new DnsRecordAnswers(o.zones, feeds.records.winners(), feeds.cluster, o.gateways, o.ttl);
    const handler = new DnsRecordHandler(build(), o.fallthrough);
    // Synchronous on every change: the next query already sees the new answers.
    const unsubscribe = feeds.subscribe(() => { handler.answers = build(); });
    ctx.readyCheck(P, () => feeds.records.synced);
    ctx.onStartup(async () => {
      try {
        await feeds.start();
      } catch (e) {
        throw new CorefileError(d.file, d.line, `plugin/${P}: ${errorMessage(e)}`);
      }
      if (!(await feeds.waitForSync(o.startupTimeoutMs))) {
        log.warn(`starting server with unsynced DNSRecords after ${o.startupTimeoutMs} ms; answers follow once they arrive`);
      }
    });
    ctx.onShutdown(async () => {
      unsubscribe();
      await feeds.stop();
    });
    return handler;
  },
};
