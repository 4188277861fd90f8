// The emulated SmartNIC: the real-time engine (engine.ts) on UDP ports bridged to TAP devices, the A/B
// firmware slots (slots.ts), uploads (upload.ts), and what the management API (api.ts) asks of it:
// status, statistics, flash commit and rollback, pool and policy operations.
import { createSocket, type Socket } from "node:dgram";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes, randomInt } from "node:crypto";
import * as cpApi from "../controlplane/api.js";
import type { CpConfig } from "../controlplane/cp.js";
import { createPolicy } from "../controlplane/policies/index.js";
import { NpswitchError } from "../lib/errors.js";
import { sha256Hex, type FirmwareImage } from "../toolchain/image/format.js";
import { verifyFirmware } from "../toolchain/image/verify-firmware.js";
import { keyIdOf } from "../toolchain/image/keys.js";
import { loadProfile } from "../toolchain/target/profile.js";
import { readFileSync } from "node:fs";
import { PS_PER_MS } from "../lib/time.js";
import { cpLimitsOf } from "../sim/scenario/config-fields.js";
import { selfTest, type SelfTestReport } from "../sim/testing/fixtures/index.js";
import { chipTiming } from "../sim/timing/costs.js";
import { splitHostPort, type DeviceConfig } from "./config.js";
import { RealtimeEngine, type Running } from "./engine.js";
import { Slots } from "./slots.js";
import { ApiError } from "./errors.js";
import { Uploads } from "./upload.js";
import type { DeviceStatus, ErrorExtra, FlashRecord, FlashStep, FlashSwapped, ImageInfo, RollbackResult, SlotName } from "./protocol.js";

export const CHUNK_SIZE = 64 * 1024;

export interface DeviceOptions {
  /** Bearer token of the management API. */
  token: string;
  log?: (line: string) => void;
}

function summary(fw: FirmwareImage, bytes: Uint8Array): ImageInfo {
  const m = fw.manifest;
  return {
    sha256: sha256Hex(bytes), key_id: fw.signature ? keyIdOf(fw.signature.publicKey) : null, abi: m.abi, layout: m.layout, target: m.target.name,
    images: m.images.map((i) => ({ name: i.name, instructions: i.instructions, budget: i.budget })),
  };
}

/** The CP's configuration from the device's. */
export function cpConfigOf(cfg: DeviceConfig): CpConfig {
  return {
    vip: cfg.switch.vip, localIp: cfg.switch.local_ip, servicePorts: [cfg.switch.service_port], portMacs: cfg.ports.map((p) => p.mac),
    servers: cfg.servers.map((s) => ({
      name: s.name, ip: s.ip, mac: s.mac, port: s.port, tcpPort: s.tcp_port, weight: s.weight, priority: s.priority,
      upperThreshold: s.upper_threshold, lowerThreshold: s.lower_threshold, tags: s.tags,
    })),
    synCookieSecret: cfg.syn_cookie_secret ?? randomBytes(16),
    limits: cpLimitsOf(cfg.cp),
    checkTcpChecksum: cfg.switch.check_tcp_checksum,
    pool: { failTimeoutPs: cfg.cp.fail_timeout_ms * PS_PER_MS },
    // LOCAL_IP is the device's own: the whole unprivileged range, from a random first port so that a
    // restart does not meet its previous connections still in TIME_WAIT on the servers.
    tcp: {
      ephemeralPorts: cfg.cp.local_ports as [number, number],
      firstPort: cfg.cp.local_ports[0] + randomInt(cfg.cp.local_ports[1] - cfg.cp.local_ports[0] + 1),
      portReuseDelayPs: cfg.cp.port_reuse_s * 1000 * PS_PER_MS,
    },
  };
}

export class Device {
  readonly startedAt = Date.now();
  readonly uploads: Uploads;
  readonly slots: Slots;
  private engine!: RealtimeEngine;
  private sockets: Socket[] = [];
  private runningSlot: SlotName = "A";
  private runningSummary!: ImageInfo;
  /** The image each slot held when last looked at (sha256 and summary). */
  private slotInfo: Record<SlotName, ImageInfo | null> = { A: null, B: null };
  private lastFlash: FlashRecord | null = null;
  private rollbacks = 0;
  private flashes = { swapped: 0, refused: 0, rolled_back: 0 };
  private readonly log: (line: string) => void;
  private readonly frames = { rx: [0, 0] as number[], tx: [0, 0] as number[], txErrors: 0 };

  private constructor(readonly cfg: DeviceConfig, readonly opts: DeviceOptions) {
    this.log = opts.log ?? ((l) => process.stderr.write(`${new Date().toISOString()} ${l}\n`));
    this.slots = new Slots(cfg.state_dir);
    this.uploads = new Uploads(cfg.state_dir, CHUNK_SIZE, cfg.management.flash_session_timeout_s * 1000, this.log);
  }

  static async start(cfg: DeviceConfig, opts: DeviceOptions): Promise<Device> {
    const d = new Device(cfg, opts);
    // Uploads a previous run left unfinished are discarded: they never touched a slot.
    for (const f of readdirSync(cfg.state_dir)) if (/^upload-.*\.part$/.test(f)) rmSync(join(cfg.state_dir, f), { force: true });
    const { bytes, firmware, slot } = d.bootImage();
    d.runningSlot = slot;
    d.runningSummary = summary(firmware, bytes);
    d.slotInfo[slot] = d.runningSummary;
    const { profile } = loadProfile(cfg.target);
    d.engine = await RealtimeEngine.start({
      timing: chipTiming(profile), cp: cpConfigOf(cfg), policy: cfg.policy, mes: cfg.switch.mes, stageQueue: cfg.switch.stage_queue,
      cpBatching: cfg.cp.batching, transmit: (port, frame) => d.transmit(port, frame), log: d.log,
    }, firmware);
    await d.openPorts();
    d.engine.pump();
    return d;
  }

  /** Verify an image the way a flash commit does (format, signature, hashes, target, ABI rules). */
  verify(bytes: Uint8Array): { firmware: FirmwareImage | null; step?: FlashStep; error?: string } {
    const report = verifyFirmware(bytes, { pubkeys: this.cfg.trusted_keys.length ? this.cfg.trusted_keys : undefined, target: this.cfg.target });
    if (report.ok) return { firmware: report.firmware! };
    const v = report.violations[0];
    const step: FlashStep = v.rule === "format" || v.rule === "signature" || v.rule === "hash" ? v.rule : "verify";
    const more = report.violations.length > 1 ? ` (and ${report.violations.length - 1} more)` : "";
    return { firmware: null, step, error: `${v.image === "(firmware)" ? "" : `${v.image}: `}${v.message}${more}` };
  }

  /** The image to boot: the active slot's, else the other slot's, else the configured image (written to slot A). */
  private bootImage(): { bytes: Uint8Array; firmware: FirmwareImage; slot: SlotName } {
    const active = this.slots.active();
    const order: SlotName[] = active ? [active.slot, Slots.other(active.slot)] : [];
    for (const slot of order) {
      const bytes = this.slots.read(slot);
      if (!bytes) continue;
      const v = this.verify(bytes);
      if (v.firmware) {
        if (slot !== active!.slot) {
          this.log(`boot: slot ${active!.slot} does not verify; running slot ${slot}`);
          this.slots.setActive(slot, bytes);
        }
        const other = this.slots.read(Slots.other(slot));
        const ov = other && this.verify(other);
        if (other && ov?.firmware) this.slotInfo[Slots.other(slot)] = summary(ov.firmware, other);
        this.log(`boot: slot ${slot}, image ${sha256Hex(bytes).slice(0, 12)}`);
        return { bytes, firmware: v.firmware, slot };
      }
      this.log(`boot: slot ${slot} holds an image that does not verify (${v.step}: ${v.error})`);
    }
    if (!this.cfg.image) throw new NpswitchError(`${this.cfg.state_dir}: no slot holds a valid image and the config names no 'image' to start with`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(this.cfg.image));
    } catch {
      throw new NpswitchError(`${this.cfg.image}: cannot read the image (field image); build one with 'npswitch build'`);
    }
    const v = this.verify(bytes);
    if (!v.firmware) throw new NpswitchError(`${this.cfg.image}: the device refuses this image at step ${v.step}: ${v.error}`);
    this.slots.write("A", bytes);
    this.slots.setActive("A", bytes);
    this.log(`boot: ${this.cfg.image} written to slot A`);
    return { bytes, firmware: v.firmware, slot: "A" };
  }

  private async openPorts(): Promise<void> {
    for (const [i, p] of this.cfg.ports.entries()) {
      const sock = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
      const { host, port } = splitHostPort(p.listen);
      await new Promise<void>((resolve, reject) => {
        sock.once("error", (e) => reject(new NpswitchError(`port ${p.name}: cannot listen on ${p.listen}: ${e.message}`)));
        sock.bind(port, host, () => resolve());
      });
      // Without a callback, a failed send is reported here (ECONNREFUSED while socat is not there yet).
      sock.on("error", (e) => {
        this.frames.txErrors++;
        if (this.frames.txErrors <= 10 || this.frames.txErrors % 1000 === 0) this.log(`port ${p.name}: ${e.message} (${this.frames.txErrors} send errors so far)`);
      });
      // A connected socket sends without an address lookup per frame (send, not sendto).
      const peer = splitHostPort(p.peer);
      await new Promise<void>((resolve) => sock.connect(peer.port, peer.host, () => resolve()));
      sock.on("message", (msg) => {
        this.frames.rx[i]++;
        this.engine.receive(i, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
      });
      this.sockets.push(sock);
    }
  }

  /** Where each port actually listens (a config port of 0 picks a free one). */
  portAddresses(): { name: string; host: string; port: number }[] {
    return this.sockets.map((s, i) => ({ name: this.cfg.ports[i].name, ...s.address() })).map(({ name, address, port }) => ({ name, host: address, port }));
  }


  private transmit(port: number, frame: Uint8Array): void {
    const sock = this.sockets[port];
    if (!sock) return void this.frames.txErrors++;
    this.frames.tx[port]++;
    sock.send(frame);
  }

  // ------------------------------------------------------------------------------------------------
  // Flash

  /**
   * Commit an upload: size and hash, verification, self-test, the inactive slot, the swap, the active
   * record. Any refusal leaves the running image and both slots as they were.
   */
  async commit(sessionId: string): Promise<FlashSwapped> {
    const { session, bytes } = this.uploads.take(sessionId);
    const at = new Date().toISOString();
    const refuse = (step: FlashStep, error: string, extra: ErrorExtra = {}): never => {
      this.lastFlash = { at, sha256: session.sha256, result: "refused", step, error };
      this.flashes.refused++;
      this.log(`flash refused at step ${step}: ${error}`);
      throw new ApiError(422, error, { step, ...extra });
    };
    try {
      const got = sha256Hex(bytes);
      if (got !== session.sha256) refuse("hash", `sha256 of the upload is ${got}, the session announced ${session.sha256}`);
      const v = this.verify(bytes);
      if (!v.firmware) return refuse(v.step!, v.error!);
      const fw = v.firmware;
      const report: SelfTestReport = await selfTest(fw.manifest.images.map((i) => ({ name: i.name, wasm: fw.payloads.get(i.name)! })), { pipeline: fw.manifest.pipeline, yieldEvery: 8 });
      if (!report.ok) {
        const first = report.failed[0];
        refuse("self-test", `${report.failed.length} of ${report.passed + report.failed.length} fixtures fail; first: ${first.suite}: "${first.description}": ${first.problems[0]}`, {
          failed: report.failed.slice(0, 10).map((f) => ({ suite: f.suite, description: f.description, problems: f.problems.slice(0, 3) })),
        });
      }
      const previousSlot = this.runningSlot;
      const slot = Slots.other(previousSlot);
      this.slots.write(slot, bytes);
      const previousSummary = this.runningSummary;
      const { keptConnections } = await this.engine.swap(fw, {
        packets: this.cfg.management.probation_packets, seconds: this.cfg.management.probation_s,
        onRollback: (why) => {
          this.runningSlot = previousSlot;
          this.runningSummary = previousSummary;
          this.slots.setActive(previousSlot, this.slots.read(previousSlot)!);
          this.rollbacks++;
          this.flashes.rolled_back++;
          if (this.lastFlash && this.lastFlash.sha256 === session.sha256) this.lastFlash = { ...this.lastFlash, result: "rolled_back", rolled_back: why };
        },
      });
      this.runningSlot = slot;
      this.runningSummary = summary(fw, bytes);
      this.slotInfo[slot] = this.runningSummary;
      this.slots.setActive(slot, bytes);
      this.flashes.swapped++;
      const swapped: FlashSwapped = {
        at, sha256: session.sha256, result: "swapped", slot, kept_connections: keptConnections,
        self_test: { passed: report.passed, failed: report.failed.length, ms: report.ms },
      };
      this.lastFlash = swapped;
      this.log(`flash: image ${session.sha256.slice(0, 12)} in slot ${slot}, running (${keptConnections ? "connections kept" : "tables cleared"}; self-test ${report.passed} passed in ${report.ms} ms)`);
      return swapped;
    } finally {
      this.uploads.finish(sessionId);
    }
  }

  /** Run the other slot's image again (after verifying it). */
  async rollback(): Promise<RollbackResult> {
    const slot = Slots.other(this.runningSlot);
    const bytes = this.slots.read(slot);
    if (!bytes) throw new ApiError(409, `slot ${slot} holds no image to roll back to`);
    const v = this.verify(bytes);
    if (!v.firmware) throw new ApiError(409, `slot ${slot} holds an image that no longer verifies (${v.step}: ${v.error})`);
    const { keptConnections } = await this.engine.swap(v.firmware);
    this.runningSlot = slot;
    this.runningSummary = summary(v.firmware, bytes);
    this.slotInfo[slot] = this.runningSummary;
    this.slots.setActive(slot, bytes);
    this.rollbacks++;
    this.log(`rollback (requested): slot ${slot}, image ${this.runningSummary.sha256.slice(0, 12)}`);
    return { slot, image: this.runningSummary, kept_connections: keptConnections };
  }

  // ------------------------------------------------------------------------------------------------
  // Status, statistics, pool and policy

  load(): number {
    return this.engine.load();
  }

  status(): DeviceStatus {
    const s = this.uploads.current;
    return {
      name: this.cfg.name,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      load: Math.round(this.load() * 1000) / 1000,
      running: { slot: this.runningSlot, image: this.runningSummary },
      slots: this.slotInfo,
      flash: s ? { session: s.id, size: s.size, received: s.received, state: s.state } : null,
      last_flash: this.lastFlash,
      rollbacks: this.rollbacks,
      policy: this.engine.cp.policyName,
    };
  }

  /** Everything /metrics exports (device/metrics.ts formats it). */
  counters() {
    return {
      chip: this.engine.chip.snapshot(), events: this.engine.chip.events(), cp: cpApi.stats(this.engine.cp), frames: this.frames,
      load: this.load(), uptimeS: (Date.now() - this.startedAt) / 1000, flashes: this.flashes, rollbacks: this.rollbacks,
      running: { slot: this.runningSlot, sha256: this.runningSummary.sha256 },
    };
  }

  get cp() {
    return this.engine.cp;
  }

  setPolicy(name: string, params: Record<string, unknown> = {}): string {
    const policy = createPolicy(name, params);
    const n = cpApi.swapPolicy(this.engine.cp, policy);
    this.engine.setPolicy(name, params);
    return n;
  }

  get current(): Running {
    return this.engine.current;
  }

  async stop(): Promise<void> {
    this.engine.stop();
    this.uploads.close();
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets = [];
  }
}
