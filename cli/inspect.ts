// `npswitch inspect`: what a firmware image holds — target, signer, images and their budgets.
import type { Command } from "commander";
import { NpswitchError } from "../lib/errors.js";
import { decodeFirmware, ImageFormatError, signatureValid, type FirmwareImage } from "../toolchain/image/format.js";
import { readFirmwareFile } from "../toolchain/image/verify-firmware.js";
import { printJson, table } from "./output.js";

export function describeFirmware(fw: FirmwareImage) {
  const m = fw.manifest;
  return {
    format: m.format,
    target: m.target.name,
    abi: m.abi,
    signed: fw.signature !== null,
    signature: fw.signature ? { keyId: fw.signature.keyId, dev: m.signing?.dev ?? false, intact: signatureValid(fw) } : null,
    pipeline: m.pipeline,
    toolchain: m.toolchain,
    images: m.images.map((i) => ({
      name: i.name, sha256: i.sha256, bytes: i.bytes, instructions: i.instructions, budget: i.budget,
      mes: i.mes, slot: i.slot, imports: i.imports, exports: i.exports,
    })),
  };
}

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("show what a firmware image holds (does not check trust: see 'verify')")
    .argument("<file>", "firmware image (.npfw)")
    .option("--json", "print as JSON: {format, target, abi, signed, signature, images: [{name, sha256, bytes, instructions, budget, imports, exports, ...}]}")
    .action((file: string, opts: { json?: boolean }) => {
      let fw: FirmwareImage;
      try {
        fw = decodeFirmware(readFirmwareFile(file));
      } catch (e) {
        if (e instanceof ImageFormatError) throw new NpswitchError(`${file}: ${e.message}`);
        throw e;
      }
      const d = describeFirmware(fw);
      if (opts.json) return printJson(d);
      const sig = d.signature ? `${d.signature.dev ? "dev-signed" : "signed"} by key ${d.signature.keyId}${d.signature.intact ? "" : " (SIGNATURE DOES NOT MATCH CONTENTS)"}` : "unsigned";
      console.log(`${file}: ${d.format}, ABI ${d.abi}, target ${d.target}, ${sig}`);
      console.log(`pipeline: ${d.pipeline.join(" -> ")}   built with ${Object.entries(d.toolchain).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
      console.log(table(
        ["image", "MEs", "instructions", "budget", "bytes", "sha256"],
        d.images.map((i) => [i.name, i.mes.join(","), i.instructions, i.budget, i.bytes, i.sha256.slice(0, 16)]),
      ));
      for (const i of d.images) console.log(`\n${i.name}: imports ${i.imports.join(", ")}; exports ${i.exports.join(", ")}`);
    });
}
