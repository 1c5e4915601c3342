/**
 * @module plugins/kubernetes/setup
 * `kubernetes [ZONES...] { ... }`: reads every CoreDNS option (O1-O17) plus
 * our `manifests PATH...`, and wires a cluster-state source (manifest
 * folder, or the live API: kubeconfig > endpoint > in-cluster) into a
 * ClusterStore, the DNS index over it, and the handler. The source is made
 * and started in the startup hook, which waits for the first sync up to
 * startup_timeout (O17); readiness follows the sync. The API source (and
 * with it @kubernetes/client-node, ~90 MB) is imported only then, so a
 * manifest-only server never loads it.
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CorefileError } from '../../corefile/errors.ts';
import type { Directive } from '../../corefile/parser.ts';
import type { KubernetesApiSource } from '../../cluster/api/source.ts';
import { LabelFilteredSink } from '../../cluster/filtered-sink.ts';
import { parseLabelSelector, type LabelSelector } from '../../cluster/label-selector.ts';
import { ManifestSource } from '../../cluster/manifests/manifest-source.ts';
import { ClusterStore } from '../../cluster/store.ts';
import type { ClusterKind, ClusterStateSink, ClusterStateSource } from '../../cluster/types.ts';
import { canonicalIp } from '../../dns/ip.ts';
import type { Logger } from '../../log/logger.ts';
import { argCount, children, duration, Fallthrough, fail, int, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, BoundAddress, PluginDefinition } from '../../plugin/plugin.ts';
import { manifestErrorCounter } from '../../cluster/manifests/manifest-metrics.ts';
import { apiMetrics, reflectorEvents, restClientObserver, type ApiMetrics } from './api-metrics.ts';
import { KubernetesHandler } from './handler.ts';
import { DnsIndex } from './index.ts';
import { observeProgramming, programmingLatency } from './metrics.ts';
import type { PodMode } from './records.ts';
import { PodIpIndex, PodIpIndexSink } from '../../cluster/pod-ip-index.ts';

const P = 'kubernetes';

/**
 * Where the in-cluster service-account token and CA are read from, when set
 * (default /var/run/secrets/kubernetes.io/serviceaccount): for tests and for
 * running outside a pod with a mounted token.
 */
export const SERVICE_ACCOUNT_DIR_ENV = 'CLUSTERDNS_SERVICEACCOUNT_DIR';

export interface KubernetesOptions {
  /** Canonical zones, forward and reverse (CIDRs expanded). */
  readonly zones: readonly string[];
  readonly primaryZone: string;
  readonly endpoint: string | null;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  readonly kubeconfig: { readonly file: string; readonly context: string | null } | null;
  readonly apiserverQps: number | null;
  readonly apiserverBurst: number | null;
  readonly apiserverMaxInflight: number | null;
  readonly namespaces: ReadonlySet<string> | null;
  readonly namespaceLabels: LabelSelector | null;
  readonly labels: LabelSelector | null;
  readonly pods: PodMode;
  readonly endpointPodNames: boolean;
  readonly ttl: number;
  readonly noEndpoints: boolean;
  readonly fallthrough: Fallthrough;
  readonly ignoreEmptyService: boolean;
  readonly startupTimeoutMs: number;
  readonly zonal: boolean;
  /** Absolute manifest paths (`manifests`), or null for the API. */
  readonly manifests: readonly string[] | null;
}

function isReverseZone(z: string): boolean {
  return z === 'in-addr.arpa.' || z === 'ip6.arpa.' || z.endsWith('.in-addr.arpa.') || z.endsWith('.ip6.arpa.');
}

function selectorArg(c: Directive): LabelSelector {
  argCount(c, P, 1);
  // The Corefile lexer splits "a in (x, y)" into several tokens; the selector is all of them.
  const text = c.args.join(' ');
  try {
    return parseLabelSelector(text);
  } catch (e) {
    fail(c, P, `${c.name}: ${(e as Error).message}`);
  }
}

function noArgs(c: Directive): void {
  argCount(c, P, 0, 0);
}

/** Parses the directive; throws CorefileError "FILE:LINE: plugin/kubernetes: ..." for anything wrong (O16). */
export function parseKubernetesOptions(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir'>): KubernetesOptions {
  const zones = zonesArg(d, P, d.args, ctx.zones);
  const primaryZone = zones.find((z) => !isReverseZone(z));
  if (primaryZone === undefined) fail(d, P, 'at least one zone must be a forward zone, not only reverse zones');
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(ctx.configDir, p));
  let endpoint: string | null = null;
  let tls: KubernetesOptions['tls'] = null;
  let kubeconfig: KubernetesOptions['kubeconfig'] = null;
  let apiserverQps: number | null = null;
  let apiserverBurst: number | null = null;
  let apiserverMaxInflight: number | null = null;
  let namespaces: Set<string> | null = null;
  let namespaceLabels: LabelSelector | null = null;
  let labels: LabelSelector | null = null;
  let pods: PodMode = 'disabled';
  let endpointPodNames = false;
  let ttl = 5;
  let noEndpoints = false;
  let fallthrough = Fallthrough.none();
  let ignoreEmptyService = false;
  let startupTimeoutMs = 5000;
  let zonal = false;
  let manifests: string[] | null = null;
  let namespacesAt: Directive | null = null;
  let labelsAt: Directive | null = null;
  let manifestsAt: Directive | null = null;
  let apiAt: Directive | null = null;
  let noEndpointsAt: Directive | null = null;
  let zonalAt: Directive | null = null;

  for (const c of children(d)) {
    switch (c.name) {
      case 'endpoint': {
        argCount(c, P, 1);
        const url = c.args[0]!; // CoreDNS uses only the first URL
        if (!/^https?:\/\/[^\s/]+/.test(url)) fail(c, P, `endpoint '${url}' is not an http:// or https:// URL`);
        endpoint = url;
        apiAt = c;
        break;
      }
      case 'tls':
        argCount(c, P, 3, 3);
        tls = { cert: path(c.args[0]!), key: path(c.args[1]!), ca: path(c.args[2]!) };
        apiAt = c;
        break;
      case 'kubeconfig':
        argCount(c, P, 1, 2);
        kubeconfig = { file: path(c.args[0]!), context: c.args[1] ?? null };
        apiAt = c;
        break;
      case 'apiserver_qps': {
        argCount(c, P, 1, 1);
        const v = c.args[0]!;
        if (!/^\d+(\.\d+)?$/.test(v)) fail(c, P, `apiserver_qps '${v}' is not a number >= 0`);
        apiserverQps = Number(v);
        break;
      }
      case 'apiserver_burst':
        argCount(c, P, 1, 1);
        apiserverBurst = int(c, P, c.args[0]!, 0, 1_000_000, 'apiserver_burst');
        break;
      case 'apiserver_max_inflight':
        argCount(c, P, 1, 1);
        apiserverMaxInflight = int(c, P, c.args[0]!, 0, 1_000_000, 'apiserver_max_inflight');
        break;
      case 'namespaces':
        argCount(c, P, 1);
        namespaces = new Set(c.args.map((a) => a.toLowerCase()));
        namespacesAt = c;
        break;
      case 'namespace_labels':
        namespaceLabels = selectorArg(c);
        labelsAt = c;
        break;
      case 'labels':
        labels = selectorArg(c);
        break;
      case 'pods': {
        argCount(c, P, 1, 1);
        const v = c.args[0]!;
        if (v !== 'disabled' && v !== 'insecure' && v !== 'verified') fail(c, P, `pods: '${v}' is not one of disabled, insecure, verified`);
        pods = v;
        break;
      }
      case 'endpoint_pod_names':
        noArgs(c);
        endpointPodNames = true;
        break;
      case 'ttl':
        argCount(c, P, 1, 1);
        ttl = int(c, P, c.args[0]!, 0, 3600, 'ttl');
        break;
      case 'noendpoints':
        noArgs(c);
        noEndpoints = true;
        noEndpointsAt = c;
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      case 'ignore':
        argCount(c, P, 1, 1);
        if (c.args[0] !== 'empty_service') fail(c, P, `ignore: '${c.args[0]}' is not 'empty_service'`);
        ignoreEmptyService = true;
        break;
      case 'startup_timeout':
        argCount(c, P, 1, 1);
        startupTimeoutMs = duration(c, P, c.args[0]!, 'startup_timeout');
        break;
      case 'zonal':
        noArgs(c);
        zonal = true;
        zonalAt = c;
        break;
      case 'multicluster':
        fail(c, P, 'multicluster is not supported yet');
        break;
      case 'manifests':
        argCount(c, P, 1);
        manifests = c.args.map(path);
        for (const m of manifests) if (!existsSync(m)) fail(c, P, `manifests: ${m}: no such file or directory`);
        manifestsAt = c;
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  if (namespacesAt !== null && labelsAt !== null) fail(labelsAt, P, 'namespaces and namespace_labels cannot both be set');
  if (zonalAt !== null && noEndpointsAt !== null) fail(zonalAt, P, 'zonal cannot be used with noendpoints');
  if (manifestsAt !== null && apiAt !== null) fail(manifestsAt, P, `manifests cannot be combined with '${apiAt.name}'`);
  return {
    zones, primaryZone, endpoint, tls, kubeconfig, apiserverQps, apiserverBurst, apiserverMaxInflight, namespaces,
    namespaceLabels, labels, pods, endpointPodNames, ttl, noEndpoints, fallthrough, ignoreEmptyService,
    startupTimeoutMs, zonal, manifests,
  };
}

/** Kinds the plugin needs: Pods for `pods verified` or for autopath's pod-IP index, slices unless `noendpoints` (O18). */
export function watchedKinds(o: KubernetesOptions, podIpIndex = false): ClusterKind[] {
  const kinds: ClusterKind[] = ['Namespace', 'Service'];
  if (!o.noEndpoints) kinds.push('EndpointSlice');
  if (o.pods === 'verified' || podIpIndex) kinds.push('Pod');
  return kinds;
}

/**
 * `endpoint` + `tls` as a kubeconfig file (the API source reads TLS material
 * from kubeconfig): file paths only, no secrets, one file per distinct setting.
 */
function tlsKubeconfig(endpoint: string, tls: NonNullable<KubernetesOptions['tls']>): string {
  const text = [
    'apiVersion: v1', 'kind: Config', 'current-context: coredns',
    'clusters:', '- name: coredns', '  cluster:', `    server: ${JSON.stringify(endpoint)}`, `    certificate-authority: ${JSON.stringify(tls.ca)}`,
    'users:', '- name: coredns', '  user:', `    client-certificate: ${JSON.stringify(tls.cert)}`, `    client-key: ${JSON.stringify(tls.key)}`,
    'contexts:', '- name: coredns', '  context: {cluster: coredns, user: coredns}', '',
  ].join('\n');
  const file = join(tmpdir(), `clusterdns-kubeconfig-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.yaml`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

async function makeSource(o: KubernetesOptions, kinds: readonly ClusterKind[], log: Logger, metrics: () => ApiMetrics, onFileError: (file: string) => void): Promise<ClusterStateSource> {
  if (o.manifests !== null) return new ManifestSource({ paths: o.manifests, kinds, logger: log, onFileError });
  // Loaded here, not at the top: it pulls in @kubernetes/client-node.
  const { KubernetesApiSource: ApiSource } = await import('../../cluster/api/source.ts');
  const m = metrics();
  const common = {
    labels: o.labels?.text, watchPods: kinds.includes('Pod'), watchEndpoints: !o.noEndpoints, logger: log,
    limits: { qps: o.apiserverQps ?? 0, burst: o.apiserverBurst ?? 0, maxInflight: o.apiserverMaxInflight ?? 0 },
    clientObserver: (host: string) => restClientObserver(m, host),
    events: reflectorEvents(m, kinds),
  };
  let source: KubernetesApiSource;
  if (o.kubeconfig !== null) {
    source = new ApiSource({ ...common, kubeconfig: o.kubeconfig.file, context: o.kubeconfig.context ?? undefined });
  } else if (o.endpoint !== null && o.tls !== null && o.endpoint.startsWith('https:')) {
    source = new ApiSource({ ...common, kubeconfig: tlsKubeconfig(o.endpoint, o.tls) });
  } else if (o.endpoint !== null) {
    source = new ApiSource({ ...common, endpoint: o.endpoint });
  } else {
    // In-cluster; tls is ignored there, as in CoreDNS.
    const dir = process.env[SERVICE_ACCOUNT_DIR_ENV];
    source = new ApiSource({ ...common, serviceAccountDir: dir !== undefined && dir !== '' ? dir : undefined });
  }
  m.sources.add(source);
  return source;
}

/** What makes two sources the same (a worker pool runs equal ones once, in its primary): everything makeSource reads. */
function sourceKey(o: KubernetesOptions, kinds: readonly ClusterKind[]): string {
  return JSON.stringify([
    o.manifests, o.endpoint, o.tls, o.kubeconfig, o.labels?.text ?? null, o.pods, o.noEndpoints, kinds,
    o.apiserverQps, o.apiserverBurst, o.apiserverMaxInflight,
  ]);
}

/** The server's own addresses (C5, D8): what it listens on, or every non-loopback interface address when it listens on all. */
export function ownAddresses(bound: readonly BoundAddress[]): string[] {
  const out = new Set<string>();
  for (const b of bound) {
    if (b.address !== '') {
      const ip = canonicalIp(b.address);
      if (ip !== null && ip !== '0.0.0.0' && ip !== '::') { out.add(ip); continue; }
    }
    for (const infos of Object.values(networkInterfaces())) {
      for (const i of infos ?? []) {
        if (!i.internal && !i.address.startsWith('fe80:')) out.add(canonicalIp(i.address) ?? i.address);
      }
    }
  }
  return [...out];
}

/** Waits for the first sync (O17): logs while waiting, warns and goes on after the timeout. */
async function waitForSync(store: ClusterStore, kinds: readonly ClusterKind[], timeoutMs: number, log: Logger): Promise<void> {
  const start = Date.now();
  let nextLog = start + 500;
  const maxSteps = Math.ceil(timeoutMs / 100) + 2;
  for (let i = 0; i < maxSteps && !store.synced(kinds); i++) {
    const now = Date.now();
    if (now - start >= timeoutMs) break;
    if (now >= nextLog) {
      log.info('waiting for Kubernetes API before starting server');
      nextLog += 500;
    }
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, timeoutMs - (now - start)))));
  }
  if (!store.synced(kinds)) log.warn('starting server with unsynced Kubernetes API');
}

export const kubernetes: PluginDefinition = {
  name: P,
  once: true,
  inClassOnly: true,
  setup(d, ctx) {
    const o = parseKubernetesOptions(d, ctx);
    const log = ctx.logger.plugin(P);
    // autopath @kubernetes finds a client's namespace in a compact pod-IP index fed by this plugin's source.
    const podIps = ctx.plugins.includes('autopath') ? new PodIpIndex() : null;
    const kinds = watchedKinds(o, podIps !== null);
    const store = new ClusterStore({ onListenerError: (e) => log.error(`index update failed: ${(e as Error).message}`) });
    const filtered: ClusterStateSink = o.labels !== null && !o.labels.empty ? new LabelFilteredSink(store, o.labels) : store;
    const sink = podIps === null ? filtered : new PodIpIndexSink(filtered, podIps, o.pods === 'verified');
    let own: string[] = [];
    ctx.onListening((bound) => { own = ownAddresses(bound); });
    const index = new DnsIndex(store, {
      zones: o.zones, primaryZone: o.primaryZone, ttl: o.ttl, pods: o.pods, endpointPodNames: o.endpointPodNames,
      endpoints: !o.noEndpoints, ignoreEmptyService: o.ignoreEmptyService, zonal: o.zonal,
      namespaces: o.namespaces, namespaceLabels: o.namespaceLabels, localAddresses: () => own,
    });
    const latency = programmingLatency(ctx.services);
    // Not the first list: its trigger times are history (CoreDNS counts only changes it sees happen).
    index.observeSlices((slice, service) => { if (store.isSynced('EndpointSlice')) observeProgramming(latency, slice, service); });
    const synced = (): boolean => store.synced(kinds);
    ctx.readyCheck(P, synced);
    // The source is made at startup, not here: checking a Corefile (reload, `deploy render`) must not need
    // the cluster. A connection setting that cannot work (in-cluster outside a cluster, unreadable
    // kubeconfig) still stops the server from starting, with the directive's place.
    let source: ClusterStateSource | null = null;
    let made: ClusterStateSource | null = null;
    const metrics = (): ApiMetrics => apiMetrics(ctx.services);
    ctx.onStartup(async () => {
      try {
        // Made only where sources run (alone, or a pool's primary): a worker gets a relay and never makes it.
        source = await ctx.services.sourceSharing.share(sourceKey(o, kinds), kinds, async () => {
          made = await makeSource(o, kinds, log, metrics, (file) => manifestErrorCounter(ctx.services)(file));
          return made;
        });
      } catch (e) {
        throw new CorefileError(d.file, d.line, `plugin/${P}: ${(e as Error).message}`);
      }
      source.start(sink);
      await waitForSync(store, kinds, o.startupTimeoutMs, log);
    });
    ctx.onShutdown(async () => {
      await source?.stop();
      if (made !== null && o.manifests === null) metrics().sources.delete(made as KubernetesApiSource);
      index.close();
    });
    return new KubernetesHandler({
      index, zones: o.zones, fallthrough: o.fallthrough, synced, upstream: () => ctx.chainHead(), blockZones: ctx.zones, podIps,
    });
  },
};
