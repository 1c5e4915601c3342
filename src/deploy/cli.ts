/**
 * @module deploy/cli
 * `clusterdns deploy render` with the flags of CoreDNS's deploy script:
 * -i CLUSTER_DNS_IP, -d DOMAIN, -r REVERSE_CIDRS (repeatable, or
 * space/comma separated), -s (no upstream forward), plus --image,
 * --namespace and --replicas. Prints the manifests, validated.
 */
import { isIP } from 'node:net';
import { DEFAULT_RENDER, renderObjects, renderYaml, type RenderOptions } from './render.ts';
import { validateManifests } from './validate.ts';
import { errorMessage } from '../errors/to-error.ts';

export function parseRenderArgs(argv: readonly string[]): RenderOptions {
  const o = { ...DEFAULT_RENDER, reverseZones: [...DEFAULT_RENDER.reverseZones] };
  let reverseGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a.replace(/^--?/, '-')) {
      case '-i': o.clusterDnsIp = value(); if (!isIP(o.clusterDnsIp)) throw new Error(`-i: '${o.clusterDnsIp}' is not an IP address`); break;
      case '-d': o.domain = value().replace(/\.$/, ''); break;
      case '-r': {
        if (!reverseGiven) { o.reverseZones = []; reverseGiven = true; }
        o.reverseZones.push(...value().split(/[\s,]+/).filter(Boolean));
        break;
      }
      case '-s': o.skipUpstream = true; break;
      case '-image': o.image = value(); break;
      case '-namespace': o.namespace = value(); break;
      case '-replicas': o.replicas = Number(value()); break;
      default: throw new Error(`unknown flag '${a}'`);
    }
  }
  return o;
}

export const DEPLOY_USAGE = `Usage: clusterdns deploy render [-i CLUSTER_DNS_IP] [-d DOMAIN] [-r REVERSE_CIDR]... [-s]
                                [--image IMAGE] [--namespace NS] [--replicas N]
Prints the manifests that run clusterdns as the cluster DNS (validated).
`;

/** Runs `deploy ...`; returns the exit code. */
export function deployCommand(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
  const [sub, ...rest] = argv;
  if (sub !== 'render') { err(DEPLOY_USAGE); return 2; }
  let opts: RenderOptions;
  try {
    opts = parseRenderArgs(rest);
  } catch (e) {
    err(`${errorMessage(e)}\n${DEPLOY_USAGE}`);
    return 2;
  }
  const objects = renderObjects(opts);
  const problems = validateManifests(objects);
  if (problems.length > 0) {
    err(`rendered manifests are not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  out(renderYaml(objects));
  return 0;
}
