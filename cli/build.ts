// `npswitch build`: compile, check and sign the data-plane images into one firmware file.
import type { Command } from "commander";
import { relative } from "node:path";
import { buildFirmware, DEFAULT_OUT } from "../toolchain/build/build.js";
import { devKeyPath } from "../toolchain/image/keys.js";
import { printJson, progress, table } from "./output.js";

export function registerBuild(program: Command): void {
  program
    .command("build")
    .description("compile every data-plane image, check it against the image ABI and the target's control store, and write a signed firmware image")
    .option("-t, --target <name|file>", "target profile: ixp2400, ixp2800, or a profile .json file", "ixp2400")
    .option("-k, --key <file>", "ed25519 private key (PEM) to sign with; default: the development key, created on first use")
    .option("-o, --out <file>", "firmware file to write", DEFAULT_OUT)
    .option("--json", "print the result as JSON")
    .addHelpText("after", `
The build fails, writing nothing, when an image does not compile, breaks an ABI rule
(see 'npswitch verify --help') or needs more instructions than the target's control store.
Two builds of the same tree with the same key give byte-identical files.`)
    .action(async (opts: { target: string; key?: string; out: string; json?: boolean }) => {
      const r = await buildFirmware({ target: opts.target, keyPath: opts.key, out: opts.out, onStep: progress });
      if (opts.json) {
        printJson({ out: r.out, bytes: r.bytes, sha256: r.sha256, seconds: r.seconds, devKeyCreated: r.devKeyCreated, manifest: r.manifest });
        return;
      }
      if (r.devKeyCreated) console.log(`created development key ${devKeyPath()} (images signed with it are marked dev-signed)`);
      const rows = r.manifest.images.map((i) => [i.name, i.mes.join(","), i.instructions, i.budget, `${((100 * i.instructions) / i.budget).toFixed(1)}%`, i.bytes]);
      console.log(table(["image", "MEs", "instructions", "budget", "used", "bytes"], rows));
      const signer = r.manifest.signing!;
      console.log(`\nwrote ${relative(process.cwd(), r.out) || r.out} (${r.bytes} bytes, target ${r.manifest.target.name}, ${signer.dev ? "dev-signed" : "signed"} by key ${signer.keyId}) in ${r.seconds.toFixed(1)} s`);
    });
}
