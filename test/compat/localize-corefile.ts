/**
 * @module test/compat/localize-corefile
 * The only changes the distribution-Corefile tests make to a shipped
 * Corefile, so it runs on loopback: each DNS port → a free port, every
 * listen address (bind, prometheus, health, ready) → 127.0.0.1 (a block
 * without `bind` gets `bind 127.0.0.1`, since no packet may be served on
 * other interfaces), upstreams (`/etc/resolv.conf`, public IPs) → a local
 * dnsmasq, `/etc/coredns/` → the test's folder, and the distributions'
 * template placeholders filled with real values. Plugins, options and
 * their order are left as shipped.
 */

export interface LoopbackTargets {
  /** Shipped DNS port → the free port it becomes (53 must be present; others as the Corefile uses them). */
  readonly dnsPorts: ReadonlyMap<number, number>;
  /** `127.0.0.1:PORT` of the dnsmasq standing in for the node's resolvers and any public upstream. */
  readonly upstream: string;
  /** `127.0.0.1:PORT` of the cluster DNS a node-local cache forwards to (`__PILLAR__CLUSTER__DNS__`). */
  readonly clusterDns: string;
  /** Folder standing in for `/etc/coredns` (NodeHosts, custom/, zone files). */
  readonly configDir: string;
  readonly clusterDomain: string;
}

const LOOPBACK = '127.0.0.1';

/** kubeadm's `cache 30{{- if .DNSDomain }} { ... }{{- end }}`: Go template whitespace trimming included. */
function fillGoIf(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\s*\{\{- if \.(\w+) \}\}([\s\S]*?)\s*\{\{- end \}\}/g, (_m, key: string, body: string) => ((values[key] ?? '') !== '' ? body : ''));
}

function fillPlaceholders(text: string, t: LoopbackTargets): string {
  const d = t.clusterDomain;
  return fillGoIf(text, { DNSDomain: d })
    .replaceAll('{{ .DNSDomain }}', d)
    .replaceAll('{{ .ClusterDomain }}', d)
    .replaceAll('%{CLUSTER_DOMAIN}%', d)
    .replaceAll('__PILLAR__DNS__DOMAIN__', d)
    .replaceAll('__DNS__DOMAIN__', d)
    .replaceAll('__PILLAR__LOCAL__DNS__', LOOPBACK)
    .replaceAll('__PILLAR__DNS__SERVER__', LOOPBACK)
    .replaceAll('__PILLAR__CLUSTER__DNS__', t.clusterDns)
    .replaceAll('__PILLAR__UPSTREAM__SERVERS__', t.upstream);
}

function mappedPort(t: LoopbackTargets, port: number): number {
  const p = t.dnsPorts.get(port);
  if (p === undefined) throw new Error(`localizeCorefile: no free port given for DNS port ${port}`);
  return p;
}

/** A server block key (`.:53`, `example.io:1053`, `example.com`) on its loopback port. */
function localKey(key: string, t: LoopbackTargets): string {
  const m = /^(.*?)(?::(\d+))?$/.exec(key)!;
  return `${m[1]}:${mappedPort(t, m[2] === undefined ? 53 : Number(m[2]))}`;
}

/** An upstream of `forward`: files and non-loopback addresses → the local dnsmasq. */
function localUpstream(to: string, t: LoopbackTargets): string {
  if (to.startsWith('127.')) return to;
  return t.upstream;
}

function localizeLine(line: string, t: LoopbackTargets, depth: number): string {
  const indent = /^\s*/.exec(line)![0];
  const words = line.trim().split(/\s+/);
  const head = words[0] ?? '';
  if (depth === 0 && line.trim().endsWith('{') && head !== 'import') {
    return `${indent}${words.slice(0, -1).map((k) => localKey(k, t)).join(' ')} {`;
  }
  if (depth !== 1) return line.replaceAll('/etc/coredns/', `${t.configDir}/`);
  const opens = line.trim().endsWith('{') ? ' {' : '';
  switch (head) {
    case 'bind':
      return `${indent}bind ${LOOPBACK}${opens}`;
    case 'prometheus':
    case 'health':
    case 'ready':
      // Their listeners: an ephemeral loopback port (the shipped :9153/:8080/:8181 on all interfaces otherwise).
      return `${indent}${head} ${LOOPBACK}:0${opens}`;
    case 'forward': {
      const args = words.slice(1, opens ? -1 : undefined);
      const [from, ...to] = args;
      return `${indent}forward ${from} ${[...new Set(to.map((u) => localUpstream(u, t)))].join(' ')}${opens}`;
    }
    default:
      return line.replaceAll('/etc/coredns/', `${t.configDir}/`);
  }
}

/**
 * Rewrites a shipped Corefile to run on loopback only; see the module comment for the complete
 * list of changes. `blockBody`: the text is imported inside a server block (an AKS `*.override`).
 */
export function localizeCorefile(text: string, t: LoopbackTargets, opts: { blockBody?: boolean } = {}): string {
  const lines = fillPlaceholders(text, t).split('\n');
  const out: string[] = [];
  let depth = opts.blockBody === true ? 1 : 0;
  let blockStart = -1;
  let hasBind = false;
  for (const line of lines) {
    const code = line.replace(/#.*$/, '');
    // A trailing comment is dropped with the line it annotates (an operator's `forward . /etc/resolv.conf # ...`).
    const localized = code.trim() === '' ? line : localizeLine(code.trimEnd(), t, depth);
    if (depth === 0 && code.trim().endsWith('{')) { blockStart = out.length; hasBind = false; }
    if (depth === 1 && /^\s*bind\s/.test(code)) hasBind = true;
    out.push(localized);
    for (const ch of code) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
    if (depth === 0 && blockStart >= 0) {
      if (!hasBind) out.splice(blockStart + 1, 0, `    bind ${LOOPBACK}`);
      blockStart = -1;
    }
  }
  return out.join('\n');
}
