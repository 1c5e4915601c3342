/**
 * @module doctor/checks
 * The doctor's checks, in the order they run. Each returns results with a
 * stable id (what `--json` consumers key on), a status, what it saw, and for
 * every warn and fail the fix in one sentence. Thresholds are named here.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Rcode, rcodeName, Type } from '../dns/constants.ts';
import { reverseName } from '../dns/ip.ts';
import { parseCorefile } from '../corefile/parser.ts';
import { isLoopback, nameserversOf, splitHostPort } from '../plugins/forward/addresses.ts';
import { amplificationAdvice, assumedExistence, searchWalk } from '../pod/amplification.ts';
import { MAX_NAMESERVERS, ndotsOf, parseNodeResolvConf, podResolvConf } from '../pod/resolv-conf.ts';
import { readPodFile } from '../pod/pod-file.ts';
import { has, parseMetricsText, sumOf, type MetricSample } from './metrics-text.ts';
import { httpGet, probeTcp, probeUdp } from './probe.ts';
import { errorMessage } from '../errors/to-error.ts';

export type Status = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly id: string;
  readonly status: Status;
  /** What was checked, when a check runs once per thing (a server, an upstream). */
  readonly target: string;
  readonly summary: string;
  readonly detail: string;
  /** One sentence; '' when ok. */
  readonly fix: string;
}

export interface DoctorInput {
  readonly servers: readonly { host: string; port: number }[];
  readonly metrics: string | null;
  readonly health: string | null;
  readonly ready: string | null;
  readonly corefile: string | null;
  readonly resolvConf: string | null;
  readonly pod: string | null;
  readonly clusterDomain: string;
  readonly timeoutMs: number;
}

/** SERVFAIL share of responses: above WARN is suspicious, above FAIL is an outage. */
export const SERVFAIL_WARN = 0.01;
export const SERVFAIL_FAIL = 0.05;
/** NXDOMAIN share above this is mostly search-path suffixes. */
export const NXDOMAIN_WARN = 0.5;
/** Cache hit ratio below this (with at least CACHE_MIN_REQUESTS) means the cache does little. */
export const CACHE_HIT_WARN = 0.2;
export const CACHE_MIN_REQUESTS = 100;
/** Upstream probes slower than this are reported. */
export const SLOW_MS = 500;
/** Queries per typical external lookup above this are worth cutting. */
export const AMPLIFICATION_WARN = 4;
/** The name whose search walk the resolv.conf check counts. */
export const TYPICAL_EXTERNAL_NAME = 'www.example.com';

function r(id: string, status: Status, target: string, summary: string, detail = '', fix = ''): CheckResult {
  return { id, status, target, summary, detail, fix };
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;

export async function checkServers(inp: DoctorInput): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const d = inp.clusterDomain.replace(/\.$/, '');
  for (const s of inp.servers) {
    const t = `${s.host}:${s.port}`;
    const name = `kubernetes.default.svc.${d}.`;
    const udp = await probeUdp(s.host, s.port, name, Type.A, inp.timeoutMs);
    out.push(udp.ok
      ? r('server.udp', 'ok', t, `answers over UDP in ${ms(udp.ms)} (${rcodeName(udp.reply!.rcode)})`)
      : r('server.udp', 'fail', t, `no answer over UDP: ${udp.error}`, '', `Check that the DNS pods run and listen on ${t} UDP, and that no NetworkPolicy or firewall drops UDP port ${s.port}.`));
    const tcp = await probeTcp(s.host, s.port, name, Type.A, inp.timeoutMs);
    out.push(tcp.ok
      ? r('server.tcp', 'ok', t, `answers over TCP in ${ms(tcp.ms)} (${rcodeName(tcp.reply!.rcode)})`)
      : r('server.tcp', 'fail', t, `no answer over TCP: ${tcp.error}`, 'Large answers (truncated over UDP) and some clients need TCP.',
        `Open TCP port ${s.port} to the DNS pods (Service ports, NetworkPolicy, firewall) as well as UDP.`));
    if (!udp.ok) continue;
    // The API service's A, then its PTR: the seed's first two questions.
    const a = udp.reply!;
    const ip = a.answer.find((x) => x.type === Type.A);
    if (a.rcode !== Rcode.NOERROR || ip === undefined) {
      out.push(r('dns.api-service', 'fail', t, `${name} A: ${rcodeName(a.rcode)}, no address`, '',
        'The kubernetes Service must resolve: check the kubernetes plugin\'s zone, its API connection (coredns_kubernetes_api_synced) and its RBAC.'));
      continue;
    }
    const addr = ipText(ip.data);
    const ptrName = reverseName(addr);
    const ptr = ptrName === null ? null : await probeUdp(s.host, s.port, ptrName, Type.PTR, inp.timeoutMs);
    const ptrOk = ptr !== null && ptr.ok && ptr.reply!.rcode === Rcode.NOERROR && ptr.reply!.answer.length > 0;
    out.push(ptrOk
      ? r('dns.api-service', 'ok', t, `${name} A ${addr}; PTR ${ptrName} answers`)
      : r('dns.api-service', 'warn', t, `${name} A ${addr}, but PTR ${ptrName}: ${ptr?.reply ? rcodeName(ptr.reply.rcode) : ptr?.error ?? 'not asked'}`, '',
        'Serve reverse zones with the kubernetes plugin (kubernetes cluster.local in-addr.arpa ip6.arpa).'));
  }
  return out;
}

function ipText(data: Uint8Array): string {
  return Array.from(data).join('.');
}

/** The body of /ready while the server is stopping (src/plugins/ready/ready.ts). */
export const READY_STOPPING_BODY = 'Shutting down';

export const LAMEDUCK_FIX = 'Expected for the lameduck period while a pod is replaced or scaled down; if it stays, the process is stuck stopping: read its log and make terminationGracePeriodSeconds longer than lameduck.';

/**
 * /health and /ready, then whether the server is in lameduck: stopping, so
 * /ready says 503 "Shutting down" while /health and DNS still answer (as
 * the health plugin's lameduck does). That is a warning, not a failure.
 */
export async function checkHealthReady(inp: DoctorInput): Promise<CheckResult[]> {
  const out: CheckResult[] = [...await checkHttp('health', inp.health, inp.timeoutMs)];
  if (inp.ready === null) return out;
  const g = await httpGet(inp.ready, inp.timeoutMs);
  const stopping = g.status === 503 && g.body.trim() === READY_STOPPING_BODY;
  if (!stopping) {
    out.push(...httpResult('ready', inp.ready, g));
    out.push(r('lameduck', 'ok', inp.ready, 'not stopping'));
    return out;
  }
  const healthUp = out.some((c) => c.id === 'health' && c.status === 'ok');
  out.push(r('ready', 'warn', inp.ready, `${inp.ready}: 503 ${READY_STOPPING_BODY}`, '', 'The server is stopping: see the lameduck check.'));
  out.push(r('lameduck', 'warn', inp.ready, `the server is stopping (lameduck): /ready says ${READY_STOPPING_BODY}${healthUp ? ', /health and DNS still answer' : ''}; it leaves the Service endpoints`, '', LAMEDUCK_FIX));
  return out;
}

export async function checkHttp(id: 'health' | 'ready', url: string | null, timeoutMs: number): Promise<CheckResult[]> {
  if (url === null) return [];
  return httpResult(id, url, await httpGet(url, timeoutMs));
}

function httpResult(id: 'health' | 'ready', url: string, g: Awaited<ReturnType<typeof httpGet>>): CheckResult[] {
  if (g.status === 200) return [r(id, 'ok', url, `${url}: 200 ${g.body.trim().slice(0, 40)}`)];
  const fix = id === 'health'
    ? 'The process is unhealthy or gone (in lameduck /health still answers): look at its log; the liveness probe will restart it.'
    : 'A plugin is not ready (the kubernetes plugin before its first sync, most often): see which in the body and the log.';
  return [r(id, 'fail', url, g.error !== null ? `${url}: ${g.error}` : `${url}: ${g.status} ${g.body.trim().slice(0, 80)}`, '', fix)];
}

export async function checkMetrics(url: string | null, timeoutMs: number): Promise<CheckResult[]> {
  if (url === null) return [];
  const g = await httpGet(url, timeoutMs);
  if (g.status !== 200) {
    return [r('metrics.reachable', 'fail', url, `${url}: ${g.error ?? g.status}`, '', 'Enable the prometheus plugin (prometheus :9153) and reach its port.')];
  }
  const m = parseMetricsText(g.body);
  const out = [r('metrics.reachable', 'ok', url, `${m.length} samples`)];
  out.push(...ratioChecks(m), ...upstreamMetricChecks(m), ...kubernetesMetricChecks(m));
  return out;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function ratioChecks(m: readonly MetricSample[]): CheckResult[] {
  const out: CheckResult[] = [];
  const total = sumOf(m, 'coredns_dns_responses_total');
  if (total === 0) return [r('metrics.rcodes', 'ok', '', 'no responses counted yet')];
  const servfail = sumOf(m, 'coredns_dns_responses_total', { rcode: 'SERVFAIL' }) / total;
  const status: Status = servfail > SERVFAIL_FAIL ? 'fail' : servfail > SERVFAIL_WARN ? 'warn' : 'ok';
  out.push(r('metrics.servfail', status, '', `SERVFAIL ${pct(servfail)} of ${total} responses`, `thresholds: warn above ${pct(SERVFAIL_WARN)}, fail above ${pct(SERVFAIL_FAIL)}`,
    status === 'ok' ? '' : 'SERVFAIL comes from failing upstreams or an unsynced kubernetes plugin: see the upstream and kubernetes checks and the errors log.'));
  const nx = sumOf(m, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN' }) / total;
  out.push(nx > NXDOMAIN_WARN
    ? r('metrics.nxdomain', 'warn', '', `NXDOMAIN ${pct(nx)} of responses`, 'Mostly search-path suffixes of names looked up with ndots:5.',
      'Cut the search walk: trailing dots or a lower ndots in the pods, or autopath @kubernetes (docs/pod-dns.md).')
    : r('metrics.nxdomain', 'ok', '', `NXDOMAIN ${pct(nx)} of responses`));
  const requests = sumOf(m, 'coredns_cache_requests_total');
  if (has(m, 'coredns_cache_requests_total') && requests >= CACHE_MIN_REQUESTS) {
    const hit = sumOf(m, 'coredns_cache_hits_total') / requests;
    out.push(hit < CACHE_HIT_WARN
      ? r('metrics.cache', 'warn', '', `cache hit ratio ${pct(hit)} of ${requests} requests`, '', 'Raise the cache TTL or capacity (cache 30), or look for clients asking unique names.')
      : r('metrics.cache', 'ok', '', `cache hit ratio ${pct(hit)} of ${requests} requests`));
  }
  const reloads = sumOf(m, 'coredns_reload_failed_total');
  out.push(reloads > 0
    ? r('metrics.reload', 'warn', '', `${reloads} failed reloads`, 'The old configuration keeps serving.', 'Fix the Corefile error in the log (FILE:LINE: ...); the next reload applies it.')
    : r('metrics.reload', 'ok', '', 'no failed reloads'));
  return out;
}

function upstreamMetricChecks(m: readonly MetricSample[]): CheckResult[] {
  if (!has(m, 'coredns_proxy_healthcheck_failures_total') && !has(m, 'coredns_forward_healthcheck_broken_total')) return [];
  const broken = sumOf(m, 'coredns_forward_healthcheck_broken_total');
  const failing = [...new Set(m.filter((s) => s.name === 'coredns_proxy_healthcheck_failures_total' && s.value > 0).map((s) => s.labels.to ?? '?'))];
  if (broken > 0) {
    return [r('metrics.forward', 'fail', '', `every upstream failed its health check ${broken} times`, `failing: ${failing.join(', ')}`, 'Every upstream is down or unreachable: fix the network path or the forward targets.')];
  }
  if (failing.length > 0) {
    return [r('metrics.forward', 'warn', '', `health-check failures for ${failing.join(', ')}`, '', 'Remove or repair the failing upstreams; forward keeps using the healthy ones.')];
  }
  return [r('metrics.forward', 'ok', '', 'no upstream health-check failures')];
}

function kubernetesMetricChecks(m: readonly MetricSample[]): CheckResult[] {
  if (!has(m, 'coredns_kubernetes_api_connected')) return [];
  const down = m.filter((s) => s.name === 'coredns_kubernetes_api_connected' && s.value === 0).map((s) => s.labels.resource ?? '?');
  const unsynced = m.filter((s) => s.name === 'coredns_kubernetes_api_synced' && s.value === 0).map((s) => s.labels.resource ?? '?');
  const stale = sumOf(m, 'coredns_kubernetes_stale_seconds');
  if (down.length > 0) {
    return [r('metrics.kubernetes', 'fail', '', `API server unreachable for ${down.join(', ')}; serving the last known state (stale ${stale.toFixed(0)} s)`, '',
      'Restore the path to the API server (its Service, the DNS pods\' egress NetworkPolicy, RBAC, the API server itself); answers are not updated meanwhile.')];
  }
  if (unsynced.length > 0) {
    return [r('metrics.kubernetes', 'warn', '', `not synced yet: ${unsynced.join(', ')}`, '', 'Wait for the first list, or check RBAC for list/watch of these resources.')];
  }
  return [r('metrics.kubernetes', 'ok', '', 'connected and synced')];
}

/** forward targets of a Corefile (addresses, or the nameservers of the file given). */
function upstreamsOf(path: string): { host: string; port: number; label: string }[] {
  const blocks = parseCorefile(readFileSync(path, 'utf8'), path);
  const out: { host: string; port: number; label: string }[] = [];
  const walk = (ds: readonly { name: string; args: readonly string[]; block: readonly unknown[] | null }[]): void => {
    for (const d of ds) {
      if (d.name !== 'forward') continue;
      for (const a of d.args.slice(1)) {
        if (a === '{') continue;
        const hp = splitHostPort(a.replace(/^dns:\/\//, ''));
        if (hp !== null) { out.push({ ...hp, label: a }); continue; }
        let text: string;
        try { text = readFileSync(resolve(dirname(path), a), 'utf8'); } catch { continue; }
        for (const ns of nameserversOf(text, a)) out.push({ host: ns.host, port: ns.port, label: `${ns.host}:${ns.port} (${a})` });
      }
    }
  };
  for (const b of blocks) walk(b.directives);
  return out;
}

export async function checkUpstreams(inp: DoctorInput): Promise<CheckResult[]> {
  if (inp.corefile === null) return [];
  let ups: { host: string; port: number; label: string }[];
  try {
    ups = upstreamsOf(inp.corefile);
  } catch (e) {
    return [r('corefile.parse', 'fail', inp.corefile, errorMessage(e), '', 'Fix the Corefile at the line given.')];
  }
  const out: CheckResult[] = [];
  if (ups.length === 0) return [r('upstream.probe', 'ok', inp.corefile, 'no forward upstreams')];
  const self = new Set(inp.servers.map((s) => `${s.host}:${s.port}`));
  for (const u of ups) {
    const t = `${u.host}:${u.port}`;
    if (self.has(t)) {
      out.push(r('upstream.loop', 'fail', t, `forward sends queries to ${t}, which is this DNS server: a forwarding loop`, '',
        'Forward to a resolver that is not this server (the node\'s real upstream, not a Service or node-local address that leads back here).'));
      continue;
    }
    if (isLoopback(u.host) && u.port === 53) {
      out.push(r('upstream.loop', 'warn', t, `forward sends queries to a loopback resolver ${t} (systemd-resolved's 127.0.0.53 style)`,
        'Inside a pod, loopback is the pod itself: the query comes back to this server.',
        'Point forward at the real upstream (resolvectl status shows it; kubelet --resolv-conf=/run/systemd/resolve/resolv.conf).'));
    }
    const p = await probeUdp(u.host, u.port, '.', Type.NS, inp.timeoutMs);
    if (!p.ok) {
      out.push(r('upstream.probe', 'fail', t, `${u.label}: no answer: ${p.error}`, '', `Remove ${t} from forward or repair it; forward sends a share of queries there until its health check marks it down.`));
    } else if (p.ms > SLOW_MS) {
      out.push(r('upstream.probe', 'warn', t, `${u.label}: answered in ${ms(p.ms)}`, '', 'A slow upstream makes every miss slow: use a closer resolver.'));
    } else {
      out.push(r('upstream.probe', 'ok', t, `${u.label}: answered in ${ms(p.ms)} (${rcodeName(p.reply!.rcode)})`));
    }
  }
  return out;
}

export async function checkResolvConf(inp: DoctorInput): Promise<CheckResult[]> {
  if (inp.resolvConf === null) return [];
  const path = inp.resolvConf;
  let conf;
  try {
    conf = parseNodeResolvConf(readFileSync(path, 'utf8'));
  } catch (e) {
    return [r('resolvconf.parse', 'fail', path, errorMessage(e), '', 'The kubelet refuses this file for Default pods: fix the nameserver line.')];
  }
  const out: CheckResult[] = [];
  const ns = conf.nameservers;
  if (ns.length > MAX_NAMESERVERS) {
    out.push(r('resolvconf.nameservers', 'warn', path, `${ns.length} nameservers; glibc and the kubelet use only the first ${MAX_NAMESERVERS}`,
      `ignored: ${ns.slice(MAX_NAMESERVERS).join(' ')}`, `Keep at most ${MAX_NAMESERVERS} nameservers; put the ones that must be used first.`));
  } else {
    out.push(r('resolvconf.nameservers', 'ok', path, `${ns.length} nameserver${ns.length === 1 ? '' : 's'}`));
  }
  for (const n of ns) {
    const hp = splitHostPort(n);
    if (hp === null) continue;
    const used = ns.indexOf(n) < MAX_NAMESERVERS;
    if (isLoopback(hp.host) && hp.port === 53) {
      out.push(r('resolvconf.loopback', 'warn', n, `loopback nameserver ${n}`, 'Pods with dnsPolicy Default (and hostNetwork pods on ClusterFirst) inherit it, and their loopback is not the node\'s.',
        'Give the kubelet a resolv.conf with the real upstreams (--resolv-conf=/run/systemd/resolve/resolv.conf with systemd-resolved).'));
    }
    const p = await probeUdp(hp.host, hp.port, '.', Type.NS, inp.timeoutMs);
    if (!p.ok) {
      out.push(r('resolvconf.dead', used ? 'fail' : 'warn', n, `nameserver ${n} does not answer: ${p.error}${used ? '' : ' (ignored anyway: past the third)'}`, '',
        `Remove ${n} from ${path}; resolvers wait for its timeout before trying the next one.`));
    }
  }
  const ndots = ndotsOf(conf.options);
  const walk = searchWalk(TYPICAL_EXTERNAL_NAME, conf.searches, ndots, assumedExistence(TYPICAL_EXTERNAL_NAME, inp.clusterDomain, new Set()));
  const summary = `ndots:${ndots}, ${conf.searches.length} search domains: ${amplificationAdvice(walk, ndots)}`;
  out.push(walk.queries > AMPLIFICATION_WARN
    ? r('resolvconf.search', 'warn', path, summary, '', 'Lower ndots (options ndots:1 on nodes; dnsConfig ndots:2 in pods), shorten the search list, or use trailing dots.')
    : r('resolvconf.search', 'ok', path, summary));
  return out;
}

/** The pod's resolv.conf by the kubelet's rules (cluster DNS: the --server addresses; node file: --resolv-conf). */
export function checkPod(inp: DoctorInput): CheckResult[] {
  if (inp.pod === null) return [];
  const t = inp.pod;
  try {
    const pod = readPodFile(inp.pod);
    const conf = podResolvConf(pod, {
      clusterDns: inp.servers.map((s) => s.host), clusterDomain: inp.clusterDomain.replace(/\.$/, ''),
      resolverConfig: inp.resolvConf ?? '', resolverConfigText: inp.resolvConf === null ? '' : readFileSync(inp.resolvConf, 'utf8'), nodeIPs: [],
    });
    const out: CheckResult[] = [];
    const policy = pod.dnsPolicy === '' ? 'ClusterFirst' : pod.dnsPolicy;
    if (pod.hostNetwork && policy === 'ClusterFirst') {
      out.push(r('pod.dnspolicy', 'warn', t, `${pod.source}: hostNetwork with dnsPolicy ClusterFirst gets the node's DNS, not the cluster's`, '',
        'Set dnsPolicy: ClusterFirstWithHostNet to resolve Service names from a hostNetwork pod.'));
    } else {
      out.push(r('pod.dnspolicy', 'ok', t, `${pod.source}: dnsPolicy ${policy}${pod.hostNetwork ? ', hostNetwork' : ''}`));
    }
    for (const w of conf.warnings) {
      out.push(r('pod.kubelet', 'warn', t, w, '', 'Fix the pod\'s dnsConfig or the node\'s resolv.conf so the kubelet does not have to cut it.'));
    }
    const ndots = ndotsOf(conf.options);
    const walk = searchWalk(TYPICAL_EXTERNAL_NAME, conf.searches, ndots, assumedExistence(TYPICAL_EXTERNAL_NAME, inp.clusterDomain, new Set()));
    const summary = `search ${conf.searches.length} domains, ndots:${ndots}: ${amplificationAdvice(walk, ndots)}`;
    out.push(walk.queries > AMPLIFICATION_WARN
      ? r('pod.search', 'warn', t, summary, '', 'Add dnsConfig.options ndots:2 to the pod, use trailing dots for external names, or enable autopath @kubernetes.')
      : r('pod.search', 'ok', t, summary));
    return out;
  } catch (e) {
    return [r('pod.parse', 'fail', t, errorMessage(e), '', 'Give a Pod or workload manifest that the kubelet would accept.')];
  }
}
