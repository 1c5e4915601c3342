/**
 * @module cluster/compact-record
 * Makes the records the store keeps share their repeated strings (namespace,
 * node and zone names, targetRef kind and namespace, port names, protocols,
 * label values), port lists and empty label maps, instead of one copy per object as a
 * JSON decoder produces them. At a million endpoints this is about 50 bytes
 * per endpoint (bench/memory.ts). Only values that repeat across objects are
 * pooled; unique ones (pod names, addresses) are kept as they are.
 */
import type {
  ClusterRecord, EndpointRecord, EndpointSliceRecord, PodRecord, PortRecord, ServiceRecord,
} from './types.ts';

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

const NO_PORTS: readonly PortRecord[] = Object.freeze([]);
const PORT_LISTS_MAX = 10_000;

export class StringPool {
  readonly #pool = new Map<string, string>();
  readonly #portLists = new Map<string, readonly PortRecord[]>();
  /** Above this many entries the pool starts over (it only saves memory; correctness never depends on it). */
  readonly #max: number;

  constructor(max = 100_000) {
    this.#max = max;
  }

  get size(): number {
    return this.#pool.size;
  }

  intern(s: string): string {
    const v = this.#pool.get(s);
    if (v !== undefined) return v;
    if (this.#pool.size >= this.#max) this.#pool.clear();
    this.#pool.set(s, s);
    return s;
  }

  internOrNull(s: string | null): string | null {
    return s === null ? null : this.intern(s);
  }

  /**
   * One shared frozen list per distinct (port, protocol, name) sequence: port lists repeat across
   * objects (every slice of a Service, most Services of a chart); ~50 bytes per endpoint at 3
   * endpoints a slice (bench/memory.ts). Bounded like the strings.
   */
  portList(p: readonly PortRecord[]): readonly PortRecord[] {
    if (p.length === 0) return NO_PORTS;
    let key = '';
    for (const x of p) key += `${x.port}/${x.protocol}/${x.name}\n`;
    const held = this.#portLists.get(key);
    if (held !== undefined) return held;
    const list = Object.freeze(p.map((x) => Object.freeze({ name: this.intern(x.name), port: x.port, protocol: this.intern(x.protocol) as PortRecord['protocol'] })));
    if (this.#portLists.size >= PORT_LISTS_MAX) this.#portLists.clear();
    this.#portLists.set(key, list);
    return list;
  }
}

/** The slice label naming its service: its value is the record's serviceName string, not pooled. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function labels(pool: StringPool, l: Readonly<Record<string, string>>, serviceName: string | null = null): Readonly<Record<string, string>> {
  let any = false;
  for (const k in l) { if (Object.hasOwn(l, k)) { any = true; break; } }
  if (!any) return NO_LABELS;
  const out: Record<string, string> = {};
  for (const k in l) {
    if (!Object.hasOwn(l, k)) continue;
    const v = l[k]!;
    out[k] = serviceName !== null && k === SERVICE_NAME_LABEL && v === serviceName ? serviceName : pool.intern(v);
  }
  return out;
}

function ports(pool: StringPool, p: readonly PortRecord[]): readonly PortRecord[] {
  return pool.portList(p);
}

function endpoint(pool: StringPool, e: EndpointRecord): EndpointRecord {
  const ref = e.targetRef;
  return {
    addresses: e.addresses,
    ready: e.ready,
    serving: e.serving,
    terminating: e.terminating,
    hostname: e.hostname,
    nodeName: pool.internOrNull(e.nodeName),
    zone: pool.internOrNull(e.zone),
    targetRef: ref === null ? null : { kind: pool.intern(ref.kind), name: ref.name, namespace: pool.intern(ref.namespace) },
  };
}

/** A copy of `r` sharing its repeated strings through `pool`. */
export function compactRecord(pool: StringPool, r: ClusterRecord): ClusterRecord {
  switch (r.kind) {
    case 'Namespace':
      return { kind: 'Namespace', name: pool.intern(r.name), labels: labels(pool, r.labels) };
    case 'Service': {
      const s: ServiceRecord = {
        kind: 'Service', namespace: pool.intern(r.namespace), name: r.name, type: r.type, clusterIPs: r.clusterIPs,
        headless: r.headless, externalName: r.externalName, ports: ports(pool, r.ports),
        publishNotReadyAddresses: r.publishNotReadyAddresses, labels: labels(pool, r.labels),
      };
      return r.externalIPs === undefined ? s : {
        ...s, externalIPs: r.externalIPs, ...(r.loadBalancerIPs === undefined ? {} : { loadBalancerIPs: r.loadBalancerIPs }),
      };
    }
    case 'EndpointSlice': {
      const s: EndpointSliceRecord = {
        kind: 'EndpointSlice', namespace: pool.intern(r.namespace), name: r.name, serviceName: r.serviceName,
        addressType: r.addressType, endpoints: r.endpoints.map((e) => endpoint(pool, e)), ports: ports(pool, r.ports),
        labels: labels(pool, r.labels, r.serviceName), triggerTime: r.triggerTime ?? null,
      };
      return s;
    }
    case 'Pod': {
      const p: PodRecord = {
        kind: 'Pod', namespace: pool.intern(r.namespace), name: r.name, ip: r.ip, ips: r.ips, phase: pool.intern(r.phase),
        deleting: r.deleting, hostname: r.hostname, subdomain: pool.internOrNull(r.subdomain), labels: labels(pool, r.labels),
      };
      return p;
    }
  }
}
