/**
 * @module server/workers/metrics-sum
 * /metrics of a worker pool: the primary's registry and every worker's
 * (getMetricsAsJSON over IPC) merged into one exposition with prom-client's
 * AggregatorRegistry.aggregate. Series with the same labels are summed, so
 * coredns_dns_requests_total and the cache counters count every query the
 * pool answered. A few metrics are not sums; their rule is set here, by name:
 * - facts every process states alike (build info, enabled plugins, the
 *   running Corefile's hash, the process start time): the primary's value;
 * - the health self-probe: every worker runs the health plugin's probe too
 *   (against the primary's /health), but only the primary's is "the" probe.
 * A metric's own aggregator (prom-client's default collectors set some:
 * event-loop lag averages, min and max) stands otherwise.
 */
import { AggregatorRegistry } from '../../metrics/prom-client.ts';
import type { Aggregator, Registry } from 'prom-client';
import type { MetricsJson } from './messages.ts';

/** Rule for one metric: a prom-client aggregator, or 'primary' (only the primary's series). */
export type SumRule = Aggregator | 'primary';

export const SUM_RULES: ReadonlyMap<string, SumRule> = new Map<string, SumRule>([
  ['coredns_build_info', 'first'],
  ['coredns_plugin_enabled', 'first'],
  ['coredns_reload_version_info', 'first'],
  ['process_start_time_seconds', 'first'],
  ['process_max_fds', 'first'],
  ['nodejs_version_info', 'first'],
  ['coredns_health_request_duration_seconds', 'primary'],
  ['coredns_health_request_failures_total', 'primary'],
]);

/**
 * One registry of the metrics of the primary (`primary`, first) and its
 * workers. 'first' takes the primary's series, or the first worker's when
 * the primary has none.
 */
export function sumMetrics(primary: MetricsJson, workers: readonly MetricsJson[], rules: ReadonlyMap<string, SumRule> = SUM_RULES): Registry {
  const ruled = (list: MetricsJson, isPrimary: boolean): MetricsJson => {
    const out: MetricsJson = [];
    for (const m of list) {
      const rule = rules.get(m.name);
      if (rule === undefined) { out.push(m); continue; }
      if (rule === 'primary') {
        if (isPrimary) out.push({ ...m, aggregator: 'first' });
        continue;
      }
      out.push({ ...m, aggregator: rule });
    }
    return out;
  };
  const all = [ruled(primary, true), ...workers.map((w) => ruled(w, false))];
  return AggregatorRegistry.aggregate(all);
}
