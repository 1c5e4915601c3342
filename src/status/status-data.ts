/**
 * @module status/status-data
 * What /status.json serves: the process's own metrics (the registry /metrics
 * serves, read as text with the doctor's reader) summed into the figures the
 * status page draws (requests by type and rcode, latency percentiles from
 * the request-duration histogram, cache hit ratio, upstream health, cluster
 * sync and staleness, reloads) plus the block's top names. The page turns
 * successive totals into rates itself.
 */
import { parseMetricsText, sumOf, type MetricSample } from '../doctor/metrics-text.ts';
import type { NameTracker } from './name-tracker.ts';

export interface StatusData {
  readonly version: string;
  readonly time: number;
  readonly uptimeSeconds: number;
  readonly requests: number;
  readonly byType: Record<string, number>;
  readonly byRcode: Record<string, number>;
  readonly latency: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
  readonly cache: { readonly hits: number; readonly requests: number };
  readonly upstreams: readonly { readonly to: string; readonly failures: number }[];
  readonly upstreamsBroken: number;
  readonly cluster: readonly { readonly resource: string; readonly connected: boolean; readonly synced: boolean }[];
  readonly staleSeconds: number | null;
  readonly reloads: { readonly failed: number; readonly hash: string };
  readonly topNames: readonly { readonly name: string; readonly count: number; readonly nxdomain: number }[];
  readonly nxdomain: { readonly total: number; readonly searchSuffix: number };
}

function byLabel(m: readonly MetricSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of m) if (s.name === name && Number.isFinite(s.value)) { const k = s.labels[label] ?? ''; out[k] = (out[k] ?? 0) + s.value; }
  return out;
}

/** A quantile from cumulative histogram buckets (summed over series), interpolated in the bucket as Prometheus does. */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const b of bounds) {
    const c = buckets.get(b)!;
    if (c >= rank) {
      if (b === Infinity) return prevBound;
      return prevBound + (b - prevBound) * ((rank - prevCount) / Math.max(c - prevCount, 1e-12));
    }
    prevBound = b;
    prevCount = c;
  }
  return prevBound;
}

export function statusData(metricsText: string, names: NameTracker, version: string, startedAt: number, now: number): StatusData {
  const m = parseMetricsText(metricsText);
  const buckets = new Map<number, number>();
  for (const s of m) {
    if (s.name !== 'coredns_dns_request_duration_seconds_bucket') continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const failures = byLabel(m, 'coredns_proxy_healthcheck_failures_total', 'to');
  for (const to of Object.keys(byLabel(m, 'coredns_proxy_request_duration_seconds_count', 'to'))) failures[to] ??= 0;
  const connected = byLabel(m, 'coredns_kubernetes_api_connected', 'resource');
  const synced = byLabel(m, 'coredns_kubernetes_api_synced', 'resource');
  const hash = m.find((s) => s.name === 'coredns_reload_version_info')?.labels.hash ?? '';
  return {
    version, time: now, uptimeSeconds: Math.round((now - startedAt) / 1000),
    requests: sumOf(m, 'coredns_dns_requests_total'),
    byType: byLabel(m, 'coredns_dns_requests_total', 'type'),
    byRcode: byLabel(m, 'coredns_dns_responses_total', 'rcode'),
    latency: { p50: quantile(0.5, buckets), p90: quantile(0.9, buckets), p99: quantile(0.99, buckets) },
    cache: { hits: sumOf(m, 'coredns_cache_hits_total'), requests: sumOf(m, 'coredns_cache_requests_total') },
    upstreams: Object.entries(failures).map(([to, f]) => ({ to, failures: f })),
    upstreamsBroken: sumOf(m, 'coredns_forward_healthcheck_broken_total'),
    cluster: Object.keys(connected).map((resource) => ({ resource, connected: connected[resource] === 1, synced: synced[resource] === 1 })),
    staleSeconds: m.some((s) => s.name === 'coredns_kubernetes_stale_seconds') ? sumOf(m, 'coredns_kubernetes_stale_seconds') : null,
    reloads: { failed: sumOf(m, 'coredns_reload_failed_total'), hash },
    topNames: names.top(10),
    nxdomain: { total: names.nxdomain, searchSuffix: names.suffixNxdomain },
  };
}
