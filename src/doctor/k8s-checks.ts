/**
 * @module doctor/k8s-checks
 * With `--kubeconfig`: the cluster's own view. Reads the DNS Service
 * (kube-system/kube-dns unless --dns-service says otherwise) and its
 * EndpointSlices from the API server, then asks the Service IP and every DNS
 * pod IP directly for the API service's name (the "svc IP vs pod IP" test:
 * pods answer but the Service does not means Service routing, kube-proxy or
 * a NetworkPolicy is in the way).
 */
import { Rcode, rcodeName, Type } from '../dns/constants.ts';
import { loadKubeConfig } from '../cluster/api/source.ts';
import { KubeApiClient, readBody } from '../cluster/api/client.ts';
import type { CheckResult } from './checks.ts';
import { probeUdp } from './probe.ts';

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

export async function checkKubernetes(kubeconfig: string | null, dnsService: string, clusterDomain: string, timeoutMs: number): Promise<CheckResult[]> {
  if (kubeconfig === null) return [];
  const [ns, name] = dnsService.includes('/') ? dnsService.split('/', 2) as [string, string] : ['kube-system', dnsService];
  let client: KubeApiClient;
  let svc: Json;
  let slices: Json;
  try {
    client = new KubeApiClient(loadKubeConfig({ kubeconfig }));
    svc = await getJson(client, `/api/v1/namespaces/${ns}/services/${name}`, timeoutMs);
    slices = await getJson(client, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`, timeoutMs);
  } catch (e) {
    return [r('k8s.api', 'fail', kubeconfig, `cannot read ${ns}/${name} from the API server: ${(e as Error).message}`,
      'Check the kubeconfig context, that the API server is reachable, and that you may get services and endpointslices.')];
  }
  const out: CheckResult[] = [r('k8s.api', 'ok', kubeconfig, `read Service ${ns}/${name} and its EndpointSlices`)];
  const question = `kubernetes.default.svc.${clusterDomain.replace(/\.$/, '')}.`;
  const ask = async (host: string, port: number): Promise<string | null> => {
    const p = await probeUdp(host, port, question, Type.A, timeoutMs);
    if (!p.ok) return p.error;
    return p.reply!.rcode === Rcode.NOERROR && p.reply!.answer.length > 0 ? null : rcodeName(p.reply!.rcode);
  };
  const spec = obj(svc.spec);
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
