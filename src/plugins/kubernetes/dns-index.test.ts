/**
 * @module plugins/kubernetes/dns-index.test
 * The DNS index on its own: nothing is built before a query, a repeated query
 * returns the very same prepacked reply, and a change invalidates only what
 * depends on it (that service, that namespace, that address), while negative
 * answers follow service creation and the SOA serial. Also the programming
 * latency metric (name, label, buckets).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterStore } from '../../cluster/store.ts';
import type { EndpointSliceRecord, NamespaceRecord, ServiceRecord } from '../../cluster/types.ts';
import { Rcode, Type } from '../../dns/constants.ts';
import { canonicalName } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { memoryLogger } from '../../log/logger.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { ProcessServices } from '../../plugin/process-services.ts';
import { DnsIndex, type IndexOptions } from './dns-index.ts';
import { observeProgramming, programmingLatency } from './metrics.ts';
import { collidingNames, countNameReads, lazyRequest } from '../../../test/support/plain-names.ts';

const Z = 'cluster.local.';

function nsRec(name: string, labels: Record<string, string> = {}): NamespaceRecord {
  return { kind: 'Namespace', name, labels };
}
function svcRec(namespace: string, name: string, ip: string | null): ServiceRecord {
  return {
    kind: 'Service', namespace, name, type: 'ClusterIP', clusterIPs: ip === null ? [] : [ip], headless: ip === null, externalName: null,
    ports: [{ name: 'http', port: 80, protocol: 'tcp' }], publishNotReadyAddresses: false, labels: {},
  };
}
function sliceRec(namespace: string, name: string, service: string, ips: string[], triggerTime?: number): EndpointSliceRecord {
  return {
    kind: 'EndpointSlice', namespace, name, serviceName: service, addressType: 'IPv4', labels: {}, ...(triggerTime === undefined ? {} : { triggerTime }),
    ports: [{ name: 'http', port: 8080, protocol: 'tcp' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], ready: true, serving: true, terminating: false, hostname: null, nodeName: null, zone: null, targetRef: null })),
  };
}

function setup(extra: Partial<IndexOptions> = {}): { store: ClusterStore; index: DnsIndex } {
  const store = new ClusterStore();
  store.replace(['Namespace', 'Service', 'EndpointSlice'], [
    nsRec('a'), nsRec('b'),
    svcRec('a', 'web', '10.96.0.1'), svcRec('a', 'db', '10.96.0.2'), svcRec('b', 'api', '10.96.0.3'), svcRec('a', 'hl', null),
    sliceRec('a', 'hl-1', 'hl', ['10.1.0.1', '10.1.0.2']),
  ]);
  const index = new DnsIndex(store, {
    zones: [Z, 'in-addr.arpa.'], primaryZone: Z, ttl: 5, pods: 'disabled', endpointPodNames: false, endpoints: true,
    ignoreEmptyService: false, zonal: false, namespaces: null, namespaceLabels: null, localAddresses: () => [], ...extra,
  });
  return { store, index };
}

function reply(index: DnsIndex, name: string, type: number = Type.A): Reply {
  const zone = name.endsWith('in-addr.arpa.') ? 'in-addr.arpa.' : Z;
  const r = index.answer(name, type, zone);
  assert.ok(r instanceof Reply);
  return r;
}
const ips = (r: Reply): string[] => r.answer.map((x) => x.data.join('.'));

describe('DnsIndex', () => {
  it('builds nothing before the first query, and answers repeated queries with the same prepacked reply', () => {
    const { index } = setup();
    assert.deepEqual([index.stats.cachedNames, index.stats.views], [0, 0]);
    const first = reply(index, `web.a.svc.${Z}`);
    assert.deepEqual(ips(first), ['10.96.0.1']);
    assert.equal(reply(index, `web.a.svc.${Z}`), first, 'same object: a Map hit, no rebuild');
    assert.equal(first.packedFor(`web.a.svc.${Z}`), first.packedFor(`web.a.svc.${Z}`), 'packed once');
  });

  it('a service change invalidates that service only', () => {
    const { store, index } = setup();
    const web = reply(index, `web.a.svc.${Z}`);
    const db = reply(index, `db.a.svc.${Z}`);
    store.apply({ type: 'MODIFIED', object: svcRec('a', 'web', '10.96.0.9') });
    assert.deepEqual(ips(reply(index, `web.a.svc.${Z}`)), ['10.96.0.9']);
    assert.equal(reply(index, `db.a.svc.${Z}`), db, 'other service untouched');
    assert.notEqual(reply(index, `web.a.svc.${Z}`), web);
  });

  it('a slice change invalidates its service\'s names and the PTRs of its addresses', () => {
    const { store, index } = setup();
    assert.deepEqual(ips(reply(index, `hl.a.svc.${Z}`)).sort(), ['10.1.0.1', '10.1.0.2']);
    const ptr = reply(index, '1.0.1.10.in-addr.arpa.', Type.PTR);
    assert.equal(ptr.answer.length, 1);
    const web = reply(index, `web.a.svc.${Z}`);
    store.apply({ type: 'MODIFIED', object: sliceRec('a', 'hl-1', 'hl', ['10.1.0.2', '10.1.0.3']) });
    assert.deepEqual(ips(reply(index, `hl.a.svc.${Z}`)).sort(), ['10.1.0.2', '10.1.0.3']);
    assert.equal(reply(index, '1.0.1.10.in-addr.arpa.', Type.PTR).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, '3.0.1.10.in-addr.arpa.', Type.PTR).answer.length, 1);
    assert.equal(reply(index, `web.a.svc.${Z}`), web);
  });

  it('negative answers follow service creation in their namespace', () => {
    const { store, index } = setup();
    assert.equal(reply(index, `new.a.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    const api = reply(index, `api.b.svc.${Z}`);
    store.apply({ type: 'ADDED', object: svcRec('a', 'new', '10.96.0.7') });
    assert.deepEqual(ips(reply(index, `new.a.svc.${Z}`)), ['10.96.0.7']);
    assert.equal(reply(index, `api.b.svc.${Z}`), api, 'another namespace untouched');
  });

  it('namespace changes: deletion hides its names, creation makes a missing one appear', () => {
    const { store, index } = setup();
    assert.equal(reply(index, `x.c.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, `c.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    const api = reply(index, `api.b.svc.${Z}`);
    store.apply({ type: 'ADDED', object: nsRec('c') });
    assert.equal(reply(index, `c.svc.${Z}`).rcode, Rcode.NOERROR);
    store.apply({ type: 'DELETED', object: nsRec('a') });
    assert.equal(reply(index, `web.a.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, `api.b.svc.${Z}`), api);
  });

  it('negative answers carry the current SOA serial', () => {
    const { store, index } = setup();
    const serialOf = (r: Reply): number => new DataView(r.authority[0]!.data.buffer, r.authority[0]!.data.byteOffset).getUint32(r.authority[0]!.data.length - 20);
    const before = reply(index, `nope.a.svc.${Z}`);
    store.lastChange = (index.serial + 10) * 1000;
    const after = reply(index, `nope.a.svc.${Z}`);
    assert.equal(serialOf(after), serialOf(before) + 10);
  });

  it('the answer cache and the views are bounded', () => {
    const { index } = setup({ maxCachedNames: 3, maxViews: 2 });
    for (const n of ['web', 'db', 'hl', 'x', 'y']) reply(index, `${n}.a.svc.${Z}`);
    assert.ok(index.stats.cachedNames <= 3);
    assert.ok(index.stats.views <= 2);
    assert.deepEqual(ips(reply(index, `web.a.svc.${Z}`)), ['10.96.0.1'], 'evicted names are rebuilt');
  });

  it("a ClusterIP Service's A and SRV answers do not collect its endpoints; a headless one's do", () => {
    const { store, index } = setup();
    let reads = 0;
    const slicesOfService = store.slicesOfService.bind(store);
    store.slicesOfService = (ns: string, name: string) => { reads++; return slicesOfService(ns, name); };
    assert.deepEqual(ips(reply(index, `web.a.svc.${Z}`)), ['10.96.0.1']);
    assert.equal(reply(index, `_http._tcp.web.a.svc.${Z}`, Type.SRV).answer.length, 1);
    assert.equal(reads, 0, 'the view holds no endpoint list');
    assert.deepEqual(ips(reply(index, `hl.a.svc.${Z}`)), ['10.1.0.1', '10.1.0.2']);
    assert.equal(reads, 1);
  });

  it('the kept answers are bounded in bytes too: the oldest names go first, and a second pass still answers right', () => {
    const store = new ClusterStore();
    const services: ServiceRecord[] = [];
    for (let i = 0; i < 300; i++) services.push(svcRec('a', `s${i}`, `10.96.1.${i & 255}`));
    store.replace(['Namespace', 'Service', 'EndpointSlice'], [nsRec('a'), ...services]);
    // Room for about 100 of these names (the estimate of one is measured on the first).
    const probe = new DnsIndex(store, { ...setup().index.opts, maxCachedBytes: Infinity });
    probe.answer(`s0.a.svc.${Z}`, Type.A, Z);
    const perName = probe.stats.cachedBytes;
    assert.ok(perName > 300 && perName < 2000, `estimate per A name: ${perName}`);
    const bound = perName * 100;
    const index = new DnsIndex(store, { ...setup().index.opts, maxCachedBytes: bound });
    const name = (i: number) => `s${i}.a.svc.${Z}`;
    const first = services.map((_, i) => reply(index, name(i)));
    const kept = index.stats.cachedNames;
    assert.ok(kept >= 95 && kept <= 100, `kept ${kept}`);
    assert.ok(index.stats.cachedBytes <= bound);
    // The newest `kept` names are the ones kept: asked again they give the very same replies (no rebuild, no eviction).
    for (let i = 300 - kept; i < 300; i++) assert.equal(reply(index, name(i)), first[i], `s${i} kept`);
    // The one before them went: it is rebuilt, equal but not the same object.
    const rebuilt = reply(index, name(299 - kept));
    assert.notEqual(rebuilt, first[299 - kept]);
    assert.deepEqual(ips(rebuilt), [`10.96.1.${(299 - kept) & 255}`]);
    // A second pass over all of them: every answer right, the bound held throughout.
    for (let i = 0; i < 300; i++) {
      assert.deepEqual(ips(reply(index, name(i))), [`10.96.1.${i & 255}`]);
      assert.ok(index.stats.cachedBytes <= bound);
    }
    assert.ok(index.stats.cachedNames <= 100);
  });

  it('by default the bounds follow the cluster: five names and one view per Service (at least 20,480 and 10,000)', () => {
    // 5,000 Services with three ports each: an A, three SRV and a PTR name apiece, 25,000 names in all.
    const store = new ClusterStore();
    const services: ServiceRecord[] = [];
    for (let i = 0; i < 5000; i++) {
      const s = svcRec('a', `s${i}`, `10.96.${i >> 8}.${i & 255}`);
      services.push({ ...s, ports: ['http', 'grpc', 'metrics'].map((name, p) => ({ name, port: 80 + p, protocol: 'tcp' as const })) });
    }
    store.replace(['Namespace', 'Service', 'EndpointSlice'], [nsRec('a')]);
    const index = new DnsIndex(store, {
      zones: [Z, 'in-addr.arpa.'], primaryZone: Z, ttl: 5, pods: 'disabled', endpointPodNames: false, endpoints: true,
      ignoreEmptyService: false, zonal: false, namespaces: null, namespaceLabels: null, localAddresses: () => [],
    });
    // The Services arrive after the index was made: the bounds follow the store's changes.
    store.replace(['Namespace', 'Service', 'EndpointSlice'], [nsRec('a'), ...services]);
    const names: [string, number, string][] = [];
    for (let i = 0; i < 5000; i++) {
      names.push([`s${i}.a.svc.${Z}`, Type.A, Z], [`${i & 255}.${i >> 8}.96.10.in-addr.arpa.`, Type.PTR, 'in-addr.arpa.']);
      for (const port of ['http', 'grpc', 'metrics']) names.push([`_${port}._tcp.s${i}.a.svc.${Z}`, Type.SRV, Z]);
    }
    const first = names.map(([n, t, z]) => index.answer(n, t, z));
    assert.equal(index.stats.cachedNames, 25_000, 'every name kept (a fixed 20,480 evicted the first ones)');
    assert.equal(index.stats.views, 5000);
    // A second pass gets the very same replies: nothing was evicted and rebuilt.
    assert.ok(names.every(([n, t, z], i) => index.answer(n, t, z) === first[i]));
  });

  it('names that do not exist are kept apart, by their own bound: a flood of them pushes out no answer', () => {
    const { index } = setup({ maxCachedNames: 2, maxNegativeNames: 5 });
    const web = reply(index, `web.a.svc.${Z}`);
    const negatives = new Set<Reply>();
    for (let i = 0; i < 50; i++) {
      const r = reply(index, `x${i}.a.svc.${Z}`, i % 2 === 0 ? Type.A : Type.AAAA);
      assert.equal(r.rcode, Rcode.NXDOMAIN);
      negatives.add(r);
    }
    assert.equal(negatives.size, 1, 'one pre-encoded NXDOMAIN for every name of the zone');
    assert.ok(negatives.values().next().value!.kept, 'kept: a cache in front lets it pass');
    assert.deepEqual([index.stats.cachedNames, index.stats.negativeNames], [1, 5]);
    assert.equal(reply(index, `web.a.svc.${Z}`), web, 'still the same reply: not rebuilt');
  });

  it('a name found empty or missing answers every type alike, but not the names some types answer specially', () => {
    const { index } = setup();
    // An empty non-terminal: NODATA for A and AAAA, NXDOMAIN for TXT (TXT exists only as the schema record).
    assert.deepEqual([Type.A, Type.AAAA, Type.TXT].map((t) => reply(index, `a.svc.${Z}`, t).rcode), [Rcode.NOERROR, Rcode.NOERROR, Rcode.NXDOMAIN]);
    assert.equal(index.stats.negativeNames, 1);
    // Missing for A, but each has a type answered from elsewhere.
    assert.equal(reply(index, '1.0.96.10.in-addr.arpa.', Type.A).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, '1.0.96.10.in-addr.arpa.', Type.PTR).answer.length, 1, 'PTR of a ClusterIP');
    assert.equal(reply(index, `dns-version.${Z}`, Type.A).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, `dns-version.${Z}`, Type.TXT).answer.length, 1, 'schema version');
    assert.equal(reply(index, Z, Type.A).rcode, Rcode.NOERROR);
    assert.equal(reply(index, Z, Type.SOA).answer[0]!.type, Type.SOA, 'apex SOA');
    assert.equal(index.stats.negativeNames, 1, 'none of those kept as a negative');
  });

  it('a negative name follows the cluster: a service created under it answers', () => {
    const { store, index } = setup();
    assert.equal(reply(index, `new.b.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    assert.equal(reply(index, `x.nons.svc.${Z}`).rcode, Rcode.NXDOMAIN);
    store.apply({ type: 'ADDED', object: svcRec('b', 'new', '10.96.0.7') });
    store.apply({ type: 'ADDED', object: nsRec('nons') });
    store.apply({ type: 'ADDED', object: svcRec('nons', 'x', '10.96.0.8') });
    assert.deepEqual(ips(reply(index, `new.b.svc.${Z}`)), ['10.96.0.7']);
    assert.deepEqual(ips(reply(index, `x.nons.svc.${Z}`)), ['10.96.0.8']);
    assert.equal(index.stats.negativeNames, 0, 'the names now answer: no negative left for them');
  });

  it('a query finds its kept answer by the name as asked, in any case, without building its text', () => {
    const { store, index } = setup();
    const web = reply(index, `web.a.svc.${Z}`);
    const nx = reply(index, `nope.a.svc.${Z}`);
    for (const [asked, want] of [[`WEB.a.Svc.cluster.LOCAL.`, web], [`Nope.a.svc.${Z}`, nx]] as const) {
      const req = lazyRequest(asked);
      const reads = countNameReads(req);
      assert.equal(index.answerTo(req, Z), want, `${asked}: the kept reply`);
      assert.equal(reads.count, 0, `${asked}: its text never read`);
      assert.equal(req.nameHash, -1, 'the entry\'s name is now the request\'s');
      assert.equal(req.qname, canonicalName(asked));
    }
    // A name not kept yet is built from its text, and kept for the next query.
    const db = lazyRequest(`db.a.svc.${Z}`);
    assert.deepEqual(ips(index.answerTo(db, Z) as Reply), ['10.96.0.2']);
    const again = lazyRequest(`db.a.svc.${Z}`);
    const reads = countNameReads(again);
    assert.equal(index.answerTo(again, Z), index.answer(`db.a.svc.${Z}`, Type.A, Z));
    assert.equal(reads.count, 0);
    // Two names with the same hash: each gets its own answer (the one not found by hash, by its text).
    const [one, two] = collidingNames(`a.svc.${Z}`);
    const label = (n: string) => n.slice(0, n.indexOf('.'));
    store.apply({ type: 'ADDED', object: svcRec('a', label(one), '10.96.1.1') });
    store.apply({ type: 'ADDED', object: svcRec('a', label(two), '10.96.1.2') });
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(ips(index.answerTo(lazyRequest(one), Z) as Reply), ['10.96.1.1'], `${one}, round ${round}`);
      assert.deepEqual(ips(index.answerTo(lazyRequest(two), Z) as Reply), ['10.96.1.2'], `${two}, round ${round}`);
    }
  });

  it('closing stops following the store', () => {
    const { store, index } = setup();
    const web = reply(index, `web.a.svc.${Z}`);
    index.close();
    store.apply({ type: 'MODIFIED', object: svcRec('b', 'api', '10.96.0.8') });
    assert.equal(reply(index, `web.a.svc.${Z}`), web);
  });
});

describe('coredns_kubernetes_dns_programming_duration_seconds', () => {
  it('observes slices with a trigger time, by service kind, with CoreDNS buckets', async () => {
    const services = new ProcessServices({ logger: memoryLogger() });
    const m = programmingLatency(services);
    const { store, index } = setup();
    index.observeSlices((s, svc) => observeProgramming(m, s, svc));
    store.apply({ type: 'MODIFIED', object: sliceRec('a', 'hl-1', 'hl', ['10.1.0.9'], Date.now() - 1500) });
    store.apply({ type: 'ADDED', object: sliceRec('a', 'web-1', 'web', ['10.1.0.8'], Date.now() - 10) });
    store.apply({ type: 'ADDED', object: sliceRec('a', 'db-1', 'db', ['10.1.0.7']) }); // no trigger time: not observed
    const text = await metricsRegistry(services).metrics();
    assert.match(text, /coredns_kubernetes_dns_programming_duration_seconds_count\{service_kind="headless_with_selector"\} 1/);
    assert.match(text, /coredns_kubernetes_dns_programming_duration_seconds_count\{service_kind="cluster_ip"\} 1/);
    const les = [...text.matchAll(/_bucket\{le="([^"]+)",service_kind="cluster_ip"\}/g)].map((x) => x[1]);
    assert.equal(les.length, 21);
    assert.deepEqual([les[0], les[1], les[19], les[20]], ['0.001', '0.002', '524.288', '+Inf']);
  });
});
