#!/usr/bin/env node
// npswitch command-line entry: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from "tsx/esm/api";

register();
await import("../toolchain/cli/index.ts");
