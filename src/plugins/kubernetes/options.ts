/**
 * @module plugins/kubernetes/options
 * `kubernetes [ZONES...] { ... }` read into KubernetesOptions: every CoreDNS
 * option (O1-O17) plus our `manifests PATH...`, each error as
 * "FILE:LINE: plugin/kubernetes: ..." (O16); and the kinds of objects the
 * options need watched.
 */
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Directive } from '../../corefile/parser.ts';
import { parseLabelSelector, type LabelSelector } from '../../cluster/label-selector.ts';
import type { ClusterKind } from '../../cluster/types.ts';
import { argCount, children, duration, fail, Fallthrough, int, ttlOption, zonesArg } from '../../plugin/options.ts';
import type { BlockContext } from '../../plugin/plugin.ts';
import type { PodMode } from './records.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'kubernetes';

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
    fail(c, P, `${c.name}: ${errorMessage(e)}`);
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
        ttl = ttlOption(c, P);
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

