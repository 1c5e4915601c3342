/**
 * @module doctor/explain
 * `clusterdns explain NAME`: the search-path walk a pod's resolver makes for
 * NAME (its namespace's search list and ndots:5, or a pod file's resolv.conf
 * by the kubelet's rules), done for real against a server: every query in
 * order with its answer and time, which plugin answered (from the server's
 * `explain` side channel, when its Corefile enables it), the totals, and how
 * to avoid the walk.
 */
import { readFileSync } from 'node:fs';
import { rcodeName, Rcode, typeFromName, Type } from '../dns/constants.ts';
import { splitHostPort } from '../plugins/forward/addresses.ts';
import { EXPLAIN_LABEL } from '../plugins/explain/explain.ts';
import { amplificationAdvice, searchCandidates, type SearchWalk } from '../pod/amplification.ts';
import { readPodFile, PodFileError } from '../pod/pod-file.ts';
import { KubeletDnsError, ndotsOf, podResolvConf } from '../pod/resolv-conf.ts';
import { probeUdp } from './probe.ts';
import { UsageError } from '../cli/args.ts';
import { lastValue, parseFlags } from '../cli/flags.ts';
import { errorMessage } from '../errors/to-error.ts';

type Write = (s: string) => void;

export const EXPLAIN_USAGE = `Usage: clusterdns explain NAME [--type A] [--namespace NS | --pod POD.yaml] [--server HOST:PORT]
                         [--cluster-domain DOMAIN] [--node-resolv-conf FILE] [--timeout MS]
`;

const VALUE_FLAGS = new Set(['type', 'namespace', 'pod', 'server', 'cluster-domain', 'node-resolv-conf', 'timeout']);

/** The plugin the server says answered `name`/`type` for us, or null without the side channel. */
async function pluginOf(host: string, port: number, name: string, type: string, timeoutMs: number): Promise<string | null> {
  const p = await probeUdp(host, port, `${EXPLAIN_LABEL}${name}`, Type.TXT, timeoutMs);
  if (!p.ok || p.reply === null || p.reply.rcode !== Rcode.NOERROR) return null;
  for (const rr of p.reply.answer) {
    if (rr.type !== Type.TXT) continue;
    for (let i = 0; i < rr.data.length;) {
      const len = rr.data[i]!;
      const text = Buffer.from(rr.data.subarray(i + 1, i + 1 + len)).toString('latin1');
      i += 1 + len;
      if (text.startsWith(`type=${type} `)) return /plugin=(\S+)/.exec(text)?.[1] ?? null;
    }
  }
  return null;
}

export async function explainCommand(argv: readonly string[], write: Write, writeErr: Write): Promise<number> {
  let f;
  try {
    f = parseFlags(argv, { values: VALUE_FLAGS, positional: 1 });
    if (f.positional.length === 0) throw new UsageError('NAME is required');
    if (f.values.has('namespace') && f.values.has('pod')) throw new UsageError('give --namespace or --pod, not both');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeErr(`${e.message}\n${EXPLAIN_USAGE}`);
    return 2;
  }
  const name = f.positional[0]!;
  const v = { get: (n: string): string | undefined => lastValue(f, n, null) ?? undefined };
  const typeText = (v.get('type') ?? 'A').toUpperCase();
  const qtype = typeFromName(typeText);
  const server = splitHostPort(v.get('server') ?? '127.0.0.1:53');
  const timeoutMs = Number(v.get('timeout') ?? '2000');
  if (qtype === undefined || server === null || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
    writeErr(`${qtype === undefined ? `unknown type ${typeText}` : server === null ? 'invalid --server: want IP or IP:PORT' : 'invalid --timeout'}\n${EXPLAIN_USAGE}`);
    return 2;
  }
  const domain = (v.get('cluster-domain') ?? 'cluster.local').replace(/\.$/, '');
  let searches: readonly string[];
  let ndots: number;
  let who: string;
  try {
    const podPath = v.get('pod');
    if (podPath !== undefined) {
      const pod = readPodFile(podPath);
      const node = v.get('node-resolv-conf');
      const conf = podResolvConf(pod, {
        clusterDns: [server.host], clusterDomain: domain, resolverConfig: node ?? 'none',
        resolverConfigText: node === undefined ? '' : readFileSync(node, 'utf8'), nodeIPs: [],
      });
      for (const w of conf.warnings) writeErr(`${w}\n`);
      searches = conf.searches;
      ndots = ndotsOf(conf.options);
      who = `${pod.source} in ${pod.namespace}`;
    } else {
      const ns = v.get('namespace') ?? 'default';
      searches = [`${ns}.svc.${domain}`, `svc.${domain}`, domain];
      ndots = 5;
      who = `a pod in ${ns}`;
    }
  } catch (e) {
    if (e instanceof PodFileError || e instanceof KubeletDnsError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      writeErr(`${errorMessage(e)}\n`);
      return 1;
    }
    throw e;
  }
  write(`${name} ${typeText} as ${who} asks it: search ${searches.join(' ') || '(none)'}, ndots:${ndots}; server ${server.host}:${server.port}\n`);
  const tries: string[] = [];
  let answered = false;
  let totalMs = 0;
  let sideChannel = true;
  for (const candidate of searchCandidates(name, searches, ndots)) {
    tries.push(candidate);
    const p = await probeUdp(server.host, server.port, candidate, qtype, timeoutMs);
    totalMs += p.ms;
    const plugin = p.ok ? await pluginOf(server.host, server.port, candidate, typeText, timeoutMs) : null;
    if (p.ok && plugin === null) sideChannel = false;
    const what = !p.ok ? `no answer (${p.error})`
      : `${rcodeName(p.reply!.rcode)}${p.reply!.answer.length > 0 ? `, ${p.reply!.answer.length} record${p.reply!.answer.length === 1 ? '' : 's'}` : ''}`;
    write(`${String(tries.length).padStart(3)}  ${candidate} ${typeText}  ${what}  ${p.ms.toFixed(1)} ms  plugin=${plugin ?? '?'}\n`);
    // glibc keeps walking on NXDOMAIN, NODATA and SERVFAIL; an answer ends the walk.
    if (p.ok && p.reply!.rcode === Rcode.NOERROR && p.reply!.answer.length > 0) { answered = true; break; }
  }
  const walk: SearchWalk = { name, tries, answered, queries: tries.length };
  write(`total: ${tries.length} ${tries.length === 1 ? 'query' : 'queries'} in ${totalMs.toFixed(1)} ms (one more each for AAAA with getaddrinfo)\n`);
  write(`${amplificationAdvice(walk, ndots, 1)}\n`);
  if (!sideChannel) write('plugin=?: the server has no `explain` in this server block; add it (debug only) to see which plugin answered\n');
  return answered ? 0 : 1;
}
