/**
 * @module plugins/prometheus/dns-metrics
 * The scrape side of the DNS metrics: CoreDNS's coredns_dns_* names, help
 * texts, labels and buckets, read from the process's DnsCounters when
 * /metrics is asked for. Only series that counted something are shown, as
 * client_golang shows only label sets that were used.
 */
import type { Registry } from 'prom-client';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';
import {
  DnsCounters, DURATION_BUCKETS, durationSlots, FAMILY_LABELS, PROTO_LABELS, RCODE_SLOTS, SIZE_BUCKETS, sizeSlots,
  TYPE_LABELS, typeSlots, type ZoneCounters,
} from './dns-counters.ts';
import { pushHistogram, registerScraped, sumOf, type Sample } from '../../metrics/scraped-metric.ts';

/** miekg/dns RcodeToString, which CoreDNS uses for the rcode label; unknown ones print as numbers. */
const RCODE_NAMES: readonly (string | undefined)[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH',
  'NOTZONE', 'DSOTYPENI', undefined, undefined, undefined, undefined, 'BADSIG', 'BADKEY', 'BADTIME', 'BADMODE',
  'BADNAME', 'BADALG', 'BADTRUNC', 'BADCOOKIE',
];

export function rcodeLabel(rcode: number): string {
  return RCODE_NAMES[rcode] ?? String(rcode);
}

/** CoreDNS has views; we have none, so the label is always empty. */
const VIEW = '';

function zoneLabels(z: ZoneCounters): Record<string, string> {
  return { server: z.server, zone: z.zone, view: VIEW };
}

/** The process's DNS counters, with their metrics registered in the process registry on first use. */
export function dnsCounters(services: ProcessServices): DnsCounters {
  return processMetric(services, 'prometheus:dns', (registry) => {
    const counters = new DnsCounters();
    registerDnsMetrics(registry, counters);
    return counters;
  });
}

export function registerDnsMetrics(registry: Registry, c: DnsCounters): void {
  registerScraped(registry, 'coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', 'counter', () => {
    const out: Sample[] = [];
    for (const z of c.zones) {
      for (let p = 0; p < PROTO_LABELS.length; p++) {
        for (let f = 0; f < FAMILY_LABELS.length; f++) {
          const base = (p * FAMILY_LABELS.length + f) * typeSlots;
          for (let t = 0; t < typeSlots; t++) {
            const v = z.requests[base + t]!;
            if (v > 0) out.push({ value: v, labels: { ...zoneLabels(z), proto: PROTO_LABELS[p]!, family: FAMILY_LABELS[f]!, type: TYPE_LABELS[t]! } });
          }
        }
      }
    }
    return out;
  });

  registerScraped(registry, 'coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', 'histogram', () => {
    const out: Sample[] = [];
    for (const z of c.zones) {
      if (sumOf(z.duration, 0, durationSlots) === 0) continue;
      pushHistogram(out, 'coredns_dns_request_duration_seconds', zoneLabels(z), DURATION_BUCKETS, z.duration, 0, z.duration[durationSlots]!);
    }
    return out;
  });

  registerScraped(registry, 'coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', 'histogram',
    () => sizeSamples(c, 'coredns_dns_request_size_bytes', (z) => z.requestSize, (z) => z.requestSizeSum));

  registerScraped(registry, 'coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', 'counter', () => {
    const out: Sample[] = [];
    for (const z of c.zones) if (z.doRequests[0]! > 0) out.push({ value: z.doRequests[0]!, labels: zoneLabels(z) });
    return out;
  });

  registerScraped(registry, 'coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', 'histogram',
    () => sizeSamples(c, 'coredns_dns_response_size_bytes', (z) => z.responseSize, (z) => z.responseSizeSum));

  registerScraped(registry, 'coredns_dns_responses_total', 'Counter of response status codes.', 'counter', () => {
    const out: Sample[] = [];
    for (const z of c.zones) {
      for (let pid = 0; pid < c.pluginNames.length; pid++) {
        for (let rc = 0; rc < RCODE_SLOTS; rc++) {
          const v = z.responses[pid * RCODE_SLOTS + rc]!;
          if (v > 0) out.push({ value: v, labels: { ...zoneLabels(z), rcode: rcodeLabel(rc), plugin: c.pluginNames[pid]! } });
        }
      }
      for (const [key, v] of z.otherResponses) {
        const [rc, pid] = key.split(' ').map(Number) as [number, number];
        out.push({ value: v, labels: { ...zoneLabels(z), rcode: rcodeLabel(rc), plugin: c.pluginNames[pid]! } });
      }
    }
    return out;
  });
}

function sizeSamples(
  c: DnsCounters, name: string, counts: (z: ZoneCounters) => Float64Array, sums: (z: ZoneCounters) => Float64Array,
): Sample[] {
  const out: Sample[] = [];
  for (const z of c.zones) {
    for (let p = 0; p < PROTO_LABELS.length; p++) {
      if (sumOf(counts(z), p * sizeSlots, sizeSlots) === 0) continue;
      pushHistogram(out, name, { ...zoneLabels(z), proto: PROTO_LABELS[p]! }, SIZE_BUCKETS, counts(z), p * sizeSlots, sums(z)[p]!);
    }
  }
  return out;
}
