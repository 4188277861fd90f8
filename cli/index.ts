// The npswitch command line: wires one command per file; each command calls a library function.
import { Command } from "commander";
import { registerBuild } from "./build.js";
import { registerInspect } from "./inspect.js";
import { registerKeygen } from "./keygen.js";
import { registerVerify } from "./verify.js";
import { registerSim } from "./sim.js";
import { registerPolicies } from "./policies.js";
import { registerDevice } from "./device.js";
import { registerFlash } from "./flash.js";
import { reportError } from "./output.js";
import { toolchainVersions } from "../toolchain/build/build.js";

const program = new Command("npswitch")
  .description("content-aware web switch firmware for IXP-style network processors: build, verify, inspect and simulate firmware images, and flash them onto a running device")
  .version(toolchainVersions().npswitch)
  .showHelpAfterError("(run with --help for usage)");

registerBuild(program);
registerKeygen(program);
registerInspect(program);
registerVerify(program);
registerSim(program);
registerPolicies(program);
registerDevice(program);
registerFlash(program);

program.parseAsync(process.argv).catch(reportError);
