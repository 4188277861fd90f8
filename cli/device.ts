// `npswitch device`: run the emulated Wasm-capable SmartNIC (device) until interrupted.
import type { Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../lib/fs-atomic.js";
import { loadDeviceConfig } from "../device/config.js";
import { Device } from "../device/device.js";
import { ManagementApi } from "../device/api.js";
import { readTokenFile } from "./output.js";

/**
 * The management token: $NPSWITCH_TOKEN when set, else the token file (management.token_file, default
 * state_dir/token) when it exists, else a new random token written to that file (mode 0600).
 */
function managementToken(tokenFile: string | undefined, stateDir: string): { token: string; file: string | null } {
  if (process.env.NPSWITCH_TOKEN) return { token: process.env.NPSWITCH_TOKEN, file: null };
  const file = tokenFile ?? join(stateDir, "token");
  if (existsSync(file)) return { token: readTokenFile(file), file };
  const token = randomBytes(24).toString("base64url");
  mkdirSync(stateDir, { recursive: true });
  writeFileAtomic(file, token + "\n", 0o600);
  return { token, file };
}

export function registerDevice(program: Command): void {
  program
    .command("device")
    .description("run the emulated Wasm-capable SmartNIC: the simulator's engine in real time on UDP ports bridged to TAP devices, with a management API for flashing")
    .requiredOption("-c, --config <file>", "device configuration (YAML): ports, switch addresses, servers, policy, state_dir, management")
    .option("--json", "print the ready line as JSON")
    .addHelpText("after", `
Each port in the config is a UDP socket on loopback carrying one Ethernet frame per datagram;
socat bridges it to a TAP device (scripts/testnet.sh builds a whole test network of namespaces
with clients and nginx backends, and writes the network part of the config). The device boots
the image of its active slot (state_dir/slot-A.npfw or slot-B.npfw), or the config's 'image'
on first start, after verifying its signature against trusted_keys (default: the development
key). When ready it prints one line starting with 'ready'.

Management API (loopback, bearer token from $NPSWITCH_TOKEN, else management.token_file (default
state_dir/token), created with a random token when missing): status, Prometheus metrics at /metrics, flash (see
'npswitch flash --help'), rollback, pool and policy operations; reference: device/README.md.

Example:
  sudo scripts/testnet.sh up --device-config net.yaml      # then add image/state_dir, see README
  npswitch device --config device.yaml
  curl -H "Authorization: Bearer $(cat state/token)" http://127.0.0.1:9180/metrics`)
    .action(async (opts: { config: string; json?: boolean }) => {
      const cfg = loadDeviceConfig(opts.config);
      const { token, file } = managementToken(cfg.management.token_file, cfg.state_dir);
      const device = await Device.start(cfg, { token });
      const api = new ManagementApi(device, token);
      let addr;
      try {
        addr = await api.listen();
      } catch (e) {
        await device.stop();
        throw e;
      }
      const ready = {
        ready: true, name: cfg.name, management: `http://${addr.host}:${addr.port}`, token_file: file,
        ports: cfg.ports.map((p) => ({ name: p.name, listen: p.listen, peer: p.peer })),
        running: device.status().running,
      };
      if (opts.json) process.stdout.write(JSON.stringify(ready) + "\n");
      else {
        process.stdout.write(`ready: ${cfg.name} running slot ${ready.running.slot} (${ready.running.image.sha256.slice(0, 12)}); ports ${cfg.ports.map((p) => `${p.name}=${p.listen}`).join(" ")}; management ${ready.management}${file ? ` (token in ${file})` : ""}\n`);
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${new Date().toISOString()} ${signal}: stopping\n`);
        await api.close();
        await device.stop();
        process.exit(0);
      };
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGTERM", () => void stop("SIGTERM"));
    });
}
