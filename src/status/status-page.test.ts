/**
 * @module status/status-page.test
 * The /status page in headless Chromium (DevTools protocol): it loads from
 * the health listener with `health { status }`, shows live numbers that
 * change after real `dig` queries are sent (requests, top names, NXDOMAIN
 * and search-suffix shares, cache ratio), logs no console errors, and a
 * screenshot is kept (test-artifacts/status-page.png). Off by default.
 * Plus the figures behind it: histogram quantiles and the suffix heuristic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dig, startServer } from '../../test/support/harness.ts';
import { openPage } from '../../test/support/chromium.ts';
import { httpGet } from '../../test/ops/ops-support.ts';
import { clusterShape } from './name-tracker.ts';
import { quantile } from './status-data.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

test('quantiles from cumulative buckets; the search-suffix shapes', () => {
  const b = new Map([[0.001, 50], [0.01, 90], [0.1, 100], [Infinity, 100]]);
  assert.equal(quantile(0.5, b), 0.001);
  assert.ok(Math.abs(quantile(0.9, b)! - 0.01) < 1e-12);
  assert.ok(Math.abs(quantile(0.95, b)! - 0.055) < 1e-12);
  assert.equal(quantile(0.5, new Map([[Infinity, 0]])), null);
  assert.equal(clusterShape(['api', 'shop', 'svc']), true);
  assert.equal(clusterShape(['web-0', 'redis', 'shop', 'svc']), true);
  assert.equal(clusterShape(['_http', '_tcp', 'api', 'shop', 'svc']), true);
  assert.equal(clusterShape(['10-1-0-1', 'shop', 'pod']), true);
  assert.equal(clusterShape(['www', 'example', 'com', 'shop', 'svc']), false);
  assert.equal(clusterShape(['api', 'svc']), false);
  assert.equal(clusterShape(['www', 'example', 'com']), false);
});

async function until<T>(page: { evaluate<U>(e: string): Promise<U> }, expression: string, ok: (v: T) => boolean, what: string): Promise<T> {
  let v: T = await page.evaluate<T>(expression);
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await page.evaluate<T>(expression);
  }
  assert.ok(ok(v), `${what}: ${JSON.stringify(v)}`);
  return v;
}

test('the status page renders live figures in a real browser, with no console errors', async () => {
  const srv = await startServer(`.:0 {
  bind 127.0.0.1
  health 127.0.0.1:0 {
    status
  }
  prometheus 127.0.0.1:0
  cache 30
  kubernetes cluster.local {
    manifests ${process.cwd()}/examples/cluster
  }
}
`);
  const port = srv.app.services.http.port('127.0.0.1:0')!;
  const page = await openPage(`http://127.0.0.1:${port}/status`);
  try {
    const text = (id: string): string => `document.getElementById(${JSON.stringify(id)}).textContent`;
    const before = Number(await until<string>(page, text('requests'), (v) => /^\d+$/.test(v), 'a first figure'));
    for (let i = 0; i < 10; i++) {
      await dig(srv.port, 'nginx.default.svc.cluster.local', 'A');
      await dig(srv.port, 'api.example.com.default.svc.cluster.local', 'A');
    }
    await until<string>(page, text('requests'), (v) => Number(v) >= before + 20, 'the request total follows the queries');
    const top = await until<string>(page, text('top-names'), (v) => v.includes('nginx.default.svc.cluster.local.'), 'top names');
    assert.match(top, /api\.example\.com\.default\.svc\.cluster\.local\./);
    await until<string>(page, text('suffix-share'), (v) => v === '100.0%', 'every NXDOMAIN was a search-path suffix');
    await until<string>(page, text('nx-share'), (v) => /^\d+\.\d%$/.test(v) && v !== '0.0%', 'NXDOMAIN share');
    await until<string>(page, text('cache-ratio'), (v) => /^\d+\.\d%$/.test(v), 'cache ratio');
    await until<string>(page, text('qps'), (v) => /^\d+\.\d$/.test(v), 'a rate once two samples are in');
    assert.match(await page.evaluate<string>(text('by-rcode')), /NOERROR\d+NXDOMAIN\d+|NXDOMAIN\d+NOERROR\d+/);
    const points = await page.evaluate<string>('document.getElementById("qps-line").getAttribute("points")');
    assert.ok(points.split(' ').length >= 2, 'the QPS chart has points');
    mkdirSync(ARTIFACTS, { recursive: true });
    const png = await page.screenshot();
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
    writeFileSync(new URL('status-page.png', ARTIFACTS), png);
    const problems = page.console.filter((c) => c.level === 'error' || c.level === 'exception' || c.level === 'warning');
    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    try { await page.close(); } finally { await srv.stop(); }
  }
});

test('without `status` there is no /status; a bad health property is still an error', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0\n  whoami\n}\n');
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    assert.equal((await httpGet(port, '/status')).status, 404);
    assert.equal((await httpGet(port, '/health')).status, 200);
  } finally {
    await srv.stop();
  }
  await assert.rejects(startServer('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0 {\n    status now\n  }\n}\n'), /Corefile:4: plugin\/health: 'status' takes 0 arguments, got 1/);
});
