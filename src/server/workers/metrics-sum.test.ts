/**
 * @module server/workers/metrics-sum.test
 * Summing the primary's and the workers' registries: counters and histograms
 * (prom-client ones and our scraped ones) add up per label set, facts every
 * process states come once, the health probe counts the primary's only, and
 * a metric's own aggregator stands. Also the workers' HTTP stand-in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerScraped } from '../../metrics/scraped-metric.ts';
import type { MetricsJson } from './messages.ts';
import { sumMetrics } from './metrics-sum.ts';
import { primaryPortsFrom, WorkerHttpListeners } from './worker-http.ts';

/** One process's registry with the kinds of metrics the server has. */
async function processMetrics(opts: { requests: number; durations: number[]; healthProbes: number; lag: number }): Promise<MetricsJson> {
  const r = new Registry();
  registerScraped(r, 'coredns_dns_requests_total', 'requests', 'counter', () => (opts.requests > 0
    ? [{ value: opts.requests, labels: { server: 'dns://:53', zone: '.', proto: 'udp' } }]
    : []));
  const d = new Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'd', buckets: [0.001, 0.01], registers: [r] });
  for (const v of opts.durations) d.observe(v);
  new Gauge({ name: 'coredns_build_info', help: 'b', labelNames: ['version'], registers: [r] }).labels('1.0').set(1);
  const probe = new Histogram({ name: 'coredns_health_request_duration_seconds', help: 'h', buckets: [0.1], registers: [r] });
  for (let i = 0; i < opts.healthProbes; i++) probe.observe(0.01);
  new Gauge({ name: 'nodejs_eventloop_lag_max_seconds', help: 'l', aggregator: 'max', registers: [r] }).set(opts.lag);
  new Counter({ name: 'coredns_panics_total', help: 'p', registers: [r] });
  return r.getMetricsAsJSON();
}

function value(text: string, line: string): number {
  const m = new RegExp(`^${line.replace(/[{}.+"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `no sample ${line} in\n${text}`);
  return Number(m[1]);
}

describe('sumMetrics', () => {
  it('adds counters and histograms over the processes; facts once; the health probe is the primary\'s; own aggregators stand', async () => {
    const primary = await processMetrics({ requests: 0, durations: [], healthProbes: 3, lag: 0.001 });
    const w1 = await processMetrics({ requests: 10, durations: [0.0005, 0.005], healthProbes: 5, lag: 0.02 });
    const w2 = await processMetrics({ requests: 32, durations: [0.0005, 0.5], healthProbes: 7, lag: 0.01 });
    const text = await sumMetrics(primary, [w1, w2]).metrics();
    assert.equal(value(text, 'coredns_dns_requests_total{server="dns://:53",zone=".",proto="udp"}'), 42);
    assert.equal(value(text, 'coredns_dns_request_duration_seconds_bucket{le="0.001"}'), 2);
    assert.equal(value(text, 'coredns_dns_request_duration_seconds_bucket{le="0.01"}'), 3);
    assert.equal(value(text, 'coredns_dns_request_duration_seconds_bucket{le="+Inf"}'), 4);
    assert.equal(value(text, 'coredns_dns_request_duration_seconds_count'), 4);
    assert.equal(value(text, 'coredns_build_info{version="1.0"}'), 1);
    assert.equal(value(text, 'coredns_health_request_duration_seconds_count'), 3);
    assert.equal(value(text, 'nodejs_eventloop_lag_max_seconds'), 0.02);
    assert.equal(value(text, 'coredns_panics_total'), 0);
  });

  it('with no worker answering, it is the primary\'s registry', async () => {
    const primary = await processMetrics({ requests: 4, durations: [0.5], healthProbes: 1, lag: 0 });
    const text = await sumMetrics(primary, []).metrics();
    assert.equal(value(text, 'coredns_dns_requests_total{server="dns://:53",zone=".",proto="udp"}'), 4);
    assert.equal(value(text, 'coredns_health_request_duration_seconds_count'), 1);
  });
});

describe('WorkerHttpListeners', () => {
  it('mounts nothing and answers with the primary\'s port for an address (the configured one when unknown)', async () => {
    const http = new WorkerHttpListeners(primaryPortsFrom(JSON.stringify([['127.0.0.1:0', 41234]])));
    assert.equal(await http.mount('127.0.0.1:0', '/metrics', () => {}), 41234);
    assert.equal(await http.mount(':8080', '/health', () => {}), 8080);
    http.update([[':8080', 8080], ['127.0.0.1:0', 40000]]);
    assert.equal(http.port('127.0.0.1:0'), 40000);
    assert.deepEqual(http.bound(), []);
    await http.unmount();
    await http.closeAll();
  });

  it('reads the environment leniently', () => {
    assert.deepEqual(primaryPortsFrom(undefined), []);
    assert.deepEqual(primaryPortsFrom('not json'), []);
    assert.deepEqual(primaryPortsFrom('{"a":1}'), []);
    assert.deepEqual(primaryPortsFrom('[["a:1",1],["bad"],3]'), [['a:1', 1]]);
  });
});
