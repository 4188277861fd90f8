// The device's statistics in the Prometheus text exposition format (0.0.4): counters end in _total,
// one # HELP and # TYPE line per family, labels escaped.
import type { Device } from "./device.js";

type Labels = Record<string, string | number>;

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge", help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",");
      this.lines.push(`${name}${l ? `{${l}}` : ""} ${Number.isFinite(value) ? value : "NaN"}`);
    }
  }

  one(name: string, type: "counter" | "gauge", help: string, value: number): void {
    this.family(name, type, help, [[{}, value]]);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

export function prometheusText(device: Device): string {
  const c = device.counters();
  const x = new Exposition();
  const ports = device.cfg.ports;
  x.one("npswitch_uptime_seconds", "gauge", "Seconds since the device started.", Math.round(c.uptimeS));
  x.one("npswitch_load", "gauge", "Share of the last second the engine was busy (0..1); the flash client paces itself by it.", Math.round(c.load * 1000) / 1000);
  x.family("npswitch_port_rx_frames_total", "counter", "Frames received on a port.", ports.map((p, i) => [{ port: p.name }, c.frames.rx[i]]));
  x.family("npswitch_port_tx_frames_total", "counter", "Frames sent on a port.", ports.map((p, i) => [{ port: p.name }, c.frames.tx[i]]));
  x.one("npswitch_port_tx_errors_total", "counter", "Frames the host could not send.", c.frames.txErrors);
  x.one("npswitch_np_rx_packets_total", "counter", "Packets the NP received.", c.chip.rxPackets);
  x.one("npswitch_np_tx_packets_total", "counter", "Packets the data plane forwarded (the CP's own frames not included).", c.chip.txPackets);
  x.one("npswitch_np_tx_bytes_total", "counter", "Bytes the NP forwarded from the data plane.", c.chip.txBytes);
  x.one("npswitch_np_to_cp_total", "counter", "Messages the data plane sent to the control processor.", c.chip.toCp);
  x.one("npswitch_np_traps_total", "counter", "Packets on which a data-plane image trapped (dropped; the thread goes on).", c.chip.traps);
  x.family("npswitch_np_drops_total", "counter", "Packets dropped, by named reason.", Object.entries(c.chip.drops).map(([reason, n]) => [{ reason }, n]));
  x.family("npswitch_np_events_total", "counter", "Data-plane event counters.", Object.entries(c.events).map(([event, n]) => [{ event }, n]));
  x.family("npswitch_stage_packets_total", "counter", "Packets each pipeline stage processed.", c.chip.cycles.map((s) => [{ stage: s.stage }, s.packets]));
  x.family("npswitch_stage_cycles_total", "counter", "Microengine cycles each stage spent computing.", c.chip.cycles.map((s) => [{ stage: s.stage }, s.cycles]));
  x.family("npswitch_me_packets_total", "counter", "Packets each microengine processed.", c.chip.me.map((m) => [{ me: m.id, stage: m.stage }, m.packets]));
  x.one("npswitch_cp_batches_total", "counter", "CP wake-ups that took ring messages (dispatcher batching).", c.chip.cpBatches);
  x.one("npswitch_cp_max_batch", "gauge", "Largest batch of ring messages taken in one CP wake-up.", c.chip.cpMaxBatch);
  for (const [k, v] of Object.entries(c.cp.cp)) {
    if (typeof v !== "number" || k === "activeConnections") continue;
    x.one(`npswitch_cp_${snake(k)}_total`, "counter", `Control plane: ${snake(k).replace(/_/g, " ")}.`, v);
  }
  x.one("npswitch_cp_connections_open", "gauge", "Connections in the control plane's table now (before the splice, spliced, lingering).", c.cp.cp.activeConnections);
  x.family("npswitch_cp_refusals_total", "counter", "Connections refused, by reason.", Object.entries(c.cp.cp.refusals).map(([reason, n]) => [{ reason }, n]));
  const servers = c.cp.servers.filter((s) => s.state !== "removed");
  x.family("npswitch_server_up", "gauge", "1 when the server takes new connections.", servers.map((s) => [{ server: s.name }, s.view.up ? 1 : 0]));
  x.family("npswitch_server_weight", "gauge", "The server's effective weight (0 while drained, ramping during slow start).", servers.map((s) => [{ server: s.name }, s.view.weight]));
  x.family("npswitch_server_active_connections", "gauge", "Spliced connections to the server now.", servers.map((s) => [{ server: s.name }, s.view.activeConnections]));
  x.family("npswitch_server_connections_total", "counter", "Connections dispatched to the server.", servers.map((s) => [{ server: s.name }, s.view.totalConnections]));
  x.family("npswitch_server_down_total", "counter", "Times the server was marked down.", servers.map((s) => [{ server: s.name }, s.downCount]));
  x.family("npswitch_flash_total", "counter", "Flash commits, by result.", Object.entries(c.flashes).map(([result, n]) => [{ result }, n]));
  x.one("npswitch_rollbacks_total", "counter", "Swaps back to the other slot (requested, or after a trap during probation).", c.rollbacks);
  x.family("npswitch_running_image_info", "gauge", "The running image: slot and sha256.", [[{ slot: c.running.slot, sha256: c.running.sha256 }, 1]]);
  return x.text();
}
