/**
 * @module plugins/prometheus/dns-counters
 * The per-query side of the DNS metrics: plain numbers in preallocated typed
 * arrays indexed by small integers (type slot, proto, family, rcode, plugin
 * id, histogram bucket), one set per (server, zone). Counting a reply is a
 * few array increments and two short bucket scans; no label string, object
 * or closure is made per query. Label values are only spelled out when
 * /metrics is scraped (see dns-metrics.ts).
 */
import { Type, typeName } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Reply } from '../../dns/reply.ts';

/** CoreDNS's monitored query types (plugin/metrics/vars/report.go); every other type is counted as "other". */
export const MONITORED_TYPES: readonly number[] = [
  Type.A, Type.AAAA, Type.MX, Type.SOA, Type.CNAME, Type.PTR, Type.TXT, Type.NS, Type.SRV,
  Type.DS, Type.DNSKEY, Type.RRSIG, Type.NSEC, Type.NSEC3, Type.HTTPS, Type.IXFR, Type.AXFR, Type.ANY,
];
/** The `type` label of each type slot; the last one is "other". */
export const TYPE_LABELS: readonly string[] = [...MONITORED_TYPES.map(typeName), 'other'];
const TYPE_SLOTS = TYPE_LABELS.length;
const OTHER_TYPE_SLOT = TYPE_SLOTS - 1;

/** qtype -> type slot, for all 65536 types: one array read per query. */
const typeSlotOf = new Uint8Array(65536).fill(OTHER_TYPE_SLOT);
MONITORED_TYPES.forEach((t, i) => { typeSlotOf[t] = i; });

export const PROTO_LABELS: readonly string[] = ['udp', 'tcp'];
/** The `family` label: "1" for IPv4, "2" for IPv6 (CoreDNS's address family numbers). */
export const FAMILY_LABELS: readonly string[] = ['1', '2'];

/** coredns_dns_request_duration_seconds buckets: 0.25 ms * 2^k, 16 of them (CoreDNS plugin.TimeBuckets). */
export const DURATION_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, k) => 0.00025 * 2 ** k);
/** coredns_dns_request_size_bytes / response_size_bytes buckets. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];
const durationBounds = Float64Array.from(DURATION_BUCKETS);
const sizeBounds = Float64Array.from(SIZE_BUCKETS);
/** Slots per histogram: one per bucket plus +Inf. */
const DURATION_SLOTS = DURATION_BUCKETS.length + 1;
const SIZE_SLOTS = SIZE_BUCKETS.length + 1;

/** Rcodes 0..23 get a slot (every rcode a DNS server writes); anything larger is kept in a map. */
export const RCODE_SLOTS = 24;

/** The slot of `value` in a histogram with these upper bounds (le is inclusive); the last slot is +Inf. */
export function bucketSlot(bounds: Float64Array, value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  return i;
}

const REQUESTS_AT = 0;
const REQUESTS_LEN = PROTO_LABELS.length * FAMILY_LABELS.length * TYPE_SLOTS;
const DO_AT = REQUESTS_AT + REQUESTS_LEN;
const DURATION_AT = DO_AT + 1;
const DURATION_SUM_AT = DURATION_AT + DURATION_SLOTS;
const REQUEST_SIZE_AT = DURATION_SUM_AT + 1;
const REQUEST_SIZE_SUM_AT = REQUEST_SIZE_AT + PROTO_LABELS.length * SIZE_SLOTS;
const RESPONSE_SIZE_AT = REQUEST_SIZE_SUM_AT + PROTO_LABELS.length;
const RESPONSE_SIZE_SUM_AT = RESPONSE_SIZE_AT + PROTO_LABELS.length * SIZE_SLOTS;
const COUNTS_LEN = RESPONSE_SIZE_SUM_AT + PROTO_LABELS.length;

/**
 * Everything counted for one (server, zone): the label set of CoreDNS's
 * per-zone series. The fixed-size counts share one array (the query path
 * loads one property); the named fields are views into it for scraping.
 */
export class ZoneCounters {
  readonly server: string;
  readonly zone: string;
  readonly counts = new Float64Array(COUNTS_LEN);
  /** coredns_dns_requests_total by [proto][family][type slot]. */
  readonly requests = this.counts.subarray(REQUESTS_AT, REQUESTS_AT + REQUESTS_LEN);
  /** coredns_dns_do_requests_total: [0]. */
  readonly doRequests = this.counts.subarray(DO_AT, DO_AT + 1);
  /** Duration histogram: per-bucket (not cumulative) counts, +Inf last; sum at [DURATION_SLOTS]. */
  readonly duration = this.counts.subarray(DURATION_AT, DURATION_SUM_AT + 1);
  /** Size histograms by [proto][bucket slot], +Inf last; sums by proto. */
  readonly requestSize = this.counts.subarray(REQUEST_SIZE_AT, REQUEST_SIZE_SUM_AT);
  readonly requestSizeSum = this.counts.subarray(REQUEST_SIZE_SUM_AT, RESPONSE_SIZE_AT);
  readonly responseSize = this.counts.subarray(RESPONSE_SIZE_AT, RESPONSE_SIZE_SUM_AT);
  readonly responseSizeSum = this.counts.subarray(RESPONSE_SIZE_SUM_AT, COUNTS_LEN);
  /** coredns_dns_responses_total by [plugin id][rcode]; grows when a new plugin name shows up. */
  responses: Float64Array;
  /** Responses with an rcode >= RCODE_SLOTS, by "rcode plugin-id". */
  readonly otherResponses = new Map<string, number>();

  constructor(server: string, zone: string, pluginCapacity: number) {
    this.server = server;
    this.zone = zone;
    this.responses = new Float64Array(pluginCapacity * RCODE_SLOTS);
  }

  growResponses(pluginCapacity: number): void {
    const grown = new Float64Array(pluginCapacity * RCODE_SLOTS);
    grown.set(this.responses);
    this.responses = grown;
  }
}

export const durationSlots = DURATION_SLOTS;
export const sizeSlots = SIZE_SLOTS;
export const typeSlots = TYPE_SLOTS;

/**
 * The DNS counters of the process (one instance, kept across reloads so
 * nothing resets). `observe` is the reply observer every block with
 * `prometheus` registers; it is one function for the life of the process.
 */
export class DnsCounters {
  /** Every (server, zone) seen, in order of first use. */
  readonly zones: ZoneCounters[] = [];
  /** Plugin label by plugin id ('' = written by the server). */
  readonly pluginNames: string[] = [];
  readonly #byServer = new Map<string, Map<string, ZoneCounters>>();
  readonly #pluginIds = new Map<string, number>();
  #pluginCapacity = 32;
  // One-entry caches: consecutive queries mostly share server, zone and plugin, and === on the same string is a pointer compare.
  #lastServer: string | null = null;
  #lastZone: string | null = null;
  #last: ZoneCounters | null = null;
  #lastPlugin: string | null = null;
  #lastPluginId = 0;

  /** The counters of (server, zone), created on first use. */
  zoneCounters(server: string, zone: string): ZoneCounters {
    let byZone = this.#byServer.get(server);
    if (byZone === undefined) { byZone = new Map(); this.#byServer.set(server, byZone); }
    let z = byZone.get(zone);
    if (z === undefined) {
      z = new ZoneCounters(server, zone, this.#pluginCapacity);
      byZone.set(zone, z);
      this.zones.push(z);
    }
    return z;
  }

  /** The small integer standing for a plugin label. */
  pluginId(name: string): number {
    let id = this.#pluginIds.get(name);
    if (id === undefined) {
      id = this.pluginNames.length;
      this.pluginNames.push(name);
      this.#pluginIds.set(name, id);
      if (id >= this.#pluginCapacity) {
        this.#pluginCapacity *= 2;
        for (const z of this.zones) z.growResponses(this.#pluginCapacity);
      }
    }
    return id;
  }

  /** Count one reply as it was written (a ReplyObserver): request, duration, sizes and rcode. */
  readonly observe = (req: DnsRequest, reply: Reply, size: number): void => {
    let z = this.#last;
    if (req.server !== this.#lastServer || req.zone !== this.#lastZone || z === null) {
      z = this.zoneCounters(req.server, req.zone);
      this.#last = z;
      this.#lastServer = req.server;
      this.#lastZone = req.zone;
    }
    const counts = z.counts;
    const proto = req.transport === 'tcp' ? 1 : 0;
    const family = req.family === 6 ? 1 : 0;
    counts[REQUESTS_AT + (proto * FAMILY_LABELS.length + family) * TYPE_SLOTS + typeSlotOf[req.qtype]!]!++;
    if (req.do) counts[DO_AT]!++;

    const seconds = (performance.now() - req.start) / 1000;
    counts[DURATION_AT + bucketSlot(durationBounds, seconds)]!++;
    counts[DURATION_SUM_AT]! += seconds;

    const reqSize = req.raw.length;
    counts[REQUEST_SIZE_AT + proto * SIZE_SLOTS + bucketSlot(sizeBounds, reqSize)]!++;
    counts[REQUEST_SIZE_SUM_AT + proto]! += reqSize;
    counts[RESPONSE_SIZE_AT + proto * SIZE_SLOTS + bucketSlot(sizeBounds, size)]!++;
    counts[RESPONSE_SIZE_SUM_AT + proto]! += size;

    let pid = this.#lastPluginId;
    if (reply.plugin !== this.#lastPlugin) {
      pid = this.pluginId(reply.plugin);
      this.#lastPlugin = reply.plugin;
      this.#lastPluginId = pid;
    }
    const rcode = reply.rcode;
    if (rcode < RCODE_SLOTS) {
      z.responses[pid * RCODE_SLOTS + rcode]!++;
    } else {
      const key = `${rcode} ${pid}`;
      z.otherResponses.set(key, (z.otherResponses.get(key) ?? 0) + 1);
    }
  };
}
