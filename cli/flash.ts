// `npswitch flash`: send a firmware image to a running device (A/B slots, self-test, rollback), or show its status.
import type { Command } from "commander";
import { NpswitchError } from "../lib/errors.js";
import { DEFAULT_DEVICE_URL, DeviceClient } from "../device/client/client.js";
import type { CommitResult, DeviceStatus, ImageInfo, RollbackResult } from "../device/protocol.js";
import { flashImage } from "../device/client/flash.js";
import { readFirmwareFile } from "../toolchain/image/verify-firmware.js";
import { printJson, progressBar, readTokenFile } from "./output.js";

interface FlashCliOptions {
  device: string;
  token?: string;
  tokenFile?: string;
  status?: boolean;
  rollback?: boolean;
  chunkSize?: number;
  json?: boolean;
}

export function registerFlash(program: Command): void {
  program
    .command("flash")
    .description("flash a firmware image onto a running device (npswitch device) over its management API, show what it runs, or roll back")
    .argument("[image]", "firmware image (.npfw) to flash")
    .option("-d, --device <url>", "the device's management API", DEFAULT_DEVICE_URL)
    .option("--token <token>", "bearer token (default: --token-file, then $NPSWITCH_TOKEN)")
    .option("--token-file <file>", "read the bearer token from FILE (the device's management.token_file)")
    .option("--status", "show the running image, both slots, the last flash and the device's load")
    .option("--rollback", "run the other slot's image again")
    .option("--chunk-size <bytes>", "send at most this many bytes per request (default: the device's chunk_size)", positiveInt("--chunk-size"))
    .option("--json", "print the device's answer as JSON")
    .addHelpText("after", `
The device holds two slots, A and B, and runs the image of one of them. 'flash IMAGE' uploads
the image in chunks (paced by the device's load; interrupted uploads resume where they stopped)
to a scratch file, then asks the device to commit it. Commit checks the size and sha256, the
signature against the device's trusted keys, the per-image hashes, target and ABI rules, and
runs every data-plane packet fixture on it (the self-test). Only then is the image written to
the inactive slot and swapped in between two packets. A refused image or a failed upload
leaves the running image untouched.

Spliced connections survive the swap when the new image keeps the table layout; otherwise the
tables are cleared. During probation after a swap the device swaps the previous image back by
itself if the new one traps ('--status' shows it under last flash). '--rollback' swaps back to
the other slot's image by hand.

Examples:
  npswitch flash build/firmware.npfw --token-file state/token
  npswitch flash --status --json
  npswitch flash --rollback`)
    .action(async (image: string | undefined, opts: FlashCliOptions) => {
      const modes = [image !== undefined, !!opts.status, !!opts.rollback].filter(Boolean).length;
      if (modes !== 1) throw new NpswitchError("give exactly one of IMAGE, --status or --rollback (see 'npswitch flash --help')");
      const bytes = image !== undefined ? readImage(image) : undefined;
      const client = new DeviceClient(opts.device, resolveToken(opts));

      if (opts.status) {
        const s = await client.status();
        if (opts.json) printJson(s);
        else console.log(statusLines(s).join("\n"));
      } else if (opts.rollback) {
        const r = await client.rollback();
        if (opts.json) printJson(r);
        else console.log(rollbackLine(r));
      } else {
        const bar = opts.json ? undefined : progressBar(`flashing ${image}`);
        const onProgress = bar && ((sent: number, total: number, load: number) => bar(sent / total, `device load ${Number.isFinite(load) ? `${Math.round(100 * load)}%` : "?"}`));
        const r = await flashImage(client, bytes!, { chunkSize: opts.chunkSize, onProgress });
        if (opts.json) printJson({ file: image, bytes: bytes!.length, ...r });
        else console.log(commitLine(image!, r));
      }
    });
}

function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) === 0) throw new NpswitchError(`${name} must be a positive integer, got '${v}'`);
    return Number(v);
  };
}

function readImage(path: string): Uint8Array {
  const bytes = readFirmwareFile(path);
  if (bytes.length === 0) throw new NpswitchError(`${path}: empty file, not a firmware image`);
  return bytes;
}

/** --token, else --token-file, else $NPSWITCH_TOKEN (a flag given beats the environment); none is allowed (the device then answers 401). */
function resolveToken(opts: FlashCliOptions): string | undefined {
  if (opts.token) return opts.token;
  if (opts.tokenFile) return readTokenFile(opts.tokenFile);
  return process.env.NPSWITCH_TOKEN || undefined;
}

function imageSha(image: ImageInfo | null | undefined): string {
  if (!image) return "(none)";
  return image.sha256.slice(0, 12);
}

function describeImage(image: ImageInfo | null): string {
  if (!image) return "(empty)";
  const parts = (image.images ?? []).map((i) => `${i.name} ${i.instructions}`).join(", ");
  return `${imageSha(image)}  ${image.target}, abi ${image.abi}, key ${image.key_id}${parts ? `; instructions: ${parts}` : ""}`;
}

function commitLine(file: string, r: CommitResult): string {
  return [
    `flashed ${file} into slot ${r.slot}: image ${imageSha(r.image)} running`,
    `self-test ${r.self_test.passed} passed, ${r.self_test.failed} failed; spliced connections ${r.kept_connections ? "kept" : "reset (table layout changed)"}`,
  ].join("\n");
}

function rollbackLine(r: RollbackResult): string {
  return `rolled back: running slot ${r.slot}, image ${imageSha(r.image)}`;
}

function statusLines(s: DeviceStatus): string[] {
  const f = s.flash;
  const running = s.running.slot;
  return [
    `device      ${s.name}, up ${Math.round(s.uptime_s)} s, load ${Math.round(100 * s.load)}%`,
    `running     slot ${running}, image ${imageSha(s.running.image)}`,
    ...(["A", "B"] as const).map((slot) => `slot ${slot}${slot === running ? "*" : " "}     ${describeImage(s.slots[slot])}`),
    `upload      ${f ? `session ${f.session}: ${f.received} of ${f.size} bytes (${f.state})` : "none in progress"}`,
    `last flash  ${s.last_flash ? JSON.stringify(s.last_flash) : "none"}`,
    `rollbacks   ${s.rollbacks}`,
  ];
}
