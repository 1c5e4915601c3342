/**
 * @module status/status-page
 * The /status page: one HTML document with its style, a small script and
 * inline SVG charts; no build step, no CDN, nothing fetched but
 * /status.json (air-gapped clusters). The script polls once a second, turns
 * successive totals into rates, and keeps the last two minutes for the charts.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>clusterdns status</title>
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.3em; margin: 0 0 .8em; } h2 { font-size: 1em; margin: 0 0 .5em; color: #4a5568; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1em; }
  .card { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: .9em 1em; }
  .big { font-size: 2em; font-variant-numeric: tabular-nums; } .muted { color: #718096; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  td, th { text-align: left; padding: .15em .4em; border-bottom: 1px solid #edf0f3; } td.n { text-align: right; }
  .bad { color: #c53030; font-weight: 600; } .good { color: #2f855a; }
  svg { width: 100%; height: 90px; background: #fbfcfd; border: 1px solid #edf0f3; }
  polyline { fill: none; stroke-width: 1.5; }
</style>
</head>
<body>
<h1>clusterdns <span id="version" class="muted"></span> <span id="updated" class="muted"></span></h1>
<div class="grid">
  <div class="card"><h2>Queries per second</h2><div class="big" id="qps">–</div>
    <div class="muted">total <span id="requests">0</span></div>
    <svg id="qps-chart" viewBox="0 0 120 40" preserveAspectRatio="none"><polyline id="qps-line" stroke="#3182ce" points=""/></svg></div>
  <div class="card"><h2>Latency</h2>
    <div>p50 <b id="p50">–</b> · p90 <b id="p90">–</b> · p99 <b id="p99">–</b></div>
    <svg id="latency-chart" viewBox="0 0 120 40" preserveAspectRatio="none"><polyline id="p99-line" stroke="#dd6b20" points=""/><polyline id="p50-line" stroke="#38a169" points=""/></svg></div>
  <div class="card"><h2>By type</h2><table id="by-type"></table></div>
  <div class="card"><h2>By rcode</h2><table id="by-rcode"></table></div>
  <div class="card"><h2>Cache</h2><div class="big" id="cache-ratio">–</div><div class="muted">hits of cache lookups</div></div>
  <div class="card"><h2>NXDOMAIN</h2><div class="big" id="nx-share">–</div>
    <div class="muted">of answers; <span id="suffix-share">–</span> of them search-path suffixes</div></div>
  <div class="card"><h2>Upstreams</h2><table id="upstreams"></table></div>
  <div class="card"><h2>Cluster sync</h2><table id="cluster"></table><div>stale <b id="stale">–</b></div></div>
  <div class="card"><h2>Reloads</h2><div>failed <b id="reload-failed">0</b></div><div class="muted">config <span id="reload-hash"></span></div></div>
  <div class="card"><h2>Top names</h2><table id="top-names"></table></div>
</div>
<script>
"use strict";
const history = [];
let last = null;
const $ = (id) => document.getElementById(id);
const fmtMs = (s) => (s === null ? "–" : (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms");
const pct = (x) => (Number.isFinite(x) ? (x * 100).toFixed(1) + "%" : "–");
function rows(table, entries, cells) {
  table.replaceChildren();
  if (entries.length === 0) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.className = "muted"; td.textContent = "none"; tr.append(td); table.append(tr); }
  for (const e of entries) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells(e)) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.append(td); }
    table.append(tr);
  }
}
function line(el, values) {
  const max = Math.max(1e-9, ...values);
  el.setAttribute("points", values.map((v, i) => (i * 120 / Math.max(1, values.length - 1)).toFixed(1) + "," + (40 - 38 * v / max).toFixed(1)).join(" "));
}
function render(d) {
  let qps = null;
  if (last !== null && d.time > last.time) qps = Math.max(0, (d.requests - last.requests) / ((d.time - last.time) / 1000));
  last = d;
  history.push({ qps: qps ?? 0, p50: d.latency.p50 ?? 0, p99: d.latency.p99 ?? 0 });
  if (history.length > 120) history.shift();
  $("version").textContent = d.version + ", up " + d.uptimeSeconds + " s";
  $("updated").textContent = "· " + new Date(d.time).toLocaleTimeString();
  $("qps").textContent = qps === null ? "–" : qps.toFixed(1);
  $("requests").textContent = String(d.requests);
  $("p50").textContent = fmtMs(d.latency.p50); $("p90").textContent = fmtMs(d.latency.p90); $("p99").textContent = fmtMs(d.latency.p99);
  line($("qps-line"), history.map((h) => h.qps));
  line($("p99-line"), history.map((h) => h.p99)); line($("p50-line"), history.map((h) => h.p50));
  const sorted = (o) => Object.entries(o).sort((a, b) => b[1] - a[1]);
  rows($("by-type"), sorted(d.byType), ([k, v]) => [[k], [String(v), "n"]]);
  rows($("by-rcode"), sorted(d.byRcode), ([k, v]) => [[k, k === "SERVFAIL" && v > 0 ? "bad" : ""], [String(v), "n"]]);
  $("cache-ratio").textContent = d.cache.requests > 0 ? pct(d.cache.hits / d.cache.requests) : "–";
  const answers = Object.values(d.byRcode).reduce((a, b) => a + b, 0);
  $("nx-share").textContent = answers > 0 ? pct((d.byRcode.NXDOMAIN ?? 0) / answers) : "–";
  $("suffix-share").textContent = d.nxdomain.total > 0 ? pct(d.nxdomain.searchSuffix / d.nxdomain.total) : "–";
  rows($("upstreams"), d.upstreams, (u) => [[u.to], [u.failures > 0 ? u.failures + " failed checks" : "healthy", u.failures > 0 ? "bad" : "good"]]);
  if (d.upstreamsBroken > 0) rows($("upstreams"), [{}], () => [["all upstreams down " + d.upstreamsBroken + " times", "bad"]]);
  rows($("cluster"), d.cluster, (c) => [[c.resource], [c.connected ? "connected" : "unreachable", c.connected ? "good" : "bad"], [c.synced ? "synced" : "not synced", c.synced ? "good" : "bad"]]);
  $("stale").textContent = d.staleSeconds === null ? "–" : d.staleSeconds.toFixed(0) + " s";
  $("reload-failed").textContent = String(d.reloads.failed);
  $("reload-hash").textContent = d.reloads.hash.slice(0, 12);
  rows($("top-names"), d.topNames, (t) => [[t.name], [String(t.count), "n"], [t.nxdomain > 0 ? t.nxdomain + " NX" : "", "muted"]]);
}
async function tick() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    if (r.ok) render(await r.json());
  } catch (e) {
    $("updated").textContent = "· not reachable";
  }
  setTimeout(tick, 1000);
}
tick();
</script>
</body>
</html>
`;
