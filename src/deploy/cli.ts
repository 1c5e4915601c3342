/**
 * @module deploy/cli
 * `clusterdns deploy render` with the flags of CoreDNS's deploy script:
 * -i CLUSTER_DNS_IP, -d DOMAIN, -r REVERSE_CIDRS (repeatable, or
 * space/comma separated), -s (no upstream forward), plus --corefile FILE
 * (the operator's own Corefile instead of the generated one), --image,
 * --namespace and --replicas; --node-local and --dnsrecord print the node
 * cache's and the DNSRecord manifests instead. Flags are checked before anything is
 * rendered; the output is validated; `--help` on every subcommand.
 */
import { readFileSync } from 'node:fs';
import { cliFlags } from '../cli/flags.ts';
import { ipFamily } from '../dns/ip.ts';
import { errorMessage } from '../errors/to-error.ts';
import { DEFAULT_RENDER, renderObjects, renderYaml, type RenderOptions } from './render.ts';
import { DEFAULT_GATEWAY_IMAGE, dnsRecordObjects, dnsRecordOptions } from './dnsrecord.ts';
import { nodeLocalObjects, nodeLocalOptions } from './node-local.ts';
import { validateManifests } from './validate.ts';

export const DEPLOY_USAGE = `Usage: clusterdns deploy render [flags]   print the manifests that run clusterdns as the cluster DNS

Run 'clusterdns deploy render --help' for its flags.
`;

export const RENDER_USAGE = `Usage: clusterdns deploy render [-i CLUSTER_DNS_IP] [-d DOMAIN] [-r REVERSE_CIDR]... [-s]
                                [--corefile FILE] [--image IMAGE] [--namespace NS] [--replicas N]
Prints the manifests (ServiceAccount, ClusterRole, binding, ConfigMap, Deployment,
kube-dns Service) that run clusterdns as the cluster DNS, validated.

  -i IP             the cluster DNS Service IP, kubelet's --cluster-dns (default ${DEFAULT_RENDER.clusterDnsIp})
  -d DOMAIN         the cluster domain (default ${DEFAULT_RENDER.domain})
  -r CIDR|ZONE      reverse zones served (repeatable; default ${DEFAULT_RENDER.reverseZones.join(' ')})
  -s                no upstream: leave out 'forward . /etc/resolv.conf'
  --corefile FILE   use this Corefile (yours, e.g. from the coredns ConfigMap) instead of the
                    generated one; checked with the real parser; RBAC follows what it uses.
                    Not with -d, -r or -s, which only shape the generated Corefile.
  --image IMAGE     the container image (default ${DEFAULT_RENDER.image})
  --namespace NS    where it runs (default ${DEFAULT_RENDER.namespace})
  --replicas N      Deployment replicas (default ${DEFAULT_RENDER.replicas}; 1 is allowed, with a warning)
  --node-local      print the NodeLocal DNSCache manifests instead (DaemonSet, its Corefile, Services;
                    docs/node-local.md), with -i, -d, --image, --namespace and --local-ip IP
                    (default 169.254.20.10)
  --dnsrecord       print the DNSRecord manifests instead (CRD, RBAC, gateway Deployment and Service;
                    docs/dnsrecord.md), with --namespace, --replicas and --image, here the gateway's
                    image (default ${DEFAULT_GATEWAY_IMAGE})
  -h, --help        this text
`;

/** A Kubernetes namespace name: an RFC 1123 label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** One label of a cluster domain: letters, digits and inner hyphens, 1-63 characters. */
const DOMAIN_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

export class RenderUsageError extends Error {}
/** `--help`: print the usage, exit 0. */
class HelpRequested extends Error {}

function checkDomain(flag: string, text: string): string {
  const d = text.replace(/\.$/, '');
  if (d === '' || d.length > 253 || !d.split('.').every((l) => DOMAIN_LABEL.test(l))) {
    throw new RenderUsageError(`${flag}: '${text}' is not a domain name (labels of letters, digits and inner hyphens, separated by dots)`);
  }
  return d.toLowerCase();
}

function checkReverse(text: string): string {
  if (text.includes('/')) {
    const [ip, bits, ...rest] = text.split('/');
    const family = ipFamily(ip ?? '');
    const max = family === 4 ? 32 : 128;
    if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(bits ?? '') || Number(bits) > max) throw new RenderUsageError(`-r: '${text}' is not a CIDR`);
    return text;
  }
  return checkDomain('-r', text);
}

export interface RenderRequest {
  readonly options: RenderOptions;
  /** --corefile: its path and text. */
  readonly corefile: { readonly path: string; readonly text: string } | null;
  /** Not errors, but worth saying (a single replica). */
  readonly warnings: readonly string[];
  /** --node-local: the node cache's address; null renders the cluster DNS. */
  readonly nodeLocalIp: string | null;
  /** --dnsrecord: the DNSRecord manifests instead; the image given is the gateway's (null: its default). */
  readonly dnsRecord: { readonly image: string | null } | null;
}

export function parseRenderArgs(argv: readonly string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): RenderRequest {
  const o = { ...DEFAULT_RENDER, reverseZones: [...DEFAULT_RENDER.reverseZones] };
  let reverseGiven = false;
  let shaping: string | null = null;
  let corefilePath: string | null = null;
  let nodeLocal = false;
  let dnsRecord = false;
  let imageGiven = false;
  let localIp = '169.254.20.10';
  const warnings: string[] = [];
  for (const { raw: a, name, value } of cliFlags(argv, (m) => new RenderUsageError(m))) {
    switch (name) {
      case 'h': case 'help': throw new HelpRequested();
      case 'i': {
        const ip = value();
        if (ipFamily(ip) === 0) throw new RenderUsageError(`-i: '${ip}' is not an IP address`);
        o.clusterDnsIp = ip;
        break;
      }
      case 'd': o.domain = checkDomain('-d', value()); shaping ??= a; break;
      case 'r': {
        if (!reverseGiven) { o.reverseZones = []; reverseGiven = true; }
        o.reverseZones.push(...value().split(/[\s,]+/).filter(Boolean).map(checkReverse));
        shaping ??= a;
        break;
      }
      case 's': o.skipUpstream = true; shaping ??= a; break;
      case 'corefile': corefilePath = value(); break;
      case 'node-local': nodeLocal = true; break;
      case 'dnsrecord': dnsRecord = true; break;
      case 'local-ip': {
        localIp = value();
        if (ipFamily(localIp) === 0) throw new RenderUsageError(`--local-ip: '${localIp}' is not an IP address`);
        break;
      }
      case 'image': {
        const image = value();
        if (image === '' || /\s/.test(image)) throw new RenderUsageError(`--image: '${image}' is not an image reference`);
        o.image = image;
        imageGiven = true;
        break;
      }
      case 'namespace': {
        const ns = value();
        if (!NAMESPACE.test(ns)) throw new RenderUsageError(`--namespace: '${ns}' is not a namespace name (lower-case letters, digits and '-', at most 63)`);
        o.namespace = ns;
        break;
      }
      case 'replicas': {
        const text = value();
        const n = Number(text);
        if (!/^\d+$/.test(text) || n < 1 || n > 1000) throw new RenderUsageError(`--replicas: '${text}' is not a number of replicas from 1 to 1000`);
        o.replicas = n;
        break;
      }
      default: throw new RenderUsageError(`unknown flag '${a}'`);
    }
  }
  if (corefilePath !== null && shaping !== null) {
    throw new RenderUsageError(`${shaping} shapes the generated Corefile; with --corefile, change your Corefile instead`);
  }
  if (nodeLocal && (corefilePath !== null || reverseGiven || o.skipUpstream || o.replicas !== DEFAULT_RENDER.replicas)) {
    throw new RenderUsageError('--node-local takes -i, -d, --image, --namespace and --local-ip only');
  }
  if (dnsRecord && (nodeLocal || corefilePath !== null || shaping !== null || o.clusterDnsIp !== DEFAULT_RENDER.clusterDnsIp)) {
    throw new RenderUsageError('--dnsrecord takes --namespace, --replicas and --image only');
  }
  if (o.replicas === 1 && !dnsRecord) warnings.push('--replicas 1: a single cluster DNS pod means no DNS while it restarts or moves (fine for a small or test cluster)');
  let corefile: RenderRequest['corefile'] = null;
  if (corefilePath !== null) {
    let text: string;
    try {
      text = readFile(corefilePath);
    } catch (e) {
      throw new RenderUsageError(`--corefile: cannot read ${corefilePath}: ${errorMessage(e)}`);
    }
    corefile = { path: corefilePath, text };
  }
  return { options: o, corefile, warnings, nodeLocalIp: nodeLocal ? localIp : null, dnsRecord: dnsRecord ? { image: imageGiven ? o.image : null } : null };
}

/** Runs `deploy ...`; returns the exit code. */
export function deployCommand(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help' || sub === '-help') { out(DEPLOY_USAGE); return 0; }
  if (sub !== 'render') { err(`${sub === undefined ? 'deploy needs a subcommand' : `unknown deploy subcommand '${sub}'`}\n${DEPLOY_USAGE}`); return 2; }
  let req: RenderRequest;
  try {
    req = parseRenderArgs(rest);
  } catch (e) {
    if (e instanceof HelpRequested) { out(RENDER_USAGE); return 0; }
    err(`${errorMessage(e)}\n${RENDER_USAGE}`);
    return 2;
  }
  for (const w of req.warnings) err(`warning: ${w}\n`);
  if (req.nodeLocalIp !== null) {
    const n = nodeLocalObjects(nodeLocalOptions(req.options, req.nodeLocalIp));
    out(renderYaml([...n.configmap, ...n.services, ...n.daemonset]));
    return 0;
  }
  if (req.dnsRecord !== null) {
    out(renderYaml(dnsRecordObjects(dnsRecordOptions(req.options, req.dnsRecord.image))));
    return 0;
  }
  let objects: Record<string, unknown>[];
  try {
    objects = renderObjects(req.options, req.corefile ?? undefined);
  } catch (e) {
    // A Corefile the real parser refuses: FILE:LINE: what.
    err(`${errorMessage(e)}\n`);
    return 1;
  }
  const problems = validateManifests(objects);
  if (problems.length > 0) {
    err(`rendered manifests are not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  out(renderYaml(objects));
  return 0;
}
