// `npswitch keygen`: create an ed25519 key pair for signing firmware.
import type { Command } from "commander";
import { generateKey } from "../toolchain/image/keys.js";
import { printJson } from "./output.js";

export function registerKeygen(program: Command): void {
  program
    .command("keygen")
    .description("create an ed25519 signing key: FILE (private, mode 0600) and FILE.pub (give this one to devices and 'verify --pubkey')")
    .argument("<file>", "where to write the private key (PEM)")
    .option("-f, --force", "replace an existing key file")
    .option("--json", "print the result as JSON")
    .action((file: string, opts: { force?: boolean; json?: boolean }) => {
      const r = generateKey(file, { force: opts.force });
      if (opts.json) printJson({ private: file, public: r.publicPath, keyId: r.keyId });
      else console.log(`wrote ${file} and ${r.publicPath} (key ${r.keyId})`);
    });
}
