/**
 * @module doctor/k8s-checks
 * With `--kubeconfig`: the cluster's own view. Reads the DNS Service
 * (kube-system/kube-dns unless --dns-service says otherwise) and its
 * EndpointSlices from the API server, then asks the Service IP and every DNS
 * pod IP directly for the API service's name (the "svc IP vs pod IP" test:
 * pods answer but the Service does not means Service routing, kube-proxy or
 * a NetworkPolicy is in the way). From the API itself, not from metrics:
 * the API server's version (reachable), the default/kubernetes Service's
 * ClusterIP compared with what each DNS pod answers for it (a pod that
 * answers another address serves a stale copy of the cluster), and the DNS
 * pods selected by the Service: phase, Ready condition, restarts.
 */
import { Rcode, rcodeName, Type } from '../dns/constants.ts';
import { bytesToIp, canonicalIp } from '../dns/ip.ts';
import { resolveConnection } from '../cluster/api/connection.ts';
import { KubeApiClient, readBody } from '../cluster/api/client.ts';
import type { CheckResult } from './checks.ts';
import { probeUdp } from './probe.ts';
import { errorMessage } from '../errors/to-error.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function r(id: string, status: CheckResult['status'], target: string, summary: string, fix = ''): CheckResult {
  return { id, status, target, summary, detail: '', fix };
}

async function getJson(client: KubeApiClient, path: string, timeoutMs: number): Promise<Json> {
  const res = await client.open(path, { signal: AbortSignal.timeout(timeoutMs), idleTimeoutMs: timeoutMs });
  return obj(JSON.parse(await readBody(res)));
}

/** The DNS port of a ports list: the one named dns (UDP), else the first UDP one, else 53. */
function dnsPort(ports: unknown[]): number {
  const ps = ports.map(obj);
  const p = ps.find((x) => x.name === 'dns') ?? ps.find((x) => x.protocol === 'UDP') ?? ps[0];
  return typeof p?.port === 'number' ? p.port : 53;
}

/** The selected DNS pods' state as the API reports it: one result per pod. */
function podStatusChecks(ns: string, pods: readonly Json[]): CheckResult[] {
  return pods.map((p) => {
    const meta = obj(p.metadata);
    const status = obj(p.status);
    const target = `${ns}/${String(meta.name ?? '?')}`;
    const phase = typeof status.phase === 'string' ? status.phase : 'Unknown';
    const ready = arr(status.conditions).map(obj).find((c) => c.type === 'Ready');
    const containers = arr(status.containerStatuses).map(obj);
    const restarts = containers.reduce((n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0), 0);
    const oom = containers.some((c) => obj(obj(c.lastState).terminated).reason === 'OOMKilled');
    const seen = `${phase}, Ready=${String(ready?.status ?? 'unknown')}${typeof ready?.message === 'string' ? ` (${ready.message})` : ''}, ${restarts} restart${restarts === 1 ? '' : 's'}`;
    if (ready?.status !== 'True') {
      return r('k8s.dns-pod-status', 'warn', target, `DNS pod not ready: ${seen}`,
        'kubectl describe this pod: a failing readiness probe (/ready: the kubernetes plugin not synced), a crash loop, or an unschedulable pod.');
    }
    if (oom) return r('k8s.dns-pod-status', 'warn', target, `DNS pod ready but was OOMKilled before: ${seen}`, 'Raise the container\'s memory limit (large clusters need more for the cluster state and the cache).');
    return r('k8s.dns-pod-status', 'ok', target, `DNS pod ${seen}`);
  });
}

/** The API's kubernetes Service address against what each answering DNS pod says it is. */
function apiServiceCheck(apiIp: string | null, answers: readonly { target: string; addrs: readonly string[] }[], question: string): CheckResult {
  if (apiIp === null) {
    return r('k8s.kubernetes-service', 'fail', 'default/kubernetes', 'the API has no default/kubernetes Service with a ClusterIP',
      'The API server recreates this Service itself: check the API server and that you may get services in default.');
  }
  const stale = answers.filter((a) => !a.addrs.includes(apiIp));
  if (stale.length === 0) return r('k8s.kubernetes-service', 'ok', 'default/kubernetes', `the API says ${apiIp}; ${answers.length === 1 ? 'the DNS pod answers' : `all ${answers.length} DNS pods answer`} the same`);
  const which = stale.map((a) => `${a.target} answers ${a.addrs.join(',') || 'nothing'}`).join('; ');
  return r('k8s.kubernetes-service', 'fail', 'default/kubernetes', `for ${question} the API says ${apiIp}, but ${which}: a stale copy of the cluster`,
    'That DNS server\'s watch of the API server is stuck: check coredns_kubernetes_api_synced and the log on that pod (RBAC, network to the API server); restarting the pod relists.');
}

export async function checkKubernetes(kubeconfig: string | null, dnsService: string, clusterDomain: string, timeoutMs: number): Promise<CheckResult[]> {
  if (kubeconfig === null) return [];
  const [ns, name] = dnsService.includes('/') ? dnsService.split('/', 2) as [string, string] : ['kube-system', dnsService];
  let client: KubeApiClient;
  let svc: Json;
  let slices: Json;
  let version = '';
  try {
    const connection = resolveConnection({ kubeconfig });
    // The credentials first (from the kubeconfig helper process, exec plugins included): --timeout bounds each request, not them.
    await connection.apply({});
    client = new KubeApiClient(connection);
    const v = await getJson(client, '/version', timeoutMs);
    version = typeof v.gitVersion === 'string' ? `API server ${v.gitVersion}: ` : '';
    svc = await getJson(client, `/api/v1/namespaces/${ns}/services/${name}`, timeoutMs);
    slices = await getJson(client, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`, timeoutMs);
  } catch (e) {
    return [r('k8s.api', 'fail', kubeconfig, `cannot read ${ns}/${name} from the API server: ${errorMessage(e)}`,
      'Check the kubeconfig context, that the API server is reachable, and that you may get services and endpointslices.')];
  }
  const out: CheckResult[] = [r('k8s.api', 'ok', kubeconfig, `${version}read Service ${ns}/${name} and its EndpointSlices`)];
  const question = `kubernetes.default.svc.${clusterDomain.replace(/\.$/, '')}.`;
  // The API's own view: its kubernetes Service and the pods the DNS Service selects (failures here are reported, not fatal).
  const apiSvc = await getJson(client, '/api/v1/namespaces/default/services/kubernetes', timeoutMs).catch((): Json => ({}));
  const apiIpRaw = obj(apiSvc.spec).clusterIP;
  const apiIp = typeof apiIpRaw === 'string' ? canonicalIp(apiIpRaw) : null;
  const qtype = apiIp?.includes(':') ? Type.AAAA : Type.A;
  const answered: { target: string; addrs: string[] }[] = [];
  const ask = async (host: string, port: number): Promise<string | null> => {
    const p = await probeUdp(host, port, question, qtype, timeoutMs);
    if (!p.ok) return p.error;
    if (p.reply!.rcode !== Rcode.NOERROR || p.reply!.answer.length === 0) return rcodeName(p.reply!.rcode);
    answered.push({ target: `${host}:${port}`, addrs: p.reply!.answer.filter((a) => a.type === qtype).map((a) => bytesToIp(a.data)) });
    return null;
  };
  const spec = obj(svc.spec);
  const selector = Object.entries(obj(spec.selector)).filter(([, v]) => typeof v === 'string').map(([k, v]) => `${k}=${String(v)}`).join(',');
  if (selector !== '') {
    const podList = await getJson(client, `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`, timeoutMs).catch(() => null);
    if (podList === null) out.push(r('k8s.dns-pod-status', 'warn', `${ns}/${name}`, `cannot list the pods selected by ${selector}`, 'Allow list on pods in this namespace to see their state.'));
    else if (arr(podList.items).length === 0) out.push(r('k8s.dns-pod-status', 'fail', `${ns}/${name}`, `no pods match the DNS Service selector ${selector}`, 'The DNS Deployment is scaled to zero, missing, or its pod labels differ from the Service selector.'));
    else out.push(...podStatusChecks(ns, arr(podList.items).map(obj)));
  }
  const clusterIP = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const svcPort = dnsPort(arr(spec.ports));
  const pods: { ip: string; port: number; ready: boolean }[] = [];
  for (const s of arr(slices.items).map(obj)) {
    const port = dnsPort(arr(s.ports));
    for (const e of arr(s.endpoints).map(obj)) {
      const ready = obj(e.conditions).ready !== false;
      for (const a of arr(e.addresses)) if (typeof a === 'string') pods.push({ ip: a, port, ready });
    }
  }
  let podsOk = 0;
  for (const p of pods) {
    const err = await ask(p.ip, p.port);
    if (err === null) podsOk++;
    out.push(err === null
      ? r('k8s.dns-pod', p.ready ? 'ok' : 'warn', `${p.ip}:${p.port}`, `DNS pod answers ${question}${p.ready ? '' : ' (but is not ready)'}`, p.ready ? '' : 'The pod answers but is not ready: check its /ready.')
      : r('k8s.dns-pod', 'fail', `${p.ip}:${p.port}`, `DNS pod does not answer ${question}: ${err}`, 'Look at this pod\'s log and readiness; restart it if it is stuck.'));
  }
  if (answered.length > 0) out.push(apiServiceCheck(apiIp, answered, question));
  if (pods.length === 0) out.push(r('k8s.dns-pod', 'fail', `${ns}/${name}`, 'the DNS Service has no endpoints', 'The DNS pods are not running or not ready, or their labels do not match the Service selector.'));
  if (clusterIP === '' || clusterIP === 'None') return out;
  const svcErr = await ask(clusterIP, svcPort);
  out.push(svcErr === null
    ? r('k8s.dns-service', 'ok', `${clusterIP}:${svcPort}`, `Service IP answers ${question}`)
    : r('k8s.dns-service', 'fail', `${clusterIP}:${svcPort}`, `Service IP does not answer ${question}: ${svcErr}${podsOk > 0 ? `, though ${podsOk === 1 ? '1 pod answers' : `${podsOk} pods answer`} directly` : ''}`,
      podsOk > 0 ? 'The pods work but the Service does not route to them: check kube-proxy (or its replacement), the Service\'s ports and NetworkPolicies.'
        : 'Neither the Service nor the pods answer: fix the DNS pods first.'));
  return out;
}
