/**
 * @module doctor/doctor
 * `clusterdns doctor`: runs every check in order (servers over UDP and TCP
 * and the API service's A and PTR; health, ready and lameduck; the metrics' ratios,
 * upstream and API state; the Corefile's upstreams, probed, and loops; the
 * resolv.conf; a pod's resolv.conf by the kubelet's rules), prints per check its status, what it saw and the fix, then
 * a verdict. Exit status 0 when nothing fails. `--json` prints
 * {checks:[{id, status, target, summary, detail, fix}], verdict}.
 */
import { splitHostPort } from '../plugins/forward/addresses.ts';
import { checkKubernetes } from './k8s-checks.ts';
import { UsageError } from '../cli/args.ts';
import { lastValue, parseFlags } from '../cli/flags.ts';
import { checkHealthReady, checkMetrics, checkPod, checkResolvConf, checkServers, checkUpstreams, type CheckResult, type DoctorInput } from './checks.ts';

type Write = (s: string) => void;

export const DOCTOR_USAGE = `Usage: clusterdns doctor [--server HOST:PORT]... [--metrics URL] [--health URL] [--ready URL]
                        [--corefile FILE] [--resolv-conf FILE] [--pod POD.yaml] [--cluster-domain DOMAIN]
                        [--kubeconfig FILE] [--dns-service NS/NAME] [--timeout MS] [--json]
`;

const VALUE_FLAGS = new Set(['server', 'metrics', 'health', 'ready', 'corefile', 'resolv-conf', 'pod', 'cluster-domain', 'timeout', 'kubeconfig', 'dns-service']);

function parse(argv: readonly string[]): { input: DoctorInput; json: boolean; kubeconfig: string | null; dnsService: string } {
  const f = parseFlags(argv, { values: VALUE_FLAGS, bools: new Set(['json']) });
  const v = f.values;
  const json = f.bools.has('json');
  const one = (n: string): string | null => lastValue(f, n, null);
  const servers = (v.get('server') ?? []).map((s) => {
    const hp = splitHostPort(s);
    if (hp === null) throw new UsageError(`invalid value "${s}" for flag -server: want IP or IP:PORT`);
    return hp;
  });
  const timeout = Number(one('timeout') ?? '2000');
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60_000) throw new UsageError('invalid value for flag -timeout: milliseconds from 1 to 60000');
  return {
    json, kubeconfig: one('kubeconfig'), dnsService: one('dns-service') ?? 'kube-system/kube-dns',
    input: {
      servers, metrics: one('metrics'), health: one('health'), ready: one('ready'), corefile: one('corefile'),
      resolvConf: one('resolv-conf'), pod: one('pod'), clusterDomain: one('cluster-domain') ?? 'cluster.local', timeoutMs: timeout,
    },
  };
}

export async function runChecks(inp: DoctorInput): Promise<CheckResult[]> {
  return [
    ...await checkServers(inp),
    ...await checkHealthReady(inp),
    ...await checkMetrics(inp.metrics, inp.timeoutMs),
    ...await checkUpstreams(inp),
    ...await checkResolvConf(inp),
    ...checkPod(inp),
  ];
}

export function verdictOf(checks: readonly CheckResult[]): string {
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  if (fails > 0) return `fail: ${fails} failing, ${warns} warning${warns === 1 ? '' : 's'}`;
  if (warns > 0) return `warn: ${warns} warning${warns === 1 ? '' : 's'}, nothing failing`;
  return `ok: ${checks.length} checks passed`;
}

export async function doctorCommand(argv: readonly string[], write: Write, writeErr: Write): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeErr(`${e.message}\n${DOCTOR_USAGE}`);
    return 2;
  }
  const { input, json, kubeconfig, dnsService } = parsed;
  if (kubeconfig === null && input.servers.length === 0 && input.metrics === null && input.corefile === null && input.resolvConf === null && input.pod === null && input.health === null && input.ready === null) {
    writeErr(`nothing to check: give at least one of --server, --metrics, --health, --ready, --corefile, --resolv-conf, --pod, --kubeconfig\n${DOCTOR_USAGE}`);
    return 2;
  }
  const checks = [...await runChecks(input), ...await checkKubernetes(kubeconfig, dnsService, input.clusterDomain, input.timeoutMs)];
  const verdict = verdictOf(checks);
  if (json) {
    write(`${JSON.stringify({ checks, verdict }, null, 2)}\n`);
  } else {
    for (const c of checks) {
      write(`[${c.status}]${' '.repeat(5 - c.status.length)}${c.id}${c.target === '' ? '' : ` ${c.target}`}: ${c.summary}\n`);
      if (c.detail !== '') write(`        ${c.detail}\n`);
      if (c.fix !== '') write(`        fix: ${c.fix}\n`);
    }
    write(`verdict: ${verdict}\n`);
  }
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
