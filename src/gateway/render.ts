/**
 * @module gateway/render
 * DNSRecords -> the nginx `http`-level configuration the gateway serves:
 * one `server` per host on every listen address, one `location` per path
 * proxying to the backend (the path's fixed address, else the Service's
 * ClusterIP, or with `endpoints` an `upstream` of the Service's ready
 * endpoints with keepalive), Host and X-Forwarded-* headers, an access log
 * per host, 404 for paths no record names, and a default server answering
 * 404 for unknown hosts. Also
 * which lines each record produced, so an nginx error `FILE:LINE` names the
 * record that caused it. Values come validated from dnsrecord/record.ts
 * (no quotes, braces or `;` in a path), so nothing here can inject directives.
 */
import { join } from 'node:path';
import type { ClusterStore } from '../cluster/store.ts';
import { joinHostPort } from '../dns/ip.ts';
import { describeDnsRecord, dnsRecordKey, type DnsRecord, type DnsRecordPath } from '../dnsrecord/record.ts';

export interface RenderOptions {
  /** `listen` addresses, "ADDR:PORT" ("[V6]:PORT" for IPv6). */
  readonly listen: readonly string[];
  /** Folder of the per-host access logs. */
  readonly accessLogDir: string;
  /** Proxy to the Services' ready endpoints (an upstream with keepalive) instead of their ClusterIP. */
  readonly endpoints: boolean;
}

/** Lines [first, last] (1-based, inclusive) of the rendered text that belong to one record. */
export interface RecordLines {
  readonly key: string;
  readonly first: number;
  readonly last: number;
}

export interface RenderedConfig {
  readonly text: string;
  readonly owners: readonly RecordLines[];
  /** Paths that have no backend now (answering 503), as "DNSRecord NS/NAME: path /x/: why". */
  readonly problems: readonly string[];
}

const PROXY_HEADERS = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Forwarded-Host $host;',
];

/** The record whose lines hold `line`, or null (the shared parts). */
export function ownerOfLine(rendered: RenderedConfig, line: number): string | null {
  for (const o of rendered.owners) if (line >= o.first && line <= o.last) return o.key;
  return null;
}

/** Renders the records (host -> record, as DnsRecordSet.winners) in host order. */
export function renderNginx(records: Iterable<DnsRecord>, cluster: ClusterStore, opts: RenderOptions): RenderedConfig {
  const lines: string[] = ['# Written by clusterdns gateway from DNSRecords: edits are overwritten.', ''];
  const owners: RecordLines[] = [];
  const problems: string[] = [];
  const sorted = [...records].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  for (const r of sorted) {
    // DNS-only records (an etcd host key alone) have nothing to route.
    if (r.paths.length === 0) continue;
    const first = lines.length + 1;
    const host = r.host.replace(/\.$/, '');
    const locations: string[] = [];
    r.paths.forEach((p, i) => {
      const backend = backendOf(r, p, i, cluster, opts);
      if ('error' in backend) {
        problems.push(`${describeDnsRecord(r)}: path ${p.path}: ${backend.error}; answering 503`);
        locations.push(`    location ${p.path} {`, '        return 503;', '    }');
        return;
      }
      if (backend.upstream !== null) lines.push(...backend.upstream);
      locations.push(
        `    location ${p.path} {`,
        `        proxy_pass http://${backend.target}${p.rewrite ? '/' : ''};`,
        ...(backend.upstream !== null ? ['        proxy_http_version 1.1;', '        proxy_set_header Connection "";'] : []),
        ...PROXY_HEADERS.map((h) => `        ${h}`),
        '    }',
      );
    });
    lines.push(`# ${describeDnsRecord(r)} (${r.origin})`, 'server {');
    for (const l of opts.listen) lines.push(`    listen ${l};`);
    // Paths no record names are 404 here, not files under nginx's html root.
    const catchAll = r.paths.some((p) => p.path === '/') ? [] : ['    location / {', '        return 404;', '    }'];
    lines.push(`    server_name ${host};`, `    access_log ${join(opts.accessLogDir, `${host}.access.log`)};`, ...locations, ...catchAll, '}', '');
    owners.push({ key: dnsRecordKey(r), first, last: lines.length });
  }
  lines.push('# Hosts without a DNSRecord.', 'server {');
  for (const l of opts.listen) lines.push(`    listen ${l} default_server;`);
  lines.push('    access_log off;', '    return 404;', '}', '');
  return { text: lines.join('\n'), owners, problems };
}

type Backend = { readonly target: string; readonly upstream: readonly string[] | null } | { readonly error: string };

function backendOf(r: DnsRecord, p: DnsRecordPath, index: number, cluster: ClusterStore, opts: RenderOptions): Backend {
  if (p.address !== null) return { target: joinHostPort(p.address, p.port), upstream: null };
  const svc = cluster.service(p.namespace, p.service);
  if (svc === undefined) return { error: `Service ${p.namespace}/${p.service} not found` };
  if (!opts.endpoints) {
    const ip = svc.clusterIPs[0];
    if (ip === undefined) return { error: `Service ${p.namespace}/${p.service} has no ClusterIP` };
    return { target: joinHostPort(ip, p.port), upstream: null };
  }
  // The Service port's name picks the endpoint port (the target port may differ from the Service port).
  const portName = svc.ports.find((sp) => sp.port === p.port)?.name;
  if (portName === undefined) return { error: `Service ${p.namespace}/${p.service} has no port ${p.port}` };
  const servers = new Set<string>();
  for (const s of cluster.slicesOfService(p.namespace, p.service)) {
    const ep = s.ports.find((sp) => sp.name === portName)?.port;
    if (ep === undefined || s.addressType === 'FQDN') continue;
    for (const e of s.endpoints) if (e.ready) for (const a of e.addresses) servers.add(joinHostPort(a, ep));
  }
  if (servers.size === 0) return { error: `Service ${p.namespace}/${p.service} has no ready endpoints` };
  const name = `dnsrecord_${r.namespace}_${r.name}_${index}`.replace(/[^A-Za-z0-9_]/g, '_');
  return {
    target: name,
    upstream: [`upstream ${name} {`, ...[...servers].sort().map((s) => `    server ${s};`), '    keepalive 16;', '}'],
  };
}
