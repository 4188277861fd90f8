// The HTML report of a run: one self-contained page (inline SVG, no scripts, no network) with
// throughput over time, the latency CDF and per-microengine utilization.
import type { SimResult } from "./result.js";

const W = 640, H = 260, PAD = { l: 60, r: 20, t: 20, b: 40 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));

function axes(xMax: number, yMax: number, xLabel: string, yLabel: string): string {
  const x = (v: number) => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  let s = `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#333"/>`;
  s += `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#333"/>`;
  for (let i = 0; i <= 4; i++) {
    const xv = (xMax * i) / 4, yv = (yMax * i) / 4;
    s += `<text x="${x(xv)}" y="${H - PAD.b + 16}" font-size="11" text-anchor="middle">${fmt(xv)}</text>`;
    s += `<text x="${PAD.l - 6}" y="${y(yv) + 4}" font-size="11" text-anchor="end">${fmt(yv)}</text>`;
    s += `<line x1="${PAD.l}" y1="${y(yv)}" x2="${W - PAD.r}" y2="${y(yv)}" stroke="#ddd"/>`;
  }
  s += `<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text x="14" y="${(PAD.t + H - PAD.b) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(PAD.t + H - PAD.b) / 2})">${esc(yLabel)}</text>`;
  return s;
}

export function lineChart(points: [number, number][], xLabel: string, yLabel: string, title: string): string {
  const xMax = Math.max(1e-9, ...points.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...points.map((p) => p[1])) * 1.05;
  const x = (v: number) => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${axes(xMax, yMax, xLabel, yLabel)}<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/></svg></figure>`;
}

export function stackedBars(bars: { label: string; parts: number[] }[], partNames: string[], colors: string[], title: string): string {
  const bw = Math.max(8, Math.min(60, (W - PAD.l - PAD.r) / Math.max(1, bars.length) - 8));
  const y = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  let s = axes(1, 1, "microengine", "fraction of time");
  bars.forEach((b, i) => {
    const x0 = PAD.l + 6 + i * (bw + 8);
    let acc = 0;
    b.parts.forEach((p, k) => {
      s += `<rect x="${x0}" y="${y(acc + p).toFixed(1)}" width="${bw}" height="${(p * (H - PAD.t - PAD.b)).toFixed(1)}" fill="${colors[k]}"><title>${esc(`${b.label} ${partNames[k]} ${(p * 100).toFixed(1)}%`)}</title></rect>`;
      acc += p;
    });
    s += `<text x="${x0 + bw / 2}" y="${H - PAD.b + 28}" font-size="10" text-anchor="middle">${esc(b.label)}</text>`;
  });
  const legend = partNames.map((n, k) => `<span style="display:inline-block;width:10px;height:10px;background:${colors[k]}"></span> ${esc(n)}`).join(" &nbsp; ");
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${s}</svg><div>${legend}</div></figure>`;
}

export function renderReport(r: SimResult): string {
  const rows: [string, string][] = [
    ["scenario", r.scenario], ["target", r.target], ["policy", r.policy], ["seed", String(r.seed)],
    ["simulated time", `${r.simulated_seconds.toFixed(4)} s`], ["host time", `${r.host_seconds.toFixed(2)} s`],
    ["packets", String(r.packets)], ["throughput", `${r.throughput_gbps.toFixed(3)} Gb/s, ${r.packets_per_second.toFixed(0)} packets/s`],
    ["requests", `${r.requests_completed} completed, ${r.requests_failed} failed, ${r.requests_per_second.toFixed(0)} req/s`],
    ["request latency", `p50 ${r.latency_us.p50.toFixed(1)} µs, p99 ${r.latency_us.p99.toFixed(1)} µs`],
    ["NP latency", `p50 ${r.np_latency_us.p50.toFixed(2)} µs (${r.np_latency_cycles.p50} cycles), p99 ${r.np_latency_us.p99.toFixed(2)} µs`],
    ["CP", `${(r.cp_utilization * 100).toFixed(1)}% busy, ${r.cp_packets_per_connection.toFixed(2)} packets per connection`],
    ["traps", String(r.traps)],
  ];
  const drops = Object.entries(r.drops).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join("") || "<tr><td colspan=2>none</td></tr>";
  const servers = r.servers.map((s) => `<tr><td>${esc(s.name)}</td><td>${s.requests}</td><td>${s.bytes}</td><td>${(s.cache_hit_rate * 100).toFixed(1)}%</td></tr>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>npswitch sim: ${esc(r.scenario)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:900px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}</style>
</head><body>
<h1>npswitch simulation: ${esc(r.scenario)}</h1>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>
${lineChart(r.timeline.map((p) => [p.t_ms, p.gbps]), "simulated time (ms)", "Gb/s", "Switch throughput over time")}
${lineChart(r.latency_cdf, "request latency (µs)", "fraction of requests", "Request latency CDF")}
${stackedBars(r.me_utilization.map((m) => ({ label: `ME${m.me} ${m.stage}`, parts: [m.busy, m.stalled, m.idle] })), ["busy", "stalled", "idle"], ["#2ca02c", "#ff7f0e", "#dddddd"], "Microengine utilization")}
<h2>Drops by reason</h2><table><tr><th>reason</th><th>count</th></tr>${drops}</table>
<h2>Servers</h2><table><tr><th>server</th><th>requests</th><th>bytes</th><th>cache hit rate</th></tr>${servers}</table>
</body></html>
`;
}
