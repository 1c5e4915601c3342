/**
 * @module metrics/registry.test
 * renderInSlices: the same text as prom-client's registry.metrics(), and it
 * lets the event loop run between metrics once a slice has used its budget
 * (counted with a chain of immediates, on an injected clock: no timing).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { Counter, Gauge, Histogram, Registry } from './prom-client.ts';
import { RENDER_SLICE_MS, renderInSlices } from './registry.ts';

function filledRegistry(): Registry {
  const registry = new Registry();
  const c = new Counter({ name: 'coredns_dns_requests_total', help: 'Requests.', labelNames: ['server', 'zone', 'type'], registers: [registry] });
  c.labels('dns://:53', '.', 'A').inc(3);
  c.labels('dns://:53', 'cluster.local.', 'SRV').inc();
  new Gauge({ name: 'coredns_cache_entries', help: 'Entries.', labelNames: ['type'], registers: [registry] }).labels('success').set(42);
  const h = new Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'Duration.', labelNames: ['server'], buckets: [0.001, 0.01], registers: [registry] });
  h.labels('dns://:53').observe(0.002);
  new Gauge({ name: 'unset_gauge', help: 'Never set.', registers: [registry] });
  return registry;
}

/** Immediates that ran before `p` settled: 0 means it finished without giving the loop a turn. */
async function loopTurnsDuring(p: Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = (): void => { if (!done) { turns++; setImmediate(tick); } };
  setImmediate(tick);
  await p;
  done = true;
  return turns;
}

test('renderInSlices writes exactly what registry.metrics() writes', async () => {
  const registry = filledRegistry();
  assert.equal(await renderInSlices(registry), await registry.metrics());
  const empty = new Registry();
  assert.equal(await renderInSlices(empty), await empty.metrics());
});

test('renderInSlices gives the event loop a turn once a slice has used its budget, and not before', async () => {
  const registry = filledRegistry();
  const metrics = registry.getMetricsAsArray().length;
  // A clock that never moves: one slice, no turn for the loop.
  assert.equal(await loopTurnsDuring(renderInSlices(registry, () => 0)), 0);
  // A clock that moves a whole budget per reading: every metric ends a slice.
  let t = 0;
  const slow = (): number => (t += RENDER_SLICE_MS);
  const text = await (async () => {
    const p = renderInSlices(registry, slow);
    const turns = await loopTurnsDuring(p);
    assert.ok(turns >= metrics, `${turns} loop turns for ${metrics} metrics`);
    return p;
  })();
  assert.equal(text, await registry.metrics());
});
