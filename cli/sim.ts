// `npswitch sim`: run a firmware image in the cycle-approximate NP simulator on a scenario.
import type { Command } from "commander";
import { NpswitchError } from "../lib/errors.js";
import { simulate } from "../sim/run/simulate.js";
import { DEFAULT_SCENARIO } from "../sim/scenario/load.js";
import { printJson, progressBar } from "./output.js";

function intOption(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new NpswitchError(`${name} must be a non-negative integer, got '${v}'`);
    return Number(v);
  };
}

export function registerSim(program: Command): void {
  program
    .command("sim")
    .description("run a firmware image in the cycle-approximate NP simulator: real TCP clients and servers, the control plane on the CP core")
    .argument("[image]", "firmware image (.npfw)", "build/firmware.npfw")
    .option("-s, --scenario <file>", "scenario YAML", DEFAULT_SCENARIO)
    .option("--seed <n>", "random seed (overrides the scenario's)", intOption("--seed"))
    .option("--policy <name>", "dispatching policy (overrides the scenario's), with its default parameters")
    .option("-t, --target <name|file>", "target profile; default: the one the image was built for")
    .option("--pcap <dir>", "write a pcap of every switch port into DIR (port0.pcap: clients, port1.pcap: servers)")
    .option("--report <file.html>", "write an HTML report (throughput over time, latency CDF, ME utilization)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", `
The run ends when every request of the scenario has finished, or at the scenario's time limit.
The same image, scenario and seed give the same result (host_seconds aside) and the same pcaps.
Exit code 1 when a request failed or an image trapped.`)
    .action(async (image: string, opts: { scenario: string; seed?: number; policy?: string; target?: string; pcap?: string; report?: string; json?: boolean }) => {
      const out = await simulate({
        image, scenario: opts.scenario, seed: opts.seed, policy: opts.policy, target: opts.target,
        pcapDir: opts.pcap, reportFile: opts.report, onProgress: opts.json ? undefined : progressBar("simulating"),
      });
      for (const w of out.warnings) process.stderr.write(`npswitch: warning: ${w}\n`);
      const r = out.result;
      if (opts.json) printJson(r);
      else {
        const lines = [
          `scenario ${r.scenario} on ${r.target}, policy ${r.policy}, seed ${r.seed}: ${r.simulated_seconds.toFixed(4)} s simulated in ${r.host_seconds.toFixed(2)} s`,
          `requests   ${r.requests_completed} completed, ${r.requests_failed} failed, ${r.requests_per_second.toFixed(0)} req/s; latency p50 ${r.latency_us.p50} µs, p99 ${r.latency_us.p99} µs`,
          `switch     ${r.packets} packets in, ${r.throughput_gbps} Gb/s out; NP latency p50 ${r.np_latency_cycles.p50} cycles (${r.np_latency_us.p50} µs)`,
          `MEs        ${r.me_utilization.map((m) => `${m.me}:${m.stage} ${(m.busy * 100).toFixed(0)}%`).join("  ")}`,
          `CP         ${(r.cp_utilization * 100).toFixed(1)}% busy, ${r.connections} connections spliced, ${r.cp_packets_per_connection} CP packets per connection`,
          `drops      ${Object.entries(r.drops).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}; traps ${r.traps}`,
          `servers    ${r.servers.map((s) => `${s.name} ${s.requests} req (${(s.cache_hit_rate * 100).toFixed(0)}% hits)`).join(", ")}`,
        ];
        console.log(lines.join("\n"));
        for (const f of out.pcapFiles) console.log(`wrote ${f}`);
        if (opts.report) console.log(`wrote ${opts.report}`);
      }
      if (r.requests_failed > 0 || r.traps > 0) process.exitCode = 1;
    });
}
