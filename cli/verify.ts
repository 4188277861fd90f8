// `npswitch verify`: check a firmware image as a device would; one line per failed rule, exit 1.
import type { Command } from "commander";
import { RULES } from "../toolchain/verify/index.js";
import { readFirmwareFile, verifyFirmware } from "../toolchain/image/verify-firmware.js";
import { printJson } from "./output.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check a firmware image: signature by a trusted key, hashes, target, and every image's ABI rules")
    .argument("<file>", "firmware image (.npfw)")
    .option("-p, --pubkey <file...>", "trusted public key(s) (PEM); default: your development key")
    .option("-t, --target <name|file>", "target profile to check the budget against; default: the one the image names")
    .option("--json", "print {ok, violations: [{image, rule, message}]} as JSON")
    .addHelpText("after", () => `
Rules checked on each image:
${RULES.map((r) => `  ${r.id.padEnd(14)} ${r.description}`).join("\n")}
and on the firmware: format, signature, hash, target, manifest, abi.`)
    .action((file: string, opts: { pubkey?: string[]; target?: string; json?: boolean }) => {
      const r = verifyFirmware(readFirmwareFile(file), { pubkeys: opts.pubkey, target: opts.target });
      if (opts.json) printJson({ file, ok: r.ok, violations: r.violations });
      else if (r.ok) {
        const m = r.firmware!.manifest;
        console.log(`${file}: OK — ${m.images.length} images for ${m.target.name}, signed by trusted key ${r.firmware!.signature!.keyId}`);
      } else {
        for (const v of r.violations) console.error(`${file}: ${v.image}: ${v.rule}: ${v.message}`);
      }
      if (!r.ok) process.exitCode = 1;
    });
}
